"""GitHub releases and their assets over the REST API (httpx).

Two halves:
- `plan_release` describes the release that would exist — tag, name, body, prerelease flag,
  make_latest, assets with sizes and digests — from local data only (no network), for `dry-run`.
- `publish` makes GitHub match a plan: `GET /repos/{o}/{r}/releases/tags/{tag}` first, then create
  the release or leave it (fields that differ are replaced only with `force`), then upload each
  asset unless one with the same name, size and digest is already there (a different one is
  replaced only with `force`). A re-run after success makes no write at all.

Tokens come from GITHUB_TOKEN / GH_TOKEN and never appear in messages. 401/403/404/422 are
explained; 5xx, 429 and secondary rate limits are retried after `Retry-After` or
`x-ratelimit-reset` (the sleep is injectable so tests do not wait).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn
from urllib.parse import quote

from release.contributors import LOGIN
from release.errors import BadInput, Conflict, RemoteError
from release.notes import ReleaseTag, latest_final, version_key
from release.retry import RetryPolicy, retry_after
from release.version import try_parse_tag

if TYPE_CHECKING:
    import httpx

    from release.config import Settings
    from release.notes import Release

API_VERSION = "2022-11-28"
MAX_BODY = 125_000  # GitHub refuses longer release bodies
SUMS_NAME = "SHA256SUMS"
_TRUNCATED = "\n\n_(Truncated: the full notes are in CHANGELOG.md.)_\n"
_PERMISSION_FIX = ("give the token write access to the repository's contents (workflow "
                   "`permissions: contents: write`, or a fine-grained token with Contents: "
                   "read and write)")


@dataclass(frozen=True)
class AssetPlan:
    name: str
    size: int
    sha256: str  # hex
    content_type: str
    path: Path | None = None  # file to upload, or
    content: bytes | None = None  # generated content (SHA256SUMS)

    def data(self) -> bytes:
        if self.content is not None:
            return self.content
        assert self.path is not None
        return self.path.read_bytes()

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "size": self.size, "digest": f"sha256:{self.sha256}",
                "content_type": self.content_type}


@dataclass(frozen=True)
class ReleasePlan:
    """The GitHub release that `publish` would make exist."""

    repository: str  # owner/name
    tag: str
    name: str
    body: str
    prerelease: bool
    make_latest: str  # "true" | "false" — GitHub's own string values
    target_commitish: str  # the tag's commit: if the tag is missing remotely it lands here
    assets: tuple[AssetPlan, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"repository": self.repository, "tag": self.tag, "name": self.name,
                "body": self.body, "prerelease": self.prerelease,
                "make_latest": self.make_latest, "target_commitish": self.target_commitish,
                "assets": [a.to_json() for a in self.assets]}


def _content_type(name: str) -> str:
    if name.endswith((".tgz", ".tar.gz")):
        return "application/gzip"
    if name.endswith(".prov"):
        return "application/pgp-signature"
    return "text/plain" if name == SUMS_NAME else "application/octet-stream"


def asset_plans(files: Sequence[Path]) -> tuple[AssetPlan, ...]:
    """The given files plus a SHA256SUMS over them (sorted by name, `sha256sum -c` format)."""
    plans: list[AssetPlan] = []
    names: set[str] = set()
    for path in files:
        if not path.is_file():
            raise BadInput(f"asset {path} does not exist",
                           "build it first (ameide-release package)")
        if path.name in names or path.name == SUMS_NAME:
            raise BadInput(f"asset name {path.name} is given twice or is reserved",
                           "pass each asset once; SHA256SUMS is generated")
        names.add(path.name)
        data = path.read_bytes()
        plans.append(AssetPlan(path.name, len(data), hashlib.sha256(data).hexdigest(),
                               _content_type(path.name), path=path))
    if not plans:
        return ()
    plans.sort(key=lambda a: a.name)
    sums = "".join(f"{a.sha256}  {a.name}\n" for a in plans).encode()
    plans.append(AssetPlan(SUMS_NAME, len(sums), hashlib.sha256(sums).hexdigest(),
                           _content_type(SUMS_NAME), content=sums))
    return tuple(plans)


def truncate_body(body: str, limit: int = MAX_BODY) -> str:
    if len(body) <= limit:
        return body
    cut = body[: limit - len(_TRUNCATED)]
    cut = cut[: cut.rfind("\n")] if "\n" in cut else cut
    return cut + _TRUNCATED


def decide_make_latest(version: Any, prerelease: bool, tags: Sequence[ReleaseTag],
                       remote_latest: Any = None) -> str:
    """"false" for a pre-release, a hotfix or anything lower than the current latest release
    (the highest final tag locally, or GitHub's latest when known); "true" otherwise."""
    if prerelease:
        return "false"
    key = version_key(version)
    best = latest_final(tags)
    if best is not None and best.key > key:
        return "false"
    if remote_latest is not None and version_key(remote_latest) > key:
        return "false"
    return "true"


def plan_release(release: Release, settings: Settings, tags: Sequence[ReleaseTag],
                 assets: Sequence[Path] = (), body: str | None = None) -> ReleasePlan:
    """Describe the GitHub release for a tagged (or planned) release. No network, no writes."""
    if release.tag is None or release.version is None:
        raise BadInput("a GitHub release needs a release tag", "pass --tag vX.Y.Z")
    if body is None:
        from release.render import render_github_body

        body = render_github_body(release, settings)
    return ReleasePlan(
        repository=settings.github_repository,
        tag=release.tag,
        name=release.tag,
        body=truncate_body(body),
        prerelease=release.prerelease,
        make_latest=decide_make_latest(release.version, release.prerelease, tags),
        target_commitish=release.sha,
        assets=asset_plans(assets),
    )


def token_from_env(environ: Mapping[str, str]) -> str:
    for name in ("GITHUB_TOKEN", "GH_TOKEN"):
        value = environ.get(name, "").strip()
        if value:
            return value
    raise BadInput("no GitHub token: GITHUB_TOKEN and GH_TOKEN are unset",
                   "export GITHUB_TOKEN (in Actions: env: GITHUB_TOKEN: ${{ github.token }})")


# --- the client ---------------------------------------------------------------------------------

def _message(resp: httpx.Response) -> str:
    try:
        data = resp.json()
    except ValueError:
        return resp.reason_phrase or ""
    if not isinstance(data, dict):
        return ""
    text = str(data.get("message", ""))
    errors = data.get("errors")
    if isinstance(errors, list) and errors:
        details = []
        for err in errors:
            if isinstance(err, dict):
                details.append(" ".join(str(err[k]) for k in ("resource", "field", "code",
                                                              "message") if err.get(k)))
            else:
                details.append(str(err))
        text += " (" + "; ".join(details) + ")"
    return " ".join(text.split())


MAX_LOOKUP_BYTES = 1 << 20  # a label list or one commit summary is a few KB


def _small_json(resp: httpx.Response) -> Any:
    """The JSON of a successful lookup answer; None for an error status, an oversized body or
    something that is not JSON."""
    if resp.status_code != 200 or len(resp.content) > MAX_LOOKUP_BYTES:
        return None
    try:
        return resp.json()
    except ValueError:
        return None


class GitHub:
    """A small GitHub REST client for releases: retries, plain-words errors, counted sleeps."""

    def __init__(self, api: str, repository: str, token: str, *,
                 client: httpx.Client | None = None,
                 sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.time,
                 attempts: int = 5, max_wait: float = 300.0) -> None:
        import httpx

        if repository.count("/") != 1 or not all(repository.split("/")):
            raise BadInput(f"github-repository {repository!r} is not owner/name",
                           "set github-repository, e.g. ameideio/ameide-core")
        self.api = api.rstrip("/")
        self.repository = repository
        self.sleep = sleep
        self.clock = clock
        self.attempts = attempts
        self.max_wait = max_wait
        # GitHub's guidance: back off exponentially from 1 s (no jitter: one client per run).
        self.backoff = RetryPolicy(max_tries=attempts, base=1.0, jitter=0.0, max_delay=max_wait)
        self._client = client or httpx.Client(timeout=httpx.Timeout(60.0, connect=15.0),
                                              follow_redirects=True)
        self._headers = {
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": API_VERSION,
            "User-Agent": "ameide-release",
            "Authorization": f"Bearer {token}",
        }

    @property
    def repo_url(self) -> str:
        return f"{self.api}/repos/{self.repository}"

    def close(self) -> None:
        self._client.close()

    def _wait_for(self, resp: httpx.Response, attempt: int) -> float | None:
        """Seconds to wait before retrying `resp`, or None when it is not retryable."""
        status = resp.status_code
        headers = resp.headers
        limited = status == 429 or (status == 403 and (
            "retry-after" in headers or headers.get("x-ratelimit-remaining") == "0"
            or "rate limit" in _message(resp).lower()))
        if not (limited or status >= 500):
            return None
        hinted = retry_after(resp)
        if hinted is not None:
            return hinted
        if headers.get("x-ratelimit-remaining") == "0" and "x-ratelimit-reset" in headers:
            try:
                return max(0.0, float(headers["x-ratelimit-reset"]) - self.clock()) + 1.0
            except ValueError:
                pass
        return 60.0 if limited else self.backoff.delay(attempt + 1)

    def request(self, method: str, url: str, what: str, *, ok: Sequence[int] = (200, 201, 204),
                allow: Sequence[int] = (), **kwargs: Any) -> httpx.Response:
        """One API call with retries; statuses in `allow` are returned to the caller as-is."""
        import httpx

        headers = {**self._headers, **kwargs.pop("headers", {})}
        last = ""
        for attempt in range(self.attempts):
            try:
                resp = self._client.request(method, url, headers=headers, **kwargs)
            except httpx.TransportError as exc:
                last = f"{type(exc).__name__}"
                if attempt + 1 < self.attempts:
                    self.sleep(self.backoff.delay(attempt + 1))
                    continue
                raise RemoteError(f"could not reach GitHub to {what} ({last})",
                                  "check the network and github-api, then re-run") from None
            if resp.status_code in ok or resp.status_code in allow:
                return resp
            wait = self._wait_for(resp, attempt)
            if wait is None:
                self._fail(resp, what)
            last = f"{resp.status_code} {_message(resp)}".strip()
            if attempt + 1 >= self.attempts:
                break
            if wait > self.max_wait:
                raise RemoteError(f"GitHub rate limit while trying to {what}: retry allowed in "
                                  f"{int(wait)} s", "re-run after the limit resets; "
                                  "nothing was lost") from None
            self.sleep(wait)
        raise RemoteError(f"GitHub failed to {what} after {self.attempts} attempts ({last})",
                          "re-run later; what was already published is intact")

    def _fail(self, resp: httpx.Response, what: str) -> NoReturn:
        status = resp.status_code
        msg = _message(resp)
        if status == 401:
            raise RemoteError(f"GitHub rejected the token while trying to {what} (401 {msg})",
                              "set GITHUB_TOKEN or GH_TOKEN to a valid, unexpired token")
        if status == 403:
            raise RemoteError(f"GitHub refused to {what} in {self.repository} (403 {msg})",
                              _PERMISSION_FIX)
        if status == 404:
            raise RemoteError(f"GitHub answered 404 while trying to {what}: {self.repository} "
                              "does not exist or the token cannot see it",
                              "check github-repository and the token's repository access")
        if status == 422:
            raise RemoteError(f"GitHub rejected the request to {what} (422 {msg})",
                              "check that the tag is pushed and the names are valid")
        raise RemoteError(f"GitHub failed to {what} ({status} {msg})".strip(),
                          "re-run later; what was already published is intact")

    # --- endpoints -------------------------------------------------------------------------
    def release_by_tag(self, tag: str) -> dict[str, Any] | None:
        resp = self.request("GET", f"{self.repo_url}/releases/tags/{quote(tag, safe='')}",
                            f"read the release of {tag}", allow=(404,))
        return None if resp.status_code == 404 else dict(resp.json())

    def latest_release(self) -> dict[str, Any] | None:
        resp = self.request("GET", f"{self.repo_url}/releases/latest",
                            "read the latest release", allow=(404,))
        return None if resp.status_code == 404 else dict(resp.json())

    def create_release(self, fields: Mapping[str, Any]) -> dict[str, Any]:
        resp = self.request("POST", f"{self.repo_url}/releases",
                            f"create the release {fields.get('tag_name')}", json=dict(fields))
        return dict(resp.json())

    def update_release(self, release_id: int, fields: Mapping[str, Any]) -> dict[str, Any]:
        resp = self.request("PATCH", f"{self.repo_url}/releases/{release_id}",
                            "update the release", json=dict(fields))
        return dict(resp.json())

    def list_assets(self, release_id: int) -> list[dict[str, Any]]:
        resp = self.request("GET", f"{self.repo_url}/releases/{release_id}/assets",
                            "list the release assets", params={"per_page": 100})
        return [dict(a) for a in resp.json()]

    def delete_asset(self, asset_id: int, name: str) -> None:
        self.request("DELETE", f"{self.repo_url}/releases/assets/{asset_id}",
                     f"delete the old asset {name}")

    def commit_author_login(self, sha: str) -> str | None:
        """The GitHub login of a commit's author, or None when GitHub knows no account for its
        email. The list form (`?sha=…&per_page=1`) answers without the commit's files and
        patches, which `/commits/{sha}` would send."""
        resp = self.request("GET", f"{self.repo_url}/commits", f"read the author of {sha[:12]}",
                            allow=(404, 409, 422), params={"sha": sha, "per_page": 1})
        data = _small_json(resp)
        first = data[0] if isinstance(data, list) and data else None
        author = first.get("author") if isinstance(first, dict) else None
        login = author.get("login") if isinstance(author, dict) else None
        return login if isinstance(login, str) and LOGIN.fullmatch(login) else None

    def issue_labels(self, number: int) -> tuple[str, ...]:
        """Label names of an issue or pull request (pull requests are issues to this API)."""
        resp = self.request("GET", f"{self.repo_url}/issues/{number}/labels",
                            f"read the labels of #{number}", allow=(404, 410),
                            params={"per_page": 100})
        data = _small_json(resp)
        if not isinstance(data, list):
            return ()
        return tuple(str(label["name"])[:100] for label in data[:100]
                     if isinstance(label, dict) and isinstance(label.get("name"), str))

    def upload_asset(self, upload_url: str, asset: AssetPlan) -> dict[str, Any] | None:
        """Upload; None when GitHub says an asset of that name already exists (422), which
        happens when a retried upload had in fact arrived, or a broken one was left behind."""
        url = upload_url.split("{", 1)[0]
        resp = self.request("POST", url, f"upload {asset.name}", params={"name": asset.name},
                            content=asset.data(), allow=(422,),
                            headers={"Content-Type": asset.content_type})
        if resp.status_code == 422:
            if "already_exists" not in resp.text:
                self._fail(resp, f"upload {asset.name}")
            return None
        return dict(resp.json())


@dataclass
class PublishResult:
    release_id: int
    html_url: str
    action: str  # "created" | "updated" | "unchanged"
    make_latest: str
    uploaded: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"release_id": self.release_id, "html_url": self.html_url, "action": self.action,
                "make_latest": self.make_latest, "uploaded": self.uploaded,
                "skipped": self.skipped, "replaced": self.replaced}


