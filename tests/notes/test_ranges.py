"""Release ranges on real git repositories: previous release, reverts, merges, path scope."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from release.errors import BadInput
from release.gitrepo import GitRepo
from release.notes import Release, all_releases, collect, release_tags
from tests.conftest import CliResult
from tests.gitutil import GitBuilder
from tests.notes.conftest import make_settings


def notes_for(g: GitBuilder, tag: str | None, **kw: object) -> Release:
    settings_kw = {k: kw.pop(k) for k in list(kw) if k in ("notes_paths", "non_conventional")}
    return collect(GitRepo(g.root), make_settings(g, **settings_kw), tag, **kw)  # type: ignore[arg-type]


def subjects(release: Release) -> list[str]:
    return [c.subject for c in release.changes]


def test_first_release_has_no_previous_and_covers_everything(gitrepo: GitBuilder) -> None:
    gitrepo.commit("feat: one")
    gitrepo.commit("fix: two")
    gitrepo.tag("v0.1.0")
    r = notes_for(gitrepo, "v0.1.0")
    assert r.previous_tag is None and r.previous_version is None
    assert subjects(r) == ["one", "two"]
    assert r.date == "2023-11-14" and str(r.version) == "0.1.0" and r.commits == 2


def test_range_stops_at_previous_tag(gitrepo: GitBuilder) -> None:
    gitrepo.commit("feat: old")
    gitrepo.tag("v1.0.0", annotated=True)
    gitrepo.commit("feat: new")
    gitrepo.tag("v1.1.0")
    r = notes_for(gitrepo, "v1.1.0")
    assert r.previous_tag == "v1.0.0" and subjects(r) == ["new"]


def test_hotfix_is_compared_with_its_own_line(gitrepo: GitBuilder) -> None:
    gitrepo.commit("feat: base")
    gitrepo.tag("v1.2.3")
    gitrepo.git("branch", "release-1.2")
    gitrepo.commit("feat: main only")
    gitrepo.tag("v1.3.0")
    gitrepo.checkout("release-1.2")
    gitrepo.commit("fix: hotfix")
    gitrepo.tag("v1.2.4")
    r = notes_for(gitrepo, "v1.2.4")
    assert r.previous_tag == "v1.2.3" and subjects(r) == ["hotfix"]
    # and main's next release does not see the hotfix tag (not reachable) nor its commit
    gitrepo.checkout("main")
    gitrepo.commit("fix: later on main")
    gitrepo.tag("v1.3.1")
    assert notes_for(gitrepo, "v1.3.1").previous_tag == "v1.3.0"


def test_higher_tag_reachable_is_not_previous_of_lower(gitrepo: GitBuilder) -> None:
    # v2.0.0 tagged first, then a lower tag added later on the same line: previous must be lower.
    gitrepo.commit("feat: a")
    gitrepo.tag("v1.0.0")
    gitrepo.commit("feat: b")
    gitrepo.tag("v2.0.0")
    gitrepo.commit("fix: c")
    gitrepo.tag("v1.0.1")
    assert notes_for(gitrepo, "v1.0.1").previous_tag == "v1.0.0"


def test_prereleases_skipped_for_final_unless_since_prerelease(gitrepo: GitBuilder) -> None:
    gitrepo.commit("feat: before")
    gitrepo.tag("v1.0.0")
    gitrepo.commit("feat: in rc1")
    gitrepo.tag("v1.1.0-rc.1")
    gitrepo.commit("fix: in rc2")
    gitrepo.tag("v1.1.0-rc.2")
    gitrepo.commit("fix: after rc")
    gitrepo.tag("v1.1.0")
    final = notes_for(gitrepo, "v1.1.0")
    assert final.previous_tag == "v1.0.0"
    assert subjects(final) == ["in rc1", "in rc2", "after rc"]
    since = notes_for(gitrepo, "v1.1.0", since_prerelease=True)
    assert since.previous_tag == "v1.1.0-rc.2" and subjects(since) == ["after rc"]
    rc2 = notes_for(gitrepo, "v1.1.0-rc.2")
    assert rc2.previous_tag == "v1.1.0-rc.1" and rc2.prerelease and subjects(rc2) == ["in rc2"]


def test_revert_pair_inside_a_release_cancels(gitrepo: GitBuilder) -> None:
    gitrepo.commit("feat: base")
    gitrepo.tag("v1.0.0")
    target = gitrepo.commit("feat: shiny (#3)")
    gitrepo.commit("fix: keep me")
    gitrepo.commit(f'Revert "feat: shiny (#3)"\n\nThis reverts commit {target}.\n')
    gitrepo.tag("v1.1.0")
    assert subjects(notes_for(gitrepo, "v1.1.0")) == ["keep me"]


def test_revert_of_a_revert_restores_the_original(gitrepo: GitBuilder) -> None:
    gitrepo.commit("feat: base")
    gitrepo.tag("v1.0.0")
    target = gitrepo.commit("feat: shiny")
    first = gitrepo.commit(f'Revert "feat: shiny"\n\nThis reverts commit {target}.\n')
    gitrepo.commit(f'Revert "Revert "feat: shiny""\n\nThis reverts commit {first}.\n')
    gitrepo.tag("v1.1.0")
    assert subjects(notes_for(gitrepo, "v1.1.0")) == ["shiny"]


def test_revert_across_releases_is_listed(gitrepo: GitBuilder) -> None:
    target = gitrepo.commit("feat(chart): shiny")
    gitrepo.tag("v1.0.0")
    gitrepo.commit(f'Revert "feat(chart): shiny"\n\nThis reverts commit {target[:12]}.\n')
    gitrepo.tag("v1.0.1")
    r = notes_for(gitrepo, "v1.0.1")
    assert [(c.type, c.scope, c.subject, c.reverts) for c in r.changes] == [
        ("revert", "chart", "feat(chart): shiny", target[:12])]


def test_merge_commits_carry_no_entry_but_their_branch_does(gitrepo: GitBuilder) -> None:
    gitrepo.commit("feat: base")
    gitrepo.tag("v1.0.0")
    gitrepo.git("checkout", "-q", "-b", "topic")
    gitrepo.commit("feat: from topic")
    gitrepo.checkout("main")
    gitrepo.commit("fix: on main")
    gitrepo.merge("topic", "feat: merge message that must not appear")
    gitrepo.tag("v1.1.0")
    r = notes_for(gitrepo, "v1.1.0")
    assert sorted(subjects(r)) == ["from topic", "on main"]


def test_squash_body_entries(gitrepo: GitBuilder) -> None:
    gitrepo.commit("feat: base")
    gitrepo.tag("v1.0.0")
    gitrepo.commit("feat: PR title (#9)\n\n* feat: first\n\n* fix(x): second (#8)\n")
    gitrepo.tag("v1.1.0")
    r = notes_for(gitrepo, "v1.1.0")
    assert [(c.type, c.scope, c.subject) for c in r.changes] == [
        ("feat", None, "first"), ("fix", "x", "second")]


def test_path_scope_and_all_paths(gitrepo: GitBuilder) -> None:
    gitrepo.commit("feat: base")
    gitrepo.tag("v1.0.0")
    gitrepo.commit("feat: chart change")  # default files live under chart/
    gitrepo.commit("fix: tool change", files={"release/x.py": "x"})
    gitrepo.commit("docs: both", files={"chart/README.md": "a", "docs/a.md": "b"})
    gitrepo.tag("v1.1.0")
    assert subjects(notes_for(gitrepo, "v1.1.0")) == ["chart change", "both"]
    assert subjects(notes_for(gitrepo, "v1.1.0", all_paths=True)) == [
        "chart change", "tool change", "both"]
    only_release = notes_for(gitrepo, "v1.1.0", notes_paths="release/")
    assert subjects(only_release) == ["tool change"]


def test_empty_release(gitrepo: GitBuilder) -> None:
    gitrepo.commit("feat: base")
    gitrepo.tag("v1.0.0")
    gitrepo.commit("ci: outside the chart", files={".github/x.yml": "x"})
    gitrepo.tag("v1.0.1")
    r = notes_for(gitrepo, "v1.0.1")
    assert r.changes == () and r.commits == 0 and r.previous_tag == "v1.0.0"


def test_two_tags_on_one_commit_give_an_empty_range(gitrepo: GitBuilder) -> None:
    gitrepo.commit("feat: base")
    gitrepo.tag("v1.0.0-rc.1")
    gitrepo.tag("v1.0.0")
    assert notes_for(gitrepo, "v1.0.0", since_prerelease=True).changes == ()
    assert subjects(notes_for(gitrepo, "v1.0.0")) == ["base"]


def test_tag_on_commit_with_only_non_conventional_commits(gitrepo: GitBuilder) -> None:
    gitrepo.commit("feat: base")
    gitrepo.tag("v1.0.0")
    gitrepo.commit("Update things")
    gitrepo.commit("WIP more")
    gitrepo.tag("v1.0.1")
    r = notes_for(gitrepo, "v1.0.1")
    assert [(c.type, c.conventional) for c in r.changes] == [("other", False)] * 2
    dropped = notes_for(gitrepo, "v1.0.1", non_conventional="drop")
    assert dropped.changes == () and dropped.commits == 2


def test_unreleased_and_planned(gitrepo: GitBuilder) -> None:
    gitrepo.commit("feat: base")
    gitrepo.tag("v1.0.0")
    gitrepo.commit("fix: pending")
    unreleased = notes_for(gitrepo, None)
    assert unreleased.tag is None and unreleased.previous_tag == "v1.0.0"
    assert subjects(unreleased) == ["pending"] and unreleased.date is None
    planned = notes_for(gitrepo, "v1.0.1", planned=True)
    assert planned.tag == "v1.0.1" and subjects(planned) == ["pending"]
    with pytest.raises(BadInput, match="does not exist"):
        notes_for(gitrepo, "v1.0.1")
    with pytest.raises(BadInput, match="not a release tag"):
        notes_for(gitrepo, "banana")


def test_unreleased_in_empty_tag_history(gitrepo: GitBuilder) -> None:
    gitrepo.commit("feat: first ever")
    r = notes_for(gitrepo, None)
    assert r.previous_tag is None and subjects(r) == ["first ever"]


def test_non_release_tags_are_ignored(gitrepo: GitBuilder) -> None:
    gitrepo.commit("feat: a")
    gitrepo.tag("v1.0.0")
    gitrepo.commit("feat: b")
    gitrepo.tag("v1.0.0+build")  # build metadata: not a release tag
    gitrepo.tag("nightly")
    gitrepo.tag("v1.1.0")
    names = [t.name for t in release_tags(GitRepo(gitrepo.root), "v")]
    assert names == ["v1.0.0", "v1.1.0"]


def test_many_non_ancestor_candidates_fall_back_to_one_query(gitrepo: GitBuilder) -> None:
    gitrepo.commit("feat: root")
    gitrepo.tag("v1.0.0")
    base = gitrepo.head()
    for i in range(15):  # fifteen side lines with versions between 1.0.0 and 2.0.0
        gitrepo.git("checkout", "-q", "-b", f"side{i}", base)
        gitrepo.commit(f"fix: side {i}")
        gitrepo.tag(f"v1.{i + 1}.0")
    gitrepo.checkout("main")
    gitrepo.commit("feat!: main")
    gitrepo.tag("v2.0.0")
    r = notes_for(gitrepo, "v2.0.0")
    assert r.previous_tag == "v1.0.0" and subjects(r) == ["main"]


def test_all_releases_matches_collect_for_every_tag(gitrepo: GitBuilder) -> None:
    """The in-memory graph walk of the changelog and git's own ranges agree everywhere."""
    g = gitrepo
    g.commit("feat: a")
    g.tag("v0.1.0")
    t = g.commit("feat: b")
    g.git("checkout", "-q", "-b", "topic")
    g.commit("fix: topic 1")
    g.commit("perf: topic 2", files={"docs/x.md": "x"})
    g.checkout("main")
    g.commit(f'Revert "feat: b"\n\nThis reverts commit {t}.')
    g.merge("topic", "Merge branch topic")
    g.tag("v0.2.0-rc.1")
    g.commit("fix: c")
    g.tag("v0.2.0")
    g.git("branch", "release-0.2")
    g.commit("feat!: d\n\nBREAKING CHANGE: gone")
    g.tag("v1.0.0", annotated=True)
    g.checkout("release-0.2")
    g.commit("fix: hot")
    g.tag("v0.2.1")
    g.checkout("main")
    g.merge("release-0.2", "Merge release-0.2")
    g.commit("fix: e")
    g.tag("v1.0.1")
    repo = GitRepo(g.root)
    for kw in ({}, {"all_paths": True}, {"since_prerelease": True}):
        settings = make_settings(g)
        every = list(all_releases(repo, settings, **kw))  # type: ignore[arg-type]
        assert [r.tag for r in every] == ["v1.0.1", "v1.0.0", "v0.2.1", "v0.2.0",
                                          "v0.2.0-rc.1", "v0.1.0"]
        for r in every:
            assert r == collect(repo, settings, r.tag, **kw)  # type: ignore[arg-type]
    assert {r.tag: r.previous_tag for r in all_releases(repo, make_settings(g))} == {
        "v1.0.1": "v1.0.0", "v1.0.0": "v0.2.0", "v0.2.1": "v0.2.0", "v0.2.0": "v0.1.0",
        "v0.2.0-rc.1": "v0.1.0", "v0.1.0": None}


