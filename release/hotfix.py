"""`hotfix`: cut `vX.Y.(Z+1)` on `release-X.Y` from a published `vX.Y.Z`, all or nothing.

Creates or reuses the release branch, cherry-picks the fixes, bumps Chart.yaml, writes the
CHANGELOG entry, commits and tags. Any failure (a conflicting pick, a taken tag) rolls the branch
back to where it was, deletes it if we created it, and returns to the branch the user was on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from release.config import Settings
from release.errors import BadInput, Conflict, RemoteError
from release.gitrepo import GitRepo, check_remote
from release.version import parse_tag, tag_name


@dataclass(frozen=True)
class HotfixResult:
    branch: str
    branch_created: bool
    tag: str
    previous_tag: str
    commit: str
    picked: tuple[str, ...]
    pushed: bool
    push_command: str


def release_branch(major: int, minor: int) -> str:
    return f"release-{major}.{minor}"


def latest_patch_tag(repo: GitRepo, settings: Settings, rev: str, major: int, minor: int) -> str:
    """The highest final vMAJOR.MINOR.x tag reachable from `rev`."""
    from release.notes import release_tags

    reachable = {ref.name for ref in repo.tags(merged_into=rev)}
    line = [t for t in release_tags(repo, settings.tag_prefix)  # lowest first
            if t.name in reachable and not t.prerelease
            and (t.version.major, t.version.minor) == (major, minor)]
    if not line:
        raise BadInput(f"no {settings.tag_prefix}{major}.{minor}.x tag is reachable from {rev}",
                       "hotfix from a published release tag")
    return line[-1].name


def _write_changelog(settings: Settings, repo: GitRepo, tag: str) -> bool:
    """The new release's entry (its notes as if tagged at the branch's HEAD now), through the
    same changelog step `publish` and `changelog --update` run."""
    from release.executor import run_steps
    from release.notes import collect
    from release.steps.base import Runtime
    from release.steps.changelog import changelog_step

    step = changelog_step(settings, collect(repo, settings, tag, planned=True))
    (outcome,) = run_steps([step], Runtime(settings, {}))  # under the step deadline, as publish
    return outcome.wrote


def cut_hotfix(
    settings: Settings,
    from_tag: str,
    picks: Sequence[str] = (),
    *,
    push: bool = False,
    remote: str = "origin",
) -> HotfixResult:
    base = parse_tag(from_tag, settings.tag_prefix)
    if base.prerelease:
        raise BadInput(f"{from_tag} is a pre-release", "cut hotfixes from a final release tag")
    if push:
        check_remote(remote)
    repo = GitRepo(settings.root)
    base_sha = repo.tag_commit(from_tag)
    if base_sha is None:
        raise BadInput(f"tag {from_tag} does not exist here", "run git fetch --tags, or check the name")
    if repo.is_dirty():
        raise BadInput("the working tree has uncommitted changes",
                       "commit or stash them; a hotfix switches branches")
    shas = [repo.rev_parse(p) for p in picks]
    branch = release_branch(base.major, base.minor)
    original = repo.current_branch() or repo.head()
    created = not repo.branch_exists(branch)
    if created:
        repo.create_branch(branch, base_sha)
    elif not repo.is_ancestor(base_sha, f"refs/heads/{branch}"):
        raise BadInput(f"branch {branch} does not contain {from_tag}",
                       f"rename or delete that branch, or hotfix from a tag on {branch}")
    start = repo.rev_parse(f"refs/heads/{branch}")

    repo.switch(branch)
    try:
        for sha in shas:
            conflicts = repo.cherry_pick(sha)
            if conflicts is not None:
                raise BadInput(
                    f"cherry-pick of {sha[:12]} onto {branch} conflicts in {', '.join(conflicts)}; "
                    "nothing was changed",
                    f"resolve it by hand: git switch {branch} && git cherry-pick -x {sha[:12]}, "
                    "commit, then run ameide-release hotfix again without that --pick")
        previous = latest_patch_tag(repo, settings, "HEAD", base.major, base.minor)
        new_version = parse_tag(previous, settings.tag_prefix).bump_patch()
        new_tag = tag_name(new_version, settings.tag_prefix)
        if repo.tag_commit(new_tag) is not None:
            raise Conflict(f"tag {new_tag} already exists but is not on {branch}",
                           f"inspect it with git show {new_tag}; hotfix tags must come from {branch}")
        from release.bump import bump_chart

        bump_chart(settings, new_tag)
        paths = [repo.relpath(settings.chart_dir / "Chart.yaml")]
        if _write_changelog(settings, repo, new_tag):
            paths.append(repo.relpath(settings.changelog_path))
        commit = repo.commit_paths(f"chore(release): {new_tag}", *paths)
        repo.create_tag(new_tag, commit, f"Hotfix release {new_tag} (from {from_tag})")
    except BaseException:
        repo.reset_hard(start)
        repo.switch(original)
        if created:
            repo.delete_branch(branch)
        raise
    repo.switch(original)
    # Both or neither: the branch alone would start the release-PR run, which would tag the
    # hotfix commit itself; the tag alone, a release of a commit on no branch.
    push_command = f"git push --atomic {remote} {branch} {new_tag}"
    if push:
        try:
            repo.push(remote, f"refs/heads/{branch}", f"refs/tags/{new_tag}", atomic=True)
        except RemoteError as exc:
            raise RemoteError(exc.problem, f"{new_tag} is committed and tagged on {branch} here; "
                              f"push both again with: {push_command}") from None
    return HotfixResult(branch, created, new_tag, previous, commit, tuple(shas), push, push_command)
