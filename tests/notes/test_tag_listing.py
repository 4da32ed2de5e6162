"""One release reads its tags by name and asks git for the few commits it needs
(`GitRepo.tag_names`, `tag_commits`, `release_tags_near`); every answer is the one the full
listing (`GitRepo.tags`, `release_tags`) gives."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from release import limits
from release.errors import BadInput
from release.gitrepo import GitRepo
from release.notes import all_releases, collect, release_tags, release_tags_near
from tests.gitutil import GitBuilder
from tests.notes.conftest import make_settings


def names_by_git(repo: GitRepo) -> list[str]:
    return sorted(repo.git("for-each-ref", "--format=%(refname:strip=2)", "refs/tags").split())


def logging_git(tmp_path: Path, on_ref_format: str = "") -> tuple[dict[str, str], Path]:
    """An environment whose `git` is a shim that logs each command line to the returned file
    (then runs the real git); `on_ref_format` replaces what `--show-ref-format` answers."""
    real = subprocess.run(["sh", "-c", "command -v git"], capture_output=True, text=True,
                          check=True).stdout.strip()
    log = tmp_path / "git.log"
    shim = tmp_path / "bin" / "git"
    shim.parent.mkdir()
    answer = (f'case "$*" in *--show-ref-format*) {real} "$@" | sed \'$s/.*/{on_ref_format}/\'; '
              "exit ;; esac\n" if on_ref_format else "")
    shim.write_text(f'#!/bin/sh\necho "$*" >> {log}\n{answer}exec {real} "$@"\n')
    shim.chmod(0o755)
    return {**os.environ, "PATH": f"{shim.parent}:{os.environ['PATH']}"}, log


def commands_run(log: Path) -> list[str]:
    return [line.split()[0] for line in log.read_text().splitlines()]


def test_names_come_from_loose_and_packed_refs_and_match_git(gitrepo: GitBuilder) -> None:
    gitrepo.commit("feat: one")
    gitrepo.tag("v1.0.0", annotated=True)
    gitrepo.tag("chart/v1.0.0")  # a prefix with a slash: a subdirectory of refs/tags
    gitrepo.git("pack-refs", "--all")
    gitrepo.commit("fix: two")
    gitrepo.tag("v1.0.1")
    gitrepo.tag("v1.0.2-rc.1", annotated=True)
    gitrepo.git("tag", "-d", "v1.0.0")  # deleted from packed-refs too
    repo = GitRepo(gitrepo.root)
    assert repo.tag_names() == names_by_git(repo) == ["chart/v1.0.0", "v1.0.1", "v1.0.2-rc.1"]
    assert repo.tag_commits(repo.tag_names()) == {t.name: t.sha for t in repo.tags()}


def test_a_stale_lock_file_or_a_broken_ref_is_no_tag(gitrepo: GitBuilder) -> None:
    gitrepo.commit("feat: one")
    gitrepo.tag("v1.0.0-rc")
    tags_dir = gitrepo.root / ".git/refs/tags"
    (tags_dir / "v1.0.0-rc.lock").write_bytes((tags_dir / "v1.0.0-rc").read_bytes())
    (tags_dir / "v9.0.0").write_text("0" * 40 + "\n")  # points at no object
    (tags_dir / "v8.0.0").write_text("not a ref\n")
    repo = GitRepo(gitrepo.root)
    assert {"v1.0.0-rc.lock", "v9.0.0", "v8.0.0"} <= set(repo.tag_names())
    assert repo.tag_commits(repo.tag_names()) == {"v1.0.0-rc": gitrepo.head()}
    s = make_settings(gitrepo)
    assert [t.name for t in release_tags_near(repo, "v", "v1.0.0-rc")] == ["v1.0.0-rc"]
    assert collect(repo, s, "v1.0.0-rc") == collect(repo, s, "v1.0.0-rc",
                                                       tags=release_tags(repo, "v"))


def test_a_worktree_reads_the_shared_tags(gitrepo: GitBuilder, tmp_path: Path) -> None:
    gitrepo.commit("feat: one")
    gitrepo.tag("v1.0.0")
    gitrepo.git("worktree", "add", "-q", str(tmp_path / "wt"))
    repo = GitRepo(tmp_path / "wt")
    assert repo.tag_names() == ["v1.0.0"]


def test_a_tag_of_a_tree_is_no_release(gitrepo: GitBuilder) -> None:
    gitrepo.commit("feat: one")
    gitrepo.tag("v1.0.0")
    tree = gitrepo.git("rev-parse", "HEAD^{tree}").strip()
    gitrepo.git("tag", "v2.0.0", tree)
    gitrepo.git("tag", "-a", "-m", "tag of a tag", "v3.0.0", "v1.0.0")
    repo = GitRepo(gitrepo.root)
    assert repo.tag_commits(["v1.0.0", "v2.0.0", "v3.0.0", "nope"]) == {
        "v1.0.0": gitrepo.head(), "v3.0.0": gitrepo.head()}


def test_too_many_tags_is_bad_input(gitrepo: GitBuilder, monkeypatch: pytest.MonkeyPatch) -> None:
    gitrepo.commit("feat: one")
    for n in range(4):
        gitrepo.tag(f"v1.0.{n}")
    monkeypatch.setattr(limits, "TAG_NAMES_MAX", 3)
    with pytest.raises(BadInput, match="more than 3 tags"):
        GitRepo(gitrepo.root).tag_names()
    gitrepo.git("pack-refs", "--all")
    with pytest.raises(BadInput, match="more than 3 tags"):
        GitRepo(gitrepo.root).tag_names()


def test_hostile_packed_refs_lines_are_skipped(gitrepo: GitBuilder) -> None:
    gitrepo.commit("feat: one")
    gitrepo.tag("v1.0.0")
    gitrepo.git("pack-refs", "--all")
    packed = gitrepo.root / ".git/packed-refs"
    sha = gitrepo.head()
    # the tail of an overlong line reads like a line of its own
    packed.write_bytes(packed.read_bytes() + f"{sha} refs/tags/v2.0.0".encode() + b"x" * 10_000
                       + f" refs/tags/v3.0.0\n{sha} refs/tags/\xff\xfe\n".encode("latin-1"))
    repo = GitRepo(gitrepo.root)
    assert "v1.0.0" in repo.tag_names()
    assert not any(n.startswith(("v2.0.0", "v3.0.0")) for n in repo.tag_names())
    assert [t.name for t in release_tags_near(repo, "v", "v1.0.0")] == ["v1.0.0"]


def side_tags(g: GitBuilder, count: int) -> None:
    """v1.0.0 on main, then `count` releases v1.1.0.. on a side branch that main never merges,
    then v2.0.0 on main: v2.0.0's previous release is v1.0.0, behind `count` candidates that
    are no ancestors."""
    g.commit("feat: base")
    g.tag("v1.0.0")
    g.git("checkout", "-q", "-b", "side")
    for n in range(1, count + 1):
        g.commit(f"fix: side {n}")
        g.tag(f"v1.{n}.0", annotated=n % 2 == 0)
    g.checkout("main")
    g.commit("feat: main")
    g.tag("v2.0.0")


@pytest.mark.parametrize("count", [11, 12, 13, 30])
def test_previous_release_behind_many_candidates(gitrepo: GitBuilder, count: int) -> None:
    side_tags(gitrepo, count)
    repo = GitRepo(gitrepo.root)
    s = make_settings(gitrepo)
    near = collect(repo, s, "v2.0.0")
    assert near.previous_tag == "v1.0.0"
    assert near == collect(repo, s, "v2.0.0", tags=release_tags(repo, "v"))
    assert len(release_tags_near(repo, "v", "v2.0.0")) <= 14  # the tag and 13 candidates


def test_one_release_runs_no_full_listing(gitrepo: GitBuilder, tmp_path: Path) -> None:
    """`notes --tag` on many tags: no for-each-ref (the full listing) at all."""
    side_tags(gitrepo, 3)
    for n in range(200):
        gitrepo.tag(f"v0.0.{n}")
    env, log = logging_git(tmp_path)
    out = subprocess.run([sys.executable, "-m", "release", "--repo", str(gitrepo.root), "notes",
                          "--tag", "v2.0.0"], capture_output=True, text=True, env=env, check=True)
    assert "main" in out.stdout
    commands = commands_run(log)
    assert "for-each-ref" not in commands and commands.count("cat-file") == 1


def test_another_ref_backend_leaves_the_listing_to_git(
        gitrepo: GitBuilder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A git that stores refs in reftable (2.45+, `--show-ref-format` says so) has no loose
    files to list: the names come from for-each-ref."""
    gitrepo.commit("feat: one")
    gitrepo.tag("v1.0.0")
    env, log = logging_git(tmp_path, on_ref_format="reftable")
    monkeypatch.setenv("PATH", env["PATH"])
    repo = GitRepo(gitrepo.root)
    assert repo.tag_names() == ["v1.0.0"]
    assert commands_run(log) == ["rev-parse", "for-each-ref"]


