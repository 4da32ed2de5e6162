"""Registry authentication as an `httpx.Auth`: anonymous, Basic, and Bearer token challenges.

The flow learns the registry's challenge from its first 401 and from then on attaches credentials
up front, so a publish pays for the challenge once. Bearer tokens are cached per (origin, scope).
A repository we are about to push to is always asked for as `pull,push` in one scope: a token
from an earlier pull-only request does not authorise an upload (the oras-py bug, issue #187).
A 401 after a cached token costs one fresh token request and one retry; a second 401 is returned
to the caller, never retried in a loop.

Credentials are bound to the registry's origin (scheme, host, port): a request to any other
origin — a redirect target, an upload `Location` on another host, the same host over `http://` —
carries none and has its challenges left unanswered. The token service the registry names may
live elsewhere (Docker Hub's does), but it only gets the credentials over HTTPS (plain HTTP on
loopback is allowed for tests), and never over HTTP when the registry itself is HTTPS.
"""

from __future__ import annotations

import base64
import json
import re
import time
from collections.abc import Callable, Collection, Generator
from dataclasses import dataclass, field

import httpx

from release import limits
from release.errors import RemoteError
from release.oci.credentials import Credentials
from release.origin import Origin, origin_of, secure_origin, show_origin
from release.retry import RetryPolicy
from release.sender import pause_before_retry, read_bounded

_PARAM = re.compile(r'([A-Za-z][A-Za-z0-9_-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))')
_REPO_PATH = re.compile(r"^/v2/(.+)/(?:manifests|blobs|tags)/")


class TokenRefused(RemoteError):
    """The token service refused the credentials, or refused anonymous access: for an anonymous
    client this is the registry's way of saying "private" (`release.oci.visibility`)."""


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


@dataclass
class TokenCache:
    """Tokens per (origin, scope), and the challenge the registry answered with."""

    clock: Callable[[], float] = time.monotonic
    tokens: dict[tuple[Origin, str], tuple[str, float]] = field(default_factory=dict)
    challenge: Challenge | None = None

    def get(self, origin: Origin, scope: str) -> str | None:
        found = self.tokens.get((origin, scope))
        if found and found[1] > self.clock():
            return found[0]
        return None

    def put(self, origin: Origin, scope: str, token: str, lifetime: float) -> None:
        # Refresh a little early: a token that expires in flight costs a 401 round trip.
        self.tokens[(origin, scope)] = (token, self.clock() + max(lifetime - 10.0, 1.0))

    def drop(self, origin: Origin, scope: str) -> None:
        self.tokens.pop((origin, scope), None)


