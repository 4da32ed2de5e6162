"""OCI content: blobs, digests and manifest media types, without any HTTP.

Building an artifact (config, layers, manifest bytes and digest) needs only this module, so a
dry run that plans a push never imports the HTTP stack.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from release import limits
from release.errors import for_terminal

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
# A digest this tool can check (it hashes with sha256, as Helm and the registries do): what a
# server names is matched against this before it reaches a URL or a report.
DIGEST_RE = re.compile(r"sha256:[0-9a-f]{64}")


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


@dataclass(frozen=True)
class Descriptor:
    """A descriptor read from a server's manifest or index, its shape checked
    (`parse_descriptor`). Strings are the server's, unshortened: a report cuts them."""

    media_type: str
    digest: str
    size: int
    annotations: dict[str, Any] = field(default_factory=dict)
    artifact_type: str | None = None


def parse_descriptor(value: Any) -> Descriptor | str:
    """`value` as a descriptor with a media type, a digest this tool can check and a size;
    or, in one line, why not. verify reads a chart's config and layers with it, the
    protections report the signature manifests and referrer listings."""
    if not isinstance(value, dict):
        return "a descriptor that is not a JSON object"
    media_type, digest, size = value.get("mediaType"), value.get("digest"), value.get("size")
    if not isinstance(digest, str) or not DIGEST_RE.fullmatch(digest):
        shown = for_terminal(str(digest)[:100], one_line=True)
        return f"a descriptor with digest {shown!r}, not a digest"
    if not isinstance(media_type, str) or not media_type:
        return f"descriptor {digest[:19]} has no media type"
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        return f"descriptor {digest[:19]} has no valid size"
    annotations, artifact_type = value.get("annotations"), value.get("artifactType")
    return Descriptor(media_type, digest, size,
                      annotations if isinstance(annotations, dict) else {},
                      artifact_type if isinstance(artifact_type, str) else None)
