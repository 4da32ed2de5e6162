"""Hostile servers for the adversarial tests: scripted HTTP(S) servers on loopback addresses.

A `Scripted` server answers each request with whatever its handler returns: a status, headers
and a body that may be a stream of chunks produced slowly (a server that drips), endlessly (a
server that never stops), or nothing at all (a server that never answers). Every request it
receives is recorded, headers included, so a test can assert that no credential reached it.
`127.0.0.2` is another host than `127.0.0.1` (the whole 127/8 is loopback on Linux): a second
server there stands for "another origin" without leaving the machine.

Nothing here uses the code under test.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes = b""


@dataclass
class Answer:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | Iterable[bytes] = b""
    silent: bool = False  # accept the request and never answer (until the server stops)


Handler = Callable[[Seen], Answer]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class Scripted:
    """A scripted HTTP(S) server on `host` (a loopback address)."""

    def __init__(self, handler: Handler, host: str = "127.0.0.1",
                 tls: ssl.SSLContext | None = None) -> None:
        self.handler = handler
        self.seen: list[Seen] = []
        self.stopping = threading.Event()
        outer = self

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                seen = Seen(self.command, self.path, {k.lower(): v for k, v in
                                                      self.headers.items()}, body)
                outer.seen.append(seen)
                answer = outer.handler(seen)
                if answer.silent:
                    outer.stopping.wait(60)
                    return
                try:
                    self.send_response(answer.status)
                    streamed = not isinstance(answer.body, bytes)
                    for key, value in answer.headers.items():
                        self.send_header(key, value)
                    if streamed:
                        self.send_header("Transfer-Encoding", "chunked")
                    elif "Content-Length" not in answer.headers:
                        self.send_header("Content-Length", str(len(answer.body)))  # type: ignore[arg-type]
                    self.end_headers()
                    if not streamed:
                        if self.command != "HEAD":
                            self.wfile.write(answer.body)  # type: ignore[arg-type]
                        return
                    for chunk in answer.body:
                        if outer.stopping.is_set():
                            return
                        self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                        self.wfile.flush()
                    self.wfile.write(b"0\r\n\r\n")
                except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
                    return

            do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = _any

        self.server = _Server((host, 0), H)
        self.tls = tls is not None
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.host = host
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def netloc(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def base(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.netloc}"

    def stop(self) -> None:
        self.stopping.set()
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> Scripted:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class Listener:
    """A bare TCP listener that only records whether anyone connected (and what they sent)."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.sock = socket.socket()
        self.sock.bind((host, 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.host = host
        self.port = self.sock.getsockname()[1]
        self.received: list[bytes] = []
        self.connections = 0
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            conn.settimeout(0.5)
            with contextlib.suppress(OSError):
                self.received.append(conn.recv(65536))
            conn.close()

    def stop(self) -> None:
        self._stop.set()
        self.thread.join()
        self.sock.close()


def send_json(handler: BaseHTTPRequestHandler, status: int, body: Any) -> None:
    """Answer a request with `body` as JSON (the loopback stand-ins for APIs use this)."""
    data = json.dumps(body).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)


def drip(total: int, every: float, chunk: bytes = b"x") -> Iterator[bytes]:
    """A body that arrives one chunk every `every` seconds: the server's pace, not the test's."""
    for _ in range(total):
        time.sleep(every)
        yield chunk


def endless(chunk_size: int = 1 << 20) -> Iterator[bytes]:
    """A body that never ends (1 MiB chunks): the client must stop reading, not the server."""
    block = b"\0" * chunk_size
    while True:
        yield block


def self_signed(directory: Path, host: str = "127.0.0.1") -> tuple[ssl.SSLContext, Path]:
    """A server TLS context and the CA file a client trusts it with."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(
                ipaddress.ip_address(host))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = directory / f"{host}.crt", directory / f"{host}.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert_file, key_file)
    return ctx, cert_file
