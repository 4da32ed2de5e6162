"""The one retrying HTTP sender behind the registry client, the GitHub client and index reads.

Everything a careful client does for every request lives here once:
- **where**: a sender is bound to a set of origins (scheme, host, port) and refuses, before a
  byte is sent, a request to any other; the clients' credentials are attached by `httpx.Auth`
  objects that make the same check, so a secret can only travel to the origin it belongs to;
- **how often**: attempts, exponential backoff with jitter, `Retry-After` in seconds or as an
  HTTP date (`release.retry`), transport errors retried, TLS and DNS failures not;
- **how long**: connect and first-byte timeouts, and an overall deadline per request and per
  release step (`step_deadline`), enforced on every socket read and write through a wrapped
  network backend, so a server that drips one byte at a time cannot keep a release alive;
- **how much**: answers are streamed and cut off at a per-call limit, so a 1.5 GiB manifest
  costs at most the limit in memory.
What a failure *means* (an expired token, a denied package) stays in each client: it passes
`describe` to turn the last answer into a `ReleaseError`.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import ssl
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import httpcore
import httpx

from release import limits
from release.errors import ReleaseError, RemoteError
from release.origin import Origin, origin_of, show_origin
from release.retry import RetryPolicy

# The monotonic time by which the request under way, and the step around it, must be done.
_REQUEST_DEADLINE: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "ameide_request_deadline", default=None)
_STEP: contextvars.ContextVar[tuple[float, str] | None] = contextvars.ContextVar(
    "ameide_step_deadline", default=None)

def default_timeout() -> httpx.Timeout:
    """Connect and first-byte timeouts from `release.limits` (read when a client is made)."""
    return httpx.Timeout(limits.READ_TIMEOUT, connect=limits.CONNECT_TIMEOUT,
                         write=limits.WRITE_TIMEOUT, pool=limits.CONNECT_TIMEOUT)


class DeadlineExceeded(Exception):
    """Internal: the request's or the step's time is up (raised inside the network backend)."""


def _remaining() -> float | None:
    deadline = _REQUEST_DEADLINE.get()
    step = _STEP.get()
    ends = [d for d in (deadline, step[0] if step else None) if d is not None]
    if not ends:
        return None
    left = min(ends) - time.monotonic()
    if left <= 0:
        raise DeadlineExceeded()
    return left


def _clamp(timeout: float | None) -> float | None:
    left = _remaining()
    if left is None:
        return timeout
    return left if timeout is None else min(timeout, left)


@contextlib.contextmanager
def step_deadline(seconds: float, what: str) -> Iterator[None]:
    """Bound everything sent inside the block (nested blocks keep the earlier deadline)."""
    outer = _STEP.get()
    ends = time.monotonic() + seconds
    token = _STEP.set((ends, what) if outer is None or ends < outer[0] else outer)
    try:
        yield
    finally:
        _STEP.reset(token)


def _step_overrun() -> RemoteError | None:
    step = _STEP.get()
    if step is not None and time.monotonic() >= step[0]:
        return RemoteError(f"{step[1]} did not finish within its time limit",
                           "the server is too slow or stalled; re-run later (re-runs are safe)")
    return None


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self.inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self.inner.read(max_bytes, _clamp(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self.inner.write(buffer, _clamp(timeout))

    def close(self) -> None:
        self.inner.close()

    def start_tls(self, ssl_context: ssl.SSLContext, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore.NetworkStream:
        return _DeadlineStream(self.inner.start_tls(ssl_context, server_hostname,
                                                    _clamp(timeout)))

    def get_extra_info(self, info: str) -> Any:
        return self.inner.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    def __init__(self, inner: httpcore.NetworkBackend) -> None:
        self.inner = inner

    def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                    local_address: str | None = None,
                    socket_options: Iterable[Any] | None = None) -> httpcore.NetworkStream:
        return _DeadlineStream(self.inner.connect_tcp(host, port, _clamp(timeout),
                                                      local_address, socket_options))

    def connect_unix_socket(self, path: str, timeout: float | None = None,
                            socket_options: Iterable[Any] | None = None,
                            ) -> httpcore.NetworkStream:
        return _DeadlineStream(self.inner.connect_unix_socket(path, _clamp(timeout),
                                                              socket_options))

    def sleep(self, seconds: float) -> None:
        self.inner.sleep(seconds)


def install_deadlines(transport: httpx.BaseTransport) -> None:
    """Make every socket operation of an `httpx.HTTPTransport` respect the current deadlines.

    httpcore takes a per-operation timeout; we shrink it to what is left of the request's and
    the step's time, so the deadline holds for connect, TLS, each header byte and each body
    byte alike. (httpx exposes no hook for the network backend, so this sets the pool's; a
    test with a dripping server fails if an httpx upgrade moves it.) Other transports (test
    mocks) are left as they are."""
    pool = getattr(transport, "_pool", None)
    backend = getattr(pool, "_network_backend", None)
    if backend is not None and not isinstance(backend, _DeadlineBackend):
        pool._network_backend = _DeadlineBackend(backend)  # type: ignore[union-attr]


@dataclass(frozen=True)
class Reply:
    """An answer whose body was read within its limit."""

    status_code: int
    headers: httpx.Headers
    content: bytes
    url: httpx.URL  # after redirects: relative `Location`s resolve against it

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")

    def json(self) -> Any:
        return json.loads(self.content)


class Interrupted(Exception):
    """A request sent with `retry=False` failed in a retryable way; the caller decides (an
    upload restarts from the beginning instead of repeating a step that is not idempotent)."""

    def __init__(self, what: str, reply: Reply | None = None) -> None:
        super().__init__(what)
        self.reply = reply


Describe = Callable[[Reply, str, int], ReleaseError]
DelayFor = Callable[[Reply, int], "float | None"]


class HttpSender:
    """Sends requests for one client (see the module docstring)."""

    def __init__(
        self,
        client: httpx.Client,
        *,
        label: str,
        origins: Collection[Origin],
        describe: Describe,
        retry: RetryPolicy | None = None,
        delay_for: DelayFor | None = None,
        max_wait: float = 300.0,
        request_deadline: float | None = None,
        fatal: Callable[[httpx.TransportError], ReleaseError | None] | None = None,
    ) -> None:
        self.client = client
        self.label = label  # "registry ghcr.io", "GitHub": how messages name the server
        self.origins = frozenset(origins)
        self.describe = describe
        self.retry = retry or RetryPolicy()
        self.delay_for = delay_for or self._default_delay
        self.max_wait = max_wait
        self.request_deadline = request_deadline or limits.REQUEST_DEADLINE
        self.fatal = fatal or (lambda exc: tls_or_dns_failure(exc, self.label))

    def _default_delay(self, reply: Reply, attempt: int) -> float | None:
        if not self.retry.retryable_status(reply.status_code):
            return None
        return self.retry.delay(attempt, reply.headers)

    def check_origin(self, url: httpx.URL) -> None:
        origin = origin_of(url)
        if origin not in self.origins:
            allowed = ", ".join(sorted(show_origin(o) for o in self.origins))
            raise RemoteError(f"{self.label} pointed us at {show_origin(origin)}, which is not "
                              f"its own origin ({allowed}); nothing was sent there",
                              "a server that redirects uploads or API calls elsewhere is "
                              "misconfigured or hostile: report it to its operator")

    def send(self, method: str, url: httpx.URL | str, *, what: str, ok: Collection[int],
             max_body: int, headers: Mapping[str, str] | None = None,
             content: bytes | None = None, params: Mapping[str, str] | None = None,
             json_body: Any = None, retry: bool = True,
             follow_redirects: bool | None = None) -> Reply:
        """One logical request: returns the answer when its status is in `ok`, retries what is
        worth retrying, and raises the client's `describe` of the last answer otherwise."""
        url = httpx.URL(url)
        if params:
            url = url.copy_merge_params(dict(params))
        self.check_origin(url)
        if follow_redirects is None:
            follow_redirects = method in ("GET", "HEAD")
        attempt = 0
        while True:
            attempt += 1
            overrun = _step_overrun()
            if overrun is not None:
                raise overrun
            deadline = time.monotonic() + self.request_deadline
            try:
                try:
                    reply = self._once(method, url, headers, content, json_body, max_body,
                                       follow_redirects, what, deadline)
                except httpx.TimeoutException:
                    # httpcore reports a read cut short by our deadline as a timeout of its own
                    if time.monotonic() >= deadline - 0.05 or _step_overrun() is not None:
                        raise DeadlineExceeded() from None
                    raise
            except DeadlineExceeded:
                raise _step_overrun() or RemoteError(
                    f"{self.label} did not answer within {int(self.request_deadline)} s "
                    f"({what})",
                    "the server is too slow or stalled; re-run later (re-runs are safe)") from None
            except httpx.TransportError as exc:
                fatal = self.fatal(exc)
                if fatal is not None:
                    raise fatal from None
                if not retry:
                    raise Interrupted(what) from None
                if attempt >= self.retry.max_tries:
                    raise RemoteError(
                        f"could not reach {self.label} after {attempt} tries ({what}: "
                        f"{type(exc).__name__})",
                        "check the network and the server's health, then re-run") from None
                self.pause(self.retry.delay(attempt), what)
                continue
            if reply.status_code in ok:
                return reply
            wait = self.delay_for(reply, attempt)
            if wait is None:
                raise self.describe(reply, what, attempt)
            if not retry:
                raise Interrupted(what, reply)
            if attempt >= self.retry.max_tries:
                raise self.describe(reply, what, attempt)
            if wait > self.max_wait:
                raise RemoteError(f"{self.label}: retry allowed in {int(wait)} s only ({what})",
                                  "re-run after that; nothing was lost")
            self.pause(wait, what)

    def pause(self, seconds: float, what: str) -> None:
        """Wait before trying `what` again (`pause_before_retry` with this sender's policy)."""
        pause_before_retry(self.retry, seconds, what)

    def _once(self, method: str, url: httpx.URL, headers: Mapping[str, str] | None,
              content: bytes | None, json_body: Any, max_body: int, follow_redirects: bool,
              what: str, deadline: float) -> Reply:
        """One try, redirects included. Redirects are followed here, not by httpx, so that a
        redirect's body is never read and each hop is a fresh request: the clients' auth
        attaches credentials only when a hop is on their own origin."""
        token = _REQUEST_DEADLINE.set(deadline)
        try:
            for _hop in range(_MAX_REDIRECTS + 1):
                request = self.client.build_request(method, url, headers=dict(headers or {}),
                                                    content=content, json=json_body)
                response = self.client.send(request, stream=True, follow_redirects=False)
                try:
                    location = response.headers.get("Location")
                    if follow_redirects and response.status_code in _REDIRECTS and location:
                        url = self._redirect_target(response.url, location, what)
                        continue
                    body = read_bounded(response, max_body, f"{self.label} answer to {what}")
                finally:
                    response.close()
                return Reply(response.status_code, response.headers, body, response.url)
            raise RemoteError(f"{self.label} redirected more than {_MAX_REDIRECTS} times while "
                              f"{what}", "the server is misconfigured; report it")
        finally:
            _REQUEST_DEADLINE.reset(token)

    def _redirect_target(self, current: httpx.URL, location: str, what: str) -> httpx.URL:
        try:
            target = current.join(location)
        except httpx.InvalidURL:
            raise RemoteError(f"{self.label} redirected to something that is not a URL while "
                              f"{what}", "the server is misbehaving; report it") from None
        if target.scheme not in ("http", "https") or not target.host:
            raise RemoteError(f"{self.label} redirected to a {target.scheme or 'relative'} URL "
                              f"while {what}", "the server is misbehaving; report it")
        return target


