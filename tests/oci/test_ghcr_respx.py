"""GHCR behaviours a local registry lacks, and the auth-flow rules, with respx (mocked HTTP).

Sources: REFERENCE.md "Token auth" and "Distribution protocol" (GHCR: 405 on POST to the token
endpoint, MANIFEST_UNKNOWN without OCI Accept, 416 on chunks over 4 MiB,
`denied: permission_denied: write_package`, 429 TOOMANYREQUESTS with a retry-after).
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
import respx

from release.errors import BadInput, RemoteError
from release.oci.auth import parse_challenge
from release.oci.client import CHUNK_SIZE, RegistryClient
from release.oci.content import Blob
from release.oci.credentials import Credentials
from release.package import PackageResult
from release.retry import RetryPolicy
from tests.pushing import push_chart

GHCR = "https://ghcr.io"
REPO = "ameideio/charts/demo"
SECRET = "ghp_" + "x" * 20
CREDS = Credentials("octocat", SECRET, "GITHUB_TOKEN (user from GITHUB_ACTOR)")
CHALLENGE = {"WWW-Authenticate": f'Bearer realm="{GHCR}/token",service="ghcr.io",'
                                 f'scope="repository:{REPO}:pull"'}


def _token_route(router: respx.MockRouter, tokens: list[str] | None = None) -> respx.Route:
    """GHCR's token endpoint: GET only (POST → 405); scope echoed into the token."""
    issued = iter(tokens or [])

    def answer(request: httpx.Request) -> httpx.Response:
        if request.method != "GET":
            return httpx.Response(405)
        scope = request.url.params.get("scope", "")
        token = next(issued, None) or f"tok[{scope}]"
        return httpx.Response(200, json={"token": token})

    return router.route(url__startswith=f"{GHCR}/token").mock(side_effect=answer)


def _authorized(request: httpx.Request, actions: str = "pull,push") -> bool:
    return request.headers.get("Authorization") == f"Bearer tok[repository:{REPO}:{actions}]"


def _client(retry: RetryPolicy | None = None, **kw: object) -> RegistryClient:
    return RegistryClient("ghcr.io", credentials=CREDS, push_repositories=(REPO,),
                          retry=retry or RetryPolicy(sleep=lambda _: None),
                          **kw)  # type: ignore[arg-type]


@respx.mock
def test_token_is_fetched_with_get_and_pull_push_scope() -> None:
    tokens = _token_route(respx.mock)

    def manifest(request: httpx.Request) -> httpx.Response:
        if not _authorized(request):
            return httpx.Response(401, headers=CHALLENGE)
        if "application/vnd.oci.image.manifest.v1+json" not in request.headers.get("Accept", ""):
            return httpx.Response(404, json={"errors": [{"code": "MANIFEST_UNKNOWN"}]})
        return httpx.Response(200, headers={"Docker-Content-Digest": "sha256:" + "a" * 64})

    respx.head(f"{GHCR}/v2/{REPO}/manifests/1.0.0").mock(side_effect=manifest)
    with _client() as client:
        assert client.manifest_digest(REPO, "1.0.0") == "sha256:" + "a" * 64
        assert client.requests == 3  # 401, token, HEAD
        assert client.manifest_digest(REPO, "1.0.0") is not None
        assert client.requests == 4  # cached token sent up front
    assert tokens.call_count == 1
    sent = tokens.calls[0].request
    assert sent.method == "GET" and sent.url.params["scope"] == f"repository:{REPO}:pull,push"
    assert sent.headers["Authorization"].startswith("Basic ")


