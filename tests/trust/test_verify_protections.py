"""`verify` lists what protects the published digest (issue #11 item 2), against the real
registry: distribution 2.8 has no referrers API, like GHCR, so the legacy `.sig`/`.att` tags and
the `sha256-<hex>` fallback index are what must work; the referrers API itself is served by a
scripted server in front of the registry. The artifacts are built in the documented layouts
(tests/trust/cosign_layouts.py) and pushed with plain httpx."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.conftest import CliResult
from tests.gitutil import GitBuilder
from tests.hostile import Answer, Scripted, Seen
from tests.oci.conftest import CHART_YAML
from tests.registry_fixtures import OCI_ACCEPT, TEST_PASSWORD, TEST_USER, Registry
from tests.trust.cosign_layouts import (
    BUNDLE,
    COSIGN_SIGN,
    OCI_INDEX,
    SIMPLE_SIGNING,
    SLSA,
    Pusher,
    bundle,
    bundle_referrer,
    canonical,
    digest_of,
    fallback_index,
    legacy_signature,
    statement,
    tag_of,
)

pytestmark = pytest.mark.registry

# the identity the release workflows sign with (ghactions.signing_identity_regexp), as README's
# "Signatures and provenance" and index.html show it
IDENTITY = (r"'^https://github\.com/o/r/\.github/workflows/(release\.yml|release-pr\.yml)"
            r"@refs/(tags/.+|heads/(main|release-.*))$'")
ISSUER = "--certificate-oidc-issuer https://token.actions.githubusercontent.com"
# what `verify` itself costs on an open registry: GET the manifest by tag, the config, the chart
VERIFY_REQUESTS = 3
# what the protections add when nothing is there: .sig, .att, referrers API, fallback tag
LOOKUPS = 4


@dataclass
class Published:
    git: GitBuilder
    registry: Registry
    namespace: str
    digest: str
    cli: Callable[..., CliResult]

    @property
    def repository(self) -> str:
        return f"{self.namespace}/demo"

    @property
    def image(self) -> str:
        return f"{self.registry.host}/{self.repository}"

    def verify(self, *extra: str, registry: str | None = None) -> CliResult:
        return self.cli("--repo", str(self.git.root), "--github-repository", "o/r",
                        "--registry", registry or self.registry.oci(self.namespace), "verify",
                        "--tag", "v0.1.0", "--plain-http", *extra)

    def verify_json(self, *extra: str, registry: str | None = None) -> dict[str, Any]:
        result = self.verify("--json", *extra, registry=registry)
        assert result.code == 0, result
        data: dict[str, Any] = json.loads(result.out)
        return data


def publish(git: GitBuilder, registry: Registry, namespace: str,
            cli: Callable[..., CliResult], *login: str) -> Published:
    git.commit("feat: chart", {
        "chart/Chart.yaml": CHART_YAML.format(version="0.1.0"),
        "chart/values.yaml": "replicas: 1\n",
        "chart/templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n",
    })
    git.tag("v0.1.0")
    pushed = cli("--repo", str(git.root), "--github-repository", "o/r", "push", "--tag",
                 "v0.1.0", "--to",
                 registry.oci(namespace), "--plain-http", *login)
    assert pushed.code == 0, pushed
    digest = registry.manifest_digest(f"{namespace}/demo", "0.1.0")
    assert digest is not None
    return Published(git, registry, namespace, digest, cli)


@pytest.fixture
def published(gitrepo: GitBuilder, open_registry: Registry, namespace: str,
              cli: Callable[..., CliResult]) -> Published:
    return publish(gitrepo, open_registry, namespace, cli)


def test_an_unsigned_release_says_so_and_require_signature_exits_3(published: Published) -> None:
    text = published.verify()
    assert text.code == 0, text
    assert text.out == f"oci://{published.image}:0.1.0@{published.digest}\n"
    err = text.err.splitlines()
    assert err[1] == f"protections of {published.digest}:"
    assert err[2] == (f"  referrers API: no; referrers tag {tag_of(published.digest)}: absent; "
                      "legacy tags: none")
    assert "  no signature or attestation found" in err
    assert "signed: no signature names this digest" in err
    assert any(line.startswith("not verified here: found in the registry, not "
                               "cryptographically verified") for line in err)
    assert f"  cosign verify {published.image}@{published.digest} --certificate-identity-regexp "\
        f"{IDENTITY} {ISSUER}" in err
    assert f"  gh attestation verify oci://{published.image}:0.1.0 -R o/r" in err

    data = published.verify_json()
    assert data["protections"] == {
        "digest": published.digest, "referrers_api": False,
        "referrers_tag": f"{tag_of(published.digest)}: absent", "legacy_tags": [],
        "found": [], "notes": [], "signed": False}
    assert data["requests"] == VERIFY_REQUESTS + LOOKUPS
    assert "Fulcio/Rekor" in data["not_verified_here"]
    assert data["verify_commands"]["gh"] == f"gh attestation verify oci://{published.image}:0.1.0 -R o/r"

    refused = published.verify("--require-signature")
    assert refused.code == 3, refused
    errors = [line for line in refused.err.splitlines() if line.startswith("error:")]
    assert errors == [refused.err.splitlines()[-1]]
    assert errors[0].startswith(f"error: no signature naming {published.digest} was found")
    assert "nothing found" in errors[0] and "cosign sign --yes REF@DIGEST" in errors[0]
    assert refused.out == ""
    assert "Traceback" not in refused.err


def test_legacy_signature_and_fallback_index_referrers_are_listed(published: Published) -> None:
    pusher = Pusher(published.registry, published.repository)
    legacy_signature(pusher, published.digest, published.digest, published.image)
    subject = pusher.subject("0.1.0")
    signed = bundle_referrer(pusher, subject, COSIGN_SIGN)  # cosign v3 `cosign sign`
    provenance = bundle_referrer(pusher, subject, SLSA)  # actions/attest-build-provenance
    fallback_index(pusher, published.digest, [signed, provenance])

    data = published.verify_json("--require-signature")
    report = data["protections"]
    assert report["signed"] is True and report["referrers_api"] is False
    assert report["referrers_tag"] == f"{tag_of(published.digest)}: 2 referrer(s)"
    assert report["legacy_tags"] == [tag_of(published.digest) + ".sig"]
    assert report["notes"] == []
    found = report["found"]
    assert [(f["place"], f["kind"], f["media_type"], f["predicate_type"], f["names_digest"])
            for f in found] == [
        ("legacy tag", "signature", SIMPLE_SIGNING, None, True),
        ("fallback index", "signature", BUNDLE, COSIGN_SIGN, True),
        ("fallback index", "attestation", BUNDLE, SLSA, True),
    ]
    assert found[0]["where"] == tag_of(published.digest) + ".sig"
    assert [f["where"] for f in found[1:]] == [signed.digest, provenance.digest]
    assert all(f["names"] == [published.digest] for f in found)
    assert all(f["artifact_type"] == BUNDLE for f in found[1:])
    # one signature layer; two referrer manifests with one layer each
    assert data["requests"] == VERIFY_REQUESTS + LOOKUPS + 1 + 2 * 2

    text = published.verify("--require-signature")
    assert text.code == 0, text
    lines = text.err.splitlines()
    assert "signed: 2 signature(s) name this digest" in lines
    assert any(line.startswith("  attestation  names this digest  (fallback index "
                               f"{provenance.digest}; {BUNDLE}; predicate {SLSA})")
               for line in lines)
    assert any(line.startswith("  signature    names this digest  (legacy tag "
                               f"{tag_of(published.digest)}.sig; {SIMPLE_SIGNING})")
               for line in lines)


def test_a_signature_of_another_digest_does_not_count(published: Published) -> None:
    pusher = Pusher(published.registry, published.repository)
    other = "sha256:" + "ab" * 32
    legacy_signature(pusher, published.digest, other, published.image)
    # an attestation of this digest is no signature either
    provenance = bundle_referrer(pusher, pusher.subject("0.1.0"), SLSA)
    fallback_index(pusher, published.digest, [provenance])

    data = published.verify_json()
    found = data["protections"]["found"]
    assert [(f["kind"], f["names"], f["names_digest"]) for f in found] == [
        ("signature", [other], False), ("attestation", [published.digest], True)]
    assert data["protections"]["signed"] is False
    text = published.verify("--require-signature")
    assert text.code == 3
    assert f"  signature    names {other}, NOT this digest" in text.err
    assert text.err.splitlines()[-1].startswith(
        f"error: no signature naming {published.digest} was found for oci://{published.image}"
        ":0.1.0 (found: signature in the legacy tag naming another digest; attestation in the "
        "fallback index)")


def test_a_referrer_whose_subject_or_statement_names_another_digest(published: Published) -> None:
    """Claims must agree: the referrer's subject and the signed statement both name the digest."""
    pusher = Pusher(published.registry, published.repository)
    subject = pusher.subject("0.1.0")
    other = "sha256:" + "cd" * 32
    lying_statement = bundle_referrer(pusher, subject, COSIGN_SIGN,
                                      bundle(statement(other, COSIGN_SIGN)))
    other_subject = bundle_referrer(pusher, {**subject, "digest": other}, COSIGN_SIGN)
    fallback_index(pusher, published.digest, [lying_statement, other_subject])
    found = published.verify_json()["protections"]["found"]
    assert [(f["names"], f["names_digest"]) for f in found] == [
        ([published.digest, other], False), ([other], False)]
    assert published.verify("--require-signature").code == 3


