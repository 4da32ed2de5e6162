"""Push and verify semantics: published content is never damaged, re-runs are safe.

push: HEAD the tag first. Absent → upload blobs, then write the tag (the manifest) last, so a
crash leaves no tag pointing at an incomplete artifact, then read the tag back. Present with our
digest → done, nothing written ("already published", one request against an open registry).
Present with another digest → Conflict, nothing written, unless `force` (and then the result says
what was overwritten). The OCI protocol has no conditional tag write, so two publishers of one
version can both pass the HEAD check; the read-back after our write makes the one whose manifest
the tag does not hold exit 3 instead of reporting success (a narrow window remains when the other
writes after our read-back: the release workflow's concurrency group closes it per repository).
verify: pull the manifest and every blob, check each digest, and compare with a rebuild of the
package (the tag's commit): report a match or the first difference.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

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
from release.oci.content import MAX_MANIFEST, Descriptor, parse_descriptor, sha256_digest
from release.oci.reference import ChartRef, chart_ref

if TYPE_CHECKING:  # the HTTP stack is imported when a request is about to be made
    from release.oci.client import RegistryClient
    from release.oci.credentials import Credentials

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


@dataclass(frozen=True)
class ChartUpload:
    """What a push writes, fully determined before any request: the reference and the artifact
    (blobs and manifest bytes), so its manifest digest is known in advance."""

    ref: ChartRef
    artifact: Artifact

    @property
    def digest(self) -> str:
        return self.artifact.digest


def prepare_upload(package: PackageLike, registry: str, *, plain_http: bool = False,
                   prov: Path | None = None, source: str | None = None) -> ChartUpload:
    """Reference and artifact bytes, with every local check done before any network. `source`:
    the repository address the manifest names when Chart.yaml has no `sources`."""
    ref = chart_ref(registry, package.name, package.version, plain_http=plain_http)
    if not package.path.is_file():
        raise BadInput(f"chart archive {package.path} does not exist", "package the chart first")
    artifact = build_artifact(package.path, package.metadata, package.created, prov, source)
    if artifact.chart_layer.digest != package.digest:
        raise BadInput(f"{package.path} changed after it was packaged",
                       "package again; never edit a built archive")
    if manifest_too_big(artifact):
        raise BadInput(f"the OCI manifest for {ref} would be {len(artifact.manifest)} bytes, "
                       f"over the {MAX_MANIFEST // (1024 * 1024)} MiB registries accept",
                       "shrink the annotations in Chart.yaml")
    return ChartUpload(ref, artifact)


PushState = Literal["absent", "same", "same-but-signature", "different"]


def published_state(upload: ChartUpload, client: RegistryClient) -> tuple[PushState, str | None]:
    """What the tag holds now compared with the upload (reads only: HEAD, maybe one GET)."""
    ref = upload.ref
    current = client.manifest_digest(ref.repository, ref.tag)
    if current is None:
        return "absent", None
    if current == upload.digest:
        return "same", current
    # A signature differs on every run (its time stamp): the chart is the same.
    if _same_but_signature(client.get_manifest(ref.repository, current)[0], upload.artifact):
        return "same-but-signature", current
    return "different", current


def publish_upload(upload: ChartUpload, client: RegistryClient, *,
                   force: bool = False) -> PushResult:
    """The push: HEAD first, blobs next, the tag last, then read the tag back (see the module
    docstring). Never overwrites different content unless `force`."""
    ref, artifact = upload.ref, upload.artifact
    state, current = published_state(upload, client)
    if state in ("same", "same-but-signature"):
        assert current is not None
        return PushResult(str(ref), current, "already-published", client.requests)
    if state == "different" and not force:
        raise Conflict(
            f"{ref} is already published as {current}, which differs from this build "
            f"({artifact.digest}); nothing was written",
            "published versions are immutable: bump the version, or run `ameide-release "
            "verify` to see what differs (--force overwrites)")
    uploaded, skipped = upload_artifact(client, ref.repository, ref.tag, artifact)
    digest = artifact.digest
    # The protocol has no conditional tag write: read the tag back, so that of two publishers
    # racing for one version the one whose manifest the tag does not hold says so.
    now = client.manifest_digest(ref.repository, ref.tag)
    if now != digest:
        raise Conflict(f"another publisher won the race for {ref}: the tag now holds {now}, "
                       f"yours ({digest}) was not kept",
                       "run `ameide-release verify` to see what was published; bump the "
                       "version if it is not your build")
    return PushResult(str(ref), digest, "overwritten" if current else "pushed",
                      client.requests, previous_digest=current, uploaded=uploaded,
                      skipped=skipped)


def upload_artifact(client: RegistryClient, repository: str, tag: str,
                    artifact: Artifact) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Write `artifact` under `tag`: every blob first, the manifest last, so a tag never
    points at a missing blob. Returns the digests of the blobs (uploaded, already there)."""
    uploaded: list[str] = []
    skipped: list[str] = []
    for blob in artifact.blobs:
        outcome = client.push_blob(repository, blob)
        (uploaded if outcome == "uploaded" else skipped).append(blob.digest)
    client.put_manifest(repository, tag, artifact.manifest, artifact.media_type)
    return tuple(uploaded), tuple(skipped)


