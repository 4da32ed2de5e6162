"""Publishing against a real registry (Debian docker-registry): no mocked HTTP here."""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Callable
from pathlib import Path

import helm_python
import httpx
import pytest

from release.errors import Conflict, RemoteError
from release.oci.artifact import CHART_MEDIA_TYPE, CONFIG_MEDIA_TYPE
from release.oci.client import RegistryClient
from release.oci.credentials import Credentials
from release.oci.publish import registry_client, verify_chart
from release.oci.reference import chart_ref
from release.package import PackageResult, read_archive
from release.retry import RetryPolicy
from tests.oci.conftest import COMMIT_TIME
from tests.pushing import expected_digest, push_chart
from tests.registry_fixtures import TEST_PASSWORD, TEST_USER, Fault, FaultProxy, Registry

pytestmark = pytest.mark.registry
CREDS = Credentials(TEST_USER, TEST_PASSWORD, "the test")


def _helm_pull(oci: str, version: str, dest: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    helm_python.pull(oci, version=version, destination=str(dest), plain_http=True)
    found = list(dest.glob("*.tgz"))
    assert len(found) == 1
    return found[0]


def test_push_then_helm_and_oras_pull_the_same_bytes(open_registry: Registry, namespace: str,
                                                     package: PackageResult,
                                                     tmp_path: Path) -> None:
    result = push_chart(package, open_registry.oci(namespace), plain_http=True)
    assert result.status == "pushed"
    assert result.requests <= 7  # issue target for a first publish without auth
    assert result.digest == expected_digest(package)
    repo = f"{namespace}/demo"
    assert open_registry.manifest_digest(repo, "0.1.0") == result.digest

    pulled = _helm_pull(f"oci://{open_registry.host}/{repo}", "0.1.0", tmp_path / "helm")
    assert pulled.read_bytes() == package.path.read_bytes()
    with helm_python.Chart.load(str(pulled)) as chart:
        rendered = chart.render({"extra": "x"}, name="rel", namespace="default")
    assert 'version: "0.1.0"' in rendered["demo/templates/cm.yaml"]

    import oras.client

    oras_client = oras.client.OrasClient(hostname=open_registry.host, insecure=True)
    files = oras_client.pull(target=f"{open_registry.host}/{repo}:0.1.0",
                             outdir=str(tmp_path / "oras"))
    assert [Path(f).read_bytes() for f in files] == [package.path.read_bytes()]


def test_manifest_is_byte_identical_to_helm_push(open_registry: Registry, namespace: str,
                                                 package: PackageResult, tmp_path: Path) -> None:
    """Same archive, same `created`: Helm's engine and we write the very same manifest."""
    copy = tmp_path / package.path.name
    copy.write_bytes(package.path.read_bytes())
    os.utime(copy, (COMMIT_TIME, COMMIT_TIME))  # Helm takes `created` from the file's mtime
    helm_python.RegistryClient(plain_http=True).push(str(copy), open_registry.oci(namespace + "h"))
    helm_digest = open_registry.manifest_digest(f"{namespace}h/demo", "0.1.0")
    ours = push_chart(package, open_registry.oci(namespace), plain_http=True)
    assert ours.digest == helm_digest
    body, ctype = open_registry.manifest(f"{namespace}/demo", "0.1.0")
    manifest = json.loads(body)
    assert ctype == "application/vnd.oci.image.manifest.v1+json" and "mediaType" not in manifest
    assert manifest["config"]["mediaType"] == CONFIG_MEDIA_TYPE
    assert [d["mediaType"] for d in manifest["layers"]] == [CHART_MEDIA_TYPE]
    ann = manifest["annotations"]
    assert ann["org.opencontainers.image.created"] == "2023-11-14T22:13:20Z"
    assert ann["org.opencontainers.image.title"] == "demo"
    assert ann["org.opencontainers.image.description"] == "Operators chart"
    assert ann["org.opencontainers.image.source"] == "https://github.com/ameideio/ameide-core"
    assert ann["org.opencontainers.image.authors"] == "Ann (ann@example.com), Bob"


def test_repeat_is_one_request_and_writes_nothing(open_registry: Registry, namespace: str,
                                                  package: PackageResult,
                                                  fault_proxy: Callable[..., FaultProxy]) -> None:
    push_chart(package, open_registry.oci(namespace), plain_http=True)
    proxy = fault_proxy(open_registry.host)
    again = push_chart(package, proxy.oci(namespace), plain_http=True)
    assert again.status == "already-published" and again.requests == 1
    assert [(s.method, s.status) for s in proxy.seen] == [("HEAD", 200)]


def test_different_content_is_refused_and_registry_unchanged(
        open_registry: Registry, namespace: str,
        make_package: Callable[..., PackageResult],
        fault_proxy: Callable[..., FaultProxy]) -> None:
    first = push_chart(make_package(), open_registry.oci(namespace), plain_http=True)
    other = make_package(extra="changed")
    proxy = fault_proxy(open_registry.host)
    with pytest.raises(Conflict) as err:
        push_chart(other, proxy.oci(namespace), plain_http=True)
    assert err.value.exit_code == 3 and first.digest in str(err.value)
    # HEAD the tag, GET its manifest (to tell a re-signed copy from other content): no write
    assert [s.method for s in proxy.seen] == ["HEAD", "GET"]
    assert open_registry.manifest_digest(f"{namespace}/demo", "0.1.0") == first.digest

    forced = push_chart(other, open_registry.oci(namespace), plain_http=True, force=True)
    assert forced.status == "overwritten" and forced.previous_digest == first.digest
    assert first.digest in forced.message() and forced.digest in forced.message()
    assert open_registry.manifest_digest(f"{namespace}/demo", "0.1.0") == forced.digest


def test_basic_auth_push_and_wrong_password(basic_registry: Registry, namespace: str,
                                            package: PackageResult) -> None:
    result = push_chart(package, basic_registry.oci(namespace), plain_http=True,
                        credentials=CREDS)
    assert result.status == "pushed"
    # one challenge, then Basic goes up front: HEAD 401 + HEAD + 2 x (POST+PUT) + PUT, and the
    # HEAD that reads the tag back
    assert result.requests == 8
    with pytest.raises(RemoteError) as err:
        push_chart(package, basic_registry.oci(namespace), plain_http=True,
                   credentials=Credentials(TEST_USER, "wrong-" + TEST_PASSWORD, "the test"))
    assert "user 'robot' from the test" in str(err.value) and TEST_PASSWORD not in str(err.value)


def test_token_auth_asks_pull_push_once(token_registry: Registry, namespace: str,
                                        package: PackageResult, tmp_path: Path) -> None:
    ts = token_registry.token_server
    assert ts is not None
    ts.requests.clear()
    result = push_chart(package, token_registry.oci(namespace), plain_http=True,
                        credentials=CREDS)
    assert result.status == "pushed" and result.requests == 9  # 8 + the read-back HEAD
    assert [r["scopes"] for r in ts.requests] == [[f"repository:{namespace}/demo:pull,push"]]
    again = push_chart(package, token_registry.oci(namespace), plain_http=True,
                       credentials=CREDS)
    assert again.status == "already-published" and again.requests == 3

    ref = chart_ref(token_registry.oci(namespace), "demo", "0.1.0", plain_http=True)
    with registry_client(ref, CREDS) as client:
        check = verify_chart(ref, package, client)
    assert check.match, check.difference

    import oras.client

    puller = oras.client.OrasClient(hostname=token_registry.host, insecure=True)
    puller.auth.set_basic_auth(TEST_USER, TEST_PASSWORD)
    files = puller.pull(target=f"{token_registry.host}/{namespace}/demo:0.1.0",
                        outdir=str(tmp_path / "oras"))
    assert [Path(f).read_bytes() for f in files] == [package.path.read_bytes()]


def test_the_token_registry_really_enforces_push_scope(token_registry: Registry,
                                                       namespace: str) -> None:
    ts = token_registry.token_server
    assert ts is not None
    url = f"{token_registry.url}/v2/{namespace}/demo/blobs/uploads/"
    pull_only = ts.make_token([f"repository:{namespace}/demo:pull"], TEST_USER)
    assert httpx.post(url, headers={"Authorization": f"Bearer {pull_only}"}).status_code == 401
    push = ts.make_token([f"repository:{namespace}/demo:pull,push"], TEST_USER)
    assert httpx.post(url, headers={"Authorization": f"Bearer {push}"}).status_code == 202


def test_oras_py_push_fails_on_scoped_tokens(token_registry: Registry, namespace: str,
                                             package: PackageResult,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """Why we do not push with oras-py 0.2.43 (its issue #187): it asks only for pull scope."""
    import oras.client

    ts = token_registry.token_server
    assert ts is not None
    ts.requests.clear()
    monkeypatch.chdir(package.path.parent)  # oras-py only pushes files under the cwd
    client = oras.client.OrasClient(hostname=token_registry.host, insecure=True)
    client.auth.set_basic_auth(TEST_USER, TEST_PASSWORD)
    with pytest.raises(ValueError, match="UNAUTHORIZED"):
        client.push(target=f"{token_registry.host}/{namespace}/demo:0.1.0",
                    files=[package.path.name])
    assert all(r["scopes"] == [f"repository:{namespace}/demo:pull"] for r in ts.requests)
    assert token_registry.manifest_digest(f"{namespace}/demo", "0.1.0") is None


@pytest.mark.parametrize(("fault", "resumed", "patches"), [
    (Fault("status", 500), 1, 6),  # chunk 2 refused: ask for Range, send chunk 2 again
    (Fault("drop-before"), 1, 6),  # chunk 2 never arrived: same
    # chunk 2 landed but the answer was lost: distribution's `_state` then refuses the
    # session, so the upload restarts from a HEAD (5 + 2 sent on the first session)
    (Fault("drop-after"), 0, 7),
])
def test_big_blob_goes_up_in_chunks_and_resumes_from_range(
        open_registry: Registry, namespace: str, make_package: Callable[..., PackageResult],
        fault_proxy: Callable[..., FaultProxy], fault: Fault, resumed: int,
        patches: int) -> None:
    big = make_package(padding=300_000)
    assert big.size > 250_000
    proxy = fault_proxy(open_registry.host)
    # requests: HEAD tag, POST+PUT config, HEAD chart blob, POST, PATCH#1 (5), PATCH#2 (6)...
    proxy.reset({6: fault})
    retry = RetryPolicy(sleep=lambda _: None)
    with RegistryClient(proxy.host, plain_http=True, retry=retry, chunk_size=64 * 1024,
                        monolithic_limit=100_000, head_threshold=100_000,
                        push_repositories=(f"{namespace}/demo",)) as client:
        result = push_chart(big, proxy.oci(namespace), plain_http=True, client=client)
        assert client.resumed_chunks == resumed
    assert len([s for s in proxy.seen if s.method == "PATCH"]) == patches
    assert all(s.method != "PATCH" or s.status in (202, 500, None) for s in proxy.seen)
    assert result.digest == expected_digest(big)
    open_registry.assert_tags_complete(f"{namespace}/demo")
    assert open_registry.blob(f"{namespace}/demo", big.digest) == big.path.read_bytes()


def test_verify_reports_the_first_difference(open_registry: Registry, namespace: str,
                                             make_package: Callable[..., PackageResult]
                                             ) -> None:
    published = make_package()
    push_chart(published, open_registry.oci(namespace), plain_http=True)
    ref = chart_ref(open_registry.oci(namespace), "demo", "0.1.0", plain_http=True)
    with registry_client(ref, None) as client:
        same = verify_chart(ref, published, client)
        assert same.match and len(same.checked) == 2  # the chart layer is the archive's digest
        rebuilt = make_package(extra="drift")
        differs = verify_chart(ref, rebuilt, client)
        assert not differs.match and differs.difference is not None
        assert differs.difference.startswith("chart archive: published")
        later = dataclasses.replace(published, created=COMMIT_TIME + 60)
        assert "org.opencontainers.image.created" in str(verify_chart(ref, later,
                                                                      client).difference)


def test_read_archive_recovers_the_commit_time(package: PackageResult) -> None:
    again = read_archive(package.path)
    assert (again.digest, again.name, again.version, again.created) == (
        package.digest, "demo", "0.1.0", COMMIT_TIME)
    assert expected_digest(again) == expected_digest(package)


def test_a_re_run_skips_a_big_blob_the_registry_already_has(
        open_registry: Registry, namespace: str, make_package: Callable[..., PackageResult],
        fault_proxy: Callable[..., FaultProxy]) -> None:
    """A HEAD's Content-Length is the size of what a GET would send: asking whether a 2 MiB
    blob is there must not be refused as a 2 MiB answer. The first run dies writing the tag
    (its blobs are uploaded), the re-run finds the big blob and skips it, the third run finds
    the tag."""
    big = make_package(padding=2 * 1024 * 1024)
    assert big.size > 2 * 1024 * 1024
    proxy = fault_proxy(open_registry.host)
    # HEAD tag, POST+PUT config, HEAD chart blob (≥ 1 MiB), POST+PUT chart, PUT manifest (6)
    proxy.reset({6: Fault("status", 400)})
    with pytest.raises(RemoteError, match="writing"):
        push_chart(big, proxy.oci(namespace), plain_http=True)
    assert [s.method for s in proxy.seen] == ["HEAD", "POST", "PUT", "HEAD", "POST", "PUT",
                                              "PUT"]
    proxy.reset()
    again = push_chart(big, proxy.oci(namespace), plain_http=True)
    assert again.status == "pushed" and again.skipped == (big.digest,)
    assert [s.method for s in proxy.seen] == ["HEAD", "POST", "PUT", "HEAD", "PUT", "HEAD"]
    third = push_chart(big, proxy.oci(namespace), plain_http=True)
    assert third.status == "already-published" and third.digest == again.digest
    open_registry.assert_tags_complete(f"{namespace}/demo")
