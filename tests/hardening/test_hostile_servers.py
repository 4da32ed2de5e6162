"""Hostile registries and GitHubs cannot exhaust memory or hang a release.

Servers here drip, stall, never stop talking or answer nonsense; the client must stop at its
limits (`release.limits`) with exit 4 and one line. Deadlines are shortened per test through
`release.limits`, which the clients read when they are made.
"""

from __future__ import annotations

import hashlib
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import respx

from release import limits
from release.errors import RemoteError
from release.executor import run_steps
from release.github import GitHub
from release.oci.client import RegistryClient
from release.oci.publish import prepare_upload, verify_chart
from release.oci.reference import chart_ref
from release.package import PackageResult
from release.retry import RetryPolicy
from release.steps.push import PushStep
from tests.conftest import CliResult
from tests.fakegithub import API, TOKEN
from tests.hostile import Answer, Scripted, Seen, drip, endless

GiB = 1024 * 1024 * 1024


@pytest.fixture
def short_deadlines(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "REQUEST_DEADLINE", 1.0)
    monkeypatch.setattr(limits, "READ_TIMEOUT", 0.5)
    monkeypatch.setattr(limits, "CONNECT_TIMEOUT", 0.5)


def no_wait() -> RetryPolicy:
    return RetryPolicy(sleep=lambda _: None)


