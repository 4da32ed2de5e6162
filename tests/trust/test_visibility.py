"""The package is linked and reachable (issue #11 item 4): the anonymous pull check against the
real registry, with and without anonymous pulls allowed, GHCR's answers with respx, `verify
--anonymous`, the publish plan's visibility step with `expect-public`, and the manifest's
`org.opencontainers.image.source` when Chart.yaml names no source."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import respx

from release.oci.credentials import Credentials
from release.oci.publish import prepare_upload
from release.oci.reference import ChartRef, chart_ref
from release.oci.visibility import anonymous_access
from release.package import PackageResult, build
from release.retry import RetryPolicy
from tests.charts import DEMO
from tests.conftest import CliResult
from tests.fakegithub import FakeGitHub
from tests.gitutil import GitBuilder
from tests.oci.conftest import CHART_YAML, COMMIT_TIME, write_chart
from tests.pushing import push_chart
from tests.registry_fixtures import TEST_PASSWORD, TEST_USER, Registry

pytestmark = pytest.mark.registry
NO_WAIT = RetryPolicy(sleep=lambda _: None)


@pytest.fixture
def package(tmp_path: Path) -> PackageResult:
    """The demo chart 0.1.0 (it names a source in Chart.yaml)."""
    return build(write_chart(tmp_path / "src"), tmp_path / "dist", COMMIT_TIME)


def _pushed(registry: Registry, namespace: str, package: PackageResult) -> ChartRef:
    login = None if registry.mode == "open" else Credentials(TEST_USER, TEST_PASSWORD, "test")
    push_chart(package, registry.oci(namespace), plain_http=True, credentials=login)
    return chart_ref(registry.oci(namespace), "demo", "0.1.0", plain_http=True)


@pytest.fixture
def private(token_registry: Registry) -> Iterator[dict[str, str]]:
    """The token server's private namespaces (GHCR-like, per package), reset afterwards."""
    assert token_registry.token_server is not None
    yield token_registry.token_server.private
    token_registry.token_server.private.clear()


def test_an_open_registry_is_public(open_registry: Registry, namespace: str,
                                    package: PackageResult) -> None:
    ref = _pushed(open_registry, namespace, package)
    access = anonymous_access(ref)
    assert access.state == "public" and access.requests == 1
    assert access.detail == f"public: anyone can pull {ref.oci}"


def test_anonymous_pulls_allowed_by_the_token_service(token_registry: Registry, namespace: str,
                                                      package: PackageResult) -> None:
    ref = _pushed(token_registry, namespace, package)
    seen = len(token_registry.token_server.requests)  # type: ignore[union-attr]
    access = anonymous_access(ref)
    assert access.state == "public"
    assert access.requests == 3  # HEAD → 401 challenge, anonymous token, HEAD with it
    asked = token_registry.token_server.requests[seen:]  # type: ignore[union-attr]
    assert [(r["has_auth"], r["scopes"]) for r in asked] == [
        (False, [f"repository:{namespace}/demo:pull"])]


@pytest.mark.parametrize(("mode", "how", "requests"), [
    ("refuse", "the token service refused an anonymous token", 2),  # GHCR's way
    ("empty", "the registry answered HTTP 401 without credentials", 3),  # Docker Hub's way
])
def test_a_private_package(token_registry: Registry, namespace: str, package: PackageResult,
                           private: dict[str, str], mode: str, how: str, requests: int) -> None:
    ref = _pushed(token_registry, namespace, package)
    private[namespace] = mode
    access = anonymous_access(ref)
    assert access.state == "private" and access.requests == requests
    assert access.detail == (f"private: {how} for {ref.oci}; make it public under Package "
                             "settings → Change visibility (one-way)")


def test_basic_auth_registry_is_private_to_anonymous_users(basic_registry: Registry,
                                                           namespace: str,
                                                           package: PackageResult) -> None:
    ref = _pushed(basic_registry, namespace, package)
    access = anonymous_access(ref)
    assert access.state == "private" and access.requests == 1
    assert "HTTP 401" in access.detail


def test_an_unpublished_tag_is_absent(open_registry: Registry, namespace: str) -> None:
    access = anonymous_access(chart_ref(open_registry.oci(namespace), "demo", "9.9.9",
                                        plain_http=True))
    assert access.state == "absent" and "cannot be seen anonymously" in access.detail


# --- GHCR's answers (respx) --------------------------------------------------------------------
GHCR_REF = ChartRef("ghcr.io", "ameideio/charts/demo", "1.0.0")
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="https://ghcr.io/token",service="ghcr.io",'
                                 'scope="repository:ameideio/charts/demo:pull"'}