def many_tags_then_hotfix(g: GitBuilder) -> str:
    """Thirty releases on main, then a hotfix v1.0.1 on a branch from v1.0.0: returns the
    hotfix commit, whose tag is far below the thirty highest."""
    g.commit("feat: base")
    g.tag("v1.0.0")
    base = g.head()
    for n in range(1, 31):
        g.commit(f"feat: main {n}")
        g.tag(f"v1.{n}.0", annotated=n % 3 == 0)
    g.git("checkout", "-q", "-b", "release-1.0", base)
    g.commit("fix: hotfix")
    g.tag("v1.0.1", annotated=True)
    hotfix = g.head()
    g.checkout("main")
    return hotfix


@pytest.mark.parametrize("rev", ["HEAD", "hotfix", "untagged", "v1.29.0", "v1.0.0"])
@pytest.mark.parametrize("tag_at_rev", [True, False])
def test_unreleased_and_tag_at_head_agree_with_the_full_listing(
        gitrepo: GitBuilder, rev: str, tag_at_rev: bool) -> None:
    hotfix = many_tags_then_hotfix(gitrepo)
    if rev == "hotfix":
        rev = hotfix
    elif rev == "untagged":
        rev = gitrepo.commit("fix: after the last release")
    repo = GitRepo(gitrepo.root)
    s = make_settings(gitrepo)
    near = collect(repo, s, None, rev=rev, tag_at_rev=tag_at_rev)
    assert near == collect(repo, s, None, rev=rev, tag_at_rev=tag_at_rev,
                           tags=release_tags(repo, "v"))
    if tag_at_rev:
        expected = {"HEAD": "v1.30.0", hotfix: "v1.0.1", "v1.29.0": "v1.29.0", "v1.0.0": "v1.0.0"}
        assert near.tag == expected.get(rev)


