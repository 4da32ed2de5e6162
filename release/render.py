"""Release data → Markdown, through Jinja2 templates.

The bundled templates live in `release/templates/*.md.j2`; a directory named by the `templates`
setting overrides any of them by file name. Templates get *views* prepared here: sections in a
fixed order (Breaking changes, Features, Bug fixes, Performance, then the rest), entries grouped
by scope, and entry texts already Markdown-escaped with `(#123)` turned into pull-request links,
so a commit subject can never inject HTML or Markdown into a release page. Raw values stay
available (`e.subject`, `e.scope`) and the `md` filter escapes anything else a template shows.

Rendering has no side effects: no git, no network, no files written.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from release.commits import OTHER, REVERT, Change
from release.errors import BadInput

if TYPE_CHECKING:
    import jinja2

    from release.config import Settings
    from release.notes import Release

BUNDLED = Path(__file__).parent / "templates"
MAX_SUBJECT = 300  # characters; longer subjects are cut with "…" (the commit link has the rest)

BREAKING = "breaking"
# (key, title) in the order sections appear; unknown conventional types follow, then Other.
SECTIONS: tuple[tuple[str, str], ...] = (
    (BREAKING, "Breaking changes"),
    ("feat", "Features"),
    ("fix", "Bug fixes"),
    ("perf", "Performance"),
    (REVERT, "Reverts"),
    ("refactor", "Refactoring"),
    ("docs", "Documentation"),
    ("build", "Build"),
    ("ci", "Continuous integration"),
    ("test", "Tests"),
    ("style", "Style"),
    ("chore", "Chores"),
)
_TITLES = dict(SECTIONS)

_MD_SPECIAL = str.maketrans({c: "\\" + c for c in "\\`*_[]<>|~&"})
_LIST_NUMBER = re.compile(r"(\d+)([.)])")
_PR_REF = re.compile(r"\(#(\d+)\)")


def md_escape(text: object) -> str:
    """Plain text → inline Markdown that shows exactly that text (one line, no HTML)."""
    return _escape_line(" ".join(str(text).split()))


def _escape_line(s: str) -> str:
    s = s.translate(_MD_SPECIAL)
    if s and s[0] in "#+=>-":  # would start a heading, list, quote or setext underline
        s = "\\" + s
    elif s and s[0].isdigit():  # "1. x" would start an ordered list
        s = _LIST_NUMBER.sub(r"\1\\\2", s, count=1) if _LIST_NUMBER.match(s) else s
    return s


def shorten(text: str, limit: int = MAX_SUBJECT) -> str:
    """One line of at most `limit` characters, cut with "…"."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def web_url(settings: Settings) -> str:
    """https://github.com/owner/name (or the GitHub Enterprise equivalent) of the repository."""
    api = str(settings["github-api"]).rstrip("/")
    base = "https://github.com" if api == "https://api.github.com" else api.removesuffix("/api/v3")
    return f"{base}/{settings.github_repository}"


@dataclass(slots=True)  # not frozen: frozen dataclasses are slow to build by the ten thousand
class Entry:
    type: str
    scope: str | None
    subject: str  # raw
    text: str  # escaped Markdown, PR references linked
    breaking: bool
    sha: str
    short: str
    commit_url: str
    pr: int | None
    pr_url: str | None
    line: str  # the bundled format: "**scope:** text ([#pr](url)) ([sha](url))"


@dataclass(frozen=True, slots=True)
class Section:
    key: str
    title: str
    entries: tuple[Entry, ...]


@dataclass(frozen=True, slots=True)
class ReleaseView:
    tag: str | None
    title: str  # the version, or "Unreleased"
    version: str | None
    date: str | None
    previous_tag: str | None
    compare_url: str | None
    url: str | None  # the release page
    prerelease: bool
    sections: tuple[Section, ...]
    empty: bool
    body: str = ""  # the sections rendered by sections.md.j2


def _entry(change: Change, text: str, repo_url: str) -> Entry:
    pr_url = f"{repo_url}/pull/{change.pr}" if change.pr is not None else None
    linked = _escape_line(shorten(text))
    if "(#" in linked:
        linked = _PR_REF.sub(lambda m: f"([#{m.group(1)}]({repo_url}/pull/{m.group(1)}))", linked)
    short = change.sha[:7]
    commit_url = f"{repo_url}/commit/{change.sha}"
    # Built here rather than in the template: 20,000 entries through Jinja's per-fragment
    # generators cost more than the rest of a full changelog's rendering.
    line = "".join((
        f"**{_scope_md(change.scope)}:** " if change.scope else "", linked,
        f" ([#{change.pr}]({pr_url}))" if pr_url else "", f" ([{short}]({commit_url}))"))
    return Entry(change.type, change.scope, change.subject, linked, change.breaking,
                 change.sha, short, commit_url, change.pr, pr_url, line)


@functools.lru_cache(maxsize=1024)
def _scope_md(scope: str) -> str:
    return md_escape(scope)


def _scope_key(entry: Entry) -> tuple[bool, str]:
    return (entry.scope is not None, (entry.scope or "").lower())