def test_declared_huge_manifest_is_refused_before_reading() -> None:
    def handle(seen: Seen) -> Answer:
        return Answer(200, {"Content-Length": str(3 * GiB // 2),
                            "Content-Type": "application/vnd.oci.image.manifest.v1+json"},
                      endless())

    with Scripted(handle) as server, RegistryClient(server.netloc, plain_http=True,
                                                     retry=no_wait()) as client, \
            pytest.raises(RemoteError) as err:
        client.get_manifest("ns/demo", "1.0.0")
    assert f"over the {limits.MANIFEST_MAX}-byte limit" in str(err.value)


_CHILD = """
def peak():
    # VmHWM: this process's own peak (ru_maxrss can carry the forking parent's across exec)
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
import sys, resource
from release.oci.client import RegistryClient
from release.errors import RemoteError
from release.retry import RetryPolicy
host, what = sys.argv[1], sys.argv[2]
with RegistryClient(host, plain_http=True, retry=RetryPolicy(sleep=lambda _: None)) as c:
    try:
        if what == "manifest":
            c.get_manifest("ns/demo", "1.0.0")
        else:
            c.get_blob("ns/demo", "sha256:" + "a" * 64, 1024)
    except RemoteError as e:
        print("REFUSED", e)
print("MAXRSS_KB", peak())
"""


@pytest.mark.parametrize("what", ["manifest", "blob"])
def test_an_endless_answer_costs_its_limit_in_memory_not_gigabytes(what: str) -> None:
    """1.5 GiB offered without a length (chunked): read in a child whose peak memory we read."""
    sent = {"bytes": 0}

    def body() -> Iterator[bytes]:
        for chunk in endless():
            sent["bytes"] += len(chunk)
            if sent["bytes"] > 3 * GiB // 2:
                return
            yield chunk

    with Scripted(lambda seen: Answer(200, {"Content-Type": "application/octet-stream"},
                                      body())) as server:
        proc = subprocess.run([sys.executable, "-c", _CHILD, server.netloc, what],
                              capture_output=True, text=True, timeout=120, check=False)
    assert "REFUSED" in proc.stdout, proc.stdout + proc.stderr
    assert "limit; stopped reading" in proc.stdout
    peak_mb = int(proc.stdout.split("MAXRSS_KB")[1]) / 1024
    assert peak_mb < 150, f"peak {peak_mb:.0f} MB"
    assert sent["bytes"] < 64 * 1024 * 1024  # we hung up long before the server was done


def test_a_blob_longer_than_its_descriptor_is_cut_off() -> None:
    with Scripted(lambda seen: Answer(200, {}, b"x" * 5000)) as server, \
            RegistryClient(server.netloc, plain_http=True, retry=no_wait()) as client, \
            pytest.raises(RemoteError, match="over the 100-byte limit"):
        client.get_blob("ns/demo", "sha256:" + "a" * 64, 100)


def test_a_descriptor_claiming_a_huge_blob_is_refused_without_a_request() -> None:
    with Scripted(lambda seen: Answer(500)) as server, \
            RegistryClient(server.netloc, plain_http=True, retry=no_wait()) as client:
        with pytest.raises(RemoteError, match="not a Helm chart artifact"):
            client.get_blob("ns/demo", "sha256:" + "a" * 64, 2 * GiB)
        assert server.seen == []


def test_a_body_that_drips_stops_at_the_request_deadline(short_deadlines: None) -> None:
    with Scripted(lambda seen: Answer(200, {"Content-Type": "application/octet-stream"},
                                      drip(1000, 0.1))) as server, \
            RegistryClient(server.netloc, plain_http=True, retry=no_wait()) as client, \
            pytest.raises(RemoteError) as err:
        client.get_manifest("ns/demo", "1.0.0")
    assert "did not answer within 1 s" in str(err.value) and "\n" not in str(err.value)
    assert len(server.seen) == 1  # a request past its deadline is not retried


class HeaderDripper:
    """Accepts, reads the request, then sends the status line one byte every 0.1 s: each read
    returns within any read timeout, so only an overall deadline ends it."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.port = self.sock.getsockname()[1]
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self) -> None:
        self.sock.settimeout(0.2)
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            conn.recv(65536)
            for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 10_000:
                if self.stop.wait(0.1):
                    break
                try:
                    conn.send(bytes([byte]))
                except OSError:
                    break
            conn.close()

    def close(self) -> None:
        self.stop.set()
        self.thread.join()
        self.sock.close()


def test_headers_that_drip_stop_at_the_request_deadline(short_deadlines: None) -> None:
    dripper = HeaderDripper()
    try:
        with RegistryClient(f"127.0.0.1:{dripper.port}", plain_http=True,
                            retry=no_wait()) as client, pytest.raises(RemoteError) as err:
            client.manifest_digest("ns/demo", "1.0.0")
        assert "did not answer within 1 s" in str(err.value)
    finally:
        dripper.close()


def test_a_server_that_never_answers_costs_the_tries_times_the_first_byte_timeout(
        short_deadlines: None) -> None:
    with Scripted(lambda seen: Answer(200, silent=True)) as server, \
            RegistryClient(server.netloc, plain_http=True, retry=no_wait()) as client, \
            pytest.raises(RemoteError) as err:
        client.manifest_digest("ns/demo", "1.0.0")
    assert "could not reach registry" in str(err.value) and "ReadTimeout" in str(err.value)
    assert len(server.seen) == limits.RETRY_TRIES


def test_a_step_stops_at_its_deadline_even_when_each_request_is_quick(
        package: PackageResult, monkeypatch: pytest.MonkeyPatch) -> None:
    """A registry that always fails fast and asks to retry in 0.4 s: the step's deadline
    stops the retries, not the number of tries."""
    monkeypatch.setattr(limits, "STEP_DEADLINE", 1.0)
    monkeypatch.setattr(limits, "RETRY_TRIES", 1000)
    with Scripted(lambda seen: Answer(503, {"Retry-After": "0"})) as server:
        upload = prepare_upload(package, f"oci://{server.netloc}/ns", plain_http=True)
        from release.config import load_settings
        from release.steps.base import Runtime

        runtime = Runtime(load_settings(Path.cwd(), environ={}), {}, registry_options={
            "retry": RetryPolicy(max_tries=1000, sleep=lambda s: __import__("time").sleep(0.05))})
        with pytest.raises(RemoteError) as err:
            run_steps([PushStep(upload)], runtime)
        runtime.close()
    assert "the push step" in str(err.value) and "time limit" in str(err.value)


@pytest.mark.parametrize(("manifest", "why"), [
    (b"[1, 2]", "not a JSON object"),
    (b'{"config": "x", "layers": []}', "no config and layers"),
    (b'{"config": {"mediaType": "a", "digest": "b"}, "layers": []}', "without mediaType"),
    (b'{"config": {"mediaType": "application/vnd.cncf.helm.config.v1+json", "digest": '
     b'"sha256:' + b"a" * 64 + b'", "size": "9"}, "layers": []}', "without mediaType"),
    (b"\xff\xfe not json", "not JSON"),
])
def test_odd_manifest_shapes_are_reported_not_crashed_on(manifest: bytes, why: str) -> None:
    digest = "sha256:" + hashlib.sha256(manifest).hexdigest()

    def handle(seen: Seen) -> Answer:
        return Answer(200, {"Docker-Content-Digest": digest,
                            "Content-Type": "application/vnd.oci.image.manifest.v1+json"},
                      manifest)

    with Scripted(handle) as server, RegistryClient(server.netloc, plain_http=True,
                                                     retry=no_wait()) as client:
        result = verify_chart(chart_ref(f"oci://{server.netloc}/ns", "demo", "1.0.0",
                                        plain_http=True), None, client=client)
    assert not result.match and why in str(result.difference)


def test_a_head_is_not_refused_for_the_size_a_get_would_send(fast_retry: RetryPolicy) -> None:
    """HEAD answers declare the GET's length and send nothing: a 1 MiB manifest (big
    annotations) and a token challenge with a long error page are still one HEAD each."""
    digest = "sha256:" + "c" * 64
    declared = {"Content-Length": str(1 << 20)}

    def handle(seen: Seen) -> Answer:
        if seen.path.startswith("/token"):
            return Answer(200, {"Content-Type": "application/json"}, b'{"token": "t"}')
        if "authorization" not in seen.headers:
            return Answer(401, {**declared, "WWW-Authenticate":
                                f'Bearer realm="http://{server.netloc}/token",service="s"'})
        return Answer(200, {**declared, "Docker-Content-Digest": digest})

    with Scripted(handle) as server, RegistryClient(server.netloc, plain_http=True,
                                                     retry=fast_retry) as client:
        assert client.manifest_digest("ns/demo", "1.0.0") == digest
    assert [s.method for s in server.seen] == ["HEAD", "GET", "HEAD"]


@pytest.mark.parametrize("answered", ["0-0", "bytes=0-99999"])
def test_chunk_answers_that_make_no_progress_end_the_upload(answered: str,
                                                            fast_retry: RetryPolicy) -> None:
    """A registry that accepts every chunk (202) but says it holds nothing (`Range: 0-0`), or
    more than the blob: the upload gives up after its tries instead of sending chunks until the
    step's deadline. (A runaway loop is cut at 200 chunks by the server.)"""
    from release.oci.content import Blob

    blob = Blob.from_bytes(b"x" * 3000, "application/octet-stream")

    def handle(seen: Seen) -> Answer:
        if seen.method == "HEAD":
            return Answer(404)
        if seen.method == "POST":
            return Answer(202, {"Location": "/v2/ns/demo/blobs/uploads/u"})
        if sum(s.method == "PATCH" for s in server.seen) > 200:
            return Answer(400, {}, b'{"errors":[{"code":"RUNAWAY"}]}')
        return Answer(202, {"Location": "/v2/ns/demo/blobs/uploads/u", "Range": answered})

    with Scripted(handle) as server, RegistryClient(
            server.netloc, plain_http=True, retry=fast_retry, chunk_size=1000,
            monolithic_limit=1000) as client, pytest.raises(RemoteError) as err:
        client.push_blob("ns/demo", blob)
    assert "RUNAWAY" not in str(err.value)
    assert f"failed {limits.RETRY_TRIES} times" in str(err.value)
    patches = sum(s.method == "PATCH" for s in server.seen)
    assert patches <= limits.RETRY_TRIES * limits.RETRY_TRIES


