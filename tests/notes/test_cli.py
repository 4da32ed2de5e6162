"""`notes`, `changelog` and `github-release` end to end through the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import respx

from tests.conftest import run_main
from tests.fakegithub import TOKEN, FakeGitHub
from tests.gitutil import GitBuilder


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    return run_main(list(argv), capsys)


@pytest.fixture
def repo(gitrepo: GitBuilder) -> GitBuilder:
    gitrepo.write("pyproject.toml", '[tool.ameide-release]\ngithub-repository = "o/r"\n')
    gitrepo.commit("feat: first", files={"chart/a": "1", "pyproject.toml":
                                         '[tool.ameide-release]\ngithub-repository = "o/r"\n'})
    gitrepo.tag("v1.0.0")
    gitrepo.commit("fix(rbac): second (#5)")
    gitrepo.commit("docs: outside", files={"docs/x.md": "x"})
    gitrepo.tag("v1.1.0")
    return gitrepo


def test_notes_for_tag_md_and_json(repo: GitBuilder, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--repo", str(repo.root), "notes", "--tag", "v1.1.0")
    assert code == 0 and out.startswith("## [1.1.0](https://github.com/o/r/compare/v1.0.0...v1.1.0)")
    assert "**rbac:** second" in out and "outside" not in out
    code, out, _ = run(capsys, "--repo", str(repo.root), "notes", "--tag", "v1.1.0",
                       "--format", "json", "--all-paths")
    data = json.loads(out)
    assert (data["previous_tag"], data["bump"]) == ("v1.0.0", "patch")
    assert [c["subject"] for c in data["changes"]] == ["second", "outside"]
    assert data["markdown"].startswith("## [1.1.0]")


def test_notes_default_is_tag_at_head_else_unreleased(repo: GitBuilder,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "--repo", str(repo.root), "notes")
    assert out.startswith("## [1.1.0]")
    repo.commit("feat: pending")
    _, out, _ = run(capsys, "--repo", str(repo.root), "notes")
    assert out.startswith("## [Unreleased]") and "pending" in out
    _, out, _ = run(capsys, "--repo", str(repo.root), "notes", "--unreleased", "--artifacthub")
    assert out.startswith("- kind: \"added\"\n  description: \"pending\"")


def test_notes_errors(repo: GitBuilder, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "--repo", str(repo.root), "notes", "--tag", "v9.9.9")
    assert code == 2 and err.startswith("error: release tag 'v9.9.9' does not exist")
    assert err.count("\n") == 1
    code, _, err = run(capsys, "--repo", str(repo.root), "notes", "--tag", "v1.1.0",
                       "--unreleased")
    assert code == 2 and "both given" in err
    code, _, err = run(capsys, "--repo", str(repo.root), "notes", "--format", "xml")
    assert code == 2 and "invalid choice: 'xml' (choose from 'md', 'json')" in err
    assert err.count("\n") == 1


def test_changelog_stdout_output_and_update(repo: GitBuilder,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    root = str(repo.root)
    code, full, _ = run(capsys, "--repo", root, "changelog")
    assert code == 0 and full.index("v1.1.0 -->") < full.index("v1.0.0 -->")
    target = repo.root / "CHANGELOG.md"
    code, _, err = run(capsys, "--repo", root, "changelog", "--output", str(target))
    assert code == 0 and target.read_text() == full
    target.write_text(full + "\nhand edit\n")  # untracked edits: a rewrite would lose them
    code, _, err = run(capsys, "--repo", root, "changelog", "--output", str(target))
    assert code == 3 and "git does not hold" in err
    assert target.read_text().endswith("hand edit\n")
    repo.git("add", "CHANGELOG.md")
    repo.git("commit", "-q", "-m", "docs: changelog")
    code, _, _ = run(capsys, "--repo", root, "changelog", "--output", str(target))
    assert code == 0 and target.read_text() == full  # git holds the old content

    target.unlink()
    code, _, err = run(capsys, "--repo", root, "changelog", "--update", "--tag", "v1.0.0")
    assert code == 0 and "added v1.0.0" in err
    code, _, err = run(capsys, "--repo", root, "changelog", "--update")
    assert code == 0 and "added v1.1.0" in err
    before = target.read_bytes()
    code, _, err = run(capsys, "--repo", root, "changelog", "--update")
    assert code == 0 and "unchanged" in err and target.read_bytes() == before
    assert target.read_text() == full


def test_github_release_end_to_end(repo: GitBuilder, tmp_path: Path,
                                   capsys: pytest.CaptureFixture[str],
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    tgz = tmp_path / "chart-1.1.0.tgz"
    tgz.write_bytes(b"archive")
    argv = ["--repo", str(repo.root), "github-release", "--tag", "v1.1.0", "--asset", str(tgz)]
    with respx.mock(assert_all_called=False) as router:
        fake = FakeGitHub(router)
        code, out, err = run(capsys, *argv)
        assert code == 0, err
        assert out.startswith("created release v1.1.0: https://github.com/o/r/releases/tag/v1.1.0")
        assert "uploaded: chart-1.1.0.tgz, SHA256SUMS" in out
        body = fake.releases["v1.1.0"]["body"]
        assert "**rbac:** second" in body and "Full changelog" in body
        fake.calls.clear()
        code, out, _ = run(capsys, *argv, "--json")
        assert code == 0 and json.loads(out)["action"] == "unchanged"
        assert fake.calls == ["GET /repos/o/r/releases/tags/v1.1.0"]
        tgz.write_bytes(b"different")
        code, _, err = run(capsys, *argv)
        assert code == 3 and "--force" in err
    assert TOKEN not in out + err


def test_github_release_without_token(repo: GitBuilder, capsys: pytest.CaptureFixture[str],
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    monkeypatch.delenv("GH_TOKEN", raising=False)
    code, _, err = run(capsys, "--repo", str(repo.root), "github-release", "--tag", "v1.1.0")
    assert code == 2 and "GITHUB_TOKEN" in err


def test_console_script_in_a_subprocess(repo: GitBuilder) -> None:
    proc = subprocess.run([sys.executable, "-m", "release", "--repo", str(repo.root), "notes",
                           "--tag", "v1.0.0"], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("## 1.0.0 (") and "first" in proc.stdout


def test_github_s_words_reach_the_terminal_without_escapes(
        repo: GitBuilder, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A release URL GitHub answers is printed, but not a terminal escape inside it."""
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    argv = ["--repo", str(repo.root), "github-release", "--tag", "v1.1.0"]
    with respx.mock(assert_all_called=False) as router:
        fake = FakeGitHub(router)
        assert run(capsys, *argv)[0] == 0
        fake.releases["v1.1.0"]["html_url"] = "https://github.com/o/r\x1b]0;owned\x07\x1b[2J\u202e"
        code, out, err = run(capsys, *argv)
    assert code == 0, err
    assert out.startswith("unchanged release v1.1.0: https://github.com/o/r?]0;owned??[2J?")
    assert not any(c in out + err for c in "\x1b\x07\u202e")
