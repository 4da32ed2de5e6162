"""Signatures and attestations in the layouts cosign and actions/attest write, built here and
pushed with plain httpx (never with the code under test).

Sources: sigstore/cosign specs/SIGNATURE_SPEC.md (the legacy `sha256-<hex>.sig` tag, one
simple-signing layer per signature, annotations `dev.cosignproject.cosign/signature` and
`dev.sigstore.cosign/certificate`), cosign pkg/oci/remote/write.go `WriteReferrer` +
`WriteAttestationNewBundleFormat` (cosign v3: a referrer manifest with `artifactType` the bundle
media type, the empty config, one bundle layer, `subject`, annotations
`dev.sigstore.bundle.content` and `dev.sigstore.bundle.predicateType`), sigstore-js
packages/oci image.ts (what actions/attest pushes: the same referrer, and without a referrers API
the `sha256-<hex>` image index listing it with its artifactType and annotations), cosign
`signDigestBundle` (the statement a v3 signature signs: in-toto v1, subject the digest,
predicateType `https://sigstore.dev/cosign/sign/v1`). The signatures and certificates are
placeholders: nothing here is, or could be, checked cryptographically by the code under test.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.registry_fixtures import Registry

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
EMPTY = "application/vnd.oci.empty.v1+json"
SIMPLE_SIGNING = "application/vnd.dev.cosign.simplesigning.v1+json"
BUNDLE = "application/vnd.dev.sigstore.bundle.v0.3+json"
COSIGN_SIGN = "https://sigstore.dev/cosign/sign/v1"
SLSA = "https://slsa.dev/provenance/v1"
FAKE_CERT = "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n"


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def tag_of(digest: str) -> str:
    return digest.replace(":", "-", 1)


def canonical(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), sort_keys=True).encode()


@dataclass
class Pushed:
    """What a helper put in the registry: the manifest's digest, size and bytes."""

    digest: str
    size: int
    body: bytes
    media_type: str = OCI_MANIFEST
    annotations: dict[str, str] = field(default_factory=dict)
    artifact_type: str | None = None

    def descriptor(self) -> dict[str, Any]:
        desc: dict[str, Any] = {"mediaType": self.media_type, "digest": self.digest,
                                "size": self.size}
        if self.artifact_type:
            desc["artifactType"] = self.artifact_type
        if self.annotations:
            desc["annotations"] = self.annotations
        return desc


class Pusher:
    """Blobs and manifests into one repository of a test registry, by plain httpx."""

    def __init__(self, registry: Registry, repository: str) -> None:
        self.registry = registry
        self.repository = repository
        self.headers = registry._headers(repository, "pull,push")

    def blob(self, data: bytes, media_type: str,
             annotations: dict[str, str] | None = None) -> dict[str, Any]:
        base = f"{self.registry.url}/v2/{self.repository}/blobs/uploads/"
        start = httpx.post(base, headers=self.headers, timeout=10)
        assert start.status_code == 202, start.text
        location = httpx.URL(start.headers["Location"])
        if not location.is_absolute_url:
            location = httpx.URL(self.registry.url).join(location)
        put = httpx.put(location.copy_merge_params({"digest": digest_of(data)}), content=data,
                        headers={**self.headers, "Content-Type": "application/octet-stream"},
                        timeout=10)
        assert put.status_code == 201, put.text
        desc: dict[str, Any] = {"mediaType": media_type, "digest": digest_of(data),
                                "size": len(data)}
        if annotations:
            desc["annotations"] = annotations
        return desc

    def manifest(self, value: dict[str, Any], reference: str | None = None,
                 media_type: str = OCI_MANIFEST) -> Pushed:
        body = canonical(value)
        ref = reference or digest_of(body)
        r = httpx.put(f"{self.registry.url}/v2/{self.repository}/manifests/{ref}", content=body,
                      headers={**self.headers, "Content-Type": media_type}, timeout=10)
        assert r.status_code == 201, r.text
        return Pushed(digest_of(body), len(body), body, media_type,
                      dict(value.get("annotations") or {}), value.get("artifactType"))

    def subject(self, tag: str) -> dict[str, Any]:
        """The descriptor of what `tag` holds (the chart's manifest): a referrer's subject."""
        body, ctype = self.registry.manifest(self.repository, tag)
        return {"mediaType": ctype.split(";")[0], "digest": digest_of(body), "size": len(body)}