def test_all_releases_without_tags(gitrepo: GitBuilder) -> None:
    gitrepo.commit("feat: a")
    assert list(all_releases(GitRepo(gitrepo.root), make_settings(gitrepo))) == []


def test_tags_of_every_kind_peel_to_their_commit_or_are_no_release(gitrepo: GitBuilder) -> None:
    """Lightweight, annotated and tag-of-a-tag name their commit; tags of a tree or blob, even
    annotated or release-shaped, are no releases; `merged_into` keeps only reachable ones."""
    first = gitrepo.commit("feat: one", files={"chart/a.txt": "a"})
    gitrepo.tag("v1.0.0")
    gitrepo.tag("v1.1.0", annotated=True)
    gitrepo.git("-c", "advice.nestedTag=false", "tag", "-a", "-m", "nested", "v1.2.0",
                "v1.1.0")
    gitrepo.git("tag", "v9.0.0", "HEAD^{tree}")
    gitrepo.git("tag", "-a", "-m", "tree", "v9.1.0", "HEAD^{tree}")
    gitrepo.git("tag", "-a", "-m", "blob", "v9.2.0", "HEAD:chart/a.txt")
    gitrepo.git("branch", "side")
    gitrepo.checkout("side")
    second = gitrepo.commit("feat: side")
    gitrepo.tag("v2.0.0", annotated=True)
    gitrepo.checkout("main")
    repo = GitRepo(gitrepo.root)
    assert {(t.name, t.sha) for t in repo.tags()} == {
        ("v1.0.0", first), ("v1.1.0", first), ("v1.2.0", first), ("v2.0.0", second)}
    assert {t.name for t in repo.tags(merged_into="HEAD")} == {"v1.0.0", "v1.1.0", "v1.2.0"}
    assert [t.name for t in release_tags(repo, "v")] == ["v1.0.0", "v1.1.0", "v1.2.0", "v2.0.0"]


