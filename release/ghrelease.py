"""The GitHub release of a tag: what it should be, whether it is, and making it so.

- `spec_github_release` describes the release that should exist — tag, name, body, prerelease
  flag, make_latest, assets with sizes and digests, and which published assets to keep as they
  are — from local data only (no network): the plan's GitHub step.
- `github_release_state` compares that with what GitHub holds (reads only), for
  `dry-run --online`.
- `sync_github_release` makes GitHub match it: `GET /releases/tags/{tag}` first, then create the
  release or leave it (fields that differ are replaced only with `force`), then upload each asset
  unless one with the same name, size and digest is already there (a different one is replaced
  only with `force`). A re-run after success makes no write at all.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from release.errors import BadInput, Conflict, RemoteError
from release.notes import ReleaseTag, latest_final
from release.version import Version, try_parse_tag

if TYPE_CHECKING:
    from release.config import Settings
    from release.github import GitHub
    from release.notes import Release
    from release.render import Lookup

MAX_BODY = 125_000  # GitHub refuses longer release bodies
SUMS_NAME = "SHA256SUMS"
_TRUNCATED = "\n\n_(Truncated: the full notes are in CHANGELOG.md.)_\n"


@dataclass(frozen=True)
class AssetSpec:
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
class GitHubReleaseSpec:
    """The GitHub release that should exist for a tag."""

    repository: str  # owner/name
    tag: str
    name: str
    body: str
    prerelease: bool
    make_latest: str  # "true" | "false" — GitHub's own string values
    target_commitish: str  # the tag's commit: if the tag is missing remotely it lands here
    assets: tuple[AssetSpec, ...] = ()
    # Published assets kept as they are when present: a signature differs on every run, so a
    # published `.prov` (and the SHA256SUMS listing it) for the same chart stays; the chart
    # archive itself is still compared byte for byte.
    keep_existing: tuple[str, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        return {"repository": self.repository, "tag": self.tag, "name": self.name,
                "body": self.body, "prerelease": self.prerelease,
                "make_latest": self.make_latest, "target_commitish": self.target_commitish,
                "assets": [a.to_json() for a in self.assets],
                "keep_existing": list(self.keep_existing)}


def _content_type(name: str) -> str:
    if name.endswith((".tgz", ".tar.gz")):
        return "application/gzip"
    if name.endswith(".prov"):
        return "application/pgp-signature"
    return "text/plain" if name == SUMS_NAME else "application/octet-stream"


_ASSET_MAX = 2 * 1024 * 1024 * 1024  # GitHub's limit per release asset


def asset_specs(files: Sequence[Path]) -> tuple[AssetSpec, ...]:
    """The given files plus a SHA256SUMS over them (sorted by name, `sha256sum -c` format)."""
    specs: list[AssetSpec] = []
    names: set[str] = set()
    for path in files:
        if not path.is_file():
            raise BadInput(f"asset {path} does not exist or is not a regular file",
                           "build it first (ameide-release package)")
        if path.name in names or path.name == SUMS_NAME:
            raise BadInput(f"asset name {path.name} is given twice or is reserved",
                           "pass each asset once; SHA256SUMS is generated")
        names.add(path.name)
        digest = hashlib.sha256()
        size = 0
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
                size += len(block)
                if size > _ASSET_MAX:
                    raise BadInput(f"asset {path} is over GitHub's 2 GiB limit per asset",
                                   "attach a smaller file")
        specs.append(AssetSpec(path.name, size, digest.hexdigest(), _content_type(path.name),
                               path=path))
    if not specs:
        return ()
    specs.sort(key=lambda a: a.name)
    sums = "".join(f"{a.sha256}  {a.name}\n" for a in specs).encode()
    specs.append(AssetSpec(SUMS_NAME, len(sums), hashlib.sha256(sums).hexdigest(),
                           _content_type(SUMS_NAME), content=sums))
    return tuple(specs)


def truncate_body(body: str, limit: int = MAX_BODY) -> str:
    if len(body) <= limit:
        return body
    cut = body[: limit - len(_TRUNCATED)]
    cut = cut[: cut.rfind("\n")] if "\n" in cut else cut
    return cut + _TRUNCATED


def decide_make_latest(version: Version, prerelease: bool, tags: Sequence[ReleaseTag],
                       remote_latest: Version | None = None) -> str:
    """"false" for a pre-release, a hotfix or anything lower than the current latest release
    (the highest final tag locally, or GitHub's latest when known); "true" otherwise."""
    if prerelease:
        return "false"
    key = version.key
    best = latest_final(tags)
    if best is not None and best.key > key:
        return "false"
    if remote_latest is not None and remote_latest.key > key:
        return "false"
    return "true"


def spec_github_release(release: Release, settings: Settings, tags: Sequence[ReleaseTag],
                        assets: Sequence[Path] = (), lookup: Lookup | None = None,
                        ) -> GitHubReleaseSpec:
    """The GitHub step of a release: what `github-release` and `publish` both make exist
    (`lookup`: GitHub logins and labels in the body, `github-release --github`)."""
    from release.render import render_github_body

    if release.tag is None or release.version is None:
        raise BadInput("a GitHub release needs a release tag", "pass --tag vX.Y.Z")
    body = render_github_body(release, settings, lookup)
    specs = asset_specs(assets)
    provs = tuple(a.name for a in specs if a.name.endswith(".prov"))
    return GitHubReleaseSpec(
        repository=settings.github_repository,
        tag=release.tag,
        name=release.tag,
        body=truncate_body(body),
        prerelease=release.prerelease,
        make_latest=decide_make_latest(release.version, release.prerelease, tags),
        target_commitish=release.sha,
        assets=specs,
        keep_existing=(*provs, SUMS_NAME) if provs else (),
    )


@dataclass
class GitHubReleaseResult:
    release_id: int
    html_url: str
    action: str  # "created" | "updated" | "unchanged"
    make_latest: str
    uploaded: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)

    @property
    def wrote(self) -> bool:
        return self.action != "unchanged" or bool(self.uploaded or self.replaced)

    def to_json(self) -> dict[str, Any]:
        return {"release_id": self.release_id, "html_url": self.html_url, "action": self.action,
                "make_latest": self.make_latest, "uploaded": self.uploaded,
                "skipped": self.skipped, "replaced": self.replaced}


