"""Release notes, the changelog and the GitHub release: `notes`, `changelog`, `github-release`.

Imports of the notes machinery happen inside the commands: `notes` is meant to answer in well
under a fifth of a second on a 50,000-commit history, interpreter start included.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Generic, TypeVar

import typer

from release.commands.common import emit_json, info, settings

if TYPE_CHECKING:
    from release.config import Settings
    from release.enrich import GitHubLookup
    from release.gitrepo import GitRepo
    from release.notes import Release, ReleaseTag


T = TypeVar("T")


def register(app: typer.Typer) -> None:
    app.command("notes")(notes_cmd)
    app.command("changelog")(changelog_cmd)
    app.command("github-release")(github_release_cmd)


def _tag_at_head(repo: GitRepo, tags: list[ReleaseTag]) -> str | None:
    head = repo.head()
    at_head = [t for t in tags if t.sha == head]
    return at_head[-1].name if at_head else None  # tags are sorted lowest first


def notes_cmd(
    ctx: typer.Context,
    tag: Annotated[str | None, typer.Option(help="Release tag (default: the release tag on HEAD, "
                                                 "else the unreleased changes).")] = None,
    unreleased: Annotated[bool, typer.Option("--unreleased",
                                             help="Changes since the last release.")] = False,
    fmt: Annotated[str, typer.Option("--format", help="md | json")] = "md",
    all_paths: Annotated[bool, typer.Option("--all-paths",
                                            help="Ignore notes-paths: every commit.")] = False,
    since_prerelease: Annotated[bool, typer.Option(
        "--since-prerelease", help="A final release starts at the last pre-release.")] = False,
    artifacthub: Annotated[bool, typer.Option(
        "--artifacthub", help="Print the artifacthub.io/changes annotation instead.")] = False,
    github: Annotated[bool, typer.Option(
        "--github", help="Ask the GitHub API (GITHUB_TOKEN or GH_TOKEN) for contributors' logins "
                         "and pull-request labels; without a token, names are shown.")] = False,
) -> None:
    """Print one release's notes from conventional commits."""
    from release.errors import BadInput
    from release.gitrepo import GitRepo

    if fmt not in ("md", "json"):
        raise BadInput(f"unknown --format {fmt!r}", "use md or json")
    if tag and unreleased:
        raise BadInput("--tag and --unreleased both given", "pass one of them")
    s = settings(ctx)
    repo = GitRepo(s.root)
    listing = _Background(repo.tags)  # git lists the tags while the notes modules load
    from release.notes import collect, release_tags

    tags = release_tags(repo, s.tag_prefix, listing.result())
    if not tag and not unreleased:
        tag = _tag_at_head(repo, tags)
    release = collect(repo, s, tag, since_prerelease=since_prerelease, all_paths=all_paths,
                      tags=tags)
    if artifacthub:
        from release.render import artifacthub_changes

        text = artifacthub_changes(release, s)
        if fmt == "json":
            emit_json({"artifacthub.io/changes": text})
        else:
            typer.echo(text, nl=False)
        return
    from release.render import render_notes

    with _lookup(s, github) as lookup:
        markdown = render_notes(release, s, lookup)
    if fmt == "json":
        from release.commits import bump_level

        emit_json({**release.to_json(), "bump": bump_level(release.changes),
                   "markdown": markdown})
    else:
        typer.echo(markdown, nl=False)


class _Background(Generic[T]):
    """One call run on a thread: for a git process that can work while Python imports."""

    def __init__(self, call: Callable[[], T]) -> None:
        self._call = call
        self._value: T | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._value = self._call()
        except BaseException as exc:  # handed to the caller of result()
            self._error = exc

    def result(self) -> T:
        self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._value is not None
        return self._value


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


def _guard_overwrite(repo: GitRepo, path: Path) -> None:
    """A full rewrite may replace a file only when git holds its current content."""
    from release.errors import Conflict

    if not path.exists():
        return
    try:
        rel = repo.relpath(path)
    except ValueError:
        rel = ""
    if rel.startswith("..") or not rel:
        raise Conflict(f"{path} exists outside the repository",
                       "remove it first or choose another --output")
    if repo.is_dirty(rel) or not repo.git("ls-files", "--", rel).strip():
        raise Conflict(f"{path} has changes git does not hold (uncommitted or untracked)",
                       "commit or stash them first, or use --update to add one release")