def _ghcr(router: respx.MockRouter, token_status: int) -> respx.Route:
    def manifest(request: httpx.Request) -> httpx.Response:
        if request.headers.get("Authorization") == "Bearer anon":
            return httpx.Response(200, headers={"Docker-Content-Digest": "sha256:" + "a" * 64})
        return httpx.Response(401, headers=CHALLENGE,
                              json={"errors": [{"code": "UNAUTHORIZED"}]})

    router.head("https://ghcr.io/v2/ameideio/charts/demo/manifests/1.0.0").mock(
        side_effect=manifest)
    body = {"token": "anon"} if token_status == 200 else {
        "errors": [{"code": "UNAUTHORIZED", "message": "authentication required"}]}
    return router.get(url__startswith="https://ghcr.io/token").mock(
        return_value=httpx.Response(token_status, json=body))


@pytest.mark.parametrize(("status", "state", "requests"), [(200, "public", 3),
                                                           (401, "private", 2)])
def test_ghcr_answers(status: int, state: str, requests: int) -> None:
    with respx.mock(assert_all_called=True) as router:
        token = _ghcr(router, status)
        access = anonymous_access(GHCR_REF, retry=NO_WAIT)
    assert access.state == state and access.requests == requests
    sent = token.calls[0].request
    assert "Authorization" not in sent.headers  # nothing but an anonymous request
    assert dict(sent.url.params) == {"scope": "repository:ameideio/charts/demo:pull",
                                     "service": "ghcr.io"}


# --- verify --anonymous ------------------------------------------------------------------------
def _tagged(git: GitBuilder) -> None:
    git.commit("feat: chart", {"chart/Chart.yaml": CHART_YAML.format(version="0.1.0"),
                               "chart/values.yaml": "replicas: 1\n"})
    git.tag("v0.1.0")


def test_verify_anonymous(gitrepo: GitBuilder, token_registry: Registry, namespace: str,
                          package: PackageResult, private: dict[str, str],
                          cli: Callable[..., CliResult],
                          monkeypatch: pytest.MonkeyPatch) -> None:
    _tagged(gitrepo)
    _pushed(token_registry, namespace, package)  # demo 0.1.0, as the tag names it
    # credentials in the environment are never used by the anonymous check
    monkeypatch.setenv("AMEIDE_REGISTRY_USERNAME", TEST_USER)
    monkeypatch.setenv("AMEIDE_REGISTRY_PASSWORD", TEST_PASSWORD)

    def verify(*extra: str) -> CliResult:
        return cli("--repo", str(gitrepo.root), "--registry", token_registry.oci(namespace),
                   *extra, "verify", "--tag", "v0.1.0", "--plain-http", "--anonymous")

    seen = len(token_registry.token_server.requests)  # type: ignore[union-attr]
    public = verify()
    assert public.code == 0 and public.out == "public\n", public
    assert all(not r["has_auth"]
               for r in token_registry.token_server.requests[seen:])  # type: ignore[union-attr]
    private[namespace] = "refuse"
    hidden = verify()
    assert hidden.code == 0 and hidden.out == "private\n", hidden
    assert "Change visibility (one-way)" in hidden.err
    assert json.loads(cli("--repo", str(gitrepo.root), "--registry",
                          token_registry.oci(namespace), "verify", "--tag", "v0.1.0",
                          "--plain-http", "--anonymous", "--json").out)["visibility"] == "private"
    strict = verify("--expect-public", "true")
    assert strict.code == 4 and strict.out == "", strict
    assert strict.err.count("\n") == 2  # the finding, then one error line
    assert strict.err.splitlines()[-1].startswith("error: oci://") and \
        "is not public (private) and expect-public is true: make it public under Package " \
        "settings → Change visibility (one-way)" in strict.err
    assert TEST_PASSWORD not in strict.err + hidden.err + public.err

    both = cli("--repo", str(gitrepo.root), "verify", "--tag", "v0.1.0", "--anonymous",
               "--require-signature")
    assert both.code == 2 and "--anonymous" in both.err


# --- publish: the visibility step, expect-public, dry-run --online -----------------------------
@pytest.fixture
def demo(gitrepo: GitBuilder) -> GitBuilder:
    gitrepo.commit("feat(chart): demo", dict(DEMO))  # DEMO names no `sources`
    gitrepo.tag("v1.0.0")
    return gitrepo