def test_a_manifest_that_is_not_what_its_digest_header_says_is_refused(
        fast_retry: RetryPolicy) -> None:
    """verify reads the tag's manifest in one GET and takes its digest from the bytes: a
    registry (or proxy) whose Docker-Content-Digest names other bytes is caught there."""
    body = b'{"schemaVersion": 2}'

    def handle(seen: Seen) -> Answer:
        return Answer(200, {"Docker-Content-Digest": "sha256:" + "e" * 64,
                            "Content-Type": "application/vnd.oci.image.manifest.v1+json"}, body)

    with Scripted(handle) as server, RegistryClient(server.netloc, plain_http=True,
                                                     retry=fast_retry) as client, \
            pytest.raises(RemoteError, match="does not match sha256:eeee"):
        verify_chart(chart_ref(f"oci://{server.netloc}/ns", "demo", "1.0.0", plain_http=True),
                     None, client)
    assert [s.method for s in server.seen] == ["GET"]


@pytest.mark.parametrize("digest", ["../../v2/other", "sha256:xyz", "md5:" + "a" * 32])
def test_a_malformed_digest_header_never_reaches_a_url(digest: str) -> None:
    with Scripted(lambda seen: Answer(200, {"Docker-Content-Digest": digest})) as server, \
            RegistryClient(server.netloc, plain_http=True, retry=no_wait()) as client, \
            pytest.raises(RemoteError, match="malformed digest"):
        client.manifest_digest("ns/demo", "1.0.0")
    assert len(server.seen) == 1


