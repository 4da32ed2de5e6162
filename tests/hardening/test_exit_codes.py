"""What used to end in exit 1 ("internal error") now says what failed and exits 2, 3 or 4:
full or read-only disks, Ctrl-C, git failures that are not conflicts, remotes that refuse."""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.charts import DEMO
from tests.conftest import CliResult
from tests.gitutil import GitBuilder


@pytest.fixture
def demo(gitrepo: GitBuilder) -> GitBuilder:
    gitrepo.commit("feat: demo chart", dict(DEMO))
    gitrepo.tag("v1.2.3", annotated=True)
    return gitrepo


@contextlib.contextmanager
def tmpfs(path: Path, options: str) -> Iterator[Path]:
    """A real small or read-only file system where the machine lets us mount one (root in a
    sandbox, CI); elsewhere the same failure from the OS call itself."""
    path.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)],
                             capture_output=True, check=False).returncode == 0
    if not mounted:
        import errno
        import os

        code = errno.EROFS if "ro" in options.split(",") else errno.ENOSPC
        real_open = os.open

        def failing(file: str, flags: int, *args: object) -> int:
            if str(file).startswith(str(path)) and flags & (os.O_WRONLY | os.O_RDWR):
                raise OSError(code, os.strerror(code), file)
            return real_open(file, flags, *args)  # type: ignore[arg-type]

        patcher = pytest.MonkeyPatch()
        patcher.setattr(os, "open", failing)
    try:
        yield path
    finally:
        if mounted:
            subprocess.run(["umount", str(path)], check=False)
        else:
            patcher.undo()


def fill(directory: Path) -> None:
    """Fill a small file system to the last byte."""
    with (directory / "filler").open("wb", buffering=0) as fh:
        try:
            while True:
                fh.write(b"x" * 512)
        except OSError:
            pass


def one_line(result: CliResult, code: int) -> str:
    assert result.code == code, result
    assert result.err.count("\n") == 1 and "Traceback" not in result.err, result
    return result.err


def test_a_full_disk_is_exit_4_naming_the_file(demo: GitBuilder, tmp_path: Path,
                                               cli: Callable[..., CliResult]) -> None:
    with tmpfs(tmp_path / "small", "size=64k") as out:
        fill(out)
        err = one_line(cli("--repo", str(demo.root), "package", "--tag", "v1.2.3", "--out",
                           str(out)), 4)
        assert "demo-1.2.3.tgz" in err and "No space left on device" in err
        assert [p.name for p in out.iterdir()] == ["filler"]  # no half file, no temporary


def test_a_read_only_output_is_exit_4_naming_the_file(demo: GitBuilder, tmp_path: Path,
                                                      cli: Callable[..., CliResult]) -> None:
    with tmpfs(tmp_path / "ro", "ro,size=64k") as out:
        err = one_line(cli("--repo", str(demo.root), "package", "--tag", "v1.2.3", "--out",
                           str(out)), 4)
        assert "demo-1.2.3.tgz" in err and "Read-only file system" in err


def test_a_changelog_on_a_full_disk_keeps_its_old_content(demo: GitBuilder,
                                                          cli: Callable[..., CliResult]) -> None:
    with tmpfs(demo.root / "docs", "size=64k") as docs:
        changelog = docs / "CHANGELOG.md"
        changelog.write_text("# Changelog\n")
        fill(docs)
        err = one_line(cli("--repo", str(demo.root), "--changelog", "docs/CHANGELOG.md",
                           "changelog", "--update", "--tag", "v1.2.3"), 4)
        assert "CHANGELOG.md" in err
        assert changelog.read_text() == "# Changelog\n"


def test_ctrl_c_is_one_line_and_130(demo: GitBuilder, tmp_path: Path,
                                    cli: Callable[..., CliResult],
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    import release.package

    def interrupted(*args: object, **kwargs: object) -> bytes:
        raise KeyboardInterrupt

    monkeypatch.setattr(release.package, "write_archive", interrupted)
    err = one_line(cli("--repo", str(demo.root), "package", "--tag", "v1.2.3", "--out",
                       str(tmp_path)), 130)
    assert err.startswith("interrupted")


def test_a_cherry_pick_without_git_identity_says_so_not_conflict(
        demo: GitBuilder, tmp_path: Path, cli: Callable[..., CliResult],
        monkeypatch: pytest.MonkeyPatch) -> None:
    fix = demo.commit("fix: urgent", {"chart/values.yaml": "replicas: 3\n"})
    demo.git("config", "--unset", "user.name")
    demo.git("config", "--unset", "user.email")
    home = tmp_path / "home"
    home.mkdir()
    for name in ("HOME", "XDG_CONFIG_HOME"):
        monkeypatch.setenv(name, str(home))
    for name in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME",
                 "GIT_COMMITTER_EMAIL", "EMAIL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    branches = demo.git("branch", "--list")
    err = one_line(cli("--repo", str(demo.root), "hotfix", "--from", "v1.2.3", "--pick", fix),
                   2)
    assert "conflict" not in err and ("identity" in err or "user.email" in err
                                      or "Author identity" in err), err
    assert demo.git("branch", "--list") == branches  # rolled back


def test_a_push_that_the_remote_refuses_is_exit_4_and_keeps_the_local_release(
        demo: GitBuilder, tmp_path: Path, cli: Callable[..., CliResult]) -> None:
    fix = demo.commit("fix: urgent", {"chart/values.yaml": "replicas: 3\n"})
    demo.git("remote", "add", "origin", str(tmp_path / "no-such-remote.git"))
    err = one_line(cli("--repo", str(demo.root), "hotfix", "--from", "v1.2.3", "--pick", fix,
                       "--push"), 4)
    assert "could not push to origin" in err
    assert demo.git("tag", "--list", "v1.2.4").strip() == "v1.2.4"  # nothing lost


def test_a_pyproject_of_the_wrong_types_is_exit_2(tmp_path: Path,
                                                  cli: Callable[..., CliResult]) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool]\n"ameide-release" = 5\n')
    assert "must be a table" in one_line(cli("--repo", str(tmp_path), "config"), 2)
    (tmp_path / "pyproject.toml").write_text('[tool.ameide-release]\nnotes-paths = [1, 2]\n')
    assert "list of strings" in one_line(cli("--repo", str(tmp_path), "config"), 2)
