from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from release.config import load_settings
from release.errors import BadInput, Conflict, RemoteError
from release.gitrepo import GitRepo
from release.hotfix import cut_hotfix
from tests.charts import DEMO
from tests.gitutil import GitBuilder


@pytest.fixture
def history(gitrepo: GitBuilder) -> dict[str, str]:
    """main: chart → v1.2.3 → fix → feat → v1.3.0."""
    g = gitrepo
    g.commit("feat: chart", dict(DEMO))
    g.tag("v1.2.3", annotated=True)
    fix = g.commit("fix: crash on empty values", {"chart/templates/fix.yaml": "kind: List\n"})
    g.commit("feat: new knob", {"chart/values.yaml": "replicas: 1\nknob: true\n"})
    g.tag("v1.3.0")
    return {"fix": fix}


def settings_for(g: GitBuilder):  # type: ignore[no-untyped-def]
    return load_settings(g.root, environ={})


def test_hotfix_cuts_next_patch_on_release_branch(gitrepo: GitBuilder, history: dict[str, str]) -> None:
    result = cut_hotfix(settings_for(gitrepo), "v1.2.3", [history["fix"]])
    assert (result.branch, result.branch_created, result.tag, result.previous_tag) == (
        "release-1.2", True, "v1.2.4", "v1.2.3")
    assert result.push_command == "git push --atomic origin release-1.2 v1.2.4"
    repo = GitRepo(gitrepo.root)
    assert repo.current_branch() == "main" and not repo.is_dirty()
    assert repo.tag_commit("v1.2.4") == repo.rev_parse("refs/heads/release-1.2") == result.commit
    log = gitrepo.git("log", "--format=%s", "v1.2.3..v1.2.4").splitlines()
    assert log == ["chore(release): v1.2.4", "fix: crash on empty values"]
    body = gitrepo.git("log", "-1", "--format=%b", "v1.2.4~1")
    assert f"(cherry picked from commit {history['fix']})" in body
    chart = gitrepo.git("show", "v1.2.4:chart/Chart.yaml")
    assert "version: 1.2.4" in chart and 'appVersion: "1.2.4"' in chart
    assert not repo.is_ancestor("v1.3.0", "v1.2.4")  # main's feature did not leak in


def test_second_hotfix_reuses_branch(gitrepo: GitBuilder, history: dict[str, str]) -> None:
    cut_hotfix(settings_for(gitrepo), "v1.2.3", [history["fix"]])
    later = gitrepo.commit("fix(chart): second", {"chart/templates/fix2.yaml": "kind: List\n"})
    result = cut_hotfix(settings_for(gitrepo), "v1.2.3", [later])
    assert (result.branch_created, result.tag, result.previous_tag) == (False, "v1.2.5", "v1.2.4")


def test_conflict_leaves_nothing_behind(gitrepo: GitBuilder, history: dict[str, str]) -> None:
    clash = gitrepo.commit("fix: rewrite values", {"chart/values.yaml": "completely: different\n"})
    before = gitrepo.git("for-each-ref")
    with pytest.raises(BadInput) as info:
        cut_hotfix(settings_for(gitrepo), "v1.2.3", [history["fix"], clash])
    message = str(info.value)
    assert "conflicts in chart/values.yaml" in message and "git cherry-pick -x" in message
    assert gitrepo.git("for-each-ref") == before  # no branch, no tag, nothing moved
    assert GitRepo(gitrepo.root).current_branch() == "main"
    assert gitrepo.git("status", "--porcelain") == ""


def test_conflict_on_reused_branch_restores_it(gitrepo: GitBuilder, history: dict[str, str]) -> None:
    cut_hotfix(settings_for(gitrepo), "v1.2.3", [history["fix"]])
    branch_before = gitrepo.git("rev-parse", "release-1.2")
    clash = gitrepo.commit("fix: values", {"chart/values.yaml": "other: 1\n"})
    with pytest.raises(BadInput):
        cut_hotfix(settings_for(gitrepo), "v1.2.3", [clash])
    assert gitrepo.git("rev-parse", "release-1.2") == branch_before


def test_refusals(gitrepo: GitBuilder, history: dict[str, str]) -> None:
    s = settings_for(gitrepo)
    with pytest.raises(BadInput, match="does not exist"):
        cut_hotfix(s, "v9.9.9")
    with pytest.raises(BadInput, match="pre-release"):
        cut_hotfix(s, "v1.2.3-rc.1")
    with pytest.raises(BadInput, match="not 'v' \\+ strict SemVer"):
        cut_hotfix(s, "v1.2")
    (gitrepo.root / "chart/values.yaml").write_text("dirty: true\n")
    with pytest.raises(BadInput, match="uncommitted changes"):
        cut_hotfix(s, "v1.2.3")


def test_taken_tag_is_a_conflict(gitrepo: GitBuilder, history: dict[str, str]) -> None:
    gitrepo.tag("v1.2.4", "HEAD")  # someone tagged main by mistake
    with pytest.raises(Conflict, match=r"v1\.2\.4 already exists"):
        cut_hotfix(settings_for(gitrepo), "v1.2.3", [history["fix"]])
    assert "release-1.2" not in gitrepo.git("branch")


def test_push_sends_branch_and_tag(gitrepo: GitBuilder, history: dict[str, str], tmp_path: Path) -> None:
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    gitrepo.git("remote", "add", "origin", str(remote))
    result = cut_hotfix(settings_for(gitrepo), "v1.2.3", [history["fix"]], push=True)
    assert result.pushed
    refs = subprocess.run(["git", "for-each-ref", "--format=%(refname)"], cwd=remote,
                          capture_output=True, text=True, check=True).stdout.split()
    assert "refs/heads/release-1.2" in refs and "refs/tags/v1.2.4" in refs


def test_push_is_all_or_nothing(gitrepo: GitBuilder, history: dict[str, str],
                                tmp_path: Path) -> None:
    """The remote refuses the tag (an update hook): without an atomic push the branch would
    land alone, and its release-PR run would tag and release the hotfix itself."""
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    hook = remote / "hooks" / "update"
    hook.write_text('#!/bin/sh\ncase "$1" in refs/tags/*) echo "no tags" >&2; exit 1;; esac\n')
    hook.chmod(0o755)
    gitrepo.git("remote", "add", "origin", str(remote))
    with pytest.raises(RemoteError) as info:
        cut_hotfix(settings_for(gitrepo), "v1.2.3", [history["fix"]], push=True)
    assert "git push --atomic origin release-1.2 v1.2.4" in str(info.value)
    refs = subprocess.run(["git", "for-each-ref", "--format=%(refname)"], cwd=remote,
                          capture_output=True, text=True, check=True).stdout.split()
    assert refs == []
    repo = GitRepo(gitrepo.root)  # the hotfix itself is done here, ready to push again
    assert repo.tag_commit("v1.2.4") == repo.rev_parse("refs/heads/release-1.2")