class RegistryAuth(httpx.Auth):
    """Answers registry challenges with `credentials` (None: anonymous)."""

    def __init__(
        self,
        credentials: Credentials | None,
        origin: Origin,
        *,
        push_repositories: Collection[str] = (),
        cache: TokenCache | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        # Plain HTTP carries no secret except to loopback (`chart_ref` refuses the rest earlier).
        self.credentials = credentials if secure_origin(origin) else None
        self.origin = origin
        self.name = show_origin(origin)
        self.push_repositories = set(push_repositories)
        self.cache = cache or TokenCache()
        self.retry = retry or RetryPolicy()

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

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if origin_of(request.url) != self.origin:
            yield request  # not the registry: no credentials, no challenge answered
            return
        known = self.cache.challenge
        sent_token: tuple[str, str] | None = None  # (scope, token) attached up front
        if known and known.scheme == "basic" and self.credentials:
            request.headers["Authorization"] = self._basic()
        elif known and known.scheme == "bearer":
            scope = self.scope_for(request, None)
            token = self.cache.get(self.origin, scope)
            if token:
                request.headers["Authorization"] = f"Bearer {token}"
                sent_token = (scope, token)

        response = yield request
        if response.status_code != 401:
            return
        if origin_of(response.url) != self.origin:
            return  # a redirect target challenged us: never hand it our credentials
        # httpx reads a challenged answer before sending the next request: read it here,
        # within a limit, so a hostile 401 cannot fill memory.
        read_bounded(response, limits.ERROR_BODY_MAX, f"the challenge of {self.name}")
        challenge = parse_challenge(response.headers.get("WWW-Authenticate", ""))
        if challenge is None:
            return
        self.cache.challenge = challenge

        if challenge.scheme == "basic":
            if not self.credentials or "Authorization" in request.headers:
                return  # anonymous, or these credentials were just refused
            request.headers["Authorization"] = self._basic()
            yield request
            return

        scope = self.scope_for(request, challenge)
        if sent_token:
            self.cache.drop(self.origin, sent_token[0])
        token = None if sent_token and sent_token[0] == scope else self.cache.get(self.origin,
                                                                                   scope)
        if token is None or (sent_token and token == sent_token[1]):
            token = yield from self._fetch_token(challenge, scope)
        request.headers["Authorization"] = f"Bearer {token}"
        yield request  # whatever this answers goes back to the caller: no second round

    def _fetch_token(self, challenge: Challenge,
                     scope: str) -> Generator[httpx.Request, httpx.Response, str]:
        realm = challenge.params.get("realm")
        if not realm:
            raise RemoteError(f"registry {self.name} sent a Bearer challenge without a realm",
                              "the registry is misconfigured; report it to its operator")
        try:
            realm_url = httpx.URL(realm)
        except httpx.InvalidURL:
            realm_url = httpx.URL("invalid:")
        if realm_url.scheme not in ("http", "https") or not realm_url.host:
            raise RemoteError(f"registry {self.name} names a token service that is not an "
                              "HTTP(S) URL", "the registry is misconfigured; report it to its "
                              "operator")
        if realm_url.userinfo:
            raise RemoteError(f"registry {self.name} names a token service URL with credentials "
                              "in it", "the registry is misconfigured; report it to its operator")
        realm_origin = origin_of(realm_url)
        if self.credentials and (not secure_origin(realm_origin) or (
                self.origin[0] == "https" and realm_origin[0] != "https")):
            raise RemoteError(
                f"the token service of {self.name} is plain HTTP ({show_origin(realm_origin)})",
                "refusing to send credentials unencrypted; the registry must name an HTTPS "
                "token service")
        params: dict[str, str | list[str]] = {}
        if challenge.params.get("service"):
            params["service"] = challenge.params["service"]
        if scope:
            params["scope"] = scope.split(" ") if " " in scope else scope
        attempt = 0
        while True:
            attempt += 1
            response = yield self._token_request(realm_url, params)
            body = read_bounded(response, limits.TOKEN_RESPONSE_MAX,
                                f"the token service of {self.name}")
            if self.retry.retryable_status(response.status_code):
                if attempt >= self.retry.max_tries:
                    raise RemoteError(f"the token service of {self.name} kept failing "
                                      f"(HTTP {response.status_code})",
                                      "retry later; the registry's token service is unavailable")
                pause_before_retry(self.retry, self.retry.delay(attempt, response.headers),
                                   f"the token request to {self.name}")
                continue
            return self._read_token(response, body, scope)

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

    def _read_token(self, response: httpx.Response, body: bytes, scope: str) -> str:
        if response.status_code in (401, 403):
            raise TokenRefused(
                f"the token service of {self.name} refused {self.describe()} "
                f"(HTTP {response.status_code})",
                "check the username and password or token, and that it may access "
                + (scope or "the repository"))
        if response.status_code != 200:
            raise RemoteError(f"the token service of {self.name} answered HTTP "
                              f"{response.status_code}", "check the registry address and retry "
                              "later")
        try:
            data = json.loads(body)
        except ValueError:
            data = None
        token = None
        if isinstance(data, dict):
            token = data.get("token") or data.get("access_token")
        if not isinstance(token, str) or not token:
            kind = response.headers.get("Content-Type", "unknown content").split(";")[0]
            raise RemoteError(f"the token service of {self.name} answered {kind[:60]} without a "
                              "token", "check the registry address; a proxy or login page may be "
                              "in the way")
        lifetime = data.get("expires_in", 60) if isinstance(data, dict) else 60
        self.cache.put(self.origin, scope, token,
                       float(lifetime) if isinstance(lifetime, int | float) else 60.0)
        return token