def registry_client(ref: ChartRef, credentials: Credentials | None, *, push: bool = False,
                    **client_options: Any) -> RegistryClient:
    """The client for `ref`'s registry; `push` asks for pull,push tokens for its repository."""
    from release.oci.client import RegistryClient

    return RegistryClient(ref.host, plain_http=ref.plain_http, credentials=credentials,
                          push_repositories=(ref.repository,) if push else (),
                          **client_options)


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


def verify_chart(ref: ChartRef, expected: PackageLike | None, client: RegistryClient, *,
                 source: str | None = None) -> VerifyResult:
    """Pull and check the published artifact; compare it with `expected` when given (`source`:
    as for `prepare_upload`)."""
    found = client.find_manifest(ref.repository, ref.tag)  # one GET: the digest is the bytes'
    if found is None:
        raise BadInput(f"{ref} is not published", "push it first (ameide-release push)")
    body, _ = found
    digest = sha256_digest(body)
    parsed = _descriptors(body)
    if isinstance(parsed, str):
        return _verdict(ref, digest, client, parsed)
    manifest, config_desc, layers = parsed
    if config_desc.media_type != CONFIG_MEDIA_TYPE:
        return _verdict(ref, digest, client,
                        f"config media type is {config_desc.media_type[:100]!r}, not Helm's")
    blobs: dict[str, bytes] = {}
    checked = []
    for desc in [config_desc, *layers]:
        if desc.media_type not in (CONFIG_MEDIA_TYPE, CHART_MEDIA_TYPE, PROV_MEDIA_TYPE):
            continue  # unknown layers are reported below, never downloaded
        blobs[desc.media_type] = client.get_blob(ref.repository, desc.digest, desc.size)
        checked.append(desc.digest)
    if CHART_MEDIA_TYPE not in blobs:
        return _verdict(ref, digest, client, "the manifest has no Helm chart layer")
    difference = None
    if expected is not None:
        difference = _first_difference(manifest, layers, blobs, expected, source)
    return VerifyResult(str(ref), digest, difference is None, difference, client.requests,
                        tuple(checked))


_MAX_LAYERS = 16  # a Helm chart has one or two


def _descriptors(body: bytes) -> tuple[dict[str, Any], Descriptor, list[Descriptor]] | str:
    """The manifest's config and layer descriptors, each checked for shape; or why not."""
    try:
        manifest = json.loads(body)
    except ValueError:
        return "the manifest is not JSON"
    if not isinstance(manifest, dict):
        return "the manifest is not a JSON object"
    config, layers = manifest.get("config"), manifest.get("layers")
    if not isinstance(config, dict) or not isinstance(layers, list):
        return "the manifest is not an OCI image manifest (no config and layers)"
    if len(layers) > _MAX_LAYERS:
        return f"the manifest has {len(layers)} layers; a Helm chart has one or two"
    parsed = [parse_descriptor(desc) for desc in [config, *layers]]
    for desc in parsed:
        if isinstance(desc, str):
            return f"the manifest holds a descriptor without mediaType, digest and size ({desc})"
    checked = [d for d in parsed if not isinstance(d, str)]
    return manifest, checked[0], checked[1:]


def _verdict(ref: ChartRef, digest: str, client: RegistryClient, why: str) -> VerifyResult:
    return VerifyResult(str(ref), digest, False, why, client.requests)


def _first_difference(manifest: dict[str, Any], layers: list[Descriptor],
                      blobs: dict[str, bytes], expected: PackageLike,
                      source: str | None) -> str | None:
    chart = blobs[CHART_MEDIA_TYPE]
    if sha256_digest(chart) != expected.digest:
        return (f"chart archive: published {sha256_digest(chart)}, "
                f"rebuilt {expected.digest}")
    config = helm_config(expected.metadata)
    if blobs[CONFIG_MEDIA_TYPE] != config:
        return "config blob (chart metadata) differs from the rebuilt Chart.yaml"
    want = helm_annotations(expected.metadata, expected.created, source)
    have = manifest.get("annotations")
    if not isinstance(have, dict):
        have = {}
    for key in sorted(set(want) | set(have)):
        if want.get(key) != have.get(key):
            return f"annotation {key}: published {have.get(key)!r}, rebuilt {want.get(key)!r}"
    prov = blobs.get(PROV_MEDIA_TYPE)
    if prov is not None and expected.digest.removeprefix("sha256:").encode() not in prov:
        return "the provenance layer does not name the chart archive's digest"
    layer_types = [d.media_type[:100] for d in layers]
    extra = [t for t in layer_types if t not in (CHART_MEDIA_TYPE, PROV_MEDIA_TYPE)]
    if extra:
        return f"unexpected layers: {', '.join(extra)}"
    return None