def test_a_github_answer_over_its_limit_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "GITHUB_RESPONSE_MAX", 1000)
    with respx.mock() as router:
        router.get(f"{API}/repos/o/r/releases/tags/v1.0.0").mock(
            return_value=httpx.Response(200, content=b"[" + b"1," * 5000 + b"1]"))
        with pytest.raises(RemoteError, match="over the 1000-byte limit"):
            GitHub(API, "o/r", TOKEN, sleep=lambda _: None).release_by_tag("v1.0.0")


@pytest.mark.parametrize("answer", [b"[]", b'"x"', b"{not json"])
def test_a_github_answer_of_the_wrong_shape_is_one_line(answer: bytes) -> None:
    with respx.mock() as router:
        router.get(f"{API}/repos/o/r/releases/tags/v1.0.0").mock(
            return_value=httpx.Response(200, content=answer))
        with pytest.raises(RemoteError, match="something other than a release"):
            GitHub(API, "o/r", TOKEN, sleep=lambda _: None).release_by_tag("v1.0.0")


def test_a_hostile_token_service_answer_is_bounded(fast_retry: RetryPolicy) -> None:
    def handle(seen: Seen) -> Answer:
        if seen.path.startswith("/token"):
            return Answer(200, {"Content-Type": "application/json"}, endless())
        return Answer(401, {"WWW-Authenticate": f'Bearer realm="http://{server_box[0]}/token",'
                                                'service="s"'})

    server_box: list[str] = []
    with Scripted(handle) as server:
        server_box.append(server.netloc)
        with RegistryClient(server.netloc, plain_http=True, retry=fast_retry) as client, \
                pytest.raises(RemoteError, match="limit; stopped reading"):
            client.manifest_digest("ns/demo", "1.0.0")


def test_a_token_service_asking_to_retry_past_the_step_deadline_is_not_waited_for() -> None:
    """A token service answering 503 Retry-After: 60 within a step that has 1 s left: the
    step ends now with one line, as for the registry's own retries, instead of sleeping."""
    from release.sender import step_deadline

    def handle(seen: Seen) -> Answer:
        if seen.path.startswith("/token"):
            return Answer(503, {"Retry-After": "60"})
        return Answer(401, {"WWW-Authenticate": f'Bearer realm="http://{server.netloc}/token",'
                                                'service="s"'})

    waited: list[float] = []
    with Scripted(handle) as server, RegistryClient(
            server.netloc, plain_http=True, retry=RetryPolicy(sleep=waited.append)) as client, \
            step_deadline(1.0, "the push step"), pytest.raises(RemoteError) as err:
        client.manifest_digest("ns/demo", "1.0.0")
    assert "the push step would run past its time limit" in str(err.value)
    assert waited == [] and [s.path.split("?")[0] for s in server.seen] == [
        "/v2/ns/demo/manifests/1.0.0", "/token"]