def test_publish_reports_visibility_and_links_the_package(
        demo: GitBuilder, github: FakeGitHub, open_registry: Registry, namespace: str,
        cli: Callable[..., CliResult]) -> None:
    planned = cli("--repo", str(demo.root), "--registry", open_registry.oci(namespace),
                  "--github-repository", "o/r", "--helm-repo-url", "", "dry-run", "--tag",
                  "v1.0.0", "--plain-http", "--online")
    assert planned.code == 0, planned
    line = next(x for x in planned.out.splitlines() if x.strip().startswith("visibility"))
    assert line.endswith("[would create] oci://" + open_registry.oci(namespace).removeprefix(
        "oci://") + "/demo:1.0.0 cannot be seen anonymously (not published yet, or hidden as "
        "private): known after the push (GHCR creates new packages private)")
    result = cli("--repo", str(demo.root), "--registry", open_registry.oci(namespace),
                 "--github-repository", "o/r", "publish", "--tag", "v1.0.0", "--plain-http",
                 "--json")
    assert result.code == 0, result
    data = json.loads(result.out)
    steps = [(s["name"], s["status"]) for s in data["steps"]]
    assert steps[2:4] == [("push", "pushed"), ("visibility", "public")]
    assert data["visibility"] == "public"
    assert data["steps"][3]["details"]["requests"] == 1
    body, _ = open_registry.manifest(f"{namespace}/demo", "1.0.0")
    # no `sources` in Chart.yaml: GHCR still gets the repository link
    assert json.loads(body)["annotations"]["org.opencontainers.image.source"] == \
        "https://github.com/o/r"


def test_expect_public_fails_a_private_release_after_the_push_and_a_rerun_finishes_it(
        demo: GitBuilder, github: FakeGitHub, token_registry: Registry, namespace: str,
        private: dict[str, str], cli: Callable[..., CliResult],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AMEIDE_REGISTRY_USERNAME", TEST_USER)
    monkeypatch.setenv("AMEIDE_REGISTRY_PASSWORD", TEST_PASSWORD)
    monkeypatch.setenv("AMEIDE_RELEASE_EXPECT_PUBLIC", "true")
    private[namespace] = "refuse"

    def run(*extra: str) -> CliResult:
        return cli("--repo", str(demo.root), "--registry", token_registry.oci(namespace),
                   "--github-repository", "o/r", "--helm-repo-url", "", *extra, "--plain-http")

    def visibility_check() -> str:
        planned = run("dry-run", "--tag", "v1.0.0", "--online")
        assert planned.code == 0, planned  # a report: publish is what fails
        return next(x for x in planned.out.splitlines() if x.strip().startswith("visibility"))

    # the token service refuses anonymous pulls of the namespace even before the first push
    assert "[would fail] private: the token service refused an anonymous token" in \
        visibility_check()
    first = run("publish", "--tag", "v1.0.0")
    assert first.code == 4, first
    error = first.err.splitlines()[-1]
    assert error == (f"error: {token_registry.oci(namespace)}/demo:1.0.0 was published, but "
                     "anonymous users cannot pull it and expect-public is true: make it public "
                     "under Package settings → Change visibility (one-way), then re-run to finish "
                     "the release (what was published stays published)")
    assert token_registry.manifest_digest(f"{namespace}/demo", "1.0.0") is not None
    assert github.releases == {}  # nothing announced that users cannot pull
    assert TEST_PASSWORD not in first.err + first.out

    line = visibility_check()
    assert "[would fail] private:" in line and "publish would exit 4" in line

    private.clear()  # the maintainer makes the package public
    second = run("publish", "--tag", "v1.0.0", "--json")
    assert second.code == 0, second
    steps = {s["name"]: s["status"] for s in json.loads(second.out)["steps"]}
    assert steps["push"] == "already-published" and steps["visibility"] == "public"
    assert steps["github"] == "created"


def test_the_manifest_source_follows_the_github_repository(package: PackageResult) -> None:
    """Chart.yaml `sources[0]` wins (Helm's bytes); without it the repository's address."""
    ghe = "https://ghe.example/o/r"
    named = prepare_upload(package, "oci://127.0.0.1:5000/ns", source=ghe)
    assert json.loads(named.artifact.manifest)["annotations"][
        "org.opencontainers.image.source"] == "https://github.com/ameideio/ameide-core"
    assert named.digest == prepare_upload(package, "oci://127.0.0.1:5000/ns").digest
    bare = dataclasses.replace(package, metadata={k: v for k, v in package.metadata.items()
                                                  if k != "sources"})
    linked = prepare_upload(bare, "oci://127.0.0.1:5000/ns", source=ghe)
    assert json.loads(linked.artifact.manifest)["annotations"][
        "org.opencontainers.image.source"] == ghe
    assert linked.digest == prepare_upload(bare, "oci://127.0.0.1:5000/ns", source=ghe).digest
    assert "org.opencontainers.image.source" not in json.loads(
        prepare_upload(bare, "oci://127.0.0.1:5000/ns").artifact.manifest)["annotations"]