@respx.mock
def test_manifest_unknown_without_oci_accept_is_not_mistaken_for_absent() -> None:
    """GHCR answers MANIFEST_UNKNOWN when Accept lacks OCI types: we always send them."""
    _token_route(respx.mock)
    seen: list[str] = []

    def manifest(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("Accept", ""))
        if "application/vnd.oci.image.manifest.v1+json" not in request.headers.get("Accept", ""):
            return httpx.Response(404, json={"errors": [{"code": "MANIFEST_UNKNOWN"}]})
        return httpx.Response(200, headers={"Docker-Content-Digest": "sha256:" + "b" * 64})

    respx.head(f"{GHCR}/v2/{REPO}/manifests/1.0.0").mock(side_effect=manifest)
    with RegistryClient("ghcr.io") as client:
        assert client.manifest_digest(REPO, "1.0.0") == "sha256:" + "b" * 64
    assert all("application/vnd.oci.image.index.v1+json" in a for a in seen)


@respx.mock
def test_401_after_cached_token_fetches_one_fresh_token_never_loops() -> None:
    tokens = _token_route(respx.mock, tokens=["first", "second", "third"])
    respx.head(f"{GHCR}/v2/{REPO}/manifests/1.0.0").mock(
        return_value=httpx.Response(401, headers=CHALLENGE))
    with _client() as client, pytest.raises(RemoteError) as err:
        client.manifest_digest(REPO, "1.0.0")
    assert tokens.call_count == 1  # no cached token: one fetch, one retry, then the error
    assert "refused user 'octocat' from GITHUB_TOKEN" in str(err.value)
    assert SECRET not in str(err.value)

    # now with a token in the cache that the registry rejects
    state = {"n": 0}

    def flaky(request: httpx.Request) -> httpx.Response:
        state["n"] += 1
        if request.headers.get("Authorization") == "Bearer fresh":
            return httpx.Response(200, headers={"Docker-Content-Digest": "sha256:" + "c" * 64})
        return httpx.Response(401, headers=CHALLENGE)

    respx.head(f"{GHCR}/v2/{REPO}/manifests/1.0.0").mock(side_effect=flaky)
    with _client() as client:
        challenge = parse_challenge(CHALLENGE["WWW-Authenticate"])
        assert challenge is not None
        client.auth.cache.challenge = challenge
        client.auth.cache.put(client.origin, f"repository:{REPO}:pull,push", "stale", 300)
        before = tokens.call_count
        _token_route(respx.mock, tokens=["fresh"])
        assert client.manifest_digest(REPO, "1.0.0") == "sha256:" + "c" * 64
        assert tokens.call_count - before == 1 and state["n"] == 2  # stale, 401, fresh, 200
        assert client.auth.cache.get(client.origin, f"repository:{REPO}:pull,push") == "fresh"


@respx.mock
def test_429_toomanyrequests_honours_retry_after() -> None:
    _token_route(respx.mock)
    answers = iter([
        httpx.Response(429, headers={"Retry-After": "3"},
                       json={"errors": [{"code": "TOOMANYREQUESTS", "message": "rate limit"}]}),
        httpx.Response(200, headers={"Docker-Content-Digest": "sha256:" + "d" * 64}),
    ])
    respx.head(f"{GHCR}/v2/{REPO}/manifests/1.0.0").mock(
        side_effect=lambda r: next(answers) if _authorized(r) else httpx.Response(
            401, headers=CHALLENGE))
    waited: list[float] = []
    with _client(retry=RetryPolicy(sleep=waited.append)) as client:
        assert client.manifest_digest(REPO, "1.0.0") == "sha256:" + "d" * 64
        assert waited == [3.0]

    # (a GET: an answer to HEAD has no body to carry the error code)
    respx.get(f"{GHCR}/v2/{REPO}/manifests/2.0.0").mock(return_value=httpx.Response(
        429, headers={"Retry-After": "1"},
        json={"errors": [{"code": "TOOMANYREQUESTS", "message": "rate limit"}]}))
    with RegistryClient("ghcr.io", retry=RetryPolicy(sleep=lambda _: None)) as client, \
            pytest.raises(RemoteError) as err:
        client.get_manifest(REPO, "2.0.0")
    assert "rate-limiting" in str(err.value) and "TOOMANYREQUESTS" in str(err.value)
    assert client.requests == 5  # at most 5 tries