def changelog_cmd(
    ctx: typer.Context,
    output: Annotated[Path | None, typer.Option(help="Write here (default: stdout; with "
                                                     "--update: the changelog setting).")] = None,
    update: Annotated[bool, typer.Option("--update", help="Insert one release at the top of the "
                                                          "changelog; idempotent.")] = False,
    tag: Annotated[str | None, typer.Option(help="With --update: the release to add, existing or to be "
                                                 "tagged at HEAD (default: "
                                                 "the highest release reachable from HEAD).")]
    = None,
    all_paths: Annotated[bool, typer.Option("--all-paths",
                                            help="Ignore notes-paths: every commit.")] = False,
    github: Annotated[bool, typer.Option(
        "--github", help="Ask the GitHub API (GITHUB_TOKEN or GH_TOKEN) for contributors' logins "
                         "and pull-request labels; without a token, names are shown.")] = False,
) -> None:
    """Write the full changelog over every release, or --update it with one release."""
    from release.errors import BadInput
    from release.gitrepo import GitRepo
    from release.notes import all_releases, collect, previous_release, release_tags

    s = settings(ctx)
    repo = GitRepo(s.root)
    if not update and tag is None:
        # git starts reading the history here; the imports below happen meanwhile.
        releases = all_releases(repo, s, all_paths=all_paths)
    from release import changelog

    if update:
        tags = release_tags(repo, s.tag_prefix)
        path = _resolve(s, output) if output else s.changelog_path
        if tag is None:
            found = previous_release(repo, tags, repo.head(), None, since_prerelease=True)
            if found is None:
                raise BadInput("no release tag is reachable from HEAD",
                               "tag a release first or pass --tag")
            tag = found.name
        # A tag not created yet is planned at HEAD: the entry can go into the release commit.
        release = collect(repo, s, tag, planned=True, all_paths=all_paths, tags=tags)
        with _lookup(s, github) as lookup:
            changed = changelog.update_file(path, release, s, lookup)
        if changed:
            info(f"{path}: added {tag}")
        else:
            info(f"{path}: already lists {tag}; unchanged")
        return
    if tag is not None:
        raise BadInput("--tag applies to --update only", "drop --tag or add --update")
    with _lookup(s, github) as lookup:
        if output is None:
            changelog.print_full(releases, s, lookup)
            return
        path = _resolve(s, output)
        written = _Counted(releases)
        changed = changelog.write_full(path, written, s, lambda p: _guard_overwrite(repo, p),
                                       lookup)
    info(f"{path}: {written.count} releases" + ("" if changed else "; unchanged"))


class _Counted:
    """The releases as they stream by, counted for the closing message."""

    def __init__(self, releases: Iterable[Release]) -> None:
        self.releases = releases
        self.count = 0

    def __iter__(self) -> Iterator[Release]:
        for release in self.releases:
            self.count += 1
            yield release


def _resolve(s: Settings, path: Path) -> Path:
    return path if path.is_absolute() else Path.cwd() / path


def github_release_cmd(
    ctx: typer.Context,
    tag: Annotated[str, typer.Option(help="Release tag, e.g. v1.2.3.")],
    asset: Annotated[list[Path] | None, typer.Option(
        help="Asset to attach (.tgz, .prov); repeatable. SHA256SUMS is added.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace a release body or asset that "
                                                        "differs.")] = False,
    all_paths: Annotated[bool, typer.Option("--all-paths",
                                            help="Ignore notes-paths: every commit.")] = False,
    since_prerelease: Annotated[bool, typer.Option(
        "--since-prerelease", help="A final release starts at the last pre-release.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    github: Annotated[bool, typer.Option(
        "--github", help="Ask the GitHub API (GITHUB_TOKEN or GH_TOKEN) for contributors' logins "
                         "and pull-request labels; without a token, names are shown.")] = False,
) -> None:
    """Create or update the GitHub release of a tag with its notes and assets."""
    from release.github import GitHub, plan_release, publish, token_from_env
    from release.gitrepo import GitRepo
    from release.notes import collect, release_tags

    s = settings(ctx)
    repo = GitRepo(s.root)
    tags = release_tags(repo, s.tag_prefix)
    release = collect(repo, s, tag, since_prerelease=since_prerelease, all_paths=all_paths,
                      tags=tags)
    from release.render import render_github_body

    with _lookup(s, github) as lookup:
        body = render_github_body(release, s, lookup)
    plan = plan_release(release, s, tags, [_resolve(s, a) for a in asset or []], body=body)
    gh = GitHub(str(s["github-api"]), s.github_repository, token_from_env(os.environ))
    try:
        result = publish(plan, gh, force=force, tag_prefix=s.tag_prefix)
    finally:
        gh.close()
    if as_json:
        emit_json(result.to_json())
        return
    typer.echo(f"{result.action} release {tag}: {result.html_url}")
    for label, names in (("uploaded", result.uploaded), ("replaced", result.replaced),
                         ("unchanged", result.skipped)):
        if names:
            typer.echo(f"  {label}: {', '.join(names)}")


