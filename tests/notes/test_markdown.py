"""The Markdown rule for commit text: golden files per rule, and GitHub's own parser (cmark-gfm)
as the judge that any subject stays exactly one list item with no HTML."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path

import cmarkgfm
import pytest
from cmarkgfm.cmark import Options
from hypothesis import given, settings
from hypothesis import strategies as st

from release.commits import Change
from release.config import load_settings
from release.gitrepo import GitRepo
from release.markdown import LinkTarget, inline, md_escape
from release.notes import Release, collect
from release.render import render_notes
from release.version import Version
from tests.gitutil import GitBuilder
from tests.notes.conftest import make_settings

GH = LinkTarget("https://github.com", "o/r")


def notes_for(g: GitBuilder, *subjects: str, **values: object) -> str:
    g.commit("chore: start")
    g.tag("v1.0.0")
    for s in subjects:
        g.commit(s)
    g.tag("v1.1.0")
    s = make_settings(g, github_repository="o/r", **values)
    return render_notes(collect(GitRepo(g.root), s, "v1.1.0"), s)


def test_code_spans_golden(gitrepo: GitBuilder, golden: Callable[[str, str], None]) -> None:
    text = notes_for(gitrepo,
                     "fix: widen `@scope/devtools` peer range",
                     "fix: ``a `tick` inside`` and `<b>` and `#12` stay code",
                     "fix: an unclosed `backtick leaves the rest alone #5",
                     "feat: *emphasis*, **strong** and ~~gone~~ survive")
    golden("md-code-spans.md", text)
    assert "widen `@scope/devtools` peer range" in text
    assert "``a `tick` inside``" in text and "`#12`" in text  # no link inside code
    assert "unclosed \\`backtick" in text and "[#5](https://github.com/o/r/issues/5)" in text


def test_html_and_block_starts_golden(gitrepo: GitBuilder,
                                      golden: Callable[[str, str], None]) -> None:
    text = notes_for(gitrepo,
                     "fix: <script>alert(1)</script> <!-- release: v9.9.9 --> <img src=x>",
                     "fix: ![tracker](https://evil.example/p.png) and [ok](https://ok.example)",
                     "fix: [bad](javascript:alert(1)) [ref][1] [ ] box | pipe",
                     "# heading", "> quote", "- dash", "1. one", "--- rule", "~~~ fence")
    golden("md-html.md", text)
    assert re.search(r"(?<!\\)<", text) is None and "\\<!-- release: v9.9.9 -->" in text
    assert "\\![tracker](https://evil.example/p.png)" in text and "[ok](https://ok.example)" in text
    assert "\\[bad\\](javascript:alert(1))" in text


def test_mentions_golden(gitrepo: GitBuilder, golden: Callable[[str, str], None],
                         tmp_path: Path) -> None:
    subject = "fix: thanks @alice, @org/team and a@b.example"
    kept = notes_for(gitrepo, subject)
    golden("md-mentions.md", kept)
    assert "thanks @alice, @org/team and a@b.example" in kept
    other = GitBuilder(tmp_path / "code")
    coded = notes_for(other, subject, mentions="code")
    golden("md-mentions-code.md", coded)
    assert "thanks `@alice`, `@org/team` and a@b.example" in coded


def test_references_golden(gitrepo: GitBuilder, golden: Callable[[str, str], None]) -> None:
    text = notes_for(gitrepo,
                     "fix: closes #45 (see #7) (#12)",
                     "fix: GH-3 and other/repo#9 and C#1 and &#35;2",
                     "fix: footer refs\n\nFixes #23197\nCloses: other/repo#4, GH-8",
                     github_api="https://ghe.example.com/api/v3")
    golden("md-references.md", text)
    web = "https://ghe.example.com"
    assert f"closes [#45]({web}/o/r/issues/45) (see [#7]({web}/o/r/issues/7))" in text
    assert f"([#12]({web}/o/r/pull/12))" in text  # the squash-merge PR number
    assert f"[other/repo#9]({web}/other/repo/issues/9)" in text and "C#1" in text
    assert (f", closes [#23197]({web}/o/r/issues/23197), [other/repo#4]({web}/other/repo/issues/4)"
            f", [GH-8]({web}/o/r/issues/8)") in text


def test_breaking_footer_golden(gitrepo: GitBuilder, golden: Callable[[str, str], None]) -> None:
    text = notes_for(gitrepo,
                     "feat(crds)!: rename spec.image\n\nBREAKING CHANGE: `spec.image` is gone.\n"
                     "To migrate, rename it to `spec.images`.",
                     "fix!: drop the v1 API\n\nMigration: run `kubectl convert` first",
                     "feat: plain")
    golden("md-breaking.md", text)
    assert text.index("### Breaking changes") < text.index("### Features")
    assert ("- **crds:** rename spec.image ([" in text
            and "\n  `spec.image` is gone.\n  **Migration:** To migrate, rename it to `spec.images`.\n"
            in text)
    assert "- drop the v1 API ([" in text and "\n  **Migration:** run `kubectl convert` first\n" in text


def test_plain_escape_and_truncation() -> None:
    assert md_escape("<b>x</b> *y* [a](b) | #") == "\\<b\\>x\\</b\\> \\*y\\* \\[a\\](b) \\| #"
    assert inline("fix #123456 word", GH, limit=8) == "fix…"  # a reference is never cut
    assert inline("a `code span` b", GH, limit=8) == "a…"
    assert inline("a\u202eb\x01c\n  d", GH) == "abc d"


# --- GitHub's parser as the judge ---------------------------------------------------------------

class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.hrefs += [v or "" for k, v in attrs if k == "href"]

    def handle_comment(self, data: str) -> None:
        self.tags.append("<!-- comment -->")

    def handle_decl(self, decl: str) -> None:
        self.tags.append("<!declaration>")

    def handle_pi(self, data: str) -> None:
        self.tags.append("<?instruction>")


ALLOWED = {"h2", "h3", "ul", "li", "p", "code", "em", "strong", "del", "a"}
_SETTINGS = load_settings(tempfile.mkdtemp(prefix="md-property-"),
                          {"github-repository": "o/r"}, environ={})
_ALPHABET = st.sampled_from([*"`*_~[]()<>|&#!@-+=.:/\\ \n\t\"'$^{}1aZ", "GH-1", "o/r#2",
                             "http://", "<!--", "-->", "```", "~~~", "\u202e", "\x00", "é"])
SUBJECTS = st.lists(_ALPHABET, max_size=40).map("".join) | st.text(max_size=60)


def _html(subject: str, scope: str | None, breaking: bool) -> tuple[str, _Tags]:
    change = Change("a" * 40, "feat", scope, subject, breaking=breaking,
                    breaking_text=subject + " more" if breaking else None,
                    migration=subject if breaking else None)
    release = Release(tag="v1.0.0", version=Version.parse("1.0.0"), sha="a" * 40,
                      date="2024-01-01", previous_tag=None, previous_version=None,
                      changes=(change,), commits=1)
    markdown = render_notes(release, _SETTINGS)
    html = cmarkgfm.github_flavored_markdown_to_html(markdown, options=Options.CMARK_OPT_UNSAFE)
    parser = _Tags()
    parser.feed(html)
    return html, parser


@settings(max_examples=400, deadline=None)
@given(subject=SUBJECTS, scope=st.none() | SUBJECTS, breaking=st.booleans())
def test_any_subject_is_exactly_one_list_item(subject: str, scope: str | None,
                                              breaking: bool) -> None:
    html, parsed = _html(subject, scope, breaking)
    assert parsed.tags.count("li") == (2 if breaking else 1), html
    assert parsed.tags.count("ul") == (2 if breaking else 1), html
    assert parsed.tags.count("h2") == 1 and parsed.tags.count("h3") == (2 if breaking else 1), html
    assert set(parsed.tags) <= ALLOWED, html
    assert all(h.lower().startswith(("https://", "http://", "ftp://", "mailto:", "#"))
               for h in parsed.hrefs), html


@given(words=st.lists(st.text("abcdefghijklmnopqrstuvwxyz0123456789,;'\"?", min_size=1,
                              max_size=12), min_size=1, max_size=12))
def test_plain_text_shows_as_written(words: list[str]) -> None:
    subject = " ".join(words)
    html, _ = _html(subject, None, False)
    shown = html.replace("&quot;", '"').replace("&#39;", "'")
    assert f"<li>{subject} (<a href=" in shown, html


def test_a_known_hostile_subject_through_cmark() -> None:
    html, parsed = _html("<details open><summary>x</summary>\n# h\n- a\n```\n|a|b|\n|-|-|", "s|c",
                         False)
    assert parsed.tags.count("li") == 1 and set(parsed.tags) <= ALLOWED, html


@pytest.mark.parametrize("text", ["`a` `b", "```x```", "x `` y ` z", "\\`a`", "``", "a`"])
def test_no_subject_leaves_a_code_span_open(text: str) -> None:
    """Whatever follows the subject on its line is not swallowed into a code span."""
    html = cmarkgfm.github_flavored_markdown_to_html("- " + inline(text, GH) + " `tail`\n")
    assert "<code>tail</code>" in html, html
