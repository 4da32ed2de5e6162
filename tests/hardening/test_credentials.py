"""Credentials never leave their origin (scheme, host, port), and never travel in clear text."""

from __future__ import annotations

import base64
import json
import ssl
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import respx

from release.errors import BadInput, RemoteError
from release.ghrelease import asset_specs, sync_github_release
from release.github import GitHub
from release.gitrepo import GitRepo
from release.oci.client import RegistryClient
from release.oci.credentials import Credentials
from release.package import PackageResult
from release.retry import RetryPolicy
from tests.conftest import CliResult
from tests.fakegithub import API, TOKEN, FakeGitHub
from tests.gitutil import GitBuilder
from tests.hostile import Answer, Listener, Scripted, Seen, self_signed
from tests.pushing import push_chart

SECRET = "hunter2-" + "registry-secret"
CREDS = Credentials("robot", SECRET, "the test")


class Recording(httpx.BaseTransport):
    """Records every request that reaches the network (URL and headers)."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.requests: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.inner.handle_request(request)


def registry_handler(upload_location: Callable[[], str]) -> Callable[[Seen], Answer]:
    """Basic-auth registry: nothing published yet; uploads go where `upload_location` says."""

    def handle(seen: Seen) -> Answer:
        if "authorization" not in seen.headers:
            return Answer(401, {"WWW-Authenticate": 'Basic realm="r"'})
        if seen.method == "HEAD":
            return Answer(404)
        if seen.method == "POST" and "/blobs/uploads/" in seen.path:
            return Answer(202, {"Location": upload_location(), "Content-Length": "0"})
        return Answer(500)

    return handle


@pytest.fixture
def tls(tmp_path: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """(server context, client context trusting it) for 127.0.0.1."""
    server, ca = self_signed(tmp_path)
    return server, ssl.create_default_context(cafile=str(ca))


@pytest.fixture
def other_host() -> Iterator[Listener]:
    listener = Listener("127.0.0.2")
    yield listener
    listener.stop()


def test_upload_location_on_another_host_is_refused_and_gets_nothing(
        package: PackageResult, other_host: Listener, fast_retry: RetryPolicy) -> None:
    location = f"http://127.0.0.2:{other_host.port}/v2/ns/demo/blobs/uploads/abc?_state=x"
    with Scripted(registry_handler(lambda: location)) as registry, \
            pytest.raises(RemoteError) as err:
        push_chart(package, f"oci://{registry.netloc}/ns", plain_http=True, credentials=CREDS,
                   retry=fast_retry)
    message = str(err.value)
    assert "another origin" in message and "http://127.0.0.2" in message
    assert "\n" not in message and SECRET not in message
    assert other_host.connections == 0  # refused before any byte was sent


def test_upload_location_downgrading_https_to_http_is_refused_before_any_byte(
        package: PackageResult, tls: tuple[ssl.SSLContext, ssl.SSLContext],
        other_host: Listener, fast_retry: RetryPolicy) -> None:
    server_ctx, client_ctx = tls
    plain = Listener("127.0.0.1")
    try:
        location = f"http://127.0.0.1:{plain.port}/v2/ns/demo/blobs/uploads/abc"
        with Scripted(registry_handler(lambda: location), tls=server_ctx) as registry:
            transport = Recording(httpx.HTTPTransport(verify=client_ctx))
            client = RegistryClient(registry.netloc, credentials=CREDS, transport=transport,
                                    push_repositories=("ns/demo",), retry=fast_retry)
            with client, pytest.raises(RemoteError) as err:
                push_chart(package, f"oci://{registry.netloc}/ns", client=client)
        assert "another origin" in str(err.value) and SECRET not in str(err.value)
        assert plain.connections == 0
        assert all(r.url.scheme == "https" for r in transport.requests)
        # the credentials did go to the registry itself, over TLS
        assert any("authorization" in r.headers for r in transport.requests)
    finally:
        plain.stop()


def test_blob_redirect_to_another_host_is_followed_without_credentials(
        fast_retry: RetryPolicy) -> None:
    content = b"chart layer bytes"
    digest = "sha256:" + __import__("hashlib").sha256(content).hexdigest()
    token_asks: list[Seen] = []

    def storage(seen: Seen) -> Answer:
        if seen.path.startswith("/token"):
            token_asks.append(seen)
            return Answer(200, {"Content-Type": "application/json"}, b'{"token": "stolen"}')
        return Answer(200, {}, content)  # the test checks no authorization reached it

    with Scripted(storage, host="127.0.0.2") as cdn:

        def registry(seen: Seen) -> Answer:
            if "authorization" not in seen.headers:
                return Answer(401, {"WWW-Authenticate": 'Basic realm="r"'})
            return Answer(307, {"Location": f"{cdn.base}/blob?sig=1", "Content-Length": "0"})

        with Scripted(registry) as reg, RegistryClient(reg.netloc, plain_http=True,
                                                        credentials=CREDS,
                                                        retry=fast_retry) as client:
            assert client.get_blob("ns/demo", digest, len(content)) == content
        assert [s.path for s in cdn.seen] == ["/blob?sig=1"]
        assert "authorization" not in cdn.seen[0].headers
        assert any("authorization" in s.headers for s in reg.seen)


def test_challenge_from_a_redirect_target_is_not_answered(fast_retry: RetryPolicy) -> None:
    def storage(seen: Seen) -> Answer:
        if seen.path.startswith("/token"):
            return Answer(200, {"Content-Type": "application/json"}, b'{"token": "stolen"}')
        return Answer(401, {"WWW-Authenticate": 'Basic realm="give me yours"'})

    with Scripted(storage, host="127.0.0.2") as evil:

        def registry(seen: Seen) -> Answer:
            if "authorization" not in seen.headers:
                return Answer(401, {"WWW-Authenticate": 'Basic realm="r"'})
            return Answer(302, {"Location": f"{evil.base}/steal", "Content-Length": "0"})

        with Scripted(registry) as reg, RegistryClient(reg.netloc, plain_http=True,
                                                        credentials=CREDS,
                                                        retry=fast_retry) as client, \
                pytest.raises(RemoteError) as err:
            client.get_blob("ns/demo", "sha256:" + "e" * 64, 10)
        assert len(evil.seen) == 1 and "authorization" not in evil.seen[0].headers
        assert SECRET not in str(err.value)


def test_token_service_over_http_gets_no_credentials_from_an_https_registry(
        tls: tuple[ssl.SSLContext, ssl.SSLContext], fast_retry: RetryPolicy) -> None:
    server_ctx, client_ctx = tls
    realm = Listener("127.0.0.1")
    try:
        def registry(seen: Seen) -> Answer:
            return Answer(401, {"WWW-Authenticate":
                                f'Bearer realm="http://127.0.0.1:{realm.port}/token",'
                                'service="s"'})

        with Scripted(registry, tls=server_ctx) as reg, \
                RegistryClient(reg.netloc, credentials=CREDS, verify=client_ctx,
                               retry=fast_retry) as client, pytest.raises(RemoteError) as err:
            client.manifest_digest("ns/demo", "1.0.0")
        assert "plain HTTP" in str(err.value) and realm.connections == 0
    finally:
        realm.stop()


# --- GitHub ----------------------------------------------------------------------------------

@pytest.fixture
def spec(tmp_path: Path) -> object:
    from release.ghrelease import GitHubReleaseSpec

    (tmp_path / "c-1.0.0.tgz").write_bytes(b"chart")
    return GitHubReleaseSpec("o/r", "v1.0.0", "v1.0.0", "notes\n", False, "true", "f" * 40,
                             asset_specs([tmp_path / "c-1.0.0.tgz"]))


@pytest.mark.parametrize("upload_url", [
    "https://evil.example/repos/o/r/releases/1/assets{?name,label}",
    "http://uploads.github.com/repos/o/r/releases/1/assets{?name,label}",  # downgrade
    "https://uploads.github.com:8443/repos/o/r/releases/1/assets{?name,label}",  # other port
])
def test_github_token_never_goes_to_an_upload_url_off_github(spec: object,
                                                             upload_url: str) -> None:
    with respx.mock(assert_all_called=False) as router:
        fake = FakeGitHub(router)
        original = fake.create

        def create(request: httpx.Request) -> httpx.Response:
            original(request)
            rel = fake.releases[json.loads(request.content)["tag_name"]]
            rel["upload_url"] = upload_url
            return httpx.Response(201, json=fake.release_json(rel))

        router.post(f"{API}/repos/o/r/releases").mock(side_effect=create)
        evil = router.route(host="evil.example").mock(return_value=httpx.Response(201))
        insecure = router.route(scheme="http").mock(return_value=httpx.Response(201))
        other_port = router.route(port=8443).mock(return_value=httpx.Response(201))
        gh = GitHub(API, "o/r", TOKEN, sleep=lambda _: None)
        with pytest.raises(RemoteError) as err:
            sync_github_release(spec, gh)  # type: ignore[arg-type]
        assert "not its own origin" in str(err.value) and TOKEN not in str(err.value)
        assert not evil.called and not insecure.called and not other_port.called
        assert all(c.request.url.host == "api.github.com" for c in router.calls)


def test_github_enterprise_uploads_stay_on_its_own_host(spec: object) -> None:
    ghe = "https://ghe.example/api/v3"
    with respx.mock(assert_all_called=False) as router:
        router.get(url__startswith=f"{ghe}/repos/o/r/releases/tags/").mock(
            return_value=httpx.Response(404, json={"message": "Not Found"}))
        router.get(f"{ghe}/repos/o/r/releases/latest").mock(
            return_value=httpx.Response(404, json={"message": "Not Found"}))
        router.post(f"{ghe}/repos/o/r/releases").mock(return_value=httpx.Response(201, json={
            "id": 1, "html_url": "https://ghe.example/o/r/releases/tag/v1.0.0", "assets": [],
            "upload_url": "https://ghe.example/api/uploads/repos/o/r/releases/1/assets{?name}"}))
        upload = router.post(url__startswith="https://ghe.example/api/uploads/").mock(
            return_value=httpx.Response(201, json={"id": 9, "name": "x", "state": "uploaded"}))
        gh = GitHub(ghe, "o/r", TOKEN, sleep=lambda _: None)
        sync_github_release(spec, gh)  # type: ignore[arg-type]
        assert upload.called
        assert all(c.request.headers["authorization"] == f"Bearer {TOKEN}"
                   for c in router.calls)


def test_plain_http_github_api_is_refused_for_a_token() -> None:
    with pytest.raises(BadInput, match="plain HTTP"):
        GitHub("http://ghe.example/api/v3", "o/r", TOKEN)
    GitHub("http://127.0.0.1:9/api", "o/r", TOKEN).close()  # loopback: tests only


def test_reads_without_a_token_carry_no_authorization(gitrepo: object) -> None:
    with respx.mock(assert_all_called=False) as router:
        route = router.get(f"{API}/repos/o/r/releases/tags/v1.0.0").mock(
            return_value=httpx.Response(404, json={"message": "Not Found"}))
        GitHub(API, "o/r", None).release_by_tag("v1.0.0")
        assert "authorization" not in route.calls[0].request.headers


# --- credentials inside configured URLs -------------------------------------------------------

@pytest.mark.parametrize(("flag", "value"), [
    ("--registry", "oci://robot:S3CRETVALUE@ghcr.io/ameideio/charts"),
    ("--github-api", "https://x-access-token:S3CRETVALUE@api.github.com"),
    ("--helm-repo-url", "https://me:S3CRETVALUE@charts.example"),
])
def test_userinfo_in_a_configured_url_is_refused_without_echoing_it(
        tmp_path: Path, cli: Callable[..., CliResult], flag: str, value: str) -> None:
    result = cli("--repo", str(tmp_path), flag, value, "config")
    assert result.code == 2
    assert "S3CRETVALUE" not in result.out + result.err
    assert result.err.count("\n") == 1 and "credentials" in result.err
    assert "GITHUB_TOKEN" in result.err or "AMEIDE_REGISTRY" in result.err \
        or "needs no credentials" in result.err


def test_userinfo_from_the_environment_is_refused_too(tmp_path: Path,
                                                      cli: Callable[..., CliResult],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AMEIDE_RELEASE_REGISTRY", "oci://u:S3CRETVALUE@ghcr.io/x")
    result = cli("--repo", str(tmp_path), "config", "--json")
    assert result.code == 2 and "S3CRETVALUE" not in result.out + result.err
    assert "AMEIDE_RELEASE_REGISTRY" in result.err  # says where the value came from


# --- git's own remote calls (release-pr: ls-remote, fetch, push) --------------------------------

GIT_CALLS: dict[str, Callable[[GitRepo, str, tuple[str, str]], object]] = {
    "ls-remote": lambda repo, url, token: repo.remote_refs(url, "refs/heads/main", token=token),
    "fetch": lambda repo, url, token: repo.fetch(url, "+refs/heads/main:refs/remotes/x/main",
                                                 token=token),
    "push": lambda repo, url, token: repo.push(url, "HEAD:refs/heads/next", token=token),
}


@pytest.mark.parametrize("call", sorted(GIT_CALLS))
def test_git_sends_the_token_to_the_github_web_origin_only(call: str, gitrepo: GitBuilder) -> None:
    """The checkout keeps no credentials (persist-credentials: false), so a private repository
    needs the token on every git call to it; it travels as an HTTP header for the web origin
    only: not to a remote elsewhere, not across a redirect to another host, never in a
    message."""
    gitrepo.commit("feat: x")
    repo = GitRepo(gitrepo.root)
    elsewhere = Scripted(lambda seen: Answer(404), host="127.0.0.2")
    github = Scripted(lambda seen: Answer(404) if "/o/r.git/" in seen.path else Answer(
        302, {"Location": f"{elsewhere.base}/o/r.git/info/refs?service=git-upload-pack"}))
    token = (github.base, TOKEN)
    expected = "basic " + base64.b64encode(f"x-access-token:{TOKEN}".encode()).decode()
    try:
        for url, reaches in ((f"{github.base}/o/r.git", github),
                             (f"{elsewhere.base}/o/r.git", elsewhere),
                             (f"{github.base}/moved/r.git", elsewhere)):
            github.seen.clear()
            elsewhere.seen.clear()
            with pytest.raises(RemoteError) as info:
                GIT_CALLS[call](repo, url, token)
            assert TOKEN not in str(info.value) and expected not in str(info.value)
            assert reaches.seen, url
            if reaches is github:
                assert all(s.headers.get("authorization", "").lower() == expected.lower()
                           for s in github.seen)
            assert all("authorization" not in s.headers for s in elsewhere.seen), url
        # without a token nothing is attached anywhere
        github.seen.clear()
        with pytest.raises(RemoteError):
            GIT_CALLS[call](repo, f"{github.base}/o/r.git", None)  # type: ignore[arg-type]
        assert github.seen and all("authorization" not in s.headers for s in github.seen)
    finally:
        github.stop()
        elsewhere.stop()
    assert TOKEN not in (gitrepo.root / ".git" / "config").read_text()