def simple_signing(repository_ref: str, digest: str) -> bytes:
    """The payload `cosign sign` signs (sigstore/sigstore pkg/signature/payload)."""
    return canonical({"critical": {"identity": {"docker-reference": repository_ref},
                                   "image": {"docker-manifest-digest": digest},
                                   "type": "cosign container image signature"},
                      "optional": None})


def legacy_signature(pusher: Pusher, subject_digest: str, named_digest: str,
                     reference: str) -> Pushed:
    """`sha256-<hex>.sig` for `subject_digest`, one simple-signing layer naming `named_digest`."""
    payload = simple_signing(reference, named_digest)
    layer = pusher.blob(payload, SIMPLE_SIGNING, {
        "dev.cosignproject.cosign/signature": base64.b64encode(b"not-a-real-sig").decode(),
        "dev.sigstore.cosign/certificate": FAKE_CERT,
        "dev.sigstore.cosign/chain": FAKE_CERT})
    config = canonical({"architecture": "", "os": "", "config": {},
                        "rootfs": {"type": "layers", "diff_ids": [layer["digest"]]}})
    config_desc = pusher.blob(config, "application/vnd.oci.image.config.v1+json")
    return pusher.manifest({"schemaVersion": 2, "mediaType": OCI_MANIFEST,
                            "config": config_desc, "layers": [layer]},
                           tag_of(subject_digest) + ".sig")


def statement(digest: str, predicate_type: str, name: str = "") -> dict[str, Any]:
    subject: dict[str, Any] = {"digest": {"sha256": digest.removeprefix("sha256:")}}
    if name:
        subject["name"] = name
    predicate: dict[str, Any] = {} if predicate_type == COSIGN_SIGN else {
        "buildDefinition": {"buildType": "https://actions.github.io/buildtypes/workflow/v1",
                            "externalParameters": {"workflow": {
                                "ref": "refs/tags/v0.1.0", "repository": "https://github.com/o/r",
                                "path": ".github/workflows/release.yml"}}},
        "runDetails": {"builder": {"id": "https://github.com/actions/runner/github-hosted"}}}
    return {"_type": "https://in-toto.io/Statement/v1", "subject": [subject],
            "predicateType": predicate_type, "predicate": predicate}


def bundle(payload: dict[str, Any] | bytes) -> bytes:
    """A sigstore bundle v0.3 with a DSSE envelope around `payload` (placeholder signature)."""
    raw = payload if isinstance(payload, bytes) else canonical(payload)
    return canonical({
        "mediaType": BUNDLE,
        "verificationMaterial": {"certificate": {"rawBytes": base64.b64encode(b"cert").decode()},
                                 "tlogEntries": [{"logIndex": "1", "kindVersion": {
                                     "kind": "dsse", "version": "0.0.1"}}]},
        "dsseEnvelope": {"payload": base64.b64encode(raw).decode(),
                         "payloadType": "application/vnd.in-toto+json",
                         "signatures": [{"sig": base64.b64encode(b"not-a-real-sig").decode()}]},
    })


def bundle_referrer(pusher: Pusher, subject: dict[str, Any], predicate_type: str,
                    bundle_bytes: bytes | None = None) -> Pushed:
    """A referrer as cosign v3 (`cosign sign`) and actions/attest push it, by digest."""
    layer = pusher.blob(bundle_bytes if bundle_bytes is not None
                        else bundle(statement(subject["digest"], predicate_type)), BUNDLE)
    config = pusher.blob(b"{}", EMPTY)
    return pusher.manifest({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST, "artifactType": BUNDLE,
        "config": config, "layers": [layer], "subject": subject,
        "annotations": {"org.opencontainers.image.created": "2026-01-01T00:00:00Z",
                        "dev.sigstore.bundle.content": "dsse-envelope",
                        "dev.sigstore.bundle.predicateType": predicate_type}})


def fallback_index(pusher: Pusher, subject_digest: str, referrers: list[Pushed]) -> Pushed:
    """The `sha256-<hex>` referrers tag: an image index of the referrers' descriptors."""
    return pusher.manifest({"schemaVersion": 2, "mediaType": OCI_INDEX,
                            "manifests": [r.descriptor() for r in referrers]},
                           tag_of(subject_digest), OCI_INDEX)