def test_notes_on_a_tagged_head_runs_no_full_listing(gitrepo: GitBuilder, tmp_path: Path) -> None:
    many_tags_then_hotfix(gitrepo)
    env, log = logging_git(tmp_path)
    for args, heading in ((["notes"], "## [1.30.0]"), (["notes", "--unreleased"], "## [Unreleased]")):
        log.write_text("")
        out = subprocess.run([sys.executable, "-m", "release", "--repo", str(gitrepo.root),
                              *args], capture_output=True, text=True, env=env, check=True)
        assert out.stdout.startswith(heading), out.stdout
        assert "for-each-ref" not in commands_run(log), commands_run(log)


def test_all_releases_with_the_tags_given_is_the_same(gitrepo: GitBuilder) -> None:
    many_tags_then_hotfix(gitrepo)
    repo = GitRepo(gitrepo.root)
    s = make_settings(gitrepo)
    listed = list(all_releases(repo, s))
    assert len(listed) == 32
    assert list(all_releases(repo, s, tags=release_tags(repo, "v"))) == listed


def test_a_tag_of_a_tag_on_head_below_the_highest_is_found(gitrepo: GitBuilder) -> None:
    """git before 2.42 peels one level for --points-at: a hotfix tag that wraps another
    annotated tag must still name HEAD's release."""
    hotfix = many_tags_then_hotfix(gitrepo)
    gitrepo.git("tag", "-d", "v1.0.1")
    gitrepo.git("tag", "-a", "-m", "inner", "inner-1.0.1", hotfix)
    gitrepo.git("tag", "-a", "-m", "outer", "v1.0.1", "inner-1.0.1")
    repo = GitRepo(gitrepo.root)
    s = make_settings(gitrepo)
    near = collect(repo, s, None, rev=hotfix, tag_at_rev=True)
    assert near.tag == "v1.0.1"
    assert near == collect(repo, s, None, rev=hotfix, tag_at_rev=True,
                           tags=release_tags(repo, "v"))


def test_a_missing_tag_is_not_found_through_git_s_name_lookup(gitrepo: GitBuilder) -> None:
    """git resolves `refs/tags/X` also as `refs/tags/refs/tags/X`: a tag that does not exist
    must not borrow an oddly named one's commit."""
    gitrepo.commit("feat: one")
    gitrepo.tag("v1.0.0")
    gitrepo.commit("feat: two")
    gitrepo.git("checkout", "-q", "-b", "side")
    gitrepo.commit("feat: on a side branch")
    gitrepo.tag("refs/tags/v2.0.0")  # a tag literally named so
    gitrepo.checkout("main")
    repo = GitRepo(gitrepo.root)
    s = make_settings(gitrepo)
    planned = collect(repo, s, "v2.0.0", planned=True)
    assert planned == collect(repo, s, "v2.0.0", planned=True, tags=release_tags(repo, "v"))
    assert [c.subject for c in planned.changes] == ["two"]
    with pytest.raises(BadInput, match="does not exist"):
        collect(repo, s, "v2.0.0")


@pytest.mark.parametrize("target", ["/dev/zero", "fifo"])
def test_a_packed_refs_that_never_ends_is_refused_not_read_forever(
        gitrepo: GitBuilder, target: str) -> None:
    gitrepo.commit("feat: one")
    gitrepo.tag("v1.0.0")
    packed = gitrepo.root / ".git/packed-refs"
    if target == "fifo":
        os.mkfifo(packed)
    else:
        packed.symlink_to(target)
    with pytest.raises(BadInput, match="packed-refs"):
        GitRepo(gitrepo.root).tag_names()


def test_an_unreadable_tag_directory_is_skipped_as_git_does(
        gitrepo: GitBuilder, monkeypatch: pytest.MonkeyPatch) -> None:
    gitrepo.commit("feat: one")
    gitrepo.tag("v1.0.0")
    gitrepo.tag("team/v1.0.0")
    real = os.scandir

    def scandir(path: str) -> object:
        if str(path).endswith("/team"):
            raise PermissionError(13, "Permission denied", path)
        return real(path)

    monkeypatch.setattr(os, "scandir", scandir)
    assert GitRepo(gitrepo.root).tag_names() == ["v1.0.0"]
