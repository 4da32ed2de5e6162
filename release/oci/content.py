"""OCI content: blobs, digests and manifest media types, without any HTTP.

Building an artifact (config, layers, manifest bytes and digest) needs only this module, so a
dry run that plans a push never imports the HTTP stack.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from release import limits

MANIFEST_TYPES = (
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
)
OCI_MANIFEST = MANIFEST_TYPES[0]
OCI_INDEX = MANIFEST_TYPES[1]
MiB = 1024 * 1024
MAX_MANIFEST = limits.MANIFEST_MAX


def sha256_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Blob:
    """Content to upload: bytes in memory, or a file read chunk by chunk."""

    digest: str
    size: int
    media_type: str
    data: bytes | None = None
    path: Path | None = None

    @classmethod
    def from_bytes(cls, data: bytes, media_type: str) -> Blob:
        return cls(sha256_digest(data), len(data), media_type, data=data)

    @classmethod
    def from_file(cls, path: Path, media_type: str) -> Blob:
        h = hashlib.sha256()
        size = 0
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(MiB), b""):
                h.update(block)
                size += len(block)
        return cls("sha256:" + h.hexdigest(), size, media_type, path=path)

    def read(self, start: int = 0, end: int | None = None) -> bytes:
        end = self.size if end is None else end
        if self.data is not None:
            return self.data[start:end]
        assert self.path is not None
        with self.path.open("rb") as fh:
            fh.seek(start)
            return fh.read(end - start)

    def descriptor(self, annotations: dict[str, str] | None = None) -> dict[str, Any]:
        desc: dict[str, Any] = {"mediaType": self.media_type, "digest": self.digest,
                                "size": self.size}
        if annotations:
            desc["annotations"] = annotations
        return desc
