"""What protects a published digest: cosign signatures and attestations, wherever they are kept.

For the manifest digest `sha256:<hex>` a release tag resolves to, three places are read:
- the legacy cosign tags `sha256-<hex>.sig` (one layer per signature: a simple-signing payload
  that names the digest in `critical.image.docker-manifest-digest`) and `sha256-<hex>.att` (DSSE
  envelopes of in-toto statements) — sigstore/cosign specs/SIGNATURE_SPEC.md;
- the OCI 1.1 referrers API, `GET /v2/<repo>/referrers/<digest>`: an image index of the
  manifests whose `subject` is the digest (cosign v3 signature bundles, actions/attest
  provenance);
- without that API (distribution 2.8, GHCR), the referrers tag `sha256-<hex>`: the same index,
  kept by the writers themselves (go-containerregistry, @sigstore/oci) by read-modify-write.
Each signature or attestation found is listed with where it was, its media type, its predicate
type and whether it names this digest: the simple-signing payload's digest, the referrer's
`subject` descriptor, the in-toto statement's subjects — every claim that is there must agree,
and a payload that cannot be read (too big, not JSON) names nothing.

Everything read is hostile: a descriptor's digest is checked before it reaches a URL, a layer is
read only up to the size its descriptor states and at most `limits.SIGNATURE_LAYER_MAX`, at most
`limits.SIGNATURE_READS_MAX` manifests and layers are read, and odd shapes become notes in the
report, never exceptions.

Not done here, on purpose: checking the signatures cryptographically and who made them. A
keyless bundle is verified against Fulcio's roots and Rekor's log, which needs the network to
sigstore; `cosign verify` and `gh attestation verify` do that (`verify_commands`).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from release import limits
from release.errors import for_terminal
from release.oci.content import DIGEST_RE, Descriptor, parse_descriptor

if TYPE_CHECKING:
    from release.oci.client import RegistryClient
    from release.oci.reference import ChartRef

SIMPLE_SIGNING = "application/vnd.dev.cosign.simplesigning.v1+json"
DSSE_ENVELOPE = "application/vnd.dsse.envelope.v1+json"
BUNDLE_PREFIX = "application/vnd.dev.sigstore.bundle"  # .v0.3+json, +json;version=0.2, …
IN_TOTO = "application/vnd.in-toto+json"
COSIGN_SIGNATURE_ARTIFACT = "application/vnd.dev.cosign.artifact.sig.v1+json"
NOTARY_SIGNATURE = "application/vnd.cncf.notary.signature"
COSIGN_SIGN_PREDICATE = "https://sigstore.dev/cosign/sign/v1"
# cosign v3 and actions/attest ≥ v1 write the first; early actions/attest the second; cosign's
# legacy `.att` layers the third.
_PREDICATE_KEYS = ("dev.sigstore.bundle.predicateType", "dev.sigstore.bundle/predicateType",
                   "predicateType")
_LAYERS_PER_MANIFEST = 8
_SUBJECTS_MAX = 100
_SHOWN = 100  # characters of a server-chosen string shown in a report

Place = Literal["legacy tag", "referrers API", "fallback index"]
Kind = Literal["signature", "attestation", "other"]


@dataclass(frozen=True)
class Protection:
    """One signature or attestation (or other referrer) found for the digest."""

    place: Place
    where: str  # the legacy tag, or the referrer manifest's digest
    kind: Kind
    media_type: str  # of the layer read, else what the listing says
    artifact_type: str | None
    predicate_type: str | None
    names: tuple[str, ...]  # the digests its subject and signed content name
    names_digest: bool  # every claim there is names the digest, and there is one
    note: str = ""

    def as_json(self) -> dict[str, Any]:
        return {"place": self.place, "where": self.where, "kind": self.kind,
                "media_type": self.media_type, "artifact_type": self.artifact_type,
                "predicate_type": self.predicate_type, "names": list(self.names),
                "names_digest": self.names_digest, "note": self.note or None}


@dataclass(frozen=True)
class ProtectionReport:
    """Everything found for one digest, and what could not be read."""

    repository: str
    digest: str
    referrers_api: bool
    referrers_tag: str  # what the fallback tag held, in words
    legacy_tags: tuple[str, ...]  # the `.sig` / `.att` tags that exist
    found: tuple[Protection, ...]
    notes: tuple[str, ...]

    @property
    def signatures(self) -> tuple[Protection, ...]:
        """Signatures that name this digest (what `--require-signature` asks for)."""
        return tuple(p for p in self.found if p.kind == "signature" and p.names_digest)

    def as_json(self) -> dict[str, Any]:
        return {"digest": self.digest, "referrers_api": self.referrers_api,
                "referrers_tag": self.referrers_tag, "legacy_tags": list(self.legacy_tags),
                "found": [p.as_json() for p in self.found], "notes": list(self.notes),
                "signed": bool(self.signatures)}


def referrers_tag(digest: str) -> str:
    """The referrers tag schema (distribution-spec): algorithm, '-', the first 64 characters."""
    algorithm, _, encoded = digest.partition(":")
    return f"{algorithm[:32]}-{encoded[:64]}"


def find_protections(client: RegistryClient, repository: str, digest: str) -> ProtectionReport:
    """Read the legacy tags, the referrers API or its fallback tag, and the signatures and
    attestations they list (see the module docstring). `digest` comes from the registry's
    answer for the release tag and was checked there."""
    from release.sender import step_deadline

    with step_deadline(limits.STEP_DEADLINE, "listing what protects the digest"):
        return _find(_Reader(client, repository, digest))


def _find(reader: _Reader) -> ProtectionReport:
    client, repository, digest = reader.client, reader.repository, reader.digest
    legacy: list[str] = []
    tags: tuple[tuple[str, Kind], ...] = ((".sig", "signature"), (".att", "attestation"))
    for suffix, kind in tags:
        tag = referrers_tag(digest) + suffix
        found = client.find_manifest(repository, tag)
        if found is not None:
            legacy.append(tag)
            reader.legacy(tag, found[0], kind)
    listed = client.list_referrers(repository, digest)
    tag = referrers_tag(digest)
    if listed is not None:
        body, more = listed
        if more:
            reader.notes.append("the referrers API has more pages; only the first was read")
        reader.index(body, "referrers API", f"the referrers of {digest[:19]}")
        tag_state = "not read: the registry has the referrers API"
    else:
        index = client.find_manifest(repository, tag)
        tag_state = f"{tag}: absent" if index is None else \
            f"{tag}: {reader.index(index[0], 'fallback index', tag)} referrer(s)"
    return ProtectionReport(repository, digest, listed is not None, tag_state, tuple(legacy),
                            tuple(reader.found), tuple(reader.notes))


@dataclass
class _Reader:
    """Reads what the listings point at, within the read budget, collecting findings and
    notes."""

    client: RegistryClient
    repository: str
    digest: str
    reads: int = 0
    found: list[Protection] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def _spend(self) -> bool:
        if self.reads >= limits.SIGNATURE_READS_MAX:
            stop = f"stopped after reading {limits.SIGNATURE_READS_MAX} manifests and layers"
            if stop not in self.notes:
                self.notes.append(stop)
            return False
        self.reads += 1
        return True

    # --- legacy `.sig` / `.att` tags ---------------------------------------------------------
    def legacy(self, tag: str, body: bytes, kind: Kind) -> None:
        manifest = _json_object(body)
        layers = manifest.get("layers") if manifest is not None else None
        if not isinstance(layers, list):
            self.notes.append(f"{tag} is not an image manifest with layers")
            return
        if len(layers) > _LAYERS_PER_MANIFEST:
            self.notes.append(f"{tag} has {len(layers)} layers; the first "
                              f"{_LAYERS_PER_MANIFEST} were read")
        for layer in layers[:_LAYERS_PER_MANIFEST]:
            self.found.append(self._legacy_layer(tag, layer, kind))

    def _legacy_layer(self, tag: str, layer: Any, kind: Kind) -> Protection:
        desc = parse_descriptor(layer)
        if isinstance(desc, str):
            return Protection("legacy tag", tag, kind, "?", None, None, (), False, desc)
        media_type = _text(desc.media_type)
        predicate = _predicate(desc.annotations)
        content = self._content(desc)
        if isinstance(content, str):
            return Protection("legacy tag", tag, kind, media_type, None, predicate, (), False,
                              content)
        predicate = content.predicate or predicate
        if content.predicate == COSIGN_SIGN_PREDICATE:
            kind = "signature"
        return Protection("legacy tag", tag, kind, media_type, None, predicate, content.names,
                          self._names_digest(None, content), content.note)

    # --- referrers (API or fallback tag) -----------------------------------------------------
    def index(self, body: bytes, place: Place, what: str) -> int:
        """The referrers listed in an image index; returns how many it lists."""
        index = _json_object(body)
        entries = index.get("manifests") if index is not None else None
        if not isinstance(entries, list):
            self.notes.append(f"{what} is not an image index")
            return 0
        shown = limits.SIGNATURE_READS_MAX
        if len(entries) > shown:
            self.notes.append(f"{what} lists {len(entries)} referrers; the first {shown} were "
                              "looked at")
        for entry in entries[:shown]:
            self.found.append(self._referrer(entry, place))
        return len(entries)

    def _referrer(self, entry: Any, place: Place) -> Protection:
        desc = parse_descriptor(entry)
        if isinstance(desc, str):
            return Protection(place, "?", "other", "?", None, None, (), False, desc)
        where, media_type = desc.digest, _text(desc.media_type)
        artifact_type = None if desc.artifact_type is None else _text(desc.artifact_type)
        predicate = _predicate(desc.annotations)
        kind = _kind(artifact_type, predicate)
        if kind == "other":
            return Protection(place, where, kind, media_type, artifact_type, predicate,
                              (), False, "not a signature or attestation; not read")
        if not self._spend():
            return Protection(place, where, kind, media_type, artifact_type, predicate,
                              (), False, "not read: the read limit was reached")
        found = self.client.find_manifest(self.repository, where)
        if found is None:
            return Protection(place, where, kind, media_type, artifact_type, predicate,
                              (), False, "listed, but its manifest is not in the registry")
        manifest = _json_object(found[0])
        if manifest is None:
            return Protection(place, where, kind, media_type, artifact_type, predicate,
                              (), False, "its manifest is not a JSON object")
        subject = _subject(manifest)
        own_type = manifest.get("artifactType")
        artifact_type = _text(own_type) if isinstance(own_type, str) else artifact_type
        own_annotations = manifest.get("annotations")
        if isinstance(own_annotations, dict):
            predicate = _predicate(own_annotations) or predicate
        layers = manifest.get("layers")
        readable = [d for d in (parse_descriptor(x) for x in layers[:_LAYERS_PER_MANIFEST])
                    if not isinstance(d, str) and _readable(d.media_type)] \
            if isinstance(layers, list) else []
        if not readable:
            names = (subject,) if subject else ()
            return Protection(place, where, _kind(artifact_type, predicate), media_type,
                              artifact_type, predicate, names,
                              subject == self.digest, "no signature layer was read")
        layer = readable[0]  # a bundle or envelope referrer has one
        layer_type = _text(layer.media_type)
        content = self._content(layer)
        if isinstance(content, str):  # a payload that cannot be read proves nothing
            return Protection(place, where, _kind(artifact_type, predicate), layer_type,
                              artifact_type, predicate, (subject,) if subject else (), False,
                              content)
        note = content.note
        if content.predicate and predicate and content.predicate != predicate:
            note = (f"the annotation says predicate {predicate}, the statement "
                    f"{content.predicate}")
        predicate = content.predicate or predicate
        named = tuple(dict.fromkeys(((subject,) if subject else ()) + content.names))
        return Protection(place, where, _kind(artifact_type, predicate), layer_type,
                          artifact_type, predicate, named,
                          self._names_digest(subject, content), note)

    # --- layers ------------------------------------------------------------------------------
    def _content(self, desc: Descriptor) -> _Content | str:
        media_type, size = desc.media_type, desc.size
        if not _readable(media_type):
            return "not a cosign or sigstore payload; not read"
        if size > limits.SIGNATURE_LAYER_MAX:
            return f"a {size}-byte layer, over the {limits.SIGNATURE_LAYER_MAX}-byte limit; not read"
        if not self._spend():
            return "not read: the read limit was reached"
        data = self.client.get_blob(self.repository, desc.digest, size)
        if media_type == SIMPLE_SIGNING:
            return _simple_signing(data)
        if media_type == DSSE_ENVELOPE:
            return _envelope(_json_object(data))
        bundle = _json_object(data)
        if bundle is None:
            return "the bundle is not a JSON object"
        if "dsseEnvelope" in bundle:
            return _envelope(bundle.get("dsseEnvelope"))
        if "messageSignature" in bundle:
            return _Content((), None, "a message-signature bundle names no digest itself")
        return "the bundle holds neither a DSSE envelope nor a message signature"

    def _names_digest(self, subject: str | None, content: _Content) -> bool:
        """Every claim there is names the digest (the referrer's subject, the signed content's
        digests), and there is at least one."""
        if subject is None and not content.names:
            return False
        return (subject is None or subject == self.digest) and \
            (not content.names or self.digest in content.names)


@dataclass(frozen=True)
class _Content:
    names: tuple[str, ...]  # the digests the signed content names
    predicate: str | None
    note: str = ""


def _readable(media_type: str) -> bool:
    return media_type in (SIMPLE_SIGNING, DSSE_ENVELOPE) or media_type.startswith(BUNDLE_PREFIX)


def _kind(artifact_type: str | None, predicate: str | None) -> Kind:
    if predicate == COSIGN_SIGN_PREDICATE or artifact_type in (COSIGN_SIGNATURE_ARTIFACT,
                                                               NOTARY_SIGNATURE):
        return "signature"
    if predicate or (artifact_type or "").startswith(BUNDLE_PREFIX) \
            or artifact_type in (IN_TOTO, DSSE_ENVELOPE):
        return "attestation"
    return "other"


def _simple_signing(data: bytes) -> _Content | str:
    payload = _json_object(data)
    critical = _get(payload, "critical")
    image = _get(critical, "image")
    named = _get(image, "docker-manifest-digest")
    if not isinstance(named, str):
        return "the simple-signing payload names no docker-manifest-digest"
    if not DIGEST_RE.fullmatch(named):
        return f"the simple-signing payload names {_text(named)!r}, not a digest"
    kind = _get(critical, "type")
    note = "" if kind == "cosign container image signature" else \
        f"critical.type is {_text(kind)!r}, not cosign's"
    return _Content((named,), None, note)


def _envelope(envelope: Any) -> _Content | str:
    """A DSSE envelope of an in-toto statement → the statement's subjects and predicate type."""
    if not isinstance(envelope, dict) or not isinstance(envelope.get("payload"), str):
        return "the DSSE envelope has no payload"
    if envelope.get("payloadType") != IN_TOTO:
        return f"the DSSE payload is {_text(envelope.get('payloadType'))!r}, not an in-toto statement"
    raw = envelope["payload"]
    try:
        decoded = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        try:
            decoded = base64.urlsafe_b64decode(raw)
        except (binascii.Error, ValueError):
            return "the DSSE payload is not base64"
    statement = _json_object(decoded)
    if statement is None:
        return "the in-toto statement is not a JSON object"
    predicate = statement.get("predicateType")
    subjects = statement.get("subject")
    if not isinstance(subjects, list):
        return "the in-toto statement has no subject list"
    names: list[str] = []
    for subject in subjects[:_SUBJECTS_MAX]:
        digests = _get(subject, "digest")
        if isinstance(digests, dict):
            names += [f"{alg}:{value}" for alg, value in digests.items()
                      if isinstance(value, str) and DIGEST_RE.fullmatch(f"{alg}:{value}")]
    return _Content(tuple(dict.fromkeys(names)),
                    _text(predicate) if isinstance(predicate, str) else None,
                    "" if names else "the in-toto statement names no sha256 digest")