def test_secrets_stay_out_of_the_report(gitrepo: GitBuilder, token_registry: Registry,
                                        namespace: str, cli: Callable[..., CliResult],
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AMEIDE_REGISTRY_USERNAME", TEST_USER)
    monkeypatch.setenv("AMEIDE_REGISTRY_PASSWORD", TEST_PASSWORD)
    released = publish(gitrepo, token_registry, namespace, cli)
    pusher = Pusher(token_registry, released.repository)
    legacy_signature(pusher, released.digest, released.digest, released.image)
    before = len(token_registry.token_server.requests)  # type: ignore[union-attr]
    for extra in ((), ("--json",), ("--require-signature",)):
        result = released.verify(*extra)
        assert result.code == 0, result
        assert TEST_PASSWORD not in result.out + result.err
    # one token per run: the lookups reuse the verify's pull token
    assert len(token_registry.token_server.requests) - before == 3  # type: ignore[union-attr]


# --- the referrers API: a scripted server in front of the real registry ----------------------
class Front:
    """Forwards everything to the registry, except what `answers` scripts (path → Answer)."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self.answers: dict[str, Callable[[Seen], Answer]] = {}
        self.server = Scripted(self.handle)

    def handle(self, seen: Seen) -> Answer:
        path = seen.path.split("?")[0]
        if path in self.answers:
            return self.answers[path](seen)
        r = httpx.request(seen.method, f"{self.registry.url}{seen.path}",
                          headers={"Accept": seen.headers.get("accept", OCI_ACCEPT)}, timeout=10)
        keep = {k: v for k, v in r.headers.items()
                if k.lower() in ("content-type", "docker-content-digest", "location")}
        return Answer(r.status_code, {**keep, "Content-Length": str(len(r.content))},
                      b"" if seen.method == "HEAD" else r.content)

    def oci(self, namespace: str) -> str:
        return f"oci://{self.server.netloc}/{namespace}"


@pytest.fixture
def front(open_registry: Registry) -> Iterator[Front]:
    made = Front(open_registry)
    yield made
    made.server.stop()


def test_the_referrers_api_is_read_and_the_fallback_tag_is_not(published: Published,
                                                               front: Front) -> None:
    pusher = Pusher(published.registry, published.repository)
    subject = pusher.subject("0.1.0")
    signed = bundle_referrer(pusher, subject, COSIGN_SIGN)
    decoy = bundle_referrer(pusher, subject, SLSA)
    fallback_index(pusher, published.digest, [decoy])  # a registry with the API ignores it
    listing = canonical({"schemaVersion": 2, "mediaType": OCI_INDEX,
                         "manifests": [signed.descriptor()]})
    path = f"/v2/{published.repository}/referrers/{published.digest}"
    front.answers[path] = lambda seen: Answer(200, {"Content-Type": OCI_INDEX}, listing)

    data = published.verify_json("--require-signature", registry=front.oci(published.namespace))
    report = data["protections"]
    assert report["referrers_api"] is True
    assert report["referrers_tag"] == "not read: the registry has the referrers API"
    assert [(f["place"], f["where"], f["kind"], f["names_digest"]) for f in report["found"]] == [
        ("referrers API", signed.digest, "signature", True)]
    paths = [s.path for s in front.server.seen]
    assert f"/v2/{published.repository}/manifests/{tag_of(published.digest)}" not in paths
    assert data["requests"] == VERIFY_REQUESTS + LOOKUPS - 1 + 2


def test_a_referrers_answer_that_is_not_an_index_means_no_api(published: Published,
                                                              front: Front) -> None:
    """Like go-containerregistry: only 200 with the image-index media type is the API."""
    path = f"/v2/{published.repository}/referrers/{published.digest}"
    front.answers[path] = lambda seen: Answer(200, {"Content-Type": "text/plain"}, b"hello")
    report = published.verify_json(registry=front.oci(published.namespace))["protections"]
    assert report["referrers_api"] is False
    assert report["referrers_tag"] == f"{tag_of(published.digest)}: absent"


# --- hostile listings: odd shapes are reported, never a traceback ------------------------------
def _index(*entries: Any) -> bytes:
    return canonical({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": list(entries)})


def _entry(digest: str, artifact_type: str = BUNDLE, size: int = 100) -> dict[str, Any]:
    return {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": digest,
            "size": size, "artifactType": artifact_type,
            "annotations": {"dev.sigstore.bundle.predicateType": COSIGN_SIGN}}


def _manifest_with_layer(subject_digest: str, layer: dict[str, Any]) -> bytes:
    return canonical({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                      "artifactType": BUNDLE, "layers": [layer],
                      "config": {"mediaType": "application/vnd.oci.empty.v1+json",
                                 "digest": digest_of(b"{}"), "size": 2},
                      "subject": {"mediaType": "application/vnd.oci.image.manifest.v1+json",
                                  "digest": subject_digest, "size": 1}})


MISSING = "sha256:" + "0" * 64


def _hostile_cases(digest: str) -> dict[str, tuple[dict[str, bytes], str]]:
    """name → (what the front serves: "index" for the fallback tag, "manifests/<digest>" and
    "blobs/<digest>"; a note the report must show)."""
    huge_layer = {"mediaType": BUNDLE, "digest": "sha256:" + "1" * 64, "size": 1 << 40}
    huge = _manifest_with_layer(digest, huge_layer)
    bad_payload = bundle(b"[not json")
    bad_layer = {"mediaType": BUNDLE, "digest": digest_of(bad_payload), "size": len(bad_payload)}
    bad = _manifest_with_layer(digest, bad_layer)
    deep = b"[" * 100_000 + b"]" * 100_000
    return {
        "not json": ({"index": b"\x00\xff not json"}, "is not an image index"),
        "deeply nested": ({"index": deep}, "is not an image index"),
        "a manifest, not an index": ({"index": canonical({"schemaVersion": 2, "layers": []})},
                                     "is not an image index"),
        "a path in a digest": ({"index": _index(_entry("sha256:../../../v2/_catalog"))},
                               "not a digest"),
        "a listed manifest that is missing": ({"index": _index(_entry(MISSING))},
                                              "its manifest is not in the registry"),
        "a layer of a terabyte": ({"index": _index(_entry(digest_of(huge))),
                                   f"manifests/{digest_of(huge)}": huge},
                                  "over the 1048576-byte limit; not read"),
        "a bundle whose statement is not JSON": (
            {"index": _index(_entry(digest_of(bad))), f"manifests/{digest_of(bad)}": bad,
             f"blobs/{digest_of(bad_payload)}": bad_payload},
            "the in-toto statement is not a JSON object"),
        "control characters": ({"index": _index(
            {**_entry(MISSING, "evil/\x1b[31mred\nline"), "annotations": None})},
            "not a signature or attestation; not read"),
    }


@pytest.mark.parametrize("case", list(_hostile_cases("sha256:" + "2" * 64)))
def test_hostile_fallback_indexes_are_reported(published: Published, front: Front,
                                               case: str) -> None:
    documents, note = _hostile_cases(published.digest)[case]
    tag = tag_of(published.digest)

    def serve(key: str, media_type: str) -> Callable[[Seen], Answer]:
        body = documents[key]
        return lambda seen: Answer(200, {"Content-Type": media_type,
                                         "Content-Length": str(len(body))},
                                   b"" if seen.method == "HEAD" else body)

    base = f"/v2/{published.repository}"
    front.answers[f"{base}/manifests/{tag}"] = serve("index", OCI_INDEX)
    for key in documents:
        if key != "index":
            front.answers[f"{base}/{key}"] = serve(key, "application/vnd.oci.image.manifest."
                                                        "v1+json")
    result = published.verify("--json", registry=front.oci(published.namespace))
    assert result.code == 0, result
    report = json.loads(result.out)["protections"]
    shown = json.dumps(report)
    assert note in shown, shown
    assert report["signed"] is False
    assert "\\u001b" not in shown and "\\n" not in shown  # server strings made printable
    assert all("/.." not in s.path for s in front.server.seen)
    text = published.verify(registry=front.oci(published.namespace))
    assert text.code == 0 and "Traceback" not in text.err


def test_a_long_listing_is_read_within_the_read_limit(published: Published, front: Front) -> None:
    from release import limits

    entries = [_entry("sha256:" + f"{i:064x}") for i in range(1, 500)]
    body = _index(*entries)
    front.answers[f"/v2/{published.repository}/manifests/{tag_of(published.digest)}"] = \
        lambda seen: Answer(200, {"Content-Type": OCI_INDEX}, body)
    data = published.verify_json(registry=front.oci(published.namespace))
    report = data["protections"]
    assert f"lists 499 referrers; the first {limits.SIGNATURE_READS_MAX} were looked at" in \
        " ".join(report["notes"])
    assert len(report["found"]) == limits.SIGNATURE_READS_MAX
    assert data["requests"] <= VERIFY_REQUESTS + LOOKUPS + limits.SIGNATURE_READS_MAX


def test_a_legacy_tag_with_odd_layers(published: Published) -> None:
    pusher = Pusher(published.registry, published.repository)
    weird = canonical({"critical": [], "optional": {}})
    bad = pusher.blob(weird, SIMPLE_SIGNING)
    unknown = pusher.blob(b"x", "application/octet-stream")
    config = pusher.blob(b"{}", "application/vnd.oci.image.config.v1+json")
    many = [bad, unknown] * 6
    pusher.manifest({"schemaVersion": 2, "config": config, "layers": many},
                    tag_of(published.digest) + ".sig")
    report = published.verify_json()["protections"]
    assert report["notes"] == [f"{tag_of(published.digest)}.sig has 12 layers; the first 8 were "
                               "read"]
    assert len(report["found"]) == 8
    assert report["found"][0]["note"] == "the simple-signing payload names no docker-manifest-digest"
    assert report["found"][1]["note"] == "not a cosign or sigstore payload; not read"
    assert report["signed"] is False


def test_the_verify_commands_for_github_enterprise() -> None:
    from release.oci.protections import verify_commands
    from release.oci.reference import ChartRef

    ref = ChartRef("registry.ghe.example", "team/charts/demo", "1.2.3_build.1")
    commands = verify_commands(ref, "sha256:" + "e" * 64, "https://ghe.example/team/app",
                               "^IDENTITY$")
    assert commands["cosign"] == (
        f"cosign verify registry.ghe.example/team/charts/demo@sha256:{'e' * 64} "
        "--certificate-identity-regexp '^IDENTITY$' --certificate-oidc-issuer "
        "https://ghe.example/_services/token")
    assert commands["gh"] == ("gh attestation verify oci://registry.ghe.example/team/charts/demo:"
                              "1.2.3_build.1 -R team/app")
