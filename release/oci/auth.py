"""Registry authentication as an `httpx.Auth`: anonymous, Basic, and Bearer token challenges.

The flow learns each host's challenge from its first 401 and from then on attaches credentials
up front, so a publish pays for the challenge once. Bearer tokens are cached per (host, scope).
A repository we are about to push to is always asked for as `pull,push` in one scope: a token
from an earlier pull-only request does not authorise an upload (the oras-py bug, issue #187).
A 401 after a cached token costs one fresh token request and one retry; a second 401 is returned
to the caller, never retried in a loop. Credentials only go to the host that challenged us, and
never in clear text to anything but loopback.
"""

from __future__ import annotations

import base64
import json
import re
import time
from collections.abc import Callable, Collection, Generator
from dataclasses import dataclass, field

import httpx

from release.errors import RemoteError
from release.oci.credentials import Credentials
from release.oci.reference import is_loopback
from release.retry import RetryPolicy

_PARAM = re.compile(r'([A-Za-z][A-Za-z0-9_-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))')
_REPO_PATH = re.compile(r"^/v2/(.+)/(?:manifests|blobs|tags)/")


@dataclass(frozen=True)
class Challenge:
    scheme: str  # "basic" or "bearer"
    params: dict[str, str] = field(default_factory=dict)


def parse_challenge(header: str) -> Challenge | None:
    """`Bearer realm="…",service="…",scope="…"` or `Basic realm="…"`; None when unusable."""
    scheme, _, rest = header.strip().partition(" ")
    scheme = scheme.lower()
    if scheme not in ("basic", "bearer"):
        return None
    params = {m.group(1).lower(): (m.group(2) if m.group(2) is not None else m.group(3))
              for m in _PARAM.finditer(rest)}
    params = {k: v.replace('\\"', '"') for k, v in params.items()}
    return Challenge(scheme, params)


def repository_of(url: httpx.URL) -> str | None:
    match = _REPO_PATH.match(url.path)
    return match.group(1) if match else None


def netloc(url: httpx.URL) -> str:
    return url.netloc.decode("ascii")


@dataclass
class TokenCache:
    """Tokens per (host, scope) and the challenge each host answered with."""

    clock: Callable[[], float] = time.monotonic
    tokens: dict[tuple[str, str], tuple[str, float]] = field(default_factory=dict)
    challenges: dict[str, Challenge] = field(default_factory=dict)

    def get(self, host: str, scope: str) -> str | None:
        found = self.tokens.get((host, scope))
        if found and found[1] > self.clock():
            return found[0]
        return None

    def put(self, host: str, scope: str, token: str, lifetime: float) -> None:
        # Refresh a little early: a token that expires in flight costs a 401 round trip.
        self.tokens[(host, scope)] = (token, self.clock() + max(lifetime - 10.0, 1.0))

    def drop(self, host: str, scope: str) -> None:
        self.tokens.pop((host, scope), None)