def _subject(manifest: Mapping[str, Any]) -> str | None:
    digest = _get(manifest.get("subject"), "digest")
    return digest if isinstance(digest, str) and DIGEST_RE.fullmatch(digest) else None


def _predicate(annotations: Mapping[str, Any]) -> str | None:
    for key in _PREDICATE_KEYS:
        value = annotations.get(key)
        if isinstance(value, str) and value:
            return _text(value)
    return None


def _get(value: Any, key: str) -> Any:
    """`value[key]` of a JSON object, matching the key case-insensitively when it is not there
    as written (Go's encoding/json, which cosign reads payloads with, does)."""
    if not isinstance(value, dict):
        return None
    if key in value:
        return value[key]
    return next((v for k, v in value.items() if isinstance(k, str) and k.lower() == key), None)


def _json_object(data: Any) -> dict[str, Any] | None:
    if not isinstance(data, bytes | str):
        return data if isinstance(data, dict) else None
    try:
        value = json.loads(data)
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def _text(value: Any) -> str:
    """A server-chosen string as a report shows it: printable, one line, bounded."""
    return for_terminal(str(value)[:_SHOWN], one_line=True)


def verify_commands(ref: ChartRef, digest: str, web_url: str, identity: str) -> dict[str, str]:
    """The commands that check what this tool cannot: the keyless signature of `digest`
    (`cosign verify`, with `identity` the certificate identity regexp of the workflows that
    sign: `ghactions.signing_identity_regexp`) and its build provenance (`gh attestation
    verify`). `web_url` is the repository's web address, on github.com or GitHub Enterprise
    (whose Actions tokens come from `https://HOST/_services/token`)."""
    from urllib.parse import urlsplit

    parts = urlsplit(web_url)
    owner_repo, host = parts.path.strip("/"), parts.netloc
    issuer = ("https://token.actions.githubusercontent.com" if host == "github.com"
              else f"https://{host}/_services/token")
    image = f"{ref.host}/{ref.repository}"
    return {
        "cosign": (f"cosign verify {image}@{digest} --certificate-identity-regexp "
                   f"'{identity}' --certificate-oidc-issuer {issuer}"),
        "gh": f"gh attestation verify oci://{image}:{ref.tag} -R {owner_repo}",
    }
