"""The GitHub REST client (API version 2022-11-28): releases, assets, pull requests, labels.

Requests go through the shared sender (`release.sender`): retries on 5xx, 429 and secondary rate
limits after `Retry-After` or `x-ratelimit-reset` (the sleep is injectable so tests do not
wait), deadlines and bounded answers. The token is bound to GitHub's origins: the configured API
origin and its upload origin (`https://uploads.github.com` for github.com, the API's own origin
for GitHub Enterprise). An `upload_url` GitHub hands us that names any other origin is refused,
and the token is never attached to a request elsewhere or over plain HTTP (loopback excepted, for
tests). Tokens come from GITHUB_TOKEN / GH_TOKEN and never appear in messages.
"""

from __future__ import annotations

import contextvars
import time
from collections.abc import Callable, Collection, Generator, Mapping, Sequence
from typing import Any, overload
from urllib.parse import quote

import httpx

from release import limits
from release.contributors import LOGIN
from release.errors import BadInput, RemoteError
from release.origin import Origin, origin_of, secure_origin
from release.retry import RetryPolicy, retry_after
from release.sender import HttpSender, Reply, new_client

API_VERSION = "2022-11-28"
PUBLIC_API = "https://api.github.com"
PUBLIC_UPLOADS = "https://uploads.github.com"
PERMISSION_FIX = ("give the token write access to the repository's contents (workflow "
                  "`permissions: contents: write`, or a fine-grained token with Contents: "
                  "read and write)")
RELEASE_REJECTED_FIX = "check that the tag is pushed and the names are valid"
# Pull requests, their labels and comments: another permission, and for opening one from a
# workflow a repository setting that new repositories have off.
PULLS_PERMISSION_FIX = ("give the token write access to pull requests (workflow `permissions: "
                        "pull-requests: write`, or a fine-grained token with Pull requests: "
                        "read and write)")
PULL_CREATE_FIX = ("in the repository's Settings → Actions → General, tick \"Allow GitHub "
                   "Actions to create and approve pull requests\", and give the workflow "
                   "`permissions: pull-requests: write`")
PULL_REJECTED_FIX = ("check that the branch is pushed and differs from the base, and that no "
                     "other pull request from it is open")
_PULLS = {403: PULLS_PERMISSION_FIX, 422: PULL_REJECTED_FIX}
_LABELS = {403: PULLS_PERMISSION_FIX, 422: "check the label name"}

# What the caller of `GitHub.request` says to do about a 403 or a 422 of its request: the
# sender turns the last answer into an error through `_describe`, which reads it from here.
_FIXES: contextvars.ContextVar[Mapping[int, str] | None] = contextvars.ContextVar(
    "ameide_github_fixes", default=None)


@overload
def token_from_env(environ: Mapping[str, str]) -> str: ...
@overload
def token_from_env(environ: Mapping[str, str], *, required: bool) -> str | None: ...
def token_from_env(environ: Mapping[str, str], *, required: bool = True) -> str | None:
    """GITHUB_TOKEN, else GH_TOKEN; a missing token is bad input when `required`."""
    for name in ("GITHUB_TOKEN", "GH_TOKEN"):
        value = environ.get(name, "").strip()
        if value:
            return value
    if not required:
        return None
    raise BadInput("no GitHub token: GITHUB_TOKEN and GH_TOKEN are unset",
                   "export GITHUB_TOKEN (in Actions: env: GITHUB_TOKEN: ${{ github.token }})")


def github_origins(api: str) -> tuple[Origin, Origin]:
    """(API origin, upload origin) of a GitHub: the only places its token may go."""
    api_origin = origin_of(api)
    if api_origin == origin_of(PUBLIC_API):
        return api_origin, origin_of(PUBLIC_UPLOADS)
    return api_origin, api_origin  # GitHub Enterprise: https://HOST/api/uploads


class GitHubAuth(httpx.Auth):
    """Attaches the token to requests for GitHub's own origins, and to nothing else."""

    def __init__(self, token: str | None, origins: Collection[Origin]) -> None:
        self._token = token
        self.origins = frozenset(o for o in origins if secure_origin(o))

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self._token and origin_of(request.url) in self.origins:
            request.headers["Authorization"] = f"Bearer {self._token}"
        yield request


