"""The `push` command as a separate process: SIGKILL mid-publish, and every failure a one-line
error with its exit code, no traceback and no secret anywhere in the output."""

from __future__ import annotations

import datetime as dt
import os
import signal
import ssl
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from release.package import PackageResult, build
from tests.oci.conftest import COMMIT_TIME, write_chart
from tests.pushing import expected_digest
from tests.registry_fixtures import TEST_PASSWORD, TEST_USER, Fault, FaultProxy, Registry

pytestmark = pytest.mark.registry
WRONG = "wrong-" + TEST_PASSWORD


def run_push(tmp_path: Path, archive: Path, to: str, *extra: str, stdin: str | None = None,
             plain_http: bool = True) -> subprocess.Popen[str]:
    args = [sys.executable, "-m", "release", "--repo", str(tmp_path), "push", "--archive",
            str(archive), "--to", to, *extra]
    if plain_http:
        args.append("--plain-http")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AMEIDE_", "GITHUB_"))}
    env["HOME"] = str(tmp_path / "home")  # no Helm or Docker logins from the machine
    # a SIGKILLed push cannot remove its temporary directory: keep it inside the test's own
    (tmp_path / "tmp").mkdir(exist_ok=True)
    env["TMPDIR"] = str(tmp_path / "tmp")
    return subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)


def finish(proc: subprocess.Popen[str], stdin: str | None = None) -> tuple[int, str, str]:
    out, err = proc.communicate(stdin, timeout=120)
    return proc.returncode, out, err


def assert_one_line_error(code: int, out: str, err: str, exit_code: int, *words: str) -> None:
    assert code == exit_code, (code, out, err)
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert "Traceback" not in out + err
    for secret in (TEST_PASSWORD, WRONG):
        assert secret not in out + err
    for word in words:
        assert word in err, err


@pytest.mark.parametrize("step", range(6))
def test_sigkill_after_each_step_then_rerun(open_registry: Registry, namespace: str,
                                            package: PackageResult, tmp_path: Path,
                                            fault_proxy: Callable[..., FaultProxy],
                                            step: int) -> None:
    proxy = fault_proxy(open_registry.host, {step: Fault("hold")})
    proc = run_push(tmp_path, package.path, proxy.oci(namespace))
    assert proxy.held.wait(60), "the publish never reached the step"
    proc.send_signal(signal.SIGKILL)  # the registry has done this step; the client dies
    proc.wait(30)
    proxy.release()
    repo = f"{namespace}/demo"
    open_registry.assert_tags_complete(repo)  # whatever is there is whole
    code, out, err = finish(run_push(tmp_path, package.path, open_registry.oci(namespace)))
    assert code == 0, err
    assert open_registry.manifest_digest(repo, "0.1.0") == expected_digest(package)
    assert out.strip().endswith(expected_digest(package))
    if step == 5:  # the manifest PUT itself landed before the kill
        assert "already published" in err


def test_wrong_password_basic(basic_registry: Registry, namespace: str, package: PackageResult,
                              tmp_path: Path) -> None:
    proc = run_push(tmp_path, package.path, basic_registry.oci(namespace), "--username",
                    TEST_USER, "--password-stdin")
    code, out, err = finish(proc, WRONG + "\n")
    assert_one_line_error(code, out, err, 4, "refused user 'robot' from the command line")


def test_wrong_password_token(token_registry: Registry, namespace: str,
                              package: PackageResult, tmp_path: Path) -> None:
    env_proc = run_push(tmp_path, package.path, token_registry.oci(namespace), "--username",
                        TEST_USER, "--password-stdin")
    code, out, err = finish(env_proc, WRONG + "\n")
    assert_one_line_error(code, out, err, 4, "token service", "refused user 'robot'")


@pytest.mark.parametrize("mode", ["expired", "invalid"])
def test_expired_or_invalid_token(token_registry: Registry, namespace: str,
                                  package: PackageResult, tmp_path: Path, mode: str) -> None:
    ts = token_registry.token_server
    assert ts is not None
    ts.requests.clear()
    if mode == "expired":
        ts.expire_all = True
    else:
        ts.bad_token = "not-a-jwt"
    try:
        proc = run_push(tmp_path, package.path, token_registry.oci(namespace), "--username",
                        TEST_USER, "--password-stdin")
        code, out, err = finish(proc, TEST_PASSWORD + "\n")
    finally:
        ts.expire_all, ts.bad_token = False, None
    assert_one_line_error(code, out, err, 4, "refused user 'robot'")
    assert len(ts.requests) == 1  # one token, one retry with it, no loop


def test_unknown_host(package: PackageResult, tmp_path: Path) -> None:
    code, out, err = finish(run_push(tmp_path, package.path, "oci://registry.invalid/ns",
                                     plain_http=False))
    assert_one_line_error(code, out, err, 4, "cannot resolve the host of registry registry.invalid")


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[str]:
    """An HTTPS server on loopback with a self-signed certificate nobody trusts."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    import ipaddress

    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(1)
            .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .sign(key, hashes.SHA256()))
    (tmp_path / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "key.pem").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_HEAD(self) -> None:
            self.send_response(404)
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_tls_failure(tls_server: str, package: PackageResult, tmp_path: Path) -> None:
    code, out, err = finish(run_push(tmp_path, package.path, f"oci://{tls_server}/ns",
                                     plain_http=False))
    assert_one_line_error(code, out, err, 4, "TLS certificate", "not trusted")


def test_registry_answering_html(open_registry: Registry, namespace: str,
                                 package: PackageResult, tmp_path: Path,
                                 fault_proxy: Callable[..., FaultProxy]) -> None:
    proxy = fault_proxy(open_registry.host, {i: Fault("html") for i in range(20)})
    code, out, err = finish(run_push(tmp_path, package.path, proxy.oci(namespace)))
    assert_one_line_error(code, out, err, 4, "HTML page")


def test_manifest_over_4_mib_is_refused_before_any_request(tmp_path: Path) -> None:
    chart = write_chart(tmp_path / "src")
    text = (chart / "Chart.yaml").read_text()
    # 4.5 MiB: under Helm's 5 MiB per file, over the 4 MiB registries take for a manifest.
    (chart / "Chart.yaml").write_text(text + f"  example.com/huge: {'x' * (9 * 512 * 1024)}\n")
    big = build(chart, tmp_path / "dist", COMMIT_TIME)
    # port 9 on loopback: any request would fail with a connection error instead
    code, out, err = finish(run_push(tmp_path, big.path, "oci://127.0.0.1:9/ns"))
    assert_one_line_error(code, out, err, 2, "over the 4 MiB")


def test_conflict_exit_code_and_force_message(open_registry: Registry, namespace: str,
                                              make_package: Callable[..., PackageResult],
                                              tmp_path: Path) -> None:
    first, other = make_package(), make_package(extra="other")
    assert finish(run_push(tmp_path, first.path, open_registry.oci(namespace)))[0] == 0
    code, out, err = finish(run_push(tmp_path, other.path, open_registry.oci(namespace)))
    assert_one_line_error(code, out, err, 3, "already published", "nothing was written")
    assert open_registry.manifest_digest(f"{namespace}/demo", "0.1.0") == expected_digest(first)
    code, out, err = finish(run_push(tmp_path, other.path, open_registry.oci(namespace),
                                     "--force", "--json"))
    assert code == 0
    import json

    data = json.loads(out)
    assert data["status"] == "overwritten"
    assert data["previous_digest"] == expected_digest(first)
