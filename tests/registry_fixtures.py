"""Real OCI registries for tests: Debian's docker-registry (distribution 2.8) on loopback.

A pytest plugin module (register it with `pytest_plugins`). Three modes share one launcher:
open, htpasswd Basic, and token auth backed by a token server written here (RS256 JWTs signed
with a throwaway key; it checks Basic credentials and grants exactly the scopes asked for), so
scope mistakes fail for real. `FaultProxy` sits in front of any of them on loopback, counts every
request and can answer a chosen request index with an error, a dropped connection, an HTML page
or a pause (so a test can SIGKILL the client mid-publish).

Nothing here uses the code under test: inspection goes through plain httpx.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import http.client
import json
import secrets
import shutil
import socket
import subprocess
import threading
import time
import uuid
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.hostile import send_json

REGISTRY_BIN = shutil.which("docker-registry") or "/usr/bin/docker-registry"
TEST_USER = "robot"
TEST_PASSWORD = "s3cr3t-" + "pw-" + "7f3a9c"  # scanned for in every output by the error tests
OCI_ACCEPT = ", ".join([
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
])


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def bcrypt_hash(password: str) -> str:
    """A bcrypt hash for htpasswd without a new dependency: glibc's libxcrypt does `$2b$`."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            import crypt  # Python <= 3.12; libxcrypt on Debian supports bcrypt

            return crypt.crypt(password, crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=1 << 4))
    except (ImportError, AttributeError):  # pragma: no cover - Python 3.13+
        import bcrypt  # type: ignore[import-not-found]

        hashed: bytes = bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=4))
        return hashed.decode()


# --------------------------------------------------------------------------------------------
# Token server
# --------------------------------------------------------------------------------------------
@dataclass
class TokenServer:
    """`GET /token` with Basic credentials → `{"token": JWT}` granting exactly the asked scopes."""

    service: str = "test-registry"
    issuer: str = "test-issuer"
    username: str = TEST_USER
    password: str = TEST_PASSWORD
    lifetime: int = 300
    field_name: str = "token"  # or "access_token"
    expire_all: bool = False  # hand out tokens that are already expired
    bad_token: str | None = None  # hand out this string instead of a signed token
    # Namespaces whose packages are private: an anonymous token request for them is refused
    # ("refuse", GHCR's 401) or answered with a token granting nothing ("empty", Docker Hub's
    # way, so the registry itself says 401). Every other namespace allows anonymous pulls.
    private: dict[str, str] = field(default_factory=dict)
    port: int = 0
    requests: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import rsa
        from cryptography.x509.oid import NameOID

        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test token signer")])
        now = dt.datetime.now(dt.UTC)
        cert = (
            x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(self._key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=30))
            .sign(self._key, hashes.SHA256())
        )
        self.cert_pem = cert.public_bytes(serialization.Encoding.PEM)
        self._x5c = base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()
        self._key_pem = self._key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption())
        self._server: ThreadingHTTPServer | None = None

    @property
    def realm(self) -> str:
        return f"http://127.0.0.1:{self.port}/token"

    def make_token(self, scopes: list[str], subject: str, expired: bool = False) -> str:
        import jwt

        access = []
        for scope in scopes:
            parts = scope.split(":")
            if len(parts) < 3:
                continue
            kind, actions = parts[0], parts[-1]
            name = ":".join(parts[1:-1])
            access.append({"type": kind, "name": name,
                           "actions": [a for a in actions.split(",") if a]})
        now = int(time.time())
        if expired:
            now -= 3600
        claims = {"iss": self.issuer, "sub": subject, "aud": self.service,
                  "exp": now + self.lifetime if not expired else now + 60,
                  "nbf": now - 5, "iat": now, "jti": uuid.uuid4().hex, "access": access}
        return jwt.encode(claims, self._key_pem, algorithm="RS256", headers={"x5c": [self._x5c]})

    def private_mode(self, scopes: list[str]) -> str | None:
        """How an anonymous request for `scopes` is answered: None (granted) or the mode of the
        private namespace one of them names."""
        for scope in " ".join(scopes).split():
            name = ":".join(scope.split(":")[1:-1])
            for namespace, mode in self.private.items():
                if name.startswith(namespace + "/"):
                    return mode
        return None

    def start(self) -> None:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _reply(self, status: int, body: dict[str, Any]) -> None:
                send_json(self, status, body)

            def do_POST(self) -> None:  # GHCR-like: the token endpoint only speaks GET
                outer.requests.append({"method": "POST", "path": self.path})
                self._reply(405, {"errors": [{"code": "UNSUPPORTED"}]})

            def do_GET(self) -> None:
                url = urlsplit(self.path)
                query = parse_qs(url.query)
                scopes = query.get("scope", [])
                auth = self.headers.get("Authorization", "")
                outer.requests.append({"method": "GET", "path": url.path, "scopes": scopes,
                                       "has_auth": bool(auth)})
                if url.path != "/token":
                    self._reply(404, {})
                    return
                user = None
                if auth.startswith("Basic "):
                    try:
                        user, _, pw = base64.b64decode(auth[6:]).decode().partition(":")
                    except ValueError:
                        user, pw = None, ""
                    if user != outer.username or pw != outer.password:
                        self._reply(401, {"details": "invalid username or password"})
                        return
                elif auth:
                    self._reply(401, {"details": "unsupported authorization"})
                    return
                mode = None if user else outer.private_mode(scopes)
                if mode == "refuse":
                    self._reply(401, {"errors": [{"code": "UNAUTHORIZED",
                                                  "message": "authentication required"}]})
                    return
                token = outer.bad_token or outer.make_token(
                    [] if mode == "empty" else scopes, user or "anonymous",
                    expired=outer.expire_all)
                self._reply(200, {outer.field_name: token, "expires_in": outer.lifetime})

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = int(self._server.server_address[1])
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()