def error_message(resp: Reply) -> str:
    """GitHub's `message` plus its `errors` details, on one line."""
    try:
        data = resp.json()
    except ValueError:
        return ""
    if not isinstance(data, dict):
        return ""
    text = str(data.get("message", ""))[:300]
    errors = data.get("errors")
    if isinstance(errors, list) and errors:
        details = []
        for err in errors[:5]:
            if isinstance(err, dict):
                details.append(" ".join(str(err[k])[:100] for k in ("resource", "field", "code",
                                                                    "message") if err.get(k)))
            else:
                details.append(str(err)[:100])
        text += " (" + "; ".join(details) + ")"
    return " ".join(text.split())


class GitHub:
    """One repository on one GitHub (github.com or an Enterprise server)."""

    def __init__(self, api: str, repository: str, token: str | None, *,
                 client: httpx.Client | None = None,
                 sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.time,
                 attempts: int = limits.RETRY_TRIES, max_wait: float = 300.0) -> None:
        if repository.count("/") != 1 or not all(repository.split("/")):
            raise BadInput(f"github-repository {repository!r} is not owner/name",
                           "set github-repository, e.g. ameideio/ameide-core")
        self.api = api.rstrip("/")
        self.repository = repository
        self.clock = clock
        self.origins = github_origins(self.api)
        if token and not secure_origin(self.origins[0]):
            raise BadInput(f"github-api {self.api} is plain HTTP",
                           "use https:// (plain HTTP is only for loopback test servers)")
        auth = GitHubAuth(token, self.origins)
        self._own = client is None
        if client is None:
            client = new_client(auth=auth)
        else:
            client.auth = auth
        self._client = client
        # GitHub's guidance: back off exponentially from 1 s (no jitter: one client per run).
        self.backoff = RetryPolicy(max_tries=attempts, base=1.0, jitter=0.0, max_delay=max_wait,
                                   sleep=sleep)
        self.sender = HttpSender(client, label="GitHub", origins=self.origins,
                                 describe=self._describe, retry=self.backoff,
                                 delay_for=self._delay_for, max_wait=max_wait)
        self._headers = {"Accept": "application/vnd.github+json",
                         "X-GitHub-Api-Version": API_VERSION, "User-Agent": "ameide-release"}

    @property
    def repo_url(self) -> str:
        return f"{self.api}/repos/{self.repository}"

    def close(self) -> None:
        if self._own:
            self._client.close()

    def _delay_for(self, resp: Reply, attempt: int) -> float | None:
        """Seconds to wait before retrying `resp`, or None when it is not retryable."""
        status = resp.status_code
        headers = resp.headers
        limited = status == 429 or (status == 403 and (
            "retry-after" in headers or headers.get("x-ratelimit-remaining") == "0"
            or "rate limit" in error_message(resp).lower()))
        if not (limited or status >= 500):
            return None
        hinted = retry_after(headers)
        if hinted is not None:
            return hinted
        if headers.get("x-ratelimit-remaining") == "0" and "x-ratelimit-reset" in headers:
            try:
                return max(0.0, float(headers["x-ratelimit-reset"]) - self.clock()) + 1.0
            except ValueError:
                pass
        return 60.0 if limited else self.backoff.delay(attempt)

    def _describe(self, resp: Reply, what: str, attempt: int) -> RemoteError:
        status = resp.status_code
        msg = error_message(resp)
        if self._delay_for(resp, attempt) is not None:
            return RemoteError(f"GitHub failed to {what} after {attempt} attempts "
                               f"({status} {msg})".strip(),
                               "re-run later; what was already published is intact")
        if status == 401:
            return RemoteError(f"GitHub rejected the token while trying to {what} (401 {msg})",
                               "set GITHUB_TOKEN or GH_TOKEN to a valid, unexpired token")
        fixes = _FIXES.get() or {}
        if status == 403:
            return RemoteError(f"GitHub refused to {what} in {self.repository} (403 {msg})",
                               fixes.get(403, PERMISSION_FIX))
        if status == 404:
            return RemoteError(f"GitHub answered 404 while trying to {what}: {self.repository} "
                               "does not exist or the token cannot see it",
                               "check github-repository and the token's repository access")
        if status == 422:
            return RemoteError(f"GitHub rejected the request to {what} (422 {msg})",
                               fixes.get(422, RELEASE_REJECTED_FIX))
        return RemoteError(f"GitHub failed to {what} ({status} {msg})".strip(),
                           "re-run later; what was already published is intact")

    def request(self, method: str, url: str, what: str, *, ok: Sequence[int] = (200, 201, 204),
                allow: Sequence[int] = (), params: Mapping[str, str] | None = None,
                json: Any = None, content: bytes | None = None,
                headers: Mapping[str, str] | None = None,
                fixes: Mapping[int, str] | None = None) -> Reply:
        """One API call with retries; statuses in `allow` are returned to the caller as-is.
        `fixes`: what to do about a 403 or a 422 of this call (default: the releases' fixes)."""
        token = _FIXES.set(fixes)
        try:
            return self.sender.send(method, url, what=what, ok=(*ok, *allow),
                                    max_body=limits.GITHUB_RESPONSE_MAX,
                                    headers={**self._headers, **(headers or {})}, params=params,
                                    json_body=json, content=content)
        finally:
            _FIXES.reset(token)

    def fail(self, resp: Reply, what: str) -> RemoteError:
        """The error for an answer the caller allowed but cannot use."""
        return self._describe(resp, what, 1)

    # --- releases ----------------------------------------------------------------------------
    def release_by_tag(self, tag: str) -> dict[str, Any] | None:
        resp = self.request("GET", f"{self.repo_url}/releases/tags/{quote(tag, safe='')}",
                            f"read the release of {tag}", allow=(404,))
        return None if resp.status_code == 404 else _object(resp, "a release")

    def latest_release(self) -> dict[str, Any] | None:
        resp = self.request("GET", f"{self.repo_url}/releases/latest",
                            "read the latest release", allow=(404,))
        return None if resp.status_code == 404 else _object(resp, "a release")

    def create_release(self, fields: Mapping[str, Any]) -> dict[str, Any]:
        resp = self.request("POST", f"{self.repo_url}/releases",
                            f"create the release {fields.get('tag_name')}", json=dict(fields))
        return _object(resp, "a release")

    def update_release(self, release_id: int, fields: Mapping[str, Any]) -> dict[str, Any]:
        resp = self.request("PATCH", f"{self.repo_url}/releases/{release_id}",
                            "update the release", json=dict(fields))
        return _object(resp, "a release")

    def list_assets(self, release_id: int) -> list[dict[str, Any]]:
        resp = self.request("GET", f"{self.repo_url}/releases/{release_id}/assets",
                            "list the release assets", params={"per_page": "100"})
        return _objects(resp, "release assets")

    def delete_asset(self, asset_id: int, name: str) -> None:
        self.request("DELETE", f"{self.repo_url}/releases/assets/{asset_id}",
                     f"delete the old asset {name}")

    def upload_asset(self, upload_url: str, name: str, data: bytes,
                     content_type: str) -> dict[str, Any] | None:
        """Upload; None when GitHub says an asset of that name already exists (422), which
        happens when a retried upload had in fact arrived, or a broken one was left behind.
        `upload_url` comes from GitHub's answer: the sender refuses it unless it is on
        GitHub's upload origin."""
        url = upload_url.split("{", 1)[0]
        resp = self.request("POST", url, f"upload {name}", params={"name": name},
                            content=data, allow=(422,), headers={"Content-Type": content_type})
        if resp.status_code == 422:
            if "already_exists" not in resp.text:
                raise self.fail(resp, f"upload {name}")
            return None
        return _object(resp, "an asset")


    # --- pull requests and labels ------------------------------------------------------------
    def pulls(self, *, head: str, base: str | None = None, state: str = "open",
              ) -> list[dict[str, Any]]:
        """Pull requests from branch `head` of this repository (newest first)."""
        params = {"head": f"{self.repository.split('/')[0]}:{head}", "state": state,
                  "sort": "created", "direction": "desc", "per_page": "30"}
        if base:
            params["base"] = base
        resp = self.request("GET", f"{self.repo_url}/pulls", f"list the pull requests of {head}",
                            params=params, fixes=_PULLS)
        return _objects(resp, "pull requests")

    def create_pull(self, *, title: str, head: str, base: str, body: str) -> dict[str, Any]:
        resp = self.request("POST", f"{self.repo_url}/pulls", f"open the pull request {title}",
                            json={"title": title, "head": head, "base": base, "body": body,
                                  "maintainer_can_modify": True},
                            fixes={403: PULL_CREATE_FIX, 422: PULL_REJECTED_FIX})
        return _object(resp, "a pull request")

    def update_pull(self, number: int, fields: Mapping[str, Any]) -> dict[str, Any]:
        resp = self.request("PATCH", f"{self.repo_url}/pulls/{number}",
                            f"update pull request #{number}", json=dict(fields), fixes=_PULLS)
        return _object(resp, "a pull request")

    def add_labels(self, number: int, labels: Sequence[str]) -> None:
        self.request("POST", f"{self.repo_url}/issues/{number}/labels",
                     f"label pull request #{number}", json={"labels": list(labels)},
                     fixes=_LABELS)

    def remove_label(self, number: int, label: str) -> None:
        self.request("DELETE", f"{self.repo_url}/issues/{number}/labels/{quote(label, safe='')}",
                     f"unlabel pull request #{number}", allow=(404,), fixes=_LABELS)

    def comment(self, number: int, body: str) -> None:
        self.request("POST", f"{self.repo_url}/issues/{number}/comments",
                     f"comment on pull request #{number}", json={"body": body}, fixes=_PULLS)

    # --- what the notes show with --github ---------------------------------------------------
    def commit_author_login(self, sha: str) -> str | None:
        """The GitHub login of a commit's author, or None when GitHub knows no account for its
        email. The list form (`?sha=…&per_page=1`) answers without the commit's files and
        patches, which `/commits/{sha}` would send."""
        resp = self.request("GET", f"{self.repo_url}/commits", f"read the author of {sha[:12]}",
                            allow=(404, 409, 422), params={"sha": sha, "per_page": "1"})
        data = _small_json(resp)
        first = data[0] if isinstance(data, list) and data else None
        author = first.get("author") if isinstance(first, dict) else None
        login = author.get("login") if isinstance(author, dict) else None
        return login if isinstance(login, str) and LOGIN.fullmatch(login) else None

    def issue_labels(self, number: int) -> tuple[str, ...]:
        """Label names of an issue or pull request (pull requests are issues to this API)."""
        resp = self.request("GET", f"{self.repo_url}/issues/{number}/labels",
                            f"read the labels of #{number}", allow=(404, 410),
                            params={"per_page": "100"})
        data = _small_json(resp)
        if not isinstance(data, list):
            return ()
        return tuple(str(label["name"])[:100] for label in data[:100]
                     if isinstance(label, dict) and isinstance(label.get("name"), str))


MAX_LOOKUP_BYTES = 1 << 20  # a label list or one commit summary is a few KB


def _small_json(resp: Reply) -> Any:
    """The JSON of a successful lookup answer; None for an error status, an oversized body or
    something that is not JSON."""
    if resp.status_code != 200 or len(resp.content) > MAX_LOOKUP_BYTES:
        return None
    try:
        return resp.json()
    except ValueError:
        return None


def _object(resp: Reply, what: str) -> dict[str, Any]:
    try:
        data = resp.json()
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise RemoteError(f"GitHub answered something other than {what}",
                          "a proxy may be in the way; check github-api")
    return data


def _objects(resp: Reply, what: str) -> list[dict[str, Any]]:
    try:
        data = resp.json()
    except ValueError:
        data = None
    if not isinstance(data, list) or not all(isinstance(d, dict) for d in data):
        raise RemoteError(f"GitHub answered something other than a list of {what}",
                          "a proxy may be in the way; check github-api")
    return data