# --- fast path ---------------------------------------------------------------------------------
# Typer resolves every parameter through pydantic, which costs ~80 ms of imports per run: more
# than a whole `notes` answer. `release.cli.main` offers the plain `notes` and `changelog` command
# lines to `fast_path` first; anything it does not fully recognise (help, unknown or new options,
# a typo) returns False and goes through Typer as usual, so behaviour and errors stay Typer's.

_GLOBAL_VALUES = {"--repo": "repo", "--chart": "chart", "--registry": "registry",
                  "--github-repository": "github-repository", "--tag-prefix": "tag-prefix",
                  "--changelog": "changelog", "--github-api": "github-api",
                  "--notes-paths": "notes-paths", "--non-conventional": "non-conventional",
                  "--templates": "templates", "--mentions": "mentions",
                  "--contributors": "contributors", "--sections": "sections",
                  "--label-sections": "label-sections"}
_COMMANDS: dict[str, tuple[dict[str, str], dict[str, str]]] = {
    # command: ({value option: parameter}, {flag: parameter})
    "notes": ({"--tag": "tag", "--format": "fmt"},
              {"--unreleased": "unreleased", "--all-paths": "all_paths",
               "--since-prerelease": "since_prerelease", "--artifacthub": "artifacthub",
               "--github": "github"}),
    "changelog": ({"--output": "output", "--tag": "tag"},
                  {"--update": "update", "--all-paths": "all_paths", "--github": "github"}),
}


class _Context:
    """The part of typer.Context that `commands.common.settings` uses."""

    def __init__(self, obj: object) -> None:
        self.obj = obj

    def find_root(self) -> _Context:
        return self


def _split(argv: list[str]) -> list[tuple[str, str | None]]:
    """`--name=value` → (name, value); anything else → (arg, None)."""
    out: list[tuple[str, str | None]] = []
    for arg in argv:
        if arg.startswith("--") and "=" in arg:
            name, value = arg.split("=", 1)
            out.append((name, value))
        else:
            out.append((arg, None))
    return out


def fast_path(argv: list[str]) -> bool:
    """Run a plain `notes`/`changelog` command line without Typer; False when not handled."""
    from release.commands.common import CliState

    items = _split(argv)
    flags: dict[str, str | None] = dict.fromkeys(_GLOBAL_VALUES.values())
    repo = "."
    i = 0

    def value_at(k: int) -> tuple[str | None, int]:
        inline = items[k][1]
        if inline is not None:
            return inline, k + 1
        if k + 1 >= len(items) or items[k + 1][0].startswith("-"):
            return None, k + 1
        return items[k + 1][0], k + 2

    while i < len(items) and items[i][0] in _GLOBAL_VALUES:
        key = _GLOBAL_VALUES[items[i][0]]
        value, i = value_at(i)
        if value is None:
            return False
        if key == "repo":
            repo = value
        else:
            flags[key] = value
    if i >= len(items) or items[i][0] not in _COMMANDS or items[i][1] is not None:
        return False
    command = items[i][0]
    values, switches = _COMMANDS[command]
    params: dict[str, object] = {}
    i += 1
    while i < len(items):
        name, inline = items[i]
        if name in switches and inline is None and switches[name] not in params:
            params[switches[name]] = True
            i += 1
        elif name in values and values[name] not in params:
            value, i = value_at(i)
            if value is None:
                return False
            params[values[name]] = value
        else:
            return False
    ctx: typer.Context = _Context(CliState(repo=Path(repo), flags=flags))  # type: ignore[assignment]
    if command == "notes":
        notes_cmd(ctx, **params)  # type: ignore[arg-type]
    else:
        if "output" in params:
            params["output"] = Path(str(params["output"]))
        changelog_cmd(ctx, **params)  # type: ignore[arg-type]
    return True
