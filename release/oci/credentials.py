"""Which credentials to present to a registry, and where they came from.

Order: explicit (CLI flags or AMEIDE_REGISTRY_USERNAME/AMEIDE_REGISTRY_PASSWORD), GITHUB_TOKEN
(+ GITHUB_ACTOR) for ghcr.io, Helm's registry config, Docker's config (`credHelpers`, inline
`auths`, then `credsStore`). Every `Credentials` carries a description of its source so errors can
say what was tried; the secret itself is never part of `repr`, `str` or any message.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from release.errors import BadInput

USERNAME_ENV = "AMEIDE_REGISTRY_USERNAME"
PASSWORD_ENV = "AMEIDE_REGISTRY_PASSWORD"
TOKEN_USERNAME = "<token>"  # Docker's marker: the secret is an identity (refresh) token


@dataclass(frozen=True)
class Credentials:
    """A username and secret; `identity_token` set means an OAuth2 refresh token instead."""

    username: str
    secret: str = field(repr=False)
    source: str = "unknown"
    identity_token: bool = False

    def describe(self) -> str:
        who = "an identity token" if self.identity_token else f"user {self.username!r}"
        return f"{who} from {self.source}"

    def __str__(self) -> str:
        return self.describe()


def normalize_host(key: str) -> str:
    """Config keys may be `host`, `https://host` or `https://host/v1/`: keep host[:port]."""
    text = key.strip()
    for prefix in ("https://", "http://"):
        if text.startswith(prefix):
            text = text[len(prefix):]
    return text.split("/", 1)[0].lower()


def helm_registry_config(environ: Mapping[str, str], home: Path) -> Path:
    if environ.get("HELM_REGISTRY_CONFIG"):
        return Path(environ["HELM_REGISTRY_CONFIG"])
    if environ.get("HELM_CONFIG_HOME"):
        return Path(environ["HELM_CONFIG_HOME"]) / "registry" / "config.json"
    if environ.get("XDG_CONFIG_HOME"):
        return Path(environ["XDG_CONFIG_HOME"]) / "helm" / "registry" / "config.json"
    return home / ".config" / "helm" / "registry" / "config.json"


def docker_config(environ: Mapping[str, str], home: Path) -> Path:
    if environ.get("DOCKER_CONFIG"):
        return Path(environ["DOCKER_CONFIG"]) / "config.json"
    return home / ".docker" / "config.json"


def _load(path: Path) -> dict[str, object] | None:
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadInput(f"{path} is not readable JSON ({type(exc).__name__})",
                       "fix or remove the file") from None
    return data if isinstance(data, dict) else None


def _find(mapping: object, host: str) -> object:
    if not isinstance(mapping, dict):
        return None
    for key, value in mapping.items():
        if isinstance(key, str) and normalize_host(key) == host:
            return value
    return None


def _from_auth_entry(entry: object, source: str) -> Credentials | None:
    if not isinstance(entry, dict):
        return None
    token = entry.get("identitytoken")
    auth = entry.get("auth")
    username = entry.get("username")
    password = entry.get("password")
    if isinstance(auth, str) and auth:
        try:
            decoded = base64.b64decode(auth, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise BadInput(f"the 'auth' entry in {source} is not base64 of user:password",
                           "log in again (helm registry login / docker login)") from None
        username, _, password = decoded.partition(":")
    if isinstance(token, str) and token:
        return Credentials(str(username or TOKEN_USERNAME), token, source, identity_token=True)
    if isinstance(username, str) and isinstance(password, str) and username and password:
        return Credentials(username, password, source)
    return None


def run_helper(helper: str, host: str, source: str) -> Credentials | None:
    """`docker-credential-<helper> get` with the host on stdin; None when it knows nothing."""
    program = f"docker-credential-{helper}"
    try:
        proc = subprocess.run([program, "get"], input=host.encode(), capture_output=True,
                              timeout=30, check=False)
    except FileNotFoundError:
        raise BadInput(f"{source} names credential helper {program!r}, which is not installed",
                       f"install {program} or remove it from the Docker config") from None
    except subprocess.TimeoutExpired:
        raise BadInput(f"credential helper {program} did not answer within 30 s",
                       "check the helper works: echo HOST | " + program + " get") from None
    if proc.returncode != 0:
        return None  # "credentials not found in native keychain"
    try:
        data = json.loads(proc.stdout)
        username, secret = str(data["Username"]), str(data["Secret"])
    except (ValueError, KeyError, TypeError):
        raise BadInput(f"credential helper {program} answered something other than JSON",
                       "check the helper works: echo HOST | " + program + " get") from None
    if not secret:
        return None
    described = f"{source} (helper {program})"
    if username == TOKEN_USERNAME:
        return Credentials(username, secret, described, identity_token=True)
    return Credentials(username, secret, described)


def _from_config(path: Path, host: str, label: str) -> Credentials | None:
    data = _load(path)
    if data is None:
        return None
    source = f"{label} {path}"
    helper = _find(data.get("credHelpers"), host)
    if isinstance(helper, str) and helper:
        return run_helper(helper, host, source)
    found = _from_auth_entry(_find(data.get("auths"), host), source)
    if found:
        return found
    store = data.get("credsStore")
    if isinstance(store, str) and store:
        return run_helper(store, host, source)
    return None


def resolve_credentials(
    host: str,
    *,
    username: str | None = None,
    password: str | None = None,
    environ: Mapping[str, str] | None = None,
    home: Path | None = None,
) -> Credentials | None:
    """The first source that has credentials for `host`, or None (anonymous)."""
    env = os.environ if environ is None else environ
    home = Path.home() if home is None else home
    host = normalize_host(host)
    if username is not None or password is not None:
        if not username or not password:
            raise BadInput("registry username and password must be given together",
                           "pass both --username and --password (or neither)")
        return Credentials(username, password, "the command line")
    env_user, env_pass = env.get(USERNAME_ENV), env.get(PASSWORD_ENV)
    if env_user or env_pass:
        if not env_user or not env_pass:
            raise BadInput(f"only one of {USERNAME_ENV} and {PASSWORD_ENV} is set",
                           "set both or neither")
        return Credentials(env_user, env_pass, f"{USERNAME_ENV}/{PASSWORD_ENV}")
    if host == "ghcr.io" and env.get("GITHUB_TOKEN"):
        actor = env.get("GITHUB_ACTOR") or "github-actions"
        return Credentials(actor, env["GITHUB_TOKEN"], "GITHUB_TOKEN (user from GITHUB_ACTOR)")
    found = _from_config(helm_registry_config(env, home), host, "Helm registry config")
    if found:
        return found
    return _from_config(docker_config(env, home), host, "Docker config")