# --------------------------------------------------------------------------------------------
# The registry process
# --------------------------------------------------------------------------------------------
@dataclass
class Registry:
    """A running docker-registry; `inspect_*` read it without the code under test."""

    mode: str  # open | basic | token
    port: int
    workdir: Path
    token_server: TokenServer | None = None
    process: subprocess.Popen[bytes] | None = None

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    @property
    def username(self) -> str | None:
        return None if self.mode == "open" else TEST_USER

    @property
    def password(self) -> str | None:
        return None if self.mode == "open" else TEST_PASSWORD

    def oci(self, namespace: str) -> str:
        return f"oci://{self.host}/{namespace}"

    def start(self) -> None:
        storage = self.workdir / "storage"
        storage.mkdir(parents=True, exist_ok=True)
        lines = [
            "version: 0.1",
            "log: {level: error, accesslog: {disabled: true}}",
            f"storage: {{filesystem: {{rootdirectory: {storage}}}, delete: {{enabled: true}}}}",
            f"http: {{addr: '127.0.0.1:{self.port}', secret: {secrets.token_hex(8)}}}",
        ]
        if self.mode == "basic":
            htpasswd = self.workdir / "htpasswd"
            htpasswd.write_text(f"{TEST_USER}:{bcrypt_hash(TEST_PASSWORD)}\n")
            lines.append(f"auth: {{htpasswd: {{realm: test-realm, path: {htpasswd}}}}}")
        elif self.mode == "token":
            assert self.token_server is not None
            bundle = self.workdir / "token.pem"
            bundle.write_bytes(self.token_server.cert_pem)
            ts = self.token_server
            lines.append(f"auth: {{token: {{realm: '{ts.realm}', service: {ts.service}, "
                         f"issuer: {ts.issuer}, rootcertbundle: {bundle}}}}}")
        config = self.workdir / "config.yml"
        config.write_text("\n".join(lines) + "\n")
        log = (self.workdir / "registry.log").open("wb")
        self.process = subprocess.Popen([REGISTRY_BIN, "serve", str(config)], stdout=log,
                                        stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("docker-registry exited: "
                                   + (self.workdir / "registry.log").read_text()[-2000:])
            try:
                httpx.get(f"{self.url}/v2/", timeout=1)
                return
            except httpx.TransportError:
                time.sleep(0.05)
        raise RuntimeError("docker-registry did not start within 20 s")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    # --- inspection (independent of release.oci) ---------------------------------------------
    def _headers(self, repository: str, actions: str = "pull") -> dict[str, str]:
        if self.mode == "basic":
            raw = base64.b64encode(f"{TEST_USER}:{TEST_PASSWORD}".encode()).decode()
            return {"Authorization": f"Basic {raw}"}
        if self.mode == "token":
            assert self.token_server is not None
            token = self.token_server.make_token([f"repository:{repository}:{actions}"], "admin")
            return {"Authorization": f"Bearer {token}"}
        return {}

    def manifest_digest(self, repository: str, tag: str) -> str | None:
        """The digest a tag points at, or None when the tag does not exist."""
        r = httpx.head(f"{self.url}/v2/{repository}/manifests/{tag}",
                       headers={"Accept": OCI_ACCEPT, **self._headers(repository)}, timeout=10)
        if r.status_code == 404:
            return None
        r.raise_for_status()
        return r.headers["Docker-Content-Digest"]

    def manifest(self, repository: str, ref: str) -> tuple[bytes, str]:
        r = httpx.get(f"{self.url}/v2/{repository}/manifests/{ref}",
                      headers={"Accept": OCI_ACCEPT, **self._headers(repository)}, timeout=10)
        r.raise_for_status()
        return r.content, r.headers.get("Content-Type", "")

    def blob(self, repository: str, digest: str) -> bytes | None:
        r = httpx.get(f"{self.url}/v2/{repository}/blobs/{digest}",
                      headers=self._headers(repository), timeout=10, follow_redirects=True)
        if r.status_code == 404:
            return None
        r.raise_for_status()
        return r.content

    def tags(self, repository: str) -> list[str]:
        r = httpx.get(f"{self.url}/v2/{repository}/tags/list",
                      headers=self._headers(repository), timeout=10)
        if r.status_code == 404:
            return []
        r.raise_for_status()
        return list(r.json().get("tags") or [])

    def assert_tags_complete(self, repository: str) -> None:
        """Every tag points at a manifest whose config and layers are all present."""
        for tag in self.tags(repository):
            body, _ = self.manifest(repository, tag)
            manifest = json.loads(body)
            for desc in [manifest["config"], *manifest["layers"]]:
                data = self.blob(repository, desc["digest"])
                assert data is not None, f"{repository}:{tag} points at missing {desc['digest']}"
                assert len(data) == desc["size"]


def start_registry(mode: str, workdir: Path) -> Registry:
    token_server = None
    if mode == "token":
        token_server = TokenServer()
        token_server.start()
    for _ in range(5):  # a free port can be taken between the probe and the bind
        registry = Registry(mode=mode, port=free_port(), workdir=workdir,
                            token_server=token_server)
        try:
            registry.start()
            return registry
        except RuntimeError:
            registry.stop()
    raise RuntimeError("could not start docker-registry on a free loopback port")


def _registry_fixture(mode: str, factory: pytest.TempPathFactory) -> Iterator[Registry]:
    if not Path(REGISTRY_BIN).exists():
        pytest.fail("docker-registry is not installed (apt-get install docker-registry)")
    registry = start_registry(mode, factory.mktemp(f"registry-{mode}"))
    try:
        yield registry
    finally:
        registry.stop()
        if registry.token_server:
            registry.token_server.stop()


@pytest.fixture(scope="session")
def open_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    """An anonymous-access registry shared by the session (tests use their own namespace)."""
    yield from _registry_fixture("open", tmp_path_factory)


@pytest.fixture(scope="session")
def basic_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    """A registry behind htpasswd Basic auth (TEST_USER / TEST_PASSWORD)."""
    yield from _registry_fixture("basic", tmp_path_factory)


@pytest.fixture(scope="session")
def token_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    """A registry with token auth; `registry.token_server` records every token request."""
    yield from _registry_fixture("token", tmp_path_factory)


@pytest.fixture
def namespace() -> str:
    """A fresh repository namespace so tests sharing a registry never see each other's tags."""
    return "t" + uuid.uuid4().hex[:12]


# --------------------------------------------------------------------------------------------
# Loopback proxy: counting and fault injection
# --------------------------------------------------------------------------------------------
@dataclass
class Fault:
    """What to do with one request. `kind`: status | drop-before | drop-after | html | hold."""

    kind: str
    status: int = 500
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


@dataclass
class Seen:
    index: int
    method: str
    path: str
    status: int | None  # None: the connection was dropped
    fault: str | None


_HOP = {"connection", "keep-alive", "transfer-encoding", "proxy-connection", "upgrade", "te"}


class FaultProxy:
    """HTTP proxy on a free loopback port in front of `upstream` (host:port).

    `faults[i]` applies to the i-th request (0-based) the proxy receives. A `hold` fault forwards
    the request, then waits until `release()` before answering, so a test can kill the client
    right after a step took effect on the registry.
    """

    def __init__(self, upstream: str, faults: dict[int, Fault] | None = None) -> None:
        self.upstream = upstream
        self.faults: dict[int, Fault] = dict(faults or {})
        self.seen: list[Seen] = []
        self.held = threading.Event()
        self._release = threading.Event()
        self._lock = threading.Lock()
        self.on_request: Callable[[Seen], None] | None = None
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _handle(self) -> None:
                proxy._serve(self)

            do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request: Any, client_address: Any) -> None:
                """A client hanging up on a kept-alive connection is normal, not news."""

        self._server = Server(("127.0.0.1", 0), Handler)
        self.port = int(self._server.server_address[1])
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def oci(self, namespace: str) -> str:
        return f"oci://{self.host}/{namespace}"

    @property
    def count(self) -> int:
        return len(self.seen)

    def reset(self, faults: dict[int, Fault] | None = None) -> None:
        with self._lock:
            self.seen.clear()
            self.faults = dict(faults or {})
            self.held.clear()
            self._release.clear()

    def release(self) -> None:
        self._release.set()

    def stop(self) -> None:
        self._release.set()
        self._server.shutdown()
        self._server.server_close()

    def _read_body(self, h: BaseHTTPRequestHandler) -> bytes:
        if h.headers.get("Transfer-Encoding", "").lower() == "chunked":
            out = b""
            while True:
                size = int(h.rfile.readline().strip().split(b";")[0], 16)
                if size == 0:
                    h.rfile.readline()
                    return out
                out += h.rfile.read(size)
                h.rfile.readline()
        length = int(h.headers.get("Content-Length") or 0)
        return h.rfile.read(length) if length else b""

    def _serve(self, h: BaseHTTPRequestHandler) -> None:
        body = self._read_body(h)
        with self._lock:
            index = len(self.seen)
            fault = self.faults.get(index)
            seen = Seen(index, h.command, h.path, None, fault.kind if fault else None)
            self.seen.append(seen)
        if self.on_request:
            self.on_request(seen)
        if fault and fault.kind == "drop-before":
            self._drop(h)
            return
        if fault and fault.kind in ("status", "html"):
            status = fault.status if fault.kind == "status" else 200
            data = fault.body or (b"<html><body>Sign in</body></html>" if fault.kind == "html"
                                  else json.dumps({"errors": [{"code": "UNKNOWN",
                                                               "message": "injected"}]}).encode())
            ctype = "text/html" if fault.kind == "html" else "application/json"
            seen.status = status  # before answering: the client may look once it has the answer
            self._answer(h, status, [("Content-Type", ctype), *fault.headers.items()],
                         b"" if h.command == "HEAD" else data, len(data))
            return
        status, headers, data = self._forward(h, body)
        if fault and fault.kind == "drop-after":
            self._drop(h)
            return
        if fault and fault.kind == "hold":
            self.held.set()
            self._release.wait(30)
            self._drop(h)
            return
        length = next((int(v) for k, v in headers if k.lower() == "content-length"), len(data))
        seen.status = status  # before answering: the client may look once it has the answer
        self._answer(h, status, headers, data, length)

    def _forward(self, h: BaseHTTPRequestHandler,
                 body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
        host, _, port = self.upstream.partition(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=30)
        headers = {k: v for k, v in h.headers.items() if k.lower() not in _HOP}
        headers["Content-Length"] = str(len(body))
        if h.command in ("GET", "HEAD") and not body:
            headers.pop("Content-Length")
        try:
            conn.request(h.command, h.path, body=body or None, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            out_headers = [(k, v) for k, v in resp.getheaders() if k.lower() not in _HOP]
            return resp.status, out_headers, data
        finally:
            conn.close()

    @staticmethod
    def _answer(h: BaseHTTPRequestHandler, status: int, headers: list[tuple[str, str]],
                data: bytes, length: int) -> None:
        h.send_response_only(status)
        for k, v in headers:
            if k.lower() not in ("content-length", "date", "server"):
                h.send_header(k, v)
        h.send_header("Content-Length", str(length))
        h.end_headers()
        if h.command != "HEAD":
            h.wfile.write(data)
        h.wfile.flush()

    @staticmethod
    def _drop(h: BaseHTTPRequestHandler) -> None:
        h.close_connection = True
        with contextlib.suppress(OSError):
            h.connection.shutdown(socket.SHUT_RDWR)


@pytest.fixture
def fault_proxy() -> Iterator[Callable[..., FaultProxy]]:
    """Factory: `fault_proxy(registry.host, faults={3: Fault("status", 503)})`."""
    made: list[FaultProxy] = []

    def make(upstream: str, faults: dict[int, Fault] | None = None) -> FaultProxy:
        proxy = FaultProxy(upstream, faults)
        made.append(proxy)
        return proxy

    yield make
    for proxy in made:
        proxy.stop()