@respx.mock
def test_write_package_denied_explains_linking(package: PackageResult) -> None:
    _token_route(respx.mock)
    respx.head(url__startswith=f"{GHCR}/v2/{REPO}/manifests/").mock(
        side_effect=lambda r: httpx.Response(404) if _authorized(r)
        else httpx.Response(401, headers=CHALLENGE))
    respx.post(f"{GHCR}/v2/{REPO}/blobs/uploads/").mock(return_value=httpx.Response(
        403, json={"errors": [{"code": "DENIED",
                               "message": "permission_denied: write_package"}]}))
    with pytest.raises(RemoteError) as err:
        push_chart(package, "oci://ghcr.io/ameideio/charts", credentials=CREDS,
                   retry=RetryPolicy(sleep=lambda _: None))
    text = str(err.value)
    assert "link the package to this repository" in text and "Actions access" in text
    assert "packages: write" in text and SECRET not in text and "\n" not in text


@respx.mock
def test_chunks_never_exceed_4_mib_and_416_is_explained(tmp_path: Path) -> None:
    data = bytes(range(256)) * (40 * 1024)  # 10 MiB
    path = tmp_path / "big.bin"
    path.write_bytes(data)
    blob = Blob.from_file(path, "application/octet-stream")
    sizes: list[int] = []
    respx.head(f"{GHCR}/v2/{REPO}/blobs/{blob.digest}").mock(return_value=httpx.Response(404))
    respx.post(f"{GHCR}/v2/{REPO}/blobs/uploads/").mock(
        return_value=httpx.Response(202, headers={"Location": f"/v2/{REPO}/blobs/uploads/u1?x=1"}))

    def patch(request: httpx.Request) -> httpx.Response:
        size = len(request.content)
        if size > CHUNK_SIZE:
            return httpx.Response(416)
        sizes.append(size)
        end = sum(sizes) - 1
        return httpx.Response(202, headers={"Location": f"/v2/{REPO}/blobs/uploads/u1?x=1",
                                            "Range": f"0-{end}"})

    respx.patch(url__startswith=f"{GHCR}/v2/{REPO}/blobs/uploads/u1").mock(side_effect=patch)
    put = respx.put(url__startswith=f"{GHCR}/v2/{REPO}/blobs/uploads/u1").mock(
        return_value=httpx.Response(201, headers={"Docker-Content-Digest": blob.digest}))
    with RegistryClient("ghcr.io") as client:
        assert client.push_blob(REPO, blob) == "uploaded"
    assert sizes == [CHUNK_SIZE, CHUNK_SIZE, len(data) - 2 * CHUNK_SIZE]
    final = put.calls[0].request.url
    assert final.params["x"] == "1" and final.params["digest"] == blob.digest  # query kept

    with pytest.raises(BadInput, match="4 MiB"):
        RegistryClient("ghcr.io", chunk_size=CHUNK_SIZE + 1)

    # a registry with a smaller limit: the 416 says what to do instead of looping
    respx.patch(url__startswith=f"{GHCR}/v2/{REPO}/blobs/uploads/u1").mock(
        return_value=httpx.Response(416))
    respx.get(url__startswith=f"{GHCR}/v2/{REPO}/blobs/uploads/u1").mock(
        return_value=httpx.Response(204, headers={"Range": "0-0",
                                                  "Location": f"/v2/{REPO}/blobs/uploads/u1"}))
    with RegistryClient("ghcr.io") as client, pytest.raises(RemoteError, match="416"):
        client.push_blob(REPO, blob)


@respx.mock
def test_redirected_blob_download_never_carries_authorization() -> None:
    _token_route(respx.mock)
    content = b"chart bytes"
    blob = Blob.from_bytes(content, "x")
    respx.get(f"{GHCR}/v2/{REPO}/blobs/{blob.digest}").mock(
        side_effect=lambda r: httpx.Response(307, headers={
            "Location": "https://pkg-containers.githubusercontent.com/blob?sig=1"})
        if _authorized(r, "pull") else httpx.Response(401, headers=CHALLENGE))
    cdn = respx.get(url__startswith="https://pkg-containers.githubusercontent.com/").mock(
        return_value=httpx.Response(200, content=content))
    with RegistryClient("ghcr.io", credentials=CREDS) as client:
        assert client.get_blob(REPO, blob.digest, len(content)) == content
    assert "Authorization" not in cdn.calls[0].request.headers


