"""Credential sources and their order; secrets never in repr or messages."""

from __future__ import annotations

import base64
import json
import os
import stat
from pathlib import Path

import pytest

from release.errors import BadInput
from release.oci.credentials import Credentials, resolve_credentials

SECRET = "hunter2-" + "not-shown"


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _write(path: Path, data: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))
    return path


def test_explicit_beats_everything(tmp_path: Path) -> None:
    env = {"AMEIDE_REGISTRY_USERNAME": "envuser", "AMEIDE_REGISTRY_PASSWORD": "x",
           "GITHUB_TOKEN": "gh"}
    creds = resolve_credentials("ghcr.io", username="me", password=SECRET, environ=env,
                                home=tmp_path)
    assert creds is not None and creds.username == "me" and creds.source == "the command line"


def test_env_then_github_token_for_ghcr_only(tmp_path: Path) -> None:
    env = {"AMEIDE_REGISTRY_USERNAME": "envuser", "AMEIDE_REGISTRY_PASSWORD": SECRET}
    creds = resolve_credentials("example.com", environ=env, home=tmp_path)
    assert creds is not None and creds.username == "envuser"
    gh = {"GITHUB_TOKEN": SECRET, "GITHUB_ACTOR": "octocat"}
    creds = resolve_credentials("ghcr.io", environ=gh, home=tmp_path)
    assert creds is not None and (creds.username, creds.secret) == ("octocat", SECRET)
    assert "GITHUB_TOKEN" in creds.describe()
    assert resolve_credentials("quay.io", environ=gh, home=tmp_path) is None


def test_half_set_env_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="AMEIDE_REGISTRY_PASSWORD"):
        resolve_credentials("x.io", environ={"AMEIDE_REGISTRY_USERNAME": "u"}, home=tmp_path)


def test_helm_config_before_docker_and_https_keys(tmp_path: Path) -> None:
    env = {"HELM_REGISTRY_CONFIG": str(tmp_path / "helm.json"),
           "DOCKER_CONFIG": str(tmp_path / "docker")}
    _write(tmp_path / "docker" / "config.json",
           {"auths": {"https://reg.example:5000/v1/": {"auth": _b64("dockeruser:" + SECRET)}}})
    creds = resolve_credentials("reg.example:5000", environ=env, home=tmp_path)
    assert creds is not None and creds.username == "dockeruser"
    assert creds.source.startswith("Docker config")
    _write(tmp_path / "helm.json", {"auths": {"reg.example:5000": {"auth": _b64("helmuser:pw")}}})
    creds = resolve_credentials("reg.example:5000", environ=env, home=tmp_path)
    assert creds is not None and creds.username == "helmuser"


def test_default_locations_under_home(tmp_path: Path) -> None:
    _write(tmp_path / ".config" / "helm" / "registry" / "config.json",
           {"auths": {"h.io": {"username": "u", "password": SECRET}}})
    creds = resolve_credentials("h.io", environ={}, home=tmp_path)
    assert creds is not None and creds.secret == SECRET


def test_identity_token(tmp_path: Path) -> None:
    _write(tmp_path / ".docker" / "config.json",
           {"auths": {"acr.io": {"auth": _b64("00000000-0000:"), "identitytoken": SECRET}}})
    creds = resolve_credentials("acr.io", environ={}, home=tmp_path)
    assert creds is not None and creds.identity_token and creds.secret == SECRET


def _helper(tmp_path: Path, name: str, body: str) -> dict[str, str]:
    bindir = tmp_path / "bin"
    bindir.mkdir(exist_ok=True)
    script = bindir / f"docker-credential-{name}"
    script.write_text("#!/bin/sh\n" + body)
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return {"PATH": f"{bindir}:{os.environ['PATH']}"}


def test_cred_helpers_and_creds_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env = _helper(tmp_path, "fake", 'read host\necho "{\\"Username\\":\\"h-$host\\",'
                  '\\"Secret\\":\\"' + SECRET + '\\"}"\n')
    monkeypatch.setenv("PATH", env["PATH"])
    _write(tmp_path / ".docker" / "config.json",
           {"credHelpers": {"special.io": "fake"}, "credsStore": "fake",
            "auths": {"inline.io": {"auth": _b64("inline:pw")}}})
    special = resolve_credentials("special.io", environ={}, home=tmp_path)
    assert special is not None and special.username == "h-special.io"
    assert "docker-credential-fake" in special.source
    inline = resolve_credentials("inline.io", environ={}, home=tmp_path)
    assert inline is not None and inline.username == "inline"
    other = resolve_credentials("other.io", environ={}, home=tmp_path)
    assert other is not None and other.username == "h-other.io"


def test_helper_without_credentials_and_missing_helper(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    env = _helper(tmp_path, "empty", "echo 'credentials not found' >&2\nexit 1\n")
    monkeypatch.setenv("PATH", env["PATH"])
    _write(tmp_path / ".docker" / "config.json", {"credsStore": "empty"})
    assert resolve_credentials("x.io", environ={}, home=tmp_path) is None
    _write(tmp_path / ".docker" / "config.json", {"credsStore": "nosuchhelper"})
    with pytest.raises(BadInput, match="docker-credential-nosuchhelper"):
        resolve_credentials("x.io", environ={}, home=tmp_path)


def test_broken_config_is_named(tmp_path: Path) -> None:
    (tmp_path / ".docker").mkdir()
    (tmp_path / ".docker" / "config.json").write_text("{not json")
    with pytest.raises(BadInput, match=r"config\.json"):
        resolve_credentials("x.io", environ={}, home=tmp_path)


def test_secret_never_in_repr_or_description() -> None:
    creds = Credentials("robot", SECRET, "somewhere")
    assert SECRET not in repr(creds) and SECRET not in str(creds)
    assert SECRET not in creds.describe()
