"""Rendering: section order, scope grouping, escaping, links, templates, golden Markdown."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from release.commits import Change
from release.config import load_settings
from release.errors import BadInput
from release.gitrepo import GitRepo
from release.markdown import md_escape
from release.notes import all_releases, collect
from release.render import (
    Renderer,
    render_changelog,
    render_github_body,
    render_notes,
    shorten,
)
from tests.conftest import CliResult
from tests.gitutil import GitBuilder
from tests.notes.conftest import make_settings

URL = "https://github.com/o/r"


def showcase(g: GitBuilder) -> None:
    """A history with one of everything the notes must handle."""
    g.commit("feat: initial chart")
    g.tag("v1.0.0")
    g.commit("fix(rbac): tighten the role (#12)")
    g.commit("feat(crds)!: rename spec.image to spec.images\n\n"
             "BREAKING CHANGE: `spec.image` is gone; use `spec.images`.")
    g.commit("perf: cache <templates> & helpers")
    g.commit("feat: the PR title (#20)\n\n* feat(agent): agents scale (#18)\n\n"
             "* fix(agent): probe path *really* fixed\n")
    g.commit("docs: explain [links](http://x) and `code` | pipes ~~strike~~")
    g.commit("chore(deps): bump things")
    g.commit("# not a heading <script>alert(1)</script>")
    g.commit("feat(ü): größer 🚀 naïve")
    g.commit("fix: " + "very long subject " * 30)
    g.commit("build: outside the chart", files={"Makefile": "x"})
    g.commit("feat(domain): see (#33) for details")
    g.tag("v1.1.0")


@pytest.fixture
def shown(gitrepo: GitBuilder) -> GitBuilder:
    showcase(gitrepo)
    return gitrepo


def test_md_escape_neutralises_markdown_and_html() -> None:
    assert md_escape("<b>x</b> *y* _z_ [a](b) `c` | ~ & \\") == (
        "\\<b\\>x\\</b\\> \\*y\\* \\_z\\_ \\[a\\](b) \\`c\\` \\| \\~ \\& \\\\")
    assert md_escape("# head") == "\\# head"
    assert md_escape("1. item") == "1\\. item"
    assert md_escape("- dash\nnew line") == "\\- dash new line"


def test_shorten() -> None:
    assert shorten("a  b") == "a b"
    long = shorten("x" * 400)
    assert len(long) == 300 and long.endswith("…")


def test_section_order_and_scope_grouping(tmp_path: Path) -> None:
    def c(t: str, scope: str | None, s: str, **kw: object) -> Change:
        return Change("f" * 40, t, scope, s, **kw)  # type: ignore[arg-type]

    renderer = Renderer(load_settings(tmp_path, {"github-repository": "o/r"}, environ={}))
    secs = renderer.sections([c("chore", None, "c1"), c("fix", "zeta", "f1"), c("fix", None, "f2"),
                     c("fix", "Alpha", "f3"), c("feat", "x", "n1", breaking=True,
                                                 breaking_text="bt"),
                     c("other", None, "o1", conventional=False), c("deps", None, "d1"),
                     c("perf", None, "p1")])
    assert [s.title for s in secs] == ["Breaking changes", "Features", "Bug fixes",
                                       "Performance", "Chores", "Deps", "Other"]
    assert [e.subject for e in secs[2].entries] == ["f2", "f3", "f1"]
    assert secs[0].entries[0].text == "n1" and secs[0].entries[0].description == "bt"


def test_notes_golden(shown: GitBuilder, golden: Callable[[str, str], None]) -> None:
    s = make_settings(shown, github_repository="o/r")
    release = collect(GitRepo(shown.root), s, "v1.1.0")
    text = render_notes(release, s)
    golden("notes-v1.1.0.md", text)
    assert not re.search(r"(?<!\\)<", text) and "\\<script>alert(1)\\</script>" in text
    assert "outside the chart" not in text
    assert text.index("### Breaking changes") < text.index("### Features") < text.index(
        "### Bug fixes") < text.index("### Performance") < text.index("### Documentation")
    assert f"([#12]({URL}/pull/12))" in text
    assert f"see ([#33]({URL}/pull/33)) for details" in text
    assert "größer 🚀 naïve" in text


def test_github_body_golden(shown: GitBuilder, golden: Callable[[str, str], None]) -> None:
    s = make_settings(shown, github_repository="o/r")
    body = render_github_body(collect(GitRepo(shown.root), s, "v1.1.0"), s)
    golden("github-body-v1.1.0.md", body)
    assert not body.startswith("## ") and body.rstrip().endswith(
        f"**Full changelog**: {URL}/compare/v1.0.0...v1.1.0")


def test_changelog_golden(shown: GitBuilder, golden: Callable[[str, str], None]) -> None:
    s = make_settings(shown, github_repository="o/r")
    text = render_changelog(all_releases(GitRepo(shown.root), s), s)
    golden("changelog.md", text)
    assert text.index("<!-- release: v1.1.0 -->") < text.index("<!-- release: v1.0.0 -->")
    assert "## 1.0.0 (" in text  # first release: no compare link


def test_empty_and_unreleased_golden(gitrepo: GitBuilder,
                                     golden: Callable[[str, str], None]) -> None:
    gitrepo.commit("feat: a")
    gitrepo.tag("v1.0.0")
    gitrepo.commit("ci: x", files={".ci/x": "x"})
    s = make_settings(gitrepo, github_repository="o/r")
    text = render_notes(collect(GitRepo(gitrepo.root), s, None), s)
    golden("notes-unreleased-empty.md", text)
    assert "_No changes to the chart in this release._" in text


def test_custom_templates_override_by_name(shown: GitBuilder, tmp_path: Path) -> None:
    tdir = shown.root / "tpl"
    tdir.mkdir()
    (tdir / "notes.md.j2").write_text(
        "{{ r.tag }}:{% for s in r.sections %} {{ s.key }}={{ s.entries|length }}{% endfor %}\n")
    s = make_settings(shown, github_repository="o/r", templates="tpl")
    text = render_notes(collect(GitRepo(shown.root), s, "v1.1.0"), s)
    assert text.startswith("v1.1.0: breaking=1 feat=4 fix=3 perf=1 docs=1 chore=1 other=1")


@pytest.mark.parametrize("payload", [
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ r.__class__.__init__.__globals__ }}",
    "{% set x = [] %}{{ x.append(1) }}",  # the immutable sandbox: no changing data either
    "{{ cycler.__init__.__globals__.os }}",
])
def test_a_templates_directory_runs_sandboxed(shown: GitBuilder, payload: str) -> None:
    tdir = shown.root / "tpl"
    tdir.mkdir()
    (tdir / "notes.md.j2").write_text(payload + "\n")
    s = make_settings(shown, templates="tpl")
    with pytest.raises(BadInput, match=r"template notes\.md\.j2 failed"):
        render_notes(collect(GitRepo(shown.root), s, "v1.1.0"), s)


def test_template_errors_are_bad_input(shown: GitBuilder) -> None:
    tdir = shown.root / "tpl"
    tdir.mkdir()
    (tdir / "notes.md.j2").write_text("{% for %}\n")
    s = make_settings(shown, templates="tpl")
    with pytest.raises(BadInput, match=r"notes\.md\.j2 line 1"):
        render_notes(collect(GitRepo(shown.root), s, "v1.1.0"), s)
    (tdir / "notes.md.j2").write_text("{{ nope.x }}\n")
    with pytest.raises(BadInput, match=r"template notes\.md\.j2 failed"):
        render_notes(collect(GitRepo(shown.root), s, "v1.1.0"), s)
    with pytest.raises(BadInput, match="does not exist"):
        render_notes(collect(GitRepo(shown.root), s, "v1.1.0"),
                     make_settings(shown, templates="missing"))


def test_a_template_cannot_read_files_outside_its_directory(
        shown: GitBuilder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        cli: Callable[..., CliResult]) -> None:
    """What a template renders is published (notes, GitHub release, release PR): an include of
    a symlink to /proc/self/environ printed GITHUB_TOKEN. Only plain files inside the directory
    are read; a templates setting outside the project is refused."""
    monkeypatch.setenv("GITHUB_TOKEN", "ghs_secretvalue")
    secret = tmp_path / "secret.txt"
    secret.write_text("ghs_secretvalue\n")
    tdir = shown.root / "tpl"
    (tdir / "sub").mkdir(parents=True)
    (tdir / "env.txt").symlink_to("/proc/self/environ")
    (tdir / "other.txt").symlink_to(secret)
    (shown.root / "elsewhere").symlink_to(tmp_path)
    (tdir / "sub" / "x.txt").write_text("inside")
    for include in ("env.txt", "other.txt", "../elsewhere/secret.txt"):
        (tdir / "notes.md.j2").write_text(f'{{% include "{include}" %}}\n')
        result = cli("--repo", str(shown.root), "--templates", "tpl", "notes", "--tag", "v1.1.0")
        assert result.code == 2 and "ghs_secretvalue" not in result.out + result.err, result
        assert result.err.count("\n") == 1 and "Traceback" not in result.err
    (tdir / "notes.md.j2").write_text('{% include "sub/x.txt" %}\n')
    assert cli("--repo", str(shown.root), "--templates", "tpl", "notes", "--tag",
               "v1.1.0").out == "inside\n"
    for where in ("/proc/self", "..", "elsewhere", str(tdir)):
        result = cli("--repo", str(shown.root), "--templates", where, "notes", "--tag", "v1.1.0")
        assert result.code == 2 and "inside the project" in result.err, (where, result)


@pytest.mark.parametrize(("payload", "needle"), [
    ("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
     "steps of range"),
    ("{{ 'x' * 1000000000 }}", "steps of range"),
    ("{{ 2 ** 100000000 }}", "not allowed"),
    ("{% for i in range(5000) %}{% for j in range(1000) %}{{ r.url }}{% endfor %}{% endfor %}",
     "renders more than"),
])
def test_a_template_cannot_run_or_grow_without_end(shown: GitBuilder, payload: str,
                                                   needle: str) -> None:
    tdir = shown.root / "tpl"
    tdir.mkdir()
    (tdir / "notes.md.j2").write_text(payload + "\n")
    s = make_settings(shown, templates="tpl")
    with pytest.raises(BadInput, match=needle):
        render_notes(collect(GitRepo(shown.root), s, "v1.1.0"), s)


def test_enterprise_urls(gitrepo: GitBuilder) -> None:
    gitrepo.commit("feat: a (#1)")
    gitrepo.tag("v1.0.0")
    s = make_settings(gitrepo, github_api="https://ghe.example.com/api/v3",
                      github_repository="o/r")
    text = render_notes(collect(GitRepo(gitrepo.root), s, "v1.0.0"), s)
    assert "https://ghe.example.com/o/r/pull/1" in text


def test_notes_artifacthub_prints_what_the_package_step_writes(
        shown: GitBuilder, cli: Callable[..., CliResult]) -> None:
    import yaml

    from release.artifacthub import change_entries, to_yaml_text

    s = make_settings(shown, github_repository="o/r")
    expected = to_yaml_text(change_entries(collect(GitRepo(shown.root), s, "v1.1.0"), s))
    result = cli("--repo", str(shown.root), "--github-repository", "o/r", "notes", "--tag",
                 "v1.1.0", "--artifacthub")
    assert result.code == 0 and result.out == expected
    data = yaml.safe_load(result.out)
    assert {d["kind"] for d in data} >= {"added", "fixed"}
    assert all(link["url"].startswith(URL) for d in data for link in d["links"])


def test_bundled_python_equals_the_bundled_templates(shown: GitBuilder) -> None:
    """Without a templates directory the bundled templates run as plain Python; through Jinja
    (an empty templates directory falls back to them) the bytes are the same."""
    shown.commit("feat!: go\n\nBREAKING CHANGE: all gone. To migrate, come back.\n\n"
                 "Co-authored-by: Zed <zed@example.org>\nFixes #4")
    shown.tag("v2.0.0")
    (shown.root / "tpl").mkdir()
    plain = make_settings(shown, github_repository="o/r")
    jinja = make_settings(shown, github_repository="o/r", templates="tpl")
    repo = GitRepo(shown.root)
    releases = list(all_releases(repo, plain))
    assert render_changelog(releases, plain) == render_changelog(releases, jinja)
    assert render_changelog([], plain) == render_changelog([], jinja)
    unreleased = collect(repo, plain, None)
    for r in [*releases, unreleased]:
        assert render_notes(r, plain) == render_notes(r, jinja)
        assert render_github_body(r, plain) == render_github_body(r, jinja)
    assert "**Migration:** To migrate, come back." in render_notes(releases[0], jinja)