def _norm(text: object) -> str:
    return (text if isinstance(text, str) else "").replace("\r\n", "\n").strip()


def _same_asset(remote: Mapping[str, Any], asset: AssetSpec) -> bool:
    digest = remote.get("digest")
    return (remote.get("state") == "uploaded" and remote.get("size") == asset.size
            and (not digest or digest == f"sha256:{asset.sha256}"))


def _differing_fields(spec: GitHubReleaseSpec, existing: Mapping[str, Any]) -> list[str]:
    out = [k for k, v in (("name", spec.name), ("body", spec.body))
           if _norm(existing.get(k)) != _norm(v)]
    if bool(existing.get("prerelease")) != spec.prerelease:
        out.append("prerelease")
    return out


def _assets_of(release: Mapping[str, Any], gh: GitHub) -> dict[str, dict[str, Any]]:
    listed = release.get("assets")
    remote = [a for a in listed if isinstance(a, dict)] if isinstance(listed, list) else []
    if len(remote) >= 30:  # the embedded list may be cut short: ask the full list
        remote = gh.list_assets(_release_id(release))
    return {str(a.get("name")): a for a in remote}


def _release_id(item: Mapping[str, Any]) -> int:
    """The numeric id of a release or an asset GitHub answered (it goes into a URL)."""
    rid = item.get("id")
    if not isinstance(rid, int) or isinstance(rid, bool) or rid < 0:
        raise RemoteError("GitHub answered an object without a numeric id",
                          "a proxy may be in the way; check github-api")
    return rid


AssetState = Literal["missing", "same", "kept", "different", "broken"]


def asset_state(spec: GitHubReleaseSpec, asset: AssetSpec,
                remote: Mapping[str, Any] | None) -> AssetState:
    """How one planned asset compares with what the release holds."""
    if remote is None:
        return "missing"
    if _same_asset(remote, asset):
        return "same"
    if remote.get("state") != "uploaded":
        return "broken"
    if asset.name in spec.keep_existing:
        return "kept"
    return "different"