@pytest.mark.parametrize("command", [["notes", "--tag", "v1.1.0"], ["notes"], ["changelog"],
                                     ["next"], ["dry-run"]])
def test_a_shallow_clone_is_refused_not_half_read(gitrepo: GitBuilder, tmp_path: Path,
                                                  cli: Callable[..., CliResult],
                                                  command: list[str]) -> None:
    """A depth-1 clone gave one-commit notes, no compare links and everyone as new, exit 0."""
    from tests.charts import DEMO

    gitrepo.commit("feat: chart", dict(DEMO))
    gitrepo.tag("v1.0.0")
    gitrepo.commit("fix: one")
    gitrepo.commit("fix: two")
    gitrepo.tag("v1.1.0")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "--depth", "1", "--no-single-branch",
                    f"file://{gitrepo.root}", str(clone)], check=True)
    subprocess.run(["git", "-C", str(clone), "fetch", "-q", "--depth", "1", "--tags"], check=True)
    result = cli("--repo", str(clone), *command)
    assert result.code == 2 and "shallow clone" in result.err and "fetch-depth: 0" in result.err
    assert result.err.count("\n") == 1, result
    subprocess.run(["git", "-C", str(clone), "fetch", "-q", "--unshallow", "--tags"], check=True)
    assert cli("--repo", str(clone), *command).code == 0


