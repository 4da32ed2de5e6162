"""The conventional-commit parser: pure text → changes."""

from __future__ import annotations

from release.commits import Change, bump_level, parse_commit, parse_header

SHA = "a" * 40


def one(message: str) -> Change:
    changes = parse_commit(SHA, message)
    assert len(changes) == 1, changes
    return changes[0]


def test_header_type_scope_subject_and_pr() -> None:
    c = one("feat(rbac): add a role (#123)\n\nbody text\n")
    assert (c.type, c.scope, c.subject, c.pr, c.breaking) == ("feat", "rbac", "add a role", 123,
                                                              False)
    assert c.conventional


def test_type_is_lower_cased_and_empty_scope_is_none() -> None:
    c = one("Fix(): handle nil")
    assert (c.type, c.scope, c.subject) == ("fix", None, "handle nil")


def test_bang_marks_breaking_with_subject_as_text() -> None:
    c = one("feat(api)!: drop v1 values")
    assert c.breaking and c.breaking_text == "drop v1 values"


def test_breaking_change_footer_marks_breaking_and_keeps_its_text() -> None:
    c = one("fix: rename key\n\nLonger body.\n\nBREAKING CHANGE: `foo` is now `bar`\n"
            "and continues here\nRefs: #9\n")
    assert c.breaking
    assert c.breaking_text == "`foo` is now `bar` and continues here"


def test_breaking_dash_footer_variant() -> None:
    c = one("feat: x\n\nBREAKING-CHANGE: values moved")
    assert c.breaking and c.breaking_text == "values moved"


def test_breaking_both_ways_combines_footer_text() -> None:
    c = one("feat!: x\n\nBREAKING CHANGE: y")
    assert c.breaking and c.breaking_text == "y"


def test_word_breaking_in_body_is_not_a_footer() -> None:
    assert not one("fix: a\n\nthis is not a BREAKING CHANGE: really").breaking


def test_non_conventional_message_is_other() -> None:
    c = one("Update README with more words (#7)")
    assert (c.type, c.conventional, c.subject, c.pr) == ("other", False,
                                                         "Update README with more words", 7)


def test_colon_without_space_is_not_conventional() -> None:
    assert not one("feat:nospace").conventional


def test_merge_commit_has_no_changes() -> None:
    assert parse_commit(SHA, "Merge pull request #4 from a/b\n\nfeat: x", merge=True) == []


def test_empty_message_has_no_changes() -> None:
    assert parse_commit(SHA, "\n\n") == []


def test_revert_names_the_reverted_sha() -> None:
    target = "b" * 40
    c = one(f'Revert "feat(chart): add probe (#5)"\n\nThis reverts commit {target}.\n')
    assert (c.type, c.reverts, c.subject, c.scope, c.pr) == ("revert", target,
                                                             "feat(chart): add probe", "chart", 5)


def test_conventional_revert_type_with_sha() -> None:
    c = one("revert: undo x\n\nThis reverts commit abcdef1234.")
    assert c.type == "revert" and c.reverts == "abcdef1234"


def test_squash_body_yields_one_change_per_bullet() -> None:
    changes = parse_commit(SHA, "feat: the PR title (#10)\n\n* feat(a): one (#11)\n\n"
                                "* fix: two\n\n* wip typo\n\n- perf(b)!: three\n")
    assert [(c.type, c.scope, c.subject, c.breaking) for c in changes] == [
        ("feat", "a", "one", False), ("fix", None, "two", False), ("perf", "b", "three", True)]
    assert changes[0].pr == 11


def test_squash_with_breaking_title_keeps_the_title() -> None:
    changes = parse_commit(SHA, "feat!: big (#1)\n\n* feat: a\n* fix: b\n")
    assert [c.subject for c in changes] == ["big", "a", "b"]
    assert changes[0].breaking


def test_single_bullet_is_just_a_body() -> None:
    c = one("fix: real subject\n\n* feat: mentioned in passing\n")
    assert (c.type, c.subject) == ("fix", "real subject")


def test_unicode_and_crlf() -> None:
    c = one("feat(ü): größer 🚀 naïve\r\n\r\nBREAKING CHANGE: ß\r\n")
    assert (c.scope, c.subject, c.breaking_text) == ("ü", "größer 🚀 naïve", "ß")


def test_parse_header_helper() -> None:
    assert parse_header(SHA, "docs: x").type == "docs"


def test_bump_level() -> None:
    def c(t: str, breaking: bool = False) -> Change:
        return Change(SHA, t, None, "s", breaking=breaking)

    assert bump_level([]) is None
    assert bump_level([c("docs"), c("chore")]) is None
    assert bump_level([c("fix")]) == "patch"
    assert bump_level([c("perf"), c("docs")]) == "patch"
    assert bump_level([c("fix"), c("feat")]) == "minor"
    assert bump_level([c("feat"), c("fix")]) == "minor"
    assert bump_level([c("docs", breaking=True), c("feat")]) == "major"
    assert bump_level([c("revert")]) == "patch"