def pause_before_retry(retry: RetryPolicy, seconds: float, what: str) -> None:
    """The one way a retry waits, whatever is retried (a request, an upload, a token fetch):
    a wait that would end past the step's deadline ends the step now, in one line, instead of
    sleeping into it."""
    step = _STEP.get()
    if step is not None and time.monotonic() + seconds >= step[0]:
        raise RemoteError(f"{step[1]} would run past its time limit waiting to retry {what}",
                          "the server is unhealthy; re-run later (re-runs are safe)")
    retry.pause(seconds)


_MAX_REDIRECTS = 5
_REDIRECTS = frozenset({301, 302, 303, 307, 308})


def read_bounded(response: httpx.Response, limit: int, what: str) -> bytes:
    """The body of a streamed response, refusing more than `limit` bytes (a `Content-Length`
    over the limit is refused before reading) and checking the deadline between chunks. A
    HEAD has no body: its `Content-Length` is the size a GET would send (a 2 MiB blob's), so it
    is not held against the limit."""
    if hasattr(response, "_content"):  # already read (within a limit) by an auth flow
        return response.content
    if response.request.method == "HEAD":
        response._content = b""
        return b""
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > limit:
        raise RemoteError(f"{what} is {int(declared)} bytes, over the {limit}-byte limit",
                          "this is not what the protocol sends; the server is misbehaving")
    data = bytearray()
    for chunk in response.iter_bytes():
        data += chunk
        if len(data) > limit:
            raise RemoteError(f"{what} is over the {limit}-byte limit; stopped reading",
                              "this is not what the protocol sends; the server is misbehaving")
        _remaining()  # raises DeadlineExceeded when the time is up
    # httpx reads a response again inside auth flows; hand it what we read, within the limit.
    response._content = bytes(data)
    return response._content


