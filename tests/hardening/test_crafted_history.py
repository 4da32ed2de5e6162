"""Crafted commit messages: anyone who can land a commit writes them, and every notes, changelog,
dry-run and publish reads them. Linear time, bounded memory, the right text, one rule for
co-authors, and never a crash."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from release import limits
from release.commits import MAX_CLOSES, parse_commit
from release.contributors import co_authors
from release.gitrepo import GitRepo, nul_fields
from release.notes import all_releases, collect
from tests.conftest import CliResult
from tests.gitutil import GitBuilder
from tests.notes.conftest import make_settings

# --- parsing: each input below took seconds to minutes (or crashed) before ---------------------


def test_a_co_author_line_of_spaces_is_read_in_linear_time() -> None:
    """`[ \\t]*([^<>\\n]*?)[ \\t]*<` backtracked cubically: 8,000 spaces took 98 s."""
    assert co_authors("x\n\nCo-authored-by: " + " " * 50_000 + "x") == []
    assert co_authors("x\n\nCo-authored-by:   Ann  Lee   <ann@example.org>  ") == [
        ("Ann  Lee", "ann@example.org")]


def test_a_pull_request_number_of_5000_digits_is_no_number() -> None:
    """int() refuses more than 4,300 digits: this was `internal error: ValueError`, exit 1."""
    [change] = parse_commit("a" * 40, "fix: thing (#" + "9" * 5000 + ")")
    assert change.pr is None and change.subject.startswith("thing (#999")
    [change] = parse_commit("a" * 40, "fix: thing  (#123456789)  ")
    assert change.pr == 123456789 and change.subject == "thing"


def test_a_subject_with_a_long_run_of_spaces_is_read_in_linear_time() -> None:
    [change] = parse_commit("a" * 40, "fix: a" + " " * 200_000 + "b)")
    assert change.subject.endswith("b)") and change.pr is None


def test_twenty_thousand_breaking_footers_are_read_in_one_pass() -> None:
    body = "".join(f"BREAKING CHANGE: removed option {n}\n" for n in range(20_000))
    [change] = parse_commit("a" * 40, "feat!: many\n\n" + body)
    assert change.breaking and change.breaking_text is not None
    assert change.breaking_text.startswith("removed option 0; removed option 1") or \
        "removed option 19999" in change.breaking_text


def test_closing_references_stop_at_the_cap() -> None:
    body = "Fixes " + " ".join(f"#{n}" for n in range(1, 40_000)) + "\n"
    [change] = parse_commit("a" * 40, "fix: many\n\n" + body * 3)
    assert change.closes == tuple(f"#{n}" for n in range(1, MAX_CLOSES + 1))


# --- reading git's output -----------------------------------------------------------------------


def test_a_character_split_between_two_reads_is_decoded_whole() -> None:
    data = "\0日本語\0ok\0".encode()
    for cut in range(1, len(data)):
        fields = [f for batch in nul_fields([data[:cut], data[cut:]]) for f in batch]
        assert fields == ["", "日本語", "ok", ""], cut


def test_a_giant_field_is_cut_at_the_limit_and_the_next_one_is_whole() -> None:
    chunks = [b"\0"] + [b"x" * 1000] * 50 + [b"\0next\0"]
    fields = [f for batch in nul_fields(chunks, limit=4096) for f in batch]
    assert fields == ["", "x" * 4096, "next", ""]


def test_notes_read_a_long_non_ascii_message_exactly(gitrepo: GitBuilder,
                                                     cli: Callable[..., CliResult]) -> None:
    """A 240 KB body of 3-byte characters crosses several pipe reads; nothing becomes U+FFFD."""
    gitrepo.commit("feat: base")
    gitrepo.tag("v1.0.0")
    text = "日本語のテキスト" * 10_000
    gitrepo.commit(f"feat!: 変更\n\n{text}\n\nBREAKING CHANGE: 設定を{'削除' * 2000}した")
    gitrepo.tag("v2.0.0")
    result = cli("--repo", str(gitrepo.root), "notes", "--tag", "v2.0.0", "--format", "json")
    assert result.code == 0, result
    [change] = json.loads(result.out)["changes"]
    assert change["breaking_text"] == f"設定を{'削除' * 2000}した"


def test_a_message_over_the_limit_is_cut_and_the_history_still_reads(
        gitrepo: GitBuilder, cli: Callable[..., CliResult]) -> None:
    gitrepo.commit("feat: base")
    gitrepo.tag("v1.0.0")
    gitrepo.commit("fix: huge\n\n" + "y" * (limits.COMMIT_FIELD_MAX * 4))
    gitrepo.commit("fix: after (#7)")
    gitrepo.tag("v1.0.1")
    s = make_settings(gitrepo)
    release = collect(GitRepo(gitrepo.root), s, "v1.0.1")
    assert [(c.subject, c.pr) for c in release.changes] == [("huge", None), ("after", 7)]
    assert cli("--repo", str(gitrepo.root), "changelog").code == 0


# --- one rule for who co-authored ---------------------------------------------------------------


def test_notes_and_changelog_agree_on_a_co_author_line_before_a_paragraph(
        gitrepo: GitBuilder) -> None:
    """git's trailer parser ignores a `Co-authored-by:` line that a paragraph follows; the notes
    read it. The first-contribution walk used git's rule and the changelog the notes' rule, so
    the same person was new in `notes` and not in `changelog`."""
    gitrepo.commit("feat: one\n\nCo-authored-by: Xavier <x@example.org>\n\nMore text.")
    gitrepo.tag("v1.0.0")
    gitrepo.commit("fix: two\n\nCo-authored-by: Xavier <x@example.org>")
    gitrepo.tag("v1.0.1")
    repo, s = GitRepo(gitrepo.root), make_settings(gitrepo)
    single = {p.email: p.first for p in collect(repo, s, "v1.0.1").people}
    every = {p.email: p.first for p in
             next(r for r in all_releases(repo, s) if r.tag == "v1.0.1").people}
    assert single == every == {"author@example.com": False, "x@example.org": False}


@pytest.mark.parametrize("merge_first", [False, True])
def test_a_co_author_of_a_merge_is_not_a_contributor_anywhere(gitrepo: GitBuilder,
                                                               merge_first: bool) -> None:
    """A merge's trailers restate its branch's commits: neither rule counts them."""
    gitrepo.commit("feat: base")
    gitrepo.git("branch", "side")
    gitrepo.checkout("side")
    gitrepo.commit("feat: side")
    gitrepo.checkout("main")
    gitrepo.commit("feat: main")
    gitrepo.merge("side", "Merge side\n\nCo-authored-by: Merlin <m@example.org>")
    gitrepo.tag("v1.0.0")
    gitrepo.commit("fix: later\n\nCo-authored-by: Merlin <m@example.org>")
    gitrepo.tag("v1.0.1")
    repo, s = GitRepo(gitrepo.root), make_settings(gitrepo)
    single = {p.email: p.first for p in collect(repo, s, "v1.0.1").people}
    every = {p.email: p.first for p in
             next(r for r in all_releases(repo, s) if r.tag == "v1.0.1").people}
    assert single == every == {"author@example.com": False, "m@example.org": True}