@respx.mock
def test_redirect_target_challenge_gets_no_credentials() -> None:
    respx.get(url__startswith=f"{GHCR}/v2/{REPO}/blobs/").mock(return_value=httpx.Response(
        307, headers={"Location": "https://evil.example/steal"}))
    evil = respx.get("https://evil.example/steal").mock(return_value=httpx.Response(
        401, headers={"WWW-Authenticate": 'Bearer realm="https://evil.example/token"'}))
    stolen = respx.get(url__startswith="https://evil.example/token").mock(
        return_value=httpx.Response(200, json={"token": "x"}))
    with RegistryClient("ghcr.io", credentials=CREDS) as client, pytest.raises(RemoteError):
        client.get_blob(REPO, "sha256:" + "e" * 64, 10)
    assert evil.call_count == 1 and stolen.call_count == 0
    assert "Authorization" not in evil.calls[0].request.headers


def test_location_and_error_bodies_are_parsed() -> None:
    """Relative Location with a query string; error JSON codes end up in the message."""
    with respx.mock:
        respx.post(f"{GHCR}/v2/{REPO}/blobs/uploads/").mock(return_value=httpx.Response(
            202, headers={"Location": f"/v2/{REPO}/blobs/uploads/abc?_state=s%3D"}))
        put = respx.put(url__startswith=f"{GHCR}/v2/{REPO}/blobs/uploads/abc").mock(
            return_value=httpx.Response(400, json={"errors": [{"code": "DIGEST_INVALID",
                                                               "message": "bad digest"}]}))
        blob = Blob.from_bytes(b"{}", "application/json")
        with RegistryClient("ghcr.io") as client, pytest.raises(RemoteError) as err:
            client.push_blob(REPO, blob)
    url = put.calls[0].request.url
    assert url.params["_state"] == "s=" and url.params["digest"] == blob.digest
    assert "DIGEST_INVALID" in str(err.value) and json.dumps({}) not in str(err.value)


@respx.mock
def test_identity_token_uses_the_oauth2_refresh_grant() -> None:
    realm = "https://acr.example/oauth2/token"
    challenge = {"WWW-Authenticate": f'Bearer realm="{realm}",service="acr.example",'
                                     f'scope="repository:{REPO}:pull"'}
    token = respx.post(realm).mock(return_value=httpx.Response(
        200, json={"access_token": "acc", "expires_in": 600}))
    respx.head(f"https://acr.example/v2/{REPO}/manifests/1.0.0").mock(
        side_effect=lambda r: httpx.Response(404) if r.headers.get("Authorization") ==
        "Bearer acc" else httpx.Response(401, headers=challenge))
    creds = Credentials("<token>", SECRET, "Docker config", identity_token=True)
    with RegistryClient("acr.example", credentials=creds) as client:
        assert client.manifest_digest(REPO, "1.0.0") is None
    form = dict(x.split("=", 1) for x in token.calls[0].request.content.decode().split("&"))
    assert form["grant_type"] == "refresh_token" and form["service"] == "acr.example"
    assert "Authorization" not in token.calls[0].request.headers


def test_credentials_never_go_to_a_plain_http_remote_realm() -> None:
    with respx.mock:
        respx.head(f"{GHCR}/v2/{REPO}/manifests/1.0.0").mock(return_value=httpx.Response(
            401, headers={"WWW-Authenticate": 'Bearer realm="http://tokens.example/t"'}))
        leak = respx.get(url__startswith="http://tokens.example/").mock(
            return_value=httpx.Response(200, json={"token": "t"}))
        with RegistryClient("ghcr.io", credentials=CREDS) as client, \
                pytest.raises(RemoteError, match="unencrypted"):
            client.manifest_digest(REPO, "1.0.0")
        assert leak.call_count == 0
