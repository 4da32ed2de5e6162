"""Release data → Markdown.

Templates get *views* prepared here: sections in the order the `sections` setting gives (breaking
changes always first), entries grouped by scope, entry texts already made safe by
`release.markdown.inline` (the author's Markdown kept, danger removed, references linked),
breaking changes with their footer description and migration hint, and the contributors line.
Raw values stay available (`e.subject`, `e.scope`) and the `md` filter escapes anything else a
template shows.

The bundled templates (`release/templates/*.md.j2`) document the format and are what a
`templates` directory overrides by file name. Without such a directory the same output is built
by plain Python (`_Bundled`), which keeps Jinja2 (70 ms of imports) out of a one-release run;
a test holds both to byte-identical output.

Rendering has no side effects: no git, no files written. GitHub facts (logins, pull-request
labels) come through a `Lookup`; without one, people are shown by name.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, TextIO

from release import limits
from release.commits import OTHER, Change
from release.config import parse_label_sections, parse_sections
from release.contributors import Person
from release.errors import BadInput
from release.markdown import LinkTarget, inline, md_escape, mention

if TYPE_CHECKING:
    import jinja2

    from release.config import Settings
    from release.notes import Release

BUNDLED = Path(__file__).parent / "templates"
MAX_SUBJECT = 300  # characters; longer texts are cut with "…" (the commit link has the rest)
BREAKING = "breaking"
NO_CHANGES = "_No changes to the chart in this release._"
FIRST = " (first contribution)"


class Lookup(Protocol):
    """GitHub facts the notes may show (`release.enrich` asks the API; tests pass fakes)."""

    def login(self, person: Person) -> str | None: ...

    def labels(self, pr: int) -> tuple[str, ...]: ...


def shorten(text: str, limit: int = MAX_SUBJECT) -> str:
    """One line of at most `limit` characters, cut with "…"."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def web_root(settings: Settings) -> str:
    """https://github.com, or the GitHub Enterprise host the `github-api` setting names."""
    api = str(settings["github-api"]).rstrip("/")
    return "https://github.com" if api == "https://api.github.com" else api.removesuffix("/api/v3")


def web_url(settings: Settings) -> str:
    """https://github.com/owner/name (or the GitHub Enterprise equivalent) of the repository."""
    return f"{web_root(settings)}/{settings.github_repository}"


def link_target(settings: Settings) -> LinkTarget:
    return LinkTarget(web_root(settings), settings.github_repository, str(settings["mentions"]))


class Entry(NamedTuple):  # the views are NamedTuples: cheap to define and to build
    type: str
    scope: str | None
    subject: str  # raw
    text: str  # safe Markdown, references linked
    breaking: bool
    sha: str
    short: str
    commit_url: str
    pr: int | None
    pr_url: str | None
    closes: str  # ", closes [#45](…)" or ""
    description: str | None  # breaking entries: the BREAKING CHANGE footer, when it says more
    migration: str | None  # breaking entries: the migration hint
    line: str  # the bundled format: "**scope:** text ([#pr](url)) ([sha](url)), closes …"


class Section(NamedTuple):
    key: str
    title: str  # raw: templates show it through `| md`
    entries: tuple[Entry, ...]


class Contributor(NamedTuple):
    name: str
    login: str | None
    first: bool
    bot: bool
    md: str  # "@login" or the escaped name, then " (first contribution)" when it is


class ReleaseView(NamedTuple):
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
    contributors: tuple[Contributor, ...] = ()  # none when the release shows no change
    contributors_line: str = ""
    body: str = ""  # the sections rendered by sections.md.j2


