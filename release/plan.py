"""What a release would be: the next version, and the whole plan `dry-run` shows.

Pure reads. Planning never writes to the repository, a registry, GitHub or the network; the only
thing it creates is the package, inside a directory the caller owns (a temp dir for dry-run).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from release.errors import BadInput
from release.gitrepo import GitRepo
from release.version import bump_version, parse_version, tag_name

if TYPE_CHECKING:
    import semver

    from release.commits import Change
    from release.config import Settings
    from release.github import ReleasePlan as GitHubPlan
    from release.package import PackageResult


@dataclass(frozen=True)
class NextVersion:
    version: semver.Version
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
        return lines

    def as_json(self) -> dict[str, Any]:
        return {"version": str(self.version), "tag": self.tag, "previous_tag": self.previous_tag,
                "level": self.level, "commits": self.commits,
                "deciding": [c.to_json() for c in self.deciding]}


def next_version(settings: Settings, rev: str = "HEAD") -> NextVersion:
    """The next release from the conventional commits since the previous release reachable."""
    from release.chart import load_metadata
    from release.commits import bump_level
    from release.notes import collect

    repo = GitRepo(settings.root)
    release = collect(repo, settings, None, rev=rev, all_paths=True)
    level = bump_level(release.changes)
    if release.previous_version is None:
        version = parse_version(str(load_metadata(settings.chart_dir)["version"]), "Chart.yaml version")
        if version.build:
            raise BadInput(f"Chart.yaml version {version} carries build metadata",
                           "remove the '+...' part")
    else:
        version = bump_version(release.previous_version, level)
    deciding = tuple(c for c in release.changes if level and bump_level([c]) == level)
    return NextVersion(version, tag_name(version, settings.tag_prefix), release.previous_tag, level,
                       deciding, release.commits)



@dataclass(frozen=True)
class ReleasePlan:
    """Everything a release of `tag` would do, computed without side effects."""

    tag: str
    version: str
    prerelease: bool
    tag_exists: bool
    sha: str  # the commit released: the tag's, or HEAD for a tag still to be created
    at_head: bool
    previous_tag: str | None
    image_tags: tuple[str, ...]
    package: PackageResult
    oci_reference: str  # oci://host/namespace/name:tag
    notes: str  # Markdown
    github: GitHubPlan
    changelog_has_entry: bool
    decided_by: NextVersion | None = None  # set when the version came from commits

    def as_json(self) -> dict[str, Any]:
        return {
            "tag": self.tag, "version": self.version, "appVersion": self.version,
            "prerelease": self.prerelease, "tag_exists": self.tag_exists, "sha": self.sha,
            "at_head": self.at_head, "previous_tag": self.previous_tag,
            "image_tags": list(self.image_tags), "package": self.package.as_json(),
            "oci_reference": self.oci_reference, "notes": self.notes,
            "github_release": self.github.to_json(),
            "changelog": {"has_entry": self.changelog_has_entry},
            "next": self.decided_by.as_json() if self.decided_by else None,
        }


def make_plan(settings: Settings, tag: str | None, workdir: Path) -> ReleasePlan:
    """The plan `dry-run` prints and `publish` follows. Only `workdir` is written to."""
    from release.changelog import has_release
    from release.github import plan_release
    from release.notes import collect, release_tags
    from release.oci.reference import chart_ref
    from release.package import build_package, package_at_commit
    from release.render import render_notes
    from release.version import image_tags, parse_tag

    decided_by = None
    if tag is None:
        decided_by = next_version(settings)
        tag = decided_by.tag
    version = parse_tag(tag, settings.tag_prefix)
    repo = GitRepo(settings.root)
    head = repo.head()
    tag_sha = repo.tag_commit(tag)
    if tag_sha is not None:
        package = package_at_commit(settings, f"refs/tags/{tag}", workdir)
    else:
        package = build_package(settings, tag, workdir)
    sha = tag_sha or head
    tags = release_tags(repo, settings.tag_prefix)
    release = collect(repo, settings, tag, rev=sha, planned=tag_sha is None, tags=tags)
    changelog = settings.changelog_path
    text = changelog.read_text(encoding="utf-8") if changelog.is_file() else ""
    return ReleasePlan(
        tag=tag,
        version=str(version),
        prerelease=bool(version.prerelease),
        tag_exists=tag_sha is not None,
        sha=sha,
        at_head=sha == head,
        previous_tag=release.previous_tag,
        image_tags=image_tags(f"refs/tags/{tag}", sha, settings.tag_prefix).tags,
        package=package,
        oci_reference=chart_ref(settings.registry, package.name, package.version).oci,
        notes=render_notes(release, settings),
        github=plan_release(release, settings, tags, assets=[package.path]),
        changelog_has_entry=has_release(text, tag, str(version)),
        decided_by=decided_by,
    )
