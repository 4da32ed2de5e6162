"""`push` finds existing logins on its own, against a real registry: Docker's `auths`, a
Docker credential helper, and Helm's registry config; a wrong stored login is named, not shown."""

from __future__ import annotations

import base64
import json
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import CliResult
from tests.gitutil import GitBuilder
from tests.oci.test_cli_publish import _release_repo
from tests.registry_fixtures import TEST_PASSWORD, TEST_USER, Registry

pytestmark = pytest.mark.registry


def b64(user: str, password: str) -> str:
    return base64.b64encode(f"{user}:{password}".encode()).decode()


def push(cli: Callable[..., CliResult], g: GitBuilder, to: str) -> CliResult:
    return cli("--repo", str(g.root), "push", "--tag", "v0.1.0", "--to", to, "--plain-http")


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for name in ("AMEIDE_REGISTRY_USERNAME", "AMEIDE_REGISTRY_PASSWORD", "GITHUB_TOKEN",
                 "HELM_REGISTRY_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker"))
    monkeypatch.setenv("HELM_CONFIG_HOME", str(tmp_path / "helm"))
    (tmp_path / "docker").mkdir()
    return tmp_path


def test_docker_auths(gitrepo: GitBuilder, token_registry: Registry, namespace: str,
                      clean_env: Path, cli: Callable[..., CliResult]) -> None:
    _release_repo(gitrepo)
    (clean_env / "docker/config.json").write_text(json.dumps(
        {"auths": {f"http://{token_registry.host}": {"auth": b64(TEST_USER, TEST_PASSWORD)}}}))
    result = push(cli, gitrepo, token_registry.oci(namespace))
    assert result.code == 0, result
    assert token_registry.manifest_digest(f"{namespace}/demo", "0.1.0") is not None


def test_docker_credential_helper(gitrepo: GitBuilder, token_registry: Registry, namespace: str,
                                  clean_env: Path, cli: Callable[..., CliResult],
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    _release_repo(gitrepo)
    bindir = clean_env / "bin"
    bindir.mkdir()
    helper = bindir / "docker-credential-testvault"
    asked = clean_env / "asked.txt"
    helper.write_text(
        f"#!{sys.executable}\nimport json, sys\nassert sys.argv[1] == 'get'\n"
        f"open({str(asked)!r}, 'w').write(sys.stdin.read())\n"
        f"print(json.dumps({{'Username': {TEST_USER!r}, 'Secret': {TEST_PASSWORD!r}}}))\n")
    helper.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bindir}:{__import__('os').environ['PATH']}")
    (clean_env / "docker/config.json").write_text(json.dumps(
        {"credHelpers": {token_registry.host: "testvault"}}))
    result = push(cli, gitrepo, token_registry.oci(namespace))
    assert result.code == 0, result
    assert asked.read_text().strip() == token_registry.host


def test_helm_registry_config_and_wrong_login(gitrepo: GitBuilder, token_registry: Registry,
                                              namespace: str, clean_env: Path,
                                              cli: Callable[..., CliResult]) -> None:
    _release_repo(gitrepo)
    config = clean_env / "helm/registry/config.json"
    config.parent.mkdir(parents=True)
    wrong = "not-the-" + "password-9d2c"
    config.write_text(json.dumps({"auths": {token_registry.host: {"auth": b64(TEST_USER, wrong)}}}))
    bad = push(cli, gitrepo, token_registry.oci(namespace))
    assert bad.code == 4, bad
    assert "Helm registry config" in bad.err and wrong not in bad.err + bad.out
    assert "Traceback" not in bad.err and bad.err.count("\n") == 1
    config.write_text(json.dumps(
        {"auths": {token_registry.host: {"auth": b64(TEST_USER, TEST_PASSWORD)}}}))
    good = push(cli, gitrepo, token_registry.oci(namespace))
    assert good.code == 0, good
