"""Which release we are talking about, decided once at the edge.

A `ReleaseTarget` is the tag parsed into its version, the commit it is (or, for a tag still to
be created, would be) at, and the repository, opened once with its release tags read once; every
step of a plan takes it instead of re-parsing a raw tag string. `next_version` decides the
version of a release nobody named: from the conventional commits since the previous release, or
the next pre-release number of a channel (`rc` → `1.3.0-rc.1`, then `rc.2`). `dev_target` is
the untagged chart of HEAD that `publish --channel dev` releases.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from release.errors import BadInput
from release.gitrepo import GitRepo
from release.version import Version, bump_version, parse_tag, parse_version, tag_name

if TYPE_CHECKING:
    from release.commits import Change
    from release.config import Settings
    from release.notes import Release, ReleaseTag

_CHANNEL = re.compile(r"[a-z][a-z0-9-]{0,19}")


@dataclass(frozen=True)
class NextVersion:
    version: Version
    tag: str
    previous_tag: str | None
    level: str | None  # "major" | "minor" | "patch" | None (nothing bump-worthy)
    deciding: tuple[Change, ...] = field(default=())  # the commits that set the level
    commits: int = 0

    def explain(self) -> list[str]:
        since = f"since {self.previous_tag}" if self.previous_tag else "with no earlier release tag"
        if self.previous_tag is None:
            return [f"{self.tag}: first release, the chart's own version ({self.commits} commits)"]
        if self.level is None:
            return [f"{self.tag}: patch by default, no feat/fix/perf/breaking commits {since} "
                    f"({self.commits} commits)"]
        lines = [f"{self.tag}: {self.level} {since} ({self.commits} commits), decided by:"]
        for change in self.deciding:
            mark = "!" if change.breaking else ""
            scope = f"({change.scope})" if change.scope else ""
            lines.append(f"  {change.sha[:12]} {change.type}{scope}{mark}: {change.subject}")
        if self.level == "major" and self.version.major == 0:
            lines.append("  (breaking changes bump the minor version while the major is 0)")
        if self.version.prerelease:
            lines.append(f"  (pre-release {self.version.prerelease} of {self.version.major}."
                         f"{self.version.minor}.{self.version.patch})")
        return lines

    def as_json(self) -> dict[str, Any]:
        return {"version": str(self.version), "tag": self.tag, "previous_tag": self.previous_tag,
                "level": self.level, "commits": self.commits,
                "deciding": [c.to_json() for c in self.deciding]}


def check_channel(channel: str) -> str:
    if not _CHANNEL.fullmatch(channel):
        raise BadInput(f"pre-release channel {channel[:30]!r} is not a lowercase word",
                       "use a word such as rc, beta or alpha")
    return channel


def next_version(settings: Settings, repo: GitRepo, tags: list[ReleaseTag] | None = None, *,
                 rev: str = "HEAD", prerelease: str | None = None) -> NextVersion:
    """The next release from the conventional commits since the previous final release
    reachable from `rev`; with `prerelease`, the next `-<channel>.N` of that version."""
    from release.chart import load_metadata
    from release.commits import bump_level
    from release.notes import collect, release_tags

    tags = tags if tags is not None else release_tags(repo, settings.tag_prefix)
    release = collect(repo, settings, None, rev=rev, all_paths=True, tags=tags, people=False)
    level = bump_level(release.changes)
    if release.previous_version is None:
        version = parse_version(str(load_metadata(settings.chart_dir)["version"]),
                                "Chart.yaml version")
        if version.build:
            raise BadInput(f"Chart.yaml version {version} carries build metadata",
                           "remove the '+...' part")
    else:
        version = bump_version(release.previous_version, level)
    if prerelease is not None:
        version = _next_prerelease(version.finalize_version(), check_channel(prerelease), tags)
    deciding = tuple(c for c in release.changes if level and bump_level([c]) == level)
    return NextVersion(version, tag_name(version, settings.tag_prefix), release.previous_tag,
                       level, deciding, release.commits)


def _next_prerelease(final: Version, channel: str, tags: list[ReleaseTag]) -> Version:
    """`<final>-<channel>.N` with N one above the highest existing tag of that channel."""
    base = (final.major, final.minor, final.patch)
    highest = 0
    for t in tags:
        v = t.version
        if (v.major, v.minor, v.patch) != base or not v.prerelease:
            continue
        parts = str(v.prerelease).split(".")
        if len(parts) == 2 and parts[0] == channel and parts[1].isdigit():
            highest = max(highest, int(parts[1]))
    return Version(*base, prerelease=f"{channel}.{highest + 1}")


@dataclass(frozen=True)
class ReleaseTarget:
    """A release: tag, version, the commit released, the repository (see the module doc)."""

    tag: str
    version: Version
    commit: str  # the tag's commit, or HEAD's for a tag not created yet
    tag_exists: bool
    head: str
    repo: GitRepo = field(repr=False, compare=False)
    tags: tuple[ReleaseTag, ...] = field(default=(), repr=False, compare=False)
    decided_by: NextVersion | None = None

    @property
    def prerelease(self) -> bool:
        return bool(self.version.prerelease)

    @property
    def at_head(self) -> bool:
        return self.commit == self.head

    @property
    def rev(self) -> str:
        """What git should read the release from: the tag, or the commit it would be at."""
        return f"refs/tags/{self.tag}" if self.tag_exists else self.commit


def open_repo(settings: Settings) -> GitRepo:
    return GitRepo(settings.root)


def resolve_target(settings: Settings, repo: GitRepo, tag: str | None, *,
                   must_exist: bool = False, prerelease: str | None = None) -> ReleaseTarget:
    """Parse `tag` once (None: the next version from the commits) into a `ReleaseTarget`."""
    from release.notes import release_tags

    tags = release_tags(repo, settings.tag_prefix)
    head = repo.head()
    decided_by = None
    if tag is None:
        decided_by = next_version(settings, repo, tags, prerelease=prerelease)
        tag = decided_by.tag
    elif prerelease is not None:
        raise BadInput("--tag and --prerelease both given", "pass one of them")
    version = parse_tag(tag, settings.tag_prefix)
    commit = repo.tag_commit(tag)
    if commit is None and must_exist:
        raise BadInput(f"tag {tag} does not exist in {repo.root}",
                       f"create it at the release commit (git tag -a {tag}) or fetch it "
                       "(git fetch --tags)")
    return ReleaseTarget(tag=tag, version=version, commit=commit or head,
                         tag_exists=commit is not None, head=head, repo=repo, tags=tuple(tags),
                         decided_by=decided_by)


def dev_target(settings: Settings, repo: GitRepo) -> tuple[ReleaseTarget, Release]:
    """The dev chart of HEAD: `X.Y.Z-dev.N+<short sha>`, X.Y.Z the next release, N the commits
    since the last release. Never tagged; its notes are the unreleased changes."""
    from release.notes import collect, release_tags

    tags = release_tags(repo, settings.tag_prefix)
    head = repo.head()
    decided = next_version(settings, repo, tags)
    since = repo.count_commits(head, next((t.sha for t in tags
                                           if t.name == decided.previous_tag), None))
    final = decided.version.finalize_version()
    version = Version(final.major, final.minor, final.patch,
                      prerelease=f"dev.{since}", build=head[:7])
    display = f"{settings.tag_prefix}{version}"
    target = ReleaseTarget(tag=display, version=version, commit=head, tag_exists=False,
                           head=head, repo=repo, tags=tuple(tags), decided_by=decided)
    unreleased = collect(repo, settings, None, rev=head, tags=tags)
    return target, unreleased._replace(tag=display, version=version)