class Layout:
    """The `sections` and `label-sections` settings, parsed once per run."""

    def __init__(self, settings: Settings) -> None:
        self.breaking_title = "Breaking changes"
        self.slots: list[tuple[str, str]] = []  # (key, title) in order
        self.by_type: dict[str, str] = {}
        self.star_at: int | None = None
        self.star_title: str | None = None
        for types, title in parse_sections(list(settings["sections"])):
            if types == (BREAKING,):
                self.breaking_title = title or self.breaking_title
            elif types == ("*",):
                self.star_at, self.star_title = len(self.slots), title
            else:
                self.slots.append((types[0], title or types[0].capitalize()))
                for t in types:
                    self.by_type[t] = types[0]
        self.titles = dict(self.slots)
        self.labels = parse_label_sections(list(settings["label-sections"]))

    def key(self, change: Change, labels: tuple[str, ...]) -> str | None:
        """The section a change goes to, or None when its type is hidden."""
        if labels:
            for label, key in self.labels:
                if label in labels:
                    return key
        kind = change.type if change.conventional else OTHER
        found = self.by_type.get(kind)
        if found is not None or self.star_at is None or kind == OTHER:
            return found
        return "*" if self.star_title else kind

    def order(self, keys: Iterable[str]) -> list[tuple[str, str]]:
        present = set(keys)
        listed = [(k, t) for k, t in self.slots if k in present]
        if self.star_at is None:
            return listed
        if self.star_title:
            starred = [("*", self.star_title)] if "*" in present else []
        else:
            starred = [(k, k.capitalize()) for k in sorted(present - self.titles.keys())]
        at = sum(1 for k, _ in self.slots[: self.star_at] if k in present)
        return listed[:at] + starred + listed[at:]


def _scope_key(entry: Entry) -> tuple[bool, str]:
    return (entry.scope is not None, (entry.scope or "").lower())