def test_a_tag_helm_cannot_load_is_no_release(gitrepo: GitBuilder) -> None:
    """`v18446744073709551616.0.0` was listed by changelog, taken by notes as the release at
    HEAD and bumped by next: release_tags follows parse_tag's rule (numbers up to 2^64-1)."""
    gitrepo.commit("feat: one")
    gitrepo.tag("v1.0.0")
    gitrepo.commit("fix: two")
    gitrepo.tag("v18446744073709551616.0.0")
    gitrepo.tag("v18446744073709551615.0.0")
    gitrepo.tag("v1.0.1+build")
    repo = GitRepo(gitrepo.root)
    assert [t.name for t in release_tags(repo, "v")] == ["v1.0.0", "v18446744073709551615.0.0"]


@pytest.mark.parametrize("paths", ["../elsewhere/", "/etc/", "chart/../../x"])
def test_notes_paths_outside_the_repository_are_a_setting_error(
        gitrepo: GitBuilder, cli: Callable[..., CliResult], paths: str) -> None:
    """This was 'git log failed … check the repository's state'."""
    gitrepo.commit("feat: one")
    gitrepo.tag("v1.0.0")
    result = cli("--repo", str(gitrepo.root), "--notes-paths", paths, "notes")
    assert result.code == 2 and "notes-paths" in result.err and "outside" in result.err, result
