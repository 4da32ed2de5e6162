"""Release notes, the changelog and the GitHub release: `notes`, `changelog`, `github-release`.

Imports of the notes machinery happen inside the commands: `notes` is meant to answer in about a
tenth of a second on a 50,000-commit history, interpreter start included.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from release.commands.common import (
    CliState,
    Command,
    echo,
    emit_json,
    info,
    json_option,
    resolve_path,
    run_alone,
    runtime,
    settings,
)
from release.errors import for_terminal

if TYPE_CHECKING:
    from argparse import ArgumentParser

    from release.config import Settings
    from release.enrich import GitHubLookup
    from release.gitrepo import GitRepo


def all_paths_option(p: ArgumentParser) -> None:
    p.add_argument("--all-paths", action="store_true", help="Ignore notes-paths: every commit.")


def since_prerelease_option(p: ArgumentParser) -> None:
    p.add_argument("--since-prerelease", action="store_true",
                   help="A final release starts at the last pre-release.")


def github_option(p: ArgumentParser) -> None:
    p.add_argument("--github", action="store_true",
                   help="Ask the GitHub API (GITHUB_TOKEN or GH_TOKEN) for contributors' "
                   "logins and pull-request labels; without a token, names are shown.")


@contextlib.contextmanager
def _lookup(s: Settings, github: bool) -> Iterator[GitHubLookup | None]:
    """The GitHub lookup `--github` asks for (None without the flag or a token); what it could
    not do is said on stderr."""
    if not github:
        yield None
        return
    from release.enrich import NO_TOKEN, github_lookup

    lookup = github_lookup(s, os.environ)
    if lookup is None:
        info(NO_TOKEN)
        yield None
        return
    try:
        yield lookup
    finally:
        lookup.close()
        if lookup.problem:
            info(lookup.problem)


def notes_options(p: ArgumentParser) -> None:
    p.add_argument("--tag", help="Release tag (default: the release tag on HEAD, else the "
                   "unreleased changes).")
    p.add_argument("--unreleased", action="store_true", help="Changes since the last release.")
    p.add_argument("--format", dest="fmt", choices=["md", "json"], default="md", help="md | json")
    all_paths_option(p)
    since_prerelease_option(p)
    p.add_argument("--artifacthub", action="store_true",
                   help="Print the artifacthub.io/changes annotation instead.")
    github_option(p)


def notes_cmd(state: CliState, *, tag: str | None, unreleased: bool, fmt: str, all_paths: bool,
              since_prerelease: bool, artifacthub: bool, github: bool) -> None:
    """Print one release's notes from conventional commits."""
    from release.errors import BadInput
    from release.gitrepo import GitRepo

    if tag is not None and unreleased:
        raise BadInput("--tag and --unreleased both given", "pass one of them")
    s = settings(state)
    repo = GitRepo(s.root)
    from release.notes import collect
    from release.render import render_notes

    # collect asks git only for the tags near the release (see `release_tags_near`)
    release = collect(repo, s, tag, since_prerelease=since_prerelease, all_paths=all_paths,
                      tag_at_rev=not unreleased)
    if artifacthub:  # the very value the package step writes into the packaged Chart.yaml
        from release.artifacthub import change_entries, to_yaml_text

        text = to_yaml_text(change_entries(release, s))
        if fmt == "json":
            emit_json({"artifacthub.io/changes": text})
        else:
            echo(text, end="")
        return
    with _lookup(s, github) as lookup:
        markdown = render_notes(release, s, lookup)
    if fmt == "json":
        from release.commits import bump_level

        emit_json({**release.to_json(), "bump": bump_level(release.changes),
                   "markdown": markdown})
    else:
        echo(markdown, end="")


def _guard_overwrite(repo: GitRepo, path: Path) -> None:
    """A full rewrite may replace a file only when git holds its current content (an identical
    file is never replaced, see `changelog.write_full`)."""
    from release.errors import BadInput, Conflict

    if not path.exists() and not path.is_symlink():
        return
    if not path.is_file():
        raise BadInput(f"{path} exists and is not a regular file", "choose another --output")
    rel = repo.relpath(path)
    if rel.startswith("..") or not rel:
        raise Conflict(f"{path} exists outside the repository",
                       "remove it first or choose another --output")
    if repo.is_dirty(rel) or not repo.is_tracked(rel):
        raise Conflict(f"{path} has changes git does not hold (uncommitted or untracked)",
                       "commit or stash them first, or use --update to add one release")