class Renderer:
    """Everything one run needs to turn releases into Markdown: settings parsed once, the link
    target, the template environment when a `templates` directory is set, and the lookup."""

    def __init__(self, settings: Settings, lookup: Lookup | None = None) -> None:
        self.settings = settings
        self.lookup = lookup
        self.target = link_target(settings)
        self.repo_url = self.target.repo_url
        self.layout = Layout(settings)
        self.people = str(settings["contributors"])
        self.env = environment(settings) if settings["templates"] else None

    # --- views -----------------------------------------------------------------------------
    def entry(self, change: Change, breaking: bool = False) -> Entry:
        repo_url, target = self.repo_url, self.target
        pr = change.pr
        pr_url = f"{repo_url}/pull/{pr}" if pr is not None else None
        text = inline(change.subject, target, MAX_SUBJECT)
        sha = change.sha
        short = sha[:7]
        commit_url = f"{repo_url}/commit/{sha}"
        closes = ""
        if change.closes:
            refs = [inline(r, target) for r in change.closes if r not in change.subject]
            if refs:
                closes = ", closes " + ", ".join(refs)
        description = migration = None
        if breaking:
            told = change.breaking_text
            if told and told != change.subject:
                description = inline(told, target, MAX_SUBJECT * 4)
            if change.migration:
                migration = inline(change.migration, target, MAX_SUBJECT * 4)
        # Built here rather than in the template: 20,000 entries through Jinja's per-fragment
        # generators cost more than the rest of a full changelog's rendering.
        scope = change.scope
        line = (f"**{_plain(scope)}:** {text}" if scope else text) + (
            f" ([#{pr}]({pr_url})) ([{short}]({commit_url})){closes}" if pr_url
            else f" ([{short}]({commit_url})){closes}")
        return Entry(change.type, scope, change.subject, text, breaking, sha, short, commit_url,
                     pr, pr_url, closes, description, migration, line)

    def sections(self, changes: Sequence[Change]) -> tuple[Section, ...]:
        """Changes (oldest first) → sections in the configured order, breaking first; entries
        grouped by scope (unscoped first, then scopes alphabetically; commit order inside)."""
        groups: dict[str, list[Entry]] = {}
        lookup, layout, entry = self.lookup, self.layout, self.entry
        ask = lookup is not None and bool(layout.labels)
        for change in changes:
            if change.breaking:
                groups.setdefault(BREAKING, []).append(entry(change, breaking=True))
            labels = lookup.labels(change.pr) if ask and change.pr and lookup else ()
            key = layout.key(change, labels)
            if key is not None:
                found = groups.get(key)
                if found is None:
                    groups[key] = [entry(change)]
                else:
                    found.append(entry(change))
        order = [(BREAKING, layout.breaking_title)] if BREAKING in groups else []
        order += layout.order(k for k in groups if k != BREAKING)
        return tuple(Section(k, title, tuple(sorted(groups[k], key=_scope_key)))
                     for k, title in order)

    def contributors(self, people: Sequence[Person]) -> tuple[Contributor, ...]:
        if self.people == "none":
            return ()
        out: list[Contributor] = []
        for p in people:
            if p.bot and self.people == "humans":
                continue  # before any lookup: a bot costs no request
            login = self.lookup.login(p) if self.lookup is not None else None
            bot = p.bot or bool(login and login.endswith("[bot]"))
            if bot and self.people == "humans":
                continue
            shown = mention(login, self.target) if login else _plain(p.name)
            out.append(Contributor(p.name, login, p.first, bot, shown + (FIRST if p.first else "")))
        out.sort(key=lambda c: c.md.casefold())
        return tuple(out)

    def view(self, release: Release) -> ReleaseView:
        """The template-facing view of a release, its sections already rendered into `body`."""
        repo_url = self.repo_url
        compare = None
        if release.previous_tag:
            head = release.tag or release.sha
            compare = f"{repo_url}/compare/{release.previous_tag}...{head}"
        secs = self.sections(release.changes)
        people = self.contributors(release.people) if secs else ()
        version = str(release.version) if release.version is not None else None
        bare = ReleaseView(
            tag=release.tag,
            title=version or "Unreleased",
            version=version,
            date=release.date,
            previous_tag=release.previous_tag,
            compare_url=compare,
            url=f"{repo_url}/releases/tag/{release.tag}" if release.tag else None,
            prerelease=release.prerelease,
            sections=secs,
            empty=not secs,
            contributors=people,
            contributors_line=", ".join(c.md for c in people),
        )
        if self.env is None:
            return bare._replace(body=_Bundled.sections(bare))
        return bare._replace(body=self.render("sections.md.j2", r=bare).rstrip("\n"))

    # --- documents -------------------------------------------------------------------------
    def render(self, name: str, **context: Any) -> str:
        assert self.env is not None
        return _strip(_jinja(self.env, name, context, self.repo_url))

    def notes(self, release: Release) -> str:
        if self.env is None:
            return _Bundled.release(self.view(release))
        return self.render("notes.md.j2", r=self.view(release))

    def github_body(self, release: Release) -> str:
        if self.env is None:
            return _Bundled.github_body(self.view(release))
        return self.render("github-release.md.j2", r=self.view(release))

    def changelog_entry(self, release: Release) -> str:
        if self.env is None:
            return _Bundled.entry(self.view(release))
        return self.render("changelog-entry.md.j2", r=self.view(release))

    def write_changelog(self, releases: Iterable[Release], out: TextIO) -> int:
        """The whole changelog, written release by release: only one release's view and text
        exist at a time. Into a seekable `out`, releases of a `ReleaseStream` are written while
        git still reads the history (should it have to start over, `out` is cut back). Returns
        the number of releases written."""
        from release.notes import ReleaseStream

        count = 0
        if self.env is None:
            out.write(_Bundled.HEADER)
            if isinstance(releases, ReleaseStream) and out.seekable():
                mark = out.tell()

                def restart() -> None:  # every release comes again: forget those written
                    nonlocal count
                    _cut(out, mark)
                    count = 0

                releases.on_restart = restart
            for release in releases:
                out.write("\n" + _Bundled.entry(self.view(release)))
                count += 1
            return count

        def views() -> Iterator[ReleaseView]:
            nonlocal count
            for release in releases:
                count += 1
                yield self.view(release)

        stream = _generate(self.env, "changelog.md.j2", {"releases": views()}, self.repo_url)
        _write_stripped(stream, out)
        return count


@functools.lru_cache(maxsize=4096)
def _plain(text: str) -> str:
    """`md_escape` for the texts that repeat on every release: scopes, names, titles."""
    return md_escape(text)


