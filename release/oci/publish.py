"""Push and verify semantics: published content is never damaged, re-runs are safe.

push: HEAD the tag first. Absent → upload blobs, then write the tag (the manifest) last, so a
crash leaves no tag pointing at an incomplete artifact. Present with our digest → done, nothing
written ("already published", one request against an open registry). Present with another digest
→ Conflict, nothing written, unless `force` (and then the result says what was overwritten).
verify: pull the manifest and every blob, check each digest, and compare with a rebuild of the
package (the tag's commit): report a match or the first difference.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from release.errors import BadInput, Conflict
from release.oci.artifact import (
    CHART_MEDIA_TYPE,
    CONFIG_MEDIA_TYPE,
    PROV_MEDIA_TYPE,
    Artifact,
    build_artifact,
    helm_annotations,
    helm_config,
    manifest_too_big,
)
from release.oci.client import MAX_MANIFEST, RegistryClient, sha256_digest
from release.oci.credentials import Credentials
from release.oci.reference import ChartRef, chart_ref

Status = Literal["pushed", "already-published", "overwritten"]


class PackageLike(Protocol):
    """What publishing needs of `release.package.PackageResult`."""

    @property
    def path(self) -> Path: ...
    @property
    def digest(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def version(self) -> str: ...
    @property
    def metadata(self) -> Mapping[str, Any]: ...
    @property
    def created(self) -> int: ...


@dataclass(frozen=True)
class PushResult:
    reference: str  # host/repository:tag
    digest: str  # the manifest digest the tag now points at
    status: Status
    requests: int
    previous_digest: str | None = None  # what an overwrite replaced
    uploaded: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()

    def message(self) -> str:
        if self.status == "already-published":
            return f"already published: {self.reference} is {self.digest}"
        if self.status == "overwritten":
            return (f"overwrote {self.reference}: it was {self.previous_digest}, "
                    f"now {self.digest}")
        return f"pushed {self.reference} ({self.digest})"

    def as_dict(self) -> dict[str, Any]:
        return {"reference": self.reference, "oci": f"oci://{self.reference}",
                "digest": self.digest, "status": self.status, "requests": self.requests,
                "previous_digest": self.previous_digest, "uploaded": list(self.uploaded),
                "skipped": list(self.skipped)}


@dataclass(frozen=True)
class VerifyResult:
    reference: str
    digest: str | None
    match: bool
    difference: str | None
    requests: int
    checked: tuple[str, ...] = field(default=())

    def as_dict(self) -> dict[str, Any]:
        return {"reference": self.reference, "digest": self.digest, "match": self.match,
                "difference": self.difference, "requests": self.requests,
                "checked": list(self.checked)}


def prepare(package: PackageLike, registry: str, *, plain_http: bool = False,
            prov: Path | None = None) -> tuple[ChartRef, Artifact]:
    """Reference and artifact bytes, with every local check done before any network."""
    ref = chart_ref(registry, package.name, package.version, plain_http=plain_http)
    if not package.path.is_file():
        raise BadInput(f"chart archive {package.path} does not exist", "package the chart first")
    artifact = build_artifact(package.path, package.metadata, package.created, prov)
    if artifact.chart_layer.digest != package.digest:
        raise BadInput(f"{package.path} changed after it was packaged",
                       "package again; never edit a built archive")
    if manifest_too_big(artifact):
        raise BadInput(f"the OCI manifest for {ref} would be {len(artifact.manifest)} bytes, "
                       f"over the {MAX_MANIFEST // (1024 * 1024)} MiB registries accept",
                       "shrink the annotations in Chart.yaml")
    return ref, artifact


def push_chart(
    package: PackageLike,
    registry: str,
    *,
    credentials: Credentials | None = None,
    plain_http: bool = False,
    force: bool = False,
    prov: Path | None = None,
    client: RegistryClient | None = None,
    **client_options: Any,
) -> PushResult:
    """Publish `package` to `oci://…` (see the module doc for the semantics)."""
    ref, artifact = prepare(package, registry, plain_http=plain_http, prov=prov)
    own = client is None
    if client is None:
        client = RegistryClient(ref.host, plain_http=plain_http, credentials=credentials,
                                push_repositories=(ref.repository,), **client_options)
    try:
        current = client.manifest_digest(ref.repository, ref.tag)
        if current == artifact.digest:
            return PushResult(str(ref), current, "already-published", client.requests)
        if current is not None and not force and _same_but_signature(
                client.get_manifest(ref.repository, current)[0], artifact):
            # A signature differs on every run (its time stamp): the chart is the same.
            return PushResult(str(ref), current, "already-published", client.requests)
        if current is not None and not force:
            raise Conflict(
                f"{ref} is already published as {current}, which differs from this build "
                f"({artifact.digest}); nothing was written",
                "published versions are immutable: bump the version, or run `ameide-release "
                "verify` to see what differs (--force overwrites)")
        uploaded: list[str] = []
        skipped: list[str] = []
        for blob in artifact.blobs:
            outcome = client.push_blob(ref.repository, blob)
            (uploaded if outcome == "uploaded" else skipped).append(blob.digest)
        digest = client.put_manifest(ref.repository, ref.tag, artifact.manifest,
                                     artifact.media_type)
        return PushResult(str(ref), digest, "overwritten" if current else "pushed",
                          client.requests, previous_digest=current, uploaded=tuple(uploaded),
                          skipped=tuple(skipped))
    finally:
        if own:
            client.close()


def _without_provenance(manifest: bytes) -> Any:
    try:
        data = json.loads(manifest)
        data["layers"] = [d for d in data["layers"] if d.get("mediaType") != PROV_MEDIA_TYPE]
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    return data


def _same_but_signature(published: bytes, artifact: Artifact) -> bool:
    """True when the two manifests differ only in their provenance layer."""
    theirs = _without_provenance(published)
    return theirs is not None and theirs == _without_provenance(artifact.manifest)


def verify_chart(
    ref: ChartRef,
    expected: PackageLike | None,
    *,
    credentials: Credentials | None = None,
    client: RegistryClient | None = None,
    download_to: Path | None = None,
    **client_options: Any,
) -> VerifyResult:
    """Pull and check the published artifact; compare it with `expected` when given."""
    own = client is None
    if client is None:
        client = RegistryClient(ref.host, plain_http=ref.plain_http, credentials=credentials,
                                **client_options)
    try:
        digest = client.manifest_digest(ref.repository, ref.tag)
        if digest is None:
            raise BadInput(f"{ref} is not published", "push it first (ameide-release push)")
        body, _ = client.get_manifest(ref.repository, digest)
        try:
            manifest = json.loads(body)
            config_desc = manifest["config"]
            layers = list(manifest["layers"])
        except (ValueError, KeyError, TypeError):
            return _verdict(ref, digest, client, "the manifest is not an OCI image manifest")
        if config_desc.get("mediaType") != CONFIG_MEDIA_TYPE:
            return _verdict(ref, digest, client,
                            f"config media type is {config_desc.get('mediaType')!r}, not Helm's")
        blobs: dict[str, bytes] = {}
        checked = []
        for desc in [config_desc, *layers]:
            blobs[desc["mediaType"]] = client.get_blob(ref.repository, desc["digest"],
                                                       desc.get("size"))
            checked.append(desc["digest"])
        if CHART_MEDIA_TYPE not in blobs:
            return _verdict(ref, digest, client, "the manifest has no Helm chart layer")
        if download_to is not None:
            download_to.mkdir(parents=True, exist_ok=True)
            target = download_to / f"{ref.repository.rsplit('/', 1)[-1]}-{ref.tag}.tgz"
            target.write_bytes(blobs[CHART_MEDIA_TYPE])
        difference = None
        if expected is not None:
            difference = _first_difference(manifest, blobs, expected)
        return VerifyResult(str(ref), digest, difference is None, difference, client.requests,
                            tuple(checked))
    finally:
        if own:
            client.close()


def _verdict(ref: ChartRef, digest: str, client: RegistryClient, why: str) -> VerifyResult:
    return VerifyResult(str(ref), digest, False, why, client.requests)


def _first_difference(manifest: dict[str, Any], blobs: dict[str, bytes],
                      expected: PackageLike) -> str | None:
    chart = blobs[CHART_MEDIA_TYPE]
    if sha256_digest(chart) != expected.digest:
        return (f"chart archive: published {sha256_digest(chart)}, "
                f"rebuilt {expected.digest}")
    config = helm_config(expected.metadata)
    if blobs[CONFIG_MEDIA_TYPE] != config:
        return "config blob (chart metadata) differs from the rebuilt Chart.yaml"
    want = helm_annotations(expected.metadata, expected.created)
    have = manifest.get("annotations") or {}
    for key in sorted(set(want) | set(have)):
        if want.get(key) != have.get(key):
            return f"annotation {key}: published {have.get(key)!r}, rebuilt {want.get(key)!r}"
    prov = blobs.get(PROV_MEDIA_TYPE)
    if prov is not None and expected.digest.removeprefix("sha256:").encode() not in prov:
        return "the provenance layer does not name the chart archive's digest"
    layer_types = [d.get("mediaType") for d in manifest.get("layers", [])]
    extra = [t for t in layer_types if t not in (CHART_MEDIA_TYPE, PROV_MEDIA_TYPE)]
    if extra:
        return f"unexpected layers: {', '.join(map(str, extra))}"
    return None


def expected_digest(package: PackageLike, prov: Path | None = None) -> str:
    """The manifest digest a push of `package` produces (no network)."""
    return build_artifact(package.path, package.metadata, package.created, prov).digest


__all__ = ["PackageLike", "PushResult", "VerifyResult", "expected_digest", "push_chart",
           "verify_chart"]