def changelog_options(p: ArgumentParser) -> None:
    p.add_argument("--output", type=Path, metavar="PATH",
                   help="Write here (default: stdout; with --update: the changelog setting).")
    p.add_argument("--update", action="store_true", help="Insert one release at the top of the "
                   "changelog; idempotent.")
    p.add_argument("--tag", help="With --update: the release to add, existing or to be tagged at "
                   "HEAD (default: the highest release reachable from HEAD).")
    all_paths_option(p)
    github_option(p)


def changelog_cmd(state: CliState, *, output: Path | None, update: bool, tag: str | None,
                  all_paths: bool, github: bool) -> None:
    """Write the full changelog over every release, or --update it with one release."""
    from release.errors import BadInput
    from release.gitrepo import GitRepo
    from release.notes import all_releases, collect, previous_release, release_tags

    s = settings(state)
    repo = GitRepo(s.root)
    if not update and tag is None:
        # git starts reading the history here; the imports below happen meanwhile.
        releases = all_releases(repo, s, all_paths=all_paths)
    from release import changelog

    if update:
        tags = release_tags(repo, s.tag_prefix)
        from release.steps.base import Runtime
        from release.steps.changelog import changelog_step

        path = resolve_path(output) if output else s.changelog_path
        if tag is None:
            found = previous_release(repo, tags, repo.head(), None, since_prerelease=True)
            if found is None:
                raise BadInput("no release tag is reachable from HEAD",
                               "tag a release first or pass --tag")
            tag = found.name
        # A tag not created yet is planned at HEAD: the entry can go into the release commit.
        release = collect(repo, s, tag, planned=True, all_paths=all_paths, tags=tags)
        with _lookup(s, github) as lookup:
            step = changelog_step(s, release, path, lookup)
        outcome = run_alone(step, Runtime(s, {}))
        info(f"{path}: added {tag}" if outcome.wrote else f"{path}: already lists {tag}; unchanged")
        return
    if tag is not None:
        raise BadInput("--tag applies to --update only", "drop --tag or add --update")
    with _lookup(s, github) as lookup:
        if output is None:
            changelog.print_full(releases, s, lookup)
            return
        path = resolve_path(output)
        changed, count = changelog.write_full(path, releases, s,
                                              lambda p: _guard_overwrite(repo, p), lookup)
    info(f"{path}: {count} releases" + ("" if changed else "; unchanged"))


def github_release_options(p: ArgumentParser) -> None:
    p.add_argument("--tag", required=True, help="Release tag, e.g. v1.2.3.")
    p.add_argument("--asset", type=Path, action="append", default=[], metavar="PATH",
                   help="Asset to attach (.tgz, .prov); repeatable. SHA256SUMS is added.")
    p.add_argument("--force", action="store_true",
                   help="Replace a release body or asset that differs.")
    all_paths_option(p)
    since_prerelease_option(p)
    json_option(p)
    github_option(p)


def github_release_cmd(state: CliState, *, tag: str, asset: list[Path], force: bool,
                       all_paths: bool, since_prerelease: bool, as_json: bool,
                       github: bool) -> None:
    """Create or update the GitHub release of a tag with its notes and assets."""
    from release.gitrepo import GitRepo
    from release.notes import collect, release_tags
    from release.steps.github import github_step

    s = settings(state)
    repo = GitRepo(s.root)
    tags = release_tags(repo, s.tag_prefix)
    release = collect(repo, s, tag, since_prerelease=since_prerelease, all_paths=all_paths,
                      tags=tags)
    with _lookup(s, github) as lookup:
        step = github_step(s, release, tags, [resolve_path(a) for a in asset], force=force,
                           lookup=lookup)
    rt = runtime(s)
    outcome = run_alone(step, rt)
    if as_json:
        emit_json(outcome.details)
        return
    details = outcome.details
    echo(for_terminal(f"{details['action']} release {tag}: {details['html_url']}", one_line=True))
    for label, key in (("uploaded", "uploaded"), ("replaced", "replaced"),
                       ("unchanged", "skipped")):
        if details[key]:
            echo(f"  {label}: {', '.join(details[key])}")


# The commands this module adds to `ameide-release`.
COMMANDS = {
    "notes": Command(notes_options, notes_cmd),
    "changelog": Command(changelog_options, changelog_cmd),
    "github-release": Command(github_release_options, github_release_cmd),
}
