"""Fixtures shared by every test module."""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from release.package import PackageResult
from tests.fakegithub import TOKEN, FakeGitHub, fake_github
from tests.gitutil import GitBuilder

pytest_plugins = ["tests.registry_fixtures"]

# Tests never read or write the developer's own Helm or Docker logins, repositories or cache: our
# code sees these variables from here; Helm's Go engine only sees what the process started with,
# which is why scripts/test exports the same variables before pytest starts.
_HOME = Path(tempfile.mkdtemp(prefix="ameide-release-tests-"))
atexit.register(shutil.rmtree, _HOME, ignore_errors=True)
for _var, _sub in (("HELM_CACHE_HOME", "cache"), ("HELM_CONFIG_HOME", "config"),
                   ("HELM_DATA_HOME", "data"), ("DOCKER_CONFIG", "docker")):
    os.environ.setdefault(_var, str(_HOME / _sub))
# Both HTTP clients honour HTTP(S)_PROXY: on a machine behind a proxy, loopback test servers are
# still reached directly (tests/oci/test_proxy.py sets its own proxy variables).
_LOOPBACK = "127.0.0.1,127.0.0.2,localhost,::1"
for _var in ("NO_PROXY", "no_proxy"):
    os.environ[_var] = ",".join(x for x in (os.environ.get(_var, ""), _LOOPBACK) if x)


def release_archive(root: Path, tag: str, out: Path) -> PackageResult:
    """The archive a release of `tag` publishes (the package step, as `publish` builds it)."""
    from release.config import load_settings
    from release.steps.build import package_step
    from release.target import open_repo, resolve_target

    settings = load_settings(root, environ={})
    target = resolve_target(settings, open_repo(settings), tag)
    return package_step(target, settings, out).package


@pytest.fixture
def github(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGitHub]:
    """GitHub's REST API faked on respx, a token in the environment, outside Actions; the real
    loopback registry is reached as usual."""
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    with fake_github() as fake:
        yield fake


@pytest.fixture
def gitrepo(tmp_path: Path) -> GitBuilder:
    """An empty real git repository on branch main."""
    return GitBuilder(tmp_path / "repo")


class CliResult:
    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err

    def __repr__(self) -> str:
        return f"CliResult(code={self.code}, out={self.out!r}, err={self.err!r})"


def run_main(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """The real entry point in-process (error mapping and exit codes included)."""
    from release.cli import main

    capsys.readouterr()
    try:
        main(list(argv))
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., CliResult]:
    """`cli("--repo", d, "dry-run")` → CliResult(code, out, err)."""

    def run(*args: str) -> CliResult:
        return CliResult(*run_main(list(args), capsys))

    return run


@pytest.fixture(scope="session")
def keyrings(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A throwaway GnuPG key exported as the flat keyrings Helm reads."""
    home = tmp_path_factory.mktemp("gnupg")
    os.chmod(home, 0o700)
    env = {**os.environ, "GNUPGHOME": str(home)}
    subprocess.run(["gpg", "--batch", "--passphrase", "", "--quick-gen-key",
                    "Release Bot <bot@example.com>", "rsa2048", "sign", "never"],
                   env=env, check=True, capture_output=True)
    secring, pubring = home / "secring.gpg", home / "pubring.gpg"
    secring.write_bytes(subprocess.run(["gpg", "--batch", "--export-secret-keys"], env=env,
                                       check=True, capture_output=True).stdout)
    pubring.write_bytes(subprocess.run(["gpg", "--batch", "--export"], env=env, check=True,
                                       capture_output=True).stdout)
    subprocess.run(["gpgconf", "--kill", "gpg-agent"], env=env, capture_output=True,
                   check=False)
    return secring, pubring