def test_registry_down_is_exit_4_in_one_line_for_dry_run_online(
        cli: Callable[..., CliResult], gitrepo: object, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.gitutil import GitBuilder
    from tests.oci.conftest import CHART_YAML

    g: GitBuilder = gitrepo  # type: ignore[assignment]
    g.commit("feat: chart", {"chart/Chart.yaml": CHART_YAML.format(version="0.1.0"),
                             "chart/values.yaml": "a: 1\n",
                             "chart/templates/cm.yaml": "kind: ConfigMap\n"})
    monkeypatch.setattr(RetryPolicy, "pause", lambda self, seconds: None)
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens here: connection refused
    result = cli("--repo", str(g.root), "--registry", f"oci://127.0.0.1:{port}/ns",
                 "dry-run", "--online", "--plain-http")
    assert result.code == 4, result
    assert result.err.count("\n") == 1 and "Traceback" not in result.err
    assert "could not reach registry" in result.err


def test_the_memory_probe_sees_memory() -> None:
    """The memory assertions above read the child's own peak (VmHWM): it must see a 200 MB
    allocation, or they would pass whatever happened."""
    proc = subprocess.run([sys.executable, "-c", _CHILD.split("import sys")[0]
                           + "data = bytearray(200 << 20)\nprint('MAXRSS_KB', peak())"],
                          capture_output=True, text=True, check=True)
    assert int(proc.stdout.split("MAXRSS_KB")[1]) > 200 * 1024


ESCAPES = "\x1b]0;owned\x07\x1b[2J\x1b[31m\u202e\x9b"


@pytest.mark.parametrize("status", [400, 500])
def test_a_server_s_words_reach_the_terminal_without_control_characters(
        cli: Callable[..., CliResult], gitrepo: object, monkeypatch: pytest.MonkeyPatch,
        status: int) -> None:
    """What a registry says is shown, but a terminal escape in it (a title change, a screen
    clear, colours, a bidi override) is not passed to the terminal."""
    from tests.gitutil import GitBuilder
    from tests.oci.conftest import CHART_YAML

    g: GitBuilder = gitrepo  # type: ignore[assignment]
    g.commit("feat: chart", {"chart/Chart.yaml": CHART_YAML.format(version="0.1.0"),
                             "chart/values.yaml": "a: 1\n",
                             "chart/templates/cm.yaml": "kind: ConfigMap\n"})
    monkeypatch.setattr(RetryPolicy, "pause", lambda self, seconds: None)
    body = ('{"errors":[{"code":"DENIED","message":"no' + ESCAPES.replace("\x1b", "\\u001b")
            .replace("\x07", "\\u0007").replace("\u202e", "\\u202e").replace("\x9b", "\\u009b")
            + 'pe"}]}').encode()

    def handle(seen: Seen) -> Answer:
        return Answer(status, {"Content-Type": "application/json"}, [body])

    g.tag("v0.1.0")
    with Scripted(handle) as server:
        result = cli("--repo", str(g.root), "--registry", f"oci://{server.netloc}/ns",
                     "verify", "--tag", "v0.1.0", "--plain-http")
    assert result.code == 4, result
    assert result.err.count("\n") == 1 and "Traceback" not in result.err, result.err
    assert "no" in result.err and "pe" in result.err  # the server's words, shown
    assert not any(c in result.out + result.err for c in "\x1b\x07\u202e\x9b"), repr(result.err)