def sections(changes: Sequence[Change], repo_url: str) -> tuple[Section, ...]:
    """Changes (oldest first) → sections in the fixed order, entries grouped by scope (unscoped
    first, then scopes alphabetically; commit order inside a scope)."""
    groups: dict[str, list[Entry]] = {}
    for change in changes:
        if change.breaking:
            groups.setdefault(BREAKING, []).append(
                _entry(change, change.breaking_text or change.subject, repo_url))
        key = change.type if change.conventional else OTHER
        groups.setdefault(key, []).append(_entry(change, change.subject, repo_url))
    known = [k for k, _ in SECTIONS if k in groups]
    unknown = sorted(k for k in groups if k not in _TITLES and k != OTHER)
    order = known + unknown + ([OTHER] if OTHER in groups else [])
    return tuple(
        Section(k, _TITLES.get(k, "Other" if k == OTHER else k.capitalize()),
                tuple(sorted(groups[k], key=_scope_key)))
        for k in order)


def view(release: Release, settings: Settings, env: jinja2.Environment | None = None,
         ) -> ReleaseView:
    """The template-facing view of a release, its sections already rendered into `body`."""
    repo_url = web_url(settings)
    compare = None
    if release.previous_tag:
        head = release.tag or release.sha
        compare = f"{repo_url}/compare/{release.previous_tag}...{head}"
    secs = sections(release.changes, repo_url)
    bare = ReleaseView(
        tag=release.tag,
        title=str(release.version) if release.version is not None else "Unreleased",
        version=str(release.version) if release.version is not None else None,
        date=release.date,
        previous_tag=release.previous_tag,
        compare_url=compare,
        url=f"{repo_url}/releases/tag/{release.tag}" if release.tag else None,
        prerelease=release.prerelease,
        sections=secs,
        empty=not secs,
    )
    env = env or environment(settings)
    body = _render(settings, "sections.md.j2", env, r=bare).rstrip("\n")
    return dataclasses.replace(bare, body=body)


def environment(settings: Settings) -> jinja2.Environment:
    """Templates from the `templates` setting first, then the bundled ones."""
    import jinja2

    loaders: list[jinja2.BaseLoader] = []
    custom = str(settings["templates"] or "")
    if custom:
        path = Path(settings.root) / custom
        if not path.is_dir():
            raise BadInput(f"templates directory {path} does not exist",
                           "create it or fix the 'templates' setting (empty = bundled templates)")
        loaders.append(jinja2.FileSystemLoader(str(path)))
    loaders.append(jinja2.FileSystemLoader(str(BUNDLED)))
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders), autoescape=False, keep_trailing_newline=True,
        auto_reload=False,
        trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined)
    env.filters["md"] = md_escape
    return env


def _render(settings: Settings, name: str, env: jinja2.Environment | None = None,
            **context: Any) -> str:
    import jinja2

    env = env or environment(settings)
    try:
        text = env.get_template(name).render(repo_url=web_url(settings), **context)
    except jinja2.TemplateSyntaxError as exc:
        raise BadInput(f"template {exc.name or name} line {exc.lineno}: {exc.message}",
                       "fix the template or remove it to use the bundled one") from None
    except jinja2.TemplateError as exc:
        raise BadInput(f"template {name} failed: {exc}",
                       "fix the template or remove it to use the bundled one") from None
    return text.strip("\n") + "\n"


def render_notes(release: Release, settings: Settings) -> str:
    """The Markdown `ameide-release notes` prints (no side effects)."""
    env = environment(settings)
    return _render(settings, "notes.md.j2", env, r=view(release, settings, env))


def render_github_body(release: Release, settings: Settings) -> str:
    """The body of the GitHub release (no side effects)."""
    env = environment(settings)
    return _render(settings, "github-release.md.j2", env, r=view(release, settings, env))


def render_changelog_entry(release: Release, settings: Settings) -> str:
    """One release as it sits in CHANGELOG.md, starting with its `<!-- release: TAG -->` marker."""
    env = environment(settings)
    return _render(settings, "changelog-entry.md.j2", env, r=view(release, settings, env))


def render_changelog(releases: Sequence[Release], settings: Settings) -> str:
    """The whole CHANGELOG.md over `releases` (highest version first)."""
    env = environment(settings)
    return _render(settings, "changelog.md.j2", env,
                   releases=[view(r, settings, env) for r in releases])


# Artifact Hub `artifacthub.io/changes` kinds.
_AH_KIND = {"feat": "added", "fix": "fixed", "perf": "changed", REVERT: "removed"}


def artifacthub_changes(release: Release, settings: Settings) -> str:
    """The `artifacthub.io/changes` annotation value (YAML list of kind/description/links) for
    the user-facing changes: breaking, features, fixes, performance, reverts."""
    repo_url = web_url(settings)
    lines: list[str] = []
    for change in release.changes:
        kind = "changed" if change.breaking else _AH_KIND.get(change.type)
        if change.scope == "security" or change.type == "security":
            kind = "security"
        if kind is None:
            continue
        text = change.breaking_text if change.breaking and change.breaking_text else change.subject
        if change.scope:
            text = f"{change.scope}: {text}"
        lines.append(f"- kind: {kind}")
        lines.append(f"  description: {json.dumps(shorten(text), ensure_ascii=False)}")
        links = [("Commit " + change.sha[:7], f"{repo_url}/commit/{change.sha}")]
        if change.pr is not None:
            links.insert(0, (f"PR #{change.pr}", f"{repo_url}/pull/{change.pr}"))
        lines.append("  links:")
        for name, url in links:
            lines.append(f"    - name: {json.dumps(name)}")
            lines.append(f"      url: {json.dumps(url)}")
    return "\n".join(lines) + "\n" if lines else "[]\n"