class RegistryAuth(httpx.Auth):
    """Answers registry challenges with `credentials` (None: anonymous)."""

    def __init__(
        self,
        credentials: Credentials | None,
        *,
        push_repositories: Collection[str] = (),
        cache: TokenCache | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.credentials = credentials
        self.push_repositories = set(push_repositories)
        self.cache = cache or TokenCache()
        self.retry = retry or RetryPolicy()
        self.token_requests = 0

    def describe(self) -> str:
        return self.credentials.describe() if self.credentials else "no credentials (anonymous)"

    # --- scopes ----------------------------------------------------------------------------
    def _actions(self, repository: str, asked: str) -> str:
        if repository in self.push_repositories:
            return "pull,push"
        return asked or "pull"

    def scope_for(self, request: httpx.Request, challenge: Challenge | None) -> str:
        """The scope to ask for: the challenge's, widened to pull,push for a push target."""
        scopes: list[str] = []
        asked = (challenge.params.get("scope") or "") if challenge else ""
        for item in asked.split():
            parts = item.split(":")
            if len(parts) >= 3 and parts[0] == "repository":
                name = ":".join(parts[1:-1])
                scopes.append(f"repository:{name}:{self._actions(name, parts[-1])}")
            else:
                scopes.append(item)
        repo = repository_of(request.url)
        if repo and not any(s.startswith(f"repository:{repo}:") for s in scopes):
            scopes.append(f"repository:{repo}:{self._actions(repo, '')}")
        return " ".join(scopes)

    # --- the flow --------------------------------------------------------------------------
    def _basic(self) -> str:
        assert self.credentials is not None
        raw = f"{self.credentials.username}:{self.credentials.secret}".encode()
        return "Basic " + base64.b64encode(raw).decode("ascii")

    def _may_send_secret(self, url: httpx.URL) -> bool:
        return url.scheme == "https" or is_loopback(netloc(url))

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        host = netloc(request.url)
        known = self.cache.challenges.get(host)
        sent_token: tuple[str, str] | None = None  # (scope, token) attached up front
        if known and known.scheme == "basic" and self.credentials:
            request.headers["Authorization"] = self._basic()
        elif known and known.scheme == "bearer":
            scope = self.scope_for(request, None)
            token = self.cache.get(host, scope)
            if token:
                request.headers["Authorization"] = f"Bearer {token}"
                sent_token = (scope, token)

        response = yield request
        if response.status_code != 401:
            return
        if netloc(response.url) != host:
            return  # a redirect target challenged us: never hand it our credentials
        challenge = parse_challenge(response.headers.get("WWW-Authenticate", ""))
        if challenge is None:
            return
        self.cache.challenges[host] = challenge

        if challenge.scheme == "basic":
            if not self.credentials or "Authorization" in request.headers:
                return  # anonymous, or these credentials were just refused
            if not self._may_send_secret(request.url):
                return
            request.headers["Authorization"] = self._basic()
            yield request
            return

        scope = self.scope_for(request, challenge)
        if sent_token:
            self.cache.drop(host, sent_token[0])
        token = None if sent_token and sent_token[0] == scope else self.cache.get(host, scope)
        if token is None or (sent_token and token == sent_token[1]):
            token = yield from self._fetch_token(challenge, scope, host)
        request.headers["Authorization"] = f"Bearer {token}"
        yield request  # whatever this answers goes back to the caller: no second round

    def _fetch_token(self, challenge: Challenge, scope: str,
                     host: str) -> Generator[httpx.Request, httpx.Response, str]:
        realm = challenge.params.get("realm")
        if not realm:
            raise RemoteError(f"registry {host} sent a Bearer challenge without a realm",
                              "the registry is misconfigured; report it to its operator")
        realm_url = httpx.URL(realm)
        if realm_url.scheme not in ("http", "https"):
            raise RemoteError(f"registry {host} names a token service that is not HTTP(S)",
                              "the registry is misconfigured; report it to its operator")
        params: dict[str, str | list[str]] = {}
        if challenge.params.get("service"):
            params["service"] = challenge.params["service"]
        if scope:
            params["scope"] = scope.split(" ") if " " in scope else scope
        if self.credentials and not self._may_send_secret(realm_url):
            raise RemoteError(
                f"the token service of {host} is plain HTTP on {netloc(realm_url)}",
                "refusing to send credentials unencrypted; use an HTTPS registry")
        attempt = 0
        while True:
            attempt += 1
            self.token_requests += 1
            response = yield self._token_request(realm_url, params)
            response.read()
            if (self.retry.retryable_status(response.status_code)
                    and attempt < self.retry.max_tries):
                self.retry.wait(attempt, response)
                continue
            if self.retry.retryable_status(response.status_code):
                raise RemoteError(
                    f"the token service of {host} kept failing (HTTP {response.status_code})",
                    "retry later; the registry's token service is unavailable")
            return self._read_token(response, host, scope)

    def _token_request(self, realm: httpx.URL,
                       params: dict[str, str | list[str]]) -> httpx.Request:
        """GET with Basic credentials (GHCR answers POST with 405); identity tokens use the
        OAuth2 refresh-token POST that Docker uses for them."""
        creds = self.credentials
        if creds and creds.identity_token:
            form = {"grant_type": "refresh_token", "refresh_token": creds.secret,
                    "client_id": "ameide-release"}
            for key, value in params.items():
                form[key] = " ".join(value) if isinstance(value, list) else value
            return httpx.Request("POST", realm, data=form)
        headers = {"Authorization": self._basic()} if creds else {}
        return httpx.Request("GET", realm, params=params, headers=headers)

    def _read_token(self, response: httpx.Response, host: str, scope: str) -> str:
        if response.status_code in (401, 403):
            raise RemoteError(
                f"the token service of {host} refused {self.describe()} "
                f"(HTTP {response.status_code})",
                "check the username and password or token, and that it may access "
                + (scope or "the repository"))
        if response.status_code != 200:
            raise RemoteError(f"the token service of {host} answered HTTP {response.status_code}",
                              "check the registry address and retry later")
        try:
            data = json.loads(response.content)
        except ValueError:
            data = None
        token = None
        if isinstance(data, dict):
            token = data.get("token") or data.get("access_token")
        if not isinstance(token, str) or not token:
            kind = response.headers.get("Content-Type", "unknown content").split(";")[0]
            raise RemoteError(f"the token service of {host} answered {kind} without a token",
                              "check the registry address; a proxy or login page may be in the way")
        lifetime = data.get("expires_in", 60) if isinstance(data, dict) else 60
        self.cache.put(host, scope, token,
                       float(lifetime) if isinstance(lifetime, int | float) else 60.0)
        return token