def tls_or_dns_failure(exc: httpx.TransportError, label: str) -> ReleaseError | None:
    """Failures no retry can fix: an untrusted certificate, a failed handshake, an unknown
    host."""
    for cause in _causes(exc):
        if isinstance(cause, ssl.SSLCertVerificationError):
            return RemoteError(f"the TLS certificate of {label} is not trusted "
                               f"({cause.verify_message})",
                               "fix the server certificate, or point SSL_CERT_FILE at its CA "
                               "bundle")
        if isinstance(cause, ssl.SSLError):
            return RemoteError(f"the TLS handshake with {label} failed "
                               f"({cause.reason or 'ssl error'})",
                               "check the address; plain HTTP is only for loopback test servers")
    text = str(exc)
    if any(s in text for s in ("Name or service not known", "nodename nor servname",
                                "No address associated", "Temporary failure in name resolution")):
        return RemoteError(f"cannot resolve the host of {label}", "check the address")
    return None


def _causes(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def new_client(*, transport: httpx.BaseTransport | None = None,
               verify: ssl.SSLContext | str | bool = True, auth: httpx.Auth | None = None,
               timeout: httpx.Timeout | None = None,
               on_request: Callable[[httpx.Request], None] | None = None) -> httpx.Client:
    """An httpx client whose network transports (proxies from the environment included)
    honour the deadlines. Redirects are followed per request (`HttpSender.send`). httpx
    mounts the proxies HTTP(S)_PROXY / NO_PROXY name only when it makes the transports itself:
    production passes no `transport` (tests do). `on_request` sees every request sent, the
    ones an auth flow adds (token requests) included."""
    client = httpx.Client(transport=transport, verify=verify, auth=auth,
                          timeout=timeout or default_timeout(),
                          follow_redirects=False, max_redirects=5,
                          event_hooks={"request": [on_request]} if on_request else None)
    for mounted in [client._transport, *client._mounts.values()]:
        if mounted is not None:
            install_deadlines(mounted)
    return client