class _Bundled:
    """The bundled templates as plain Python (kept byte-identical by a test)."""

    HEADER = ("# Changelog\n\nAll notable changes to the AMEIDE operators chart. Entries are "
              "written by\n`ameide-release changelog --update` from conventional commits; hand "
              "edits below a release survive.\n")

    @staticmethod
    def sections(r: ReleaseView) -> str:
        parts = [NO_CHANGES + "\n"] if r.empty else []
        last = len(r.sections) - 1
        for k, s in enumerate(r.sections):
            parts.append(f"### {_plain(s.title)}\n\n")
            for e in s.entries:
                parts.append(f"- {e.line}\n")
                if e.description:
                    parts.append(f"  {e.description}\n")
                if e.migration:
                    parts.append(f"  **Migration:** {e.migration}\n")
            if k != last:
                parts.append("\n")
        if r.contributors:
            parts.append(f"\n### Contributors\n\n{r.contributors_line}\n")
        return "".join(parts).strip("\n")

    @staticmethod
    def release(r: ReleaseView) -> str:
        head = f"[{r.title}]({r.compare_url})" if r.compare_url else r.title
        date = f" ({r.date})" if r.date else ""
        return f"## {head}{date}\n\n{r.body}\n"

    @staticmethod
    def entry(r: ReleaseView) -> str:
        return f"<!-- release: {r.tag} -->\n" + _Bundled.release(r)

    @staticmethod
    def github_body(r: ReleaseView) -> str:
        tail = f"\n\n**Full changelog**: {r.compare_url}" if r.compare_url else ""
        return f"{r.body}{tail}\n"


def environment(settings: Settings) -> jinja2.Environment:
    """Templates from the `templates` setting first, then the bundled ones. A templates
    directory is code someone else may have written (a pull request can change it), and what it
    renders is published: it runs in Jinja's immutable sandbox, where attribute tricks
    (`''.__class__.__mro__`) and calls that change data fail with a template error, and it reads
    only regular files inside the directory (`_ProjectTemplates`), so no `include` can publish
    /proc/self/environ or a file a symlink points at."""
    import jinja2
    import jinja2.sandbox

    project_templates, sandbox = _loader_classes()
    loaders: list[jinja2.BaseLoader] = []
    custom = str(settings["templates"] or "")
    if custom:
        loaders.append(project_templates(_templates_dir(settings, custom)))
    loaders.append(jinja2.FileSystemLoader(str(BUNDLED)))
    kind = sandbox if custom else jinja2.Environment
    env = kind(
        loader=jinja2.ChoiceLoader(loaders), autoescape=False, keep_trailing_newline=True,
        auto_reload=False,
        trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined)
    env.filters["md"] = md_escape
    return env


def _templates_dir(settings: Settings, custom: str) -> Path:
    """The `templates` setting as a directory inside the project (really: after links)."""
    root = Path(settings.root).resolve()
    path = (root / custom).resolve()
    if Path(custom).is_absolute() or not path.is_relative_to(root) or path == root:
        raise BadInput(f"templates {custom[:100]!r} is not a directory inside the project",
                       "set templates to a relative path such as templates/ (empty = bundled)")
    if not path.is_dir():
        raise BadInput(f"templates directory {path} does not exist",
                       "create it or fix the 'templates' setting (empty = bundled templates)")
    return path


@functools.cache
def _loader_classes() -> tuple[type[Any], type[Any]]:
    """Built on first use: jinja2 stays out of start-up for commands that render nothing."""
    import jinja2
    import jinja2.sandbox

    class ProjectTemplates(jinja2.BaseLoader):
        """Regular files inside one directory, none behind a symlink, each at most
        limits.TEMPLATE_MAX bytes; a name that fails that is bad input, not a fallback to the
        bundled template (the project meant its own)."""

        def __init__(self, root: Path) -> None:
            self.root = root

        def get_source(self, environment: jinja2.Environment, template: str,
                       ) -> tuple[str, str, Callable[[], bool]]:
            from jinja2.loaders import split_template_path

            from release.yamlread import read_text_file

            path = self.root.joinpath(*split_template_path(template))
            if not path.exists() and not path.is_symlink():
                raise jinja2.TemplateNotFound(template)
            if path.resolve() != path:
                raise BadInput(f"template {template[:100]!r} is a symbolic link or lies behind "
                               "one", f"keep templates as plain files inside {self.root}")
            text = read_text_file(path, f"template {template[:100]}",
                                  max_bytes=limits.TEMPLATE_MAX)
            return text, str(path), lambda: True

    class Sandbox(jinja2.sandbox.ImmutableSandboxedEnvironment):
        """Jinja's immutable sandbox with `range` and repetition (`'x' * n`) held to a budget,
        so a template cannot loop or allocate without end."""

        intercepted_binops = frozenset({"*", "**"})

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.globals["range"] = self._range
            self._budget = limits.TEMPLATE_WORK_MAX

        def _charge(self, units: int) -> None:
            self._budget -= max(units, 0)
            if self._budget < 0:
                raise jinja2.exceptions.SecurityError(
                    f"the template does more than {limits.TEMPLATE_WORK_MAX} steps of range() "
                    "or repetition")

        def _range(self, *args: int) -> range:
            r = range(*args)
            self._charge(len(r))
            return r

        def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
            if operator == "**":
                raise jinja2.exceptions.SecurityError("'**' is not allowed in templates")
            if isinstance(left, str | list | tuple) and isinstance(right, int):
                self._charge(len(left) * right)
            elif isinstance(right, str | list | tuple) and isinstance(left, int):
                self._charge(len(right) * left)
            return super().call_binop(context, operator, left, right)

    return ProjectTemplates, Sandbox


