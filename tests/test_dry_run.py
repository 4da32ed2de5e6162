from __future__ import annotations

import json
import os
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.charts import DEMO
from tests.conftest import CliResult, release_archive
from tests.gitutil import GitBuilder

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def repo(gitrepo: GitBuilder) -> GitBuilder:
    gitrepo.commit("feat: demo chart", dict(DEMO))
    gitrepo.tag("v1.2.3")
    gitrepo.commit("fix(chart): quote the image tag", {"chart/templates/fix.yaml": "kind: List\n"})
    gitrepo.commit("feat(chart): add a knob <b>bold</b>", {"chart/values.yaml": "knob: 1\n"})
    gitrepo.commit("docs: readme only", {"docs/x.md": "x\n"})
    return gitrepo


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """Any attempt to open a connection or resolve a name is recorded and fails."""
    attempts: list[Any] = []

    def refuse(*args: Any, **kwargs: Any) -> Any:
        attempts.append(args)
        raise OSError("network disabled by the test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    yield attempts


def snapshot(g: GitBuilder) -> tuple[str, str, bytes, str, list[str]]:
    """Everything a dry run must leave alone: status, refs, index bytes, HEAD, files in .git."""
    git_files = sorted(str(p.relative_to(g.root)) for p in (g.root / ".git").rglob("*"))
    index = (g.root / ".git/index").read_bytes()  # before our own status, which must not write
    status = g.git("--no-optional-locks", "status", "--porcelain", "--untracked-files=all")
    return (status, g.git("for-each-ref"), index, (g.root / ".git/HEAD").read_text(), git_files)


def test_dry_run_shows_the_whole_plan_offline_and_changes_nothing(
        repo: GitBuilder, cli: Callable[..., CliResult], no_network: list[Any]) -> None:
    # Make the index's stat cache stale, as after any checkout: a careless `git status` would
    # rewrite .git/index to refresh it.
    for path in (repo.root / "chart").rglob("*.yaml"):
        os.utime(path, (1_000_000_000, 1_000_000_000))
    before = snapshot(repo)
    result = cli("--repo", str(repo.root), "dry-run")
    assert result.code == 0, result
    assert snapshot(repo) == before
    assert no_network == []
    out = result.out
    head = repo.head()
    assert "Release v1.3.0 — dry run" in out
    assert "minor since v1.2.3" in out  # decided by the feat commit
    assert 'version     1.3.0 (appVersion "1.3.0")' in out
    assert f"image tags  1.3.0, 1.3, {head}" in out
    assert "demo-1.3.0.tgz sha256:" in out
    assert "push        oci://ghcr.io/ameideio/charts/demo:1.3.0" in out
    assert "previous    v1.2.3" in out
    assert "release v1.3.0 on ameideio/ameide-core (prerelease: false, latest: true)" in out
    assert "changelog   CHANGELOG.md would gain v1.3.0 at the top" in out
    assert "lint        ok (helm_python" in out
    assert "quote the image tag" in out
    assert "add a knob \\<b>bold\\</b>" in out  # HTML in subjects is neutralised
    assert "readme only" not in out  # docs/ is outside the chart's notes paths


def test_dry_run_json(repo: GitBuilder, cli: Callable[..., CliResult], no_network: list[Any]) -> None:
    result = cli("--repo", str(repo.root), "dry-run", "--tag", "v2.0.0-rc.1", "--json")
    assert result.code == 0, result
    plan = json.loads(result.out)
    assert plan["version"] == plan["appVersion"] == "2.0.0-rc.1"
    assert plan["prerelease"] is True and plan["tag_exists"] is False
    assert plan["image_tags"] == ["2.0.0-rc.1", repo.head()]  # no floating 2.0 for an rc
    assert plan["package"]["digest"].startswith("sha256:")
    assert plan["oci_reference"] == "oci://ghcr.io/ameideio/charts/demo:2.0.0-rc.1"
    gh = plan["github_release"]
    assert gh["prerelease"] is True and gh["make_latest"] == "false"
    assert [a["name"] for a in gh["assets"]] == ["demo-2.0.0-rc.1.tgz", "SHA256SUMS"]
    assert plan["notes"].startswith("## [2.0.0-rc.1](")
    assert no_network == []


def test_dry_run_of_an_existing_tag_rebuilds_that_commit(
        repo: GitBuilder, cli: Callable[..., CliResult], tmp_path: Path) -> None:
    result = cli("--repo", str(repo.root), "dry-run", "--tag", "v1.2.3", "--json")
    assert result.code == 0, result
    plan = json.loads(result.out)
    expected = release_archive(repo.root, "v1.2.3", tmp_path)
    assert plan["package"]["digest"] == expected.digest
    assert plan["tag_exists"] is True and plan["at_head"] is False
    assert plan["github_release"]["make_latest"] == "true"


def test_dry_run_rejects_a_bad_tag(repo: GitBuilder, cli: Callable[..., CliResult]) -> None:
    result = cli("--repo", str(repo.root), "dry-run", "--tag", "1.2.3")
    assert result.code == 2
    assert result.err.startswith("error: tag '1.2.3' does not start with the tag prefix 'v'")
    assert "Traceback" not in result.err


def test_dry_run_on_this_repository_chart(cli: Callable[..., CliResult], no_network: list[Any]) -> None:
    """The README's main command, on the project's own chart and configuration."""
    result = cli("--repo", str(ROOT), "dry-run", "--json")
    assert result.code == 0, result
    plan = json.loads(result.out)
    assert plan["package"]["name"] == "ameide-operators"
    assert plan["oci_reference"].startswith("oci://ghcr.io/ameideio/charts/ameide-operators:")
    assert any(f.startswith("ameide-operators/files/crds/") for f in plan["package"]["files"])
    assert no_network == []


def test_dry_run_in_a_repository_without_commits(gitrepo: GitBuilder,
                                                 cli: Callable[..., CliResult]) -> None:
    result = cli("--repo", str(gitrepo.root), "dry-run")
    assert result.code == 2
    assert "has no commits yet" in result.err and "Traceback" not in result.err