def _norm(text: str | None) -> str:
    return (text or "").replace("\r\n", "\n").strip()


def _same_asset(remote: Mapping[str, Any], asset: AssetPlan) -> bool:
    digest = remote.get("digest")
    return (remote.get("state") == "uploaded" and remote.get("size") == asset.size
            and (not digest or digest == f"sha256:{asset.sha256}"))


def publish(plan: ReleasePlan, gh: GitHub, *, force: bool = False,
            tag_prefix: str = "v", keep_existing: Sequence[str] = ()) -> PublishResult:
    """Make the GitHub release match `plan`; safe to re-run (see the module docstring).

    Assets named in `keep_existing` (signatures, which differ on every run) are kept when an
    uploaded one is already there, unless `force`."""
    existing = gh.release_by_tag(plan.tag)
    make_latest = plan.make_latest
    fields = {"name": plan.name, "body": plan.body, "prerelease": plan.prerelease}
    if existing is None:
        if make_latest == "true":
            latest = gh.latest_release()
            remote = try_parse_tag(str(latest.get("tag_name", "")), tag_prefix) if latest else None
            version = try_parse_tag(plan.tag, tag_prefix)
            if remote is not None and version is not None and \
                    version_key(remote) > version_key(version):
                make_latest = "false"
        created = gh.create_release({"tag_name": plan.tag,
                                     "target_commitish": plan.target_commitish,
                                     **fields, "draft": False, "make_latest": make_latest})
        release, action = created, "created"
    else:
        release, action = existing, "unchanged"
        differs = [k for k, v in fields.items()
                   if (_norm(existing.get(k)) != _norm(str(v)) if k != "prerelease"
                       else bool(existing.get(k)) != v)]
        if differs:
            if not force:
                raise Conflict(f"the GitHub release {plan.tag} exists with a different "
                               f"{' and '.join(differs)}",
                               "pass --force to replace it, or leave it as it is")
            release = gh.update_release(int(existing["id"]),
                                        {**fields, "make_latest": make_latest})
            action = "updated"

    result = PublishResult(int(release["id"]), str(release.get("html_url", "")), action,
                           make_latest)
    remote_assets = {str(a["name"]): a for a in release.get("assets") or []}
    if len(remote_assets) >= 30:  # the embedded list may be cut short: ask the full list
        remote_assets = {str(a["name"]): a for a in gh.list_assets(result.release_id)}
    upload_url = str(release["upload_url"])
    for asset in plan.assets:
        remote = remote_assets.get(asset.name)
        if remote is not None:
            if _same_asset(remote, asset) or (
                    asset.name in keep_existing and remote.get("state") == "uploaded"
                    and not force):
                result.skipped.append(asset.name)
                continue
            if remote.get("state") == "uploaded" and not force:
                raise Conflict(f"release asset {asset.name} of {plan.tag} differs from the local "
                               f"file (size {remote.get('size')} vs {asset.size})",
                               "pass --force to replace it, or leave it as it is")
            gh.delete_asset(int(remote["id"]), asset.name)  # replaced, or a broken upload
            if remote.get("state") == "uploaded":
                result.replaced.append(asset.name)
        _upload(gh, result.release_id, upload_url, asset)
        if asset.name not in result.replaced:
            result.uploaded.append(asset.name)
    return result


def _upload(gh: GitHub, release_id: int, upload_url: str, asset: AssetPlan) -> None:
    """Upload, resolving GitHub's "already_exists": ours arrived (keep it) or a broken leftover
    (delete it and upload once more)."""
    for _ in range(2):
        if gh.upload_asset(upload_url, asset) is not None:
            return
        found = next((a for a in gh.list_assets(release_id) if a.get("name") == asset.name), None)
        if found is not None and _same_asset(found, asset):
            return
        if found is not None:
            gh.delete_asset(int(found["id"]), asset.name)
    raise RemoteError(f"GitHub keeps refusing the upload of {asset.name}",
                      "delete the asset on the release page and re-run")