def _template_error(name: str, exc: Exception) -> BadInput:
    import jinja2

    if isinstance(exc, jinja2.TemplateSyntaxError):
        return BadInput(f"template {exc.name or name} line {exc.lineno}: {exc.message}",
                        "fix the template or remove it to use the bundled one")
    return BadInput(f"template {name} failed: {exc}",
                    "fix the template or remove it to use the bundled one")


def _generate(env: jinja2.Environment, name: str, context: Mapping[str, Any],
              repo_url: str) -> Iterator[str]:
    import jinja2

    left = limits.RENDERED_MAX
    try:
        for piece in env.get_template(name).generate(repo_url=repo_url, **context):
            left -= len(piece)
            if left < 0:
                raise BadInput(f"template {name} renders more than {limits.RENDERED_MAX} "
                               "characters", "fix the template (a loop without end?)")
            yield piece
    except jinja2.TemplateError as exc:
        raise _template_error(name, exc) from None


def _jinja(env: jinja2.Environment, name: str, context: Mapping[str, Any], repo_url: str) -> str:
    return "".join(_generate(env, name, context, repo_url))


def _cut(out: TextIO, mark: int) -> None:
    out.seek(mark)
    out.truncate()


def _strip(text: str) -> str:
    return text.strip("\n") + "\n"


def _write_stripped(chunks: Iterable[str], out: TextIO) -> None:
    """Write `chunks` as `_strip` would shape their concatenation, holding back only newlines."""
    started = False
    pending = ""
    for chunk in chunks:
        if not started:
            chunk = chunk.lstrip("\n")
            if not chunk:
                continue
            started = True
        body = chunk.rstrip("\n")
        if body:
            out.write(pending + body)
            pending = chunk[len(body):]
        else:
            pending += chunk
    out.write("\n")


# --- the functions the commands call -----------------------------------------------------------

def render_notes(release: Release, settings: Settings, lookup: Lookup | None = None) -> str:
    """The Markdown `ameide-release notes` prints (no side effects)."""
    return Renderer(settings, lookup).notes(release)


def render_github_body(release: Release, settings: Settings,
                       lookup: Lookup | None = None) -> str:
    """The body of the GitHub release (no side effects)."""
    return Renderer(settings, lookup).github_body(release)


def render_changelog_entry(release: Release, settings: Settings,
                           lookup: Lookup | None = None) -> str:
    """One release as it sits in CHANGELOG.md, starting with its `<!-- release: TAG -->` marker."""
    return Renderer(settings, lookup).changelog_entry(release)


def write_changelog(releases: Iterable[Release], settings: Settings, out: TextIO,
                    lookup: Lookup | None = None) -> int:
    """The whole CHANGELOG.md over `releases` (highest version first), streamed to `out`;
    returns the number of releases."""
    return Renderer(settings, lookup).write_changelog(releases, out)


def render_changelog(releases: Iterable[Release], settings: Settings,
                     lookup: Lookup | None = None) -> str:
    """`write_changelog` into a string (the empty changelog is the header `--update` uses)."""
    buf = io.StringIO()
    write_changelog(releases, settings, buf, lookup)
    return buf.getvalue()