@dataclass(frozen=True)
class GitHubReleaseState:
    """What GitHub holds compared with the spec (for `dry-run --online`)."""

    exists: bool
    differing: tuple[str, ...]  # release fields that differ
    assets: dict[str, AssetState]

    @property
    def done(self) -> bool:
        return self.exists and not self.differing and all(
            s in ("same", "kept") for s in self.assets.values())

    @property
    def conflicts(self) -> list[str]:
        return [*self.differing, *(f"asset {n}" for n, s in self.assets.items()
                                   if s == "different")]


def github_release_state(spec: GitHubReleaseSpec, gh: GitHub) -> GitHubReleaseState:
    """Reads only: the release by tag and its assets."""
    existing = gh.release_by_tag(spec.tag)
    if existing is None:
        return GitHubReleaseState(False, (), {a.name: "missing" for a in spec.assets})
    remote = _assets_of(existing, gh)
    return GitHubReleaseState(True, tuple(_differing_fields(spec, existing)),
                              {a.name: asset_state(spec, a, remote.get(a.name))
                               for a in spec.assets})


def sync_github_release(spec: GitHubReleaseSpec, gh: GitHub, *, force: bool = False,
                        tag_prefix: str = "v") -> GitHubReleaseResult:
    """Make the GitHub release match `spec`; safe to re-run (see the module docstring)."""
    existing = gh.release_by_tag(spec.tag)
    make_latest = spec.make_latest
    fields = {"name": spec.name, "body": spec.body, "prerelease": spec.prerelease}
    if existing is None:
        version = try_parse_tag(spec.tag, tag_prefix)
        if make_latest == "true" and version is not None:
            # the local tags said yes; GitHub's latest may be a release this checkout lacks
            latest = gh.latest_release()
            make_latest = decide_make_latest(
                version, spec.prerelease, (), remote_latest=try_parse_tag(
                    str(latest.get("tag_name", "")), tag_prefix) if latest else None)
        release = gh.create_release({"tag_name": spec.tag,
                                     "target_commitish": spec.target_commitish,
                                     **fields, "draft": False, "make_latest": make_latest})
        action = "created"
    else:
        release, action = existing, "unchanged"
        differs = _differing_fields(spec, existing)
        if differs:
            if not force:
                raise Conflict(f"the GitHub release {spec.tag} exists with a different "
                               f"{' and '.join(differs)}",
                               "pass --force to replace it, or leave it as it is")
            release = gh.update_release(_release_id(existing),
                                        {**fields, "make_latest": make_latest})
            action = "updated"

    result = GitHubReleaseResult(_release_id(release), str(release.get("html_url", "")), action,
                                 make_latest)
    remote_assets = _assets_of(release, gh)
    upload_url = release.get("upload_url")
    if not isinstance(upload_url, str):
        raise RemoteError("GitHub answered a release without an upload_url",
                          "a proxy may be in the way; check github-api")
    for asset in spec.assets:
        remote = remote_assets.get(asset.name)
        state = asset_state(spec, asset, remote)
        if state == "same" or (state == "kept" and not force):
            result.skipped.append(asset.name)
            continue
        if state in ("different", "kept") and not force:
            assert remote is not None
            raise Conflict(f"release asset {asset.name} of {spec.tag} differs from the local "
                           f"file (size {remote.get('size')} vs {asset.size})",
                           "pass --force to replace it, or leave it as it is")
        if remote is not None:
            gh.delete_asset(_release_id(remote), asset.name)  # replaced, or a broken upload
            if state != "broken":
                result.replaced.append(asset.name)
        _upload(gh, result.release_id, upload_url, asset)
        if asset.name not in result.replaced:
            result.uploaded.append(asset.name)
    return result


def _upload(gh: GitHub, release_id: int, upload_url: str, asset: AssetSpec) -> None:
    """Upload, resolving GitHub's "already_exists": ours arrived (keep it) or a broken leftover
    (delete it and upload once more)."""
    for _ in range(2):
        if gh.upload_asset(upload_url, asset.name, asset.data(), asset.content_type) is not None:
            return
        found = next((a for a in gh.list_assets(release_id) if a.get("name") == asset.name), None)
        if found is not None and _same_asset(found, asset):
            return
        if found is not None:
            gh.delete_asset(_release_id(found), asset.name)
    raise RemoteError(f"GitHub keeps refusing the upload of {asset.name}",
                      "delete the asset on the release page and re-run")
