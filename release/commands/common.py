"""What every command shares: settings from the global options, the release target, the
runtime with its credentials, the options several commands take, JSON and plain output."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from release.config import Settings
    from release.gitrepo import GitRepo
    from release.steps.base import Runtime, Step, StepOutcome
    from release.target import ReleaseTarget

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class CliState:
    repo: Path
    flags: dict[str, Any] = field(default_factory=dict)


def settings(ctx: click.Context, **more_flags: Any) -> Settings:
    """Settings for this run; command-specific flags (e.g. `push --to`) override global ones."""
    from release.config import load_settings

    state: CliState = ctx.find_root().obj or CliState(repo=Path("."))
    flags = {**state.flags, **{k: v for k, v in more_flags.items() if v is not None}}
    return load_settings(state.repo, flags)


def target(s: Settings, tag: str | None, *, must_exist: bool = False,
           prerelease: str | None = None) -> tuple[GitRepo, ReleaseTarget]:
    """The repository, opened once, and the release the command is about."""
    from release.target import open_repo, resolve_target

    repo = open_repo(s)
    return repo, resolve_target(s, repo, tag, must_exist=must_exist, prerelease=prerelease)


def runtime(s: Settings, username: str | None = None, password_stdin: bool = False) -> Runtime:
    """The clients' runtime; `--password-stdin` is read here, once."""
    from release.errors import BadInput
    from release.steps.base import Runtime

    login = None
    if password_stdin:
        if not username:
            raise BadInput("--password-stdin needs --username", "pass --username USER too")
        login = (username, sys.stdin.readline().rstrip("\r\n"))
    elif username:
        raise BadInput("--username needs a password", "pipe it to --password-stdin")
    return Runtime(s, dict(os.environ), registry_login=login)


def run_alone(step: Step, rt: Runtime) -> StepOutcome:
    """A single-step command: the step, under its deadline, then the clients closed."""
    from release.executor import run_steps

    try:
        (outcome,) = run_steps([step], rt)
    finally:
        rt.close()
    return outcome


def resolve_path(path: Path) -> Path:
    return path if path.is_absolute() else Path.cwd() / path


def emit_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, sort_keys=True, default=str))


def info(message: str) -> None:
    """Progress for people; stderr so stdout stays clean for values and JSON."""
    print(message, file=sys.stderr)


# --- options several commands share -------------------------------------------------------------
def json_option(f: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")(f)


def registry_login_options(f: F) -> F:
    f = click.option("--password-stdin", is_flag=True,
                     help="Read the registry password or token from stdin.")(f)
    return click.option("--username", help="Registry user (else AMEIDE_REGISTRY_USERNAME, "
                        "GITHUB_TOKEN for ghcr.io, Helm or Docker logins).")(f)


def plain_http_option(f: F) -> F:
    return click.option("--plain-http", is_flag=True,
                        help="HTTP, for loopback test registries only.")(f)


def sign_options(f: F) -> F:
    f = click.option("--passphrase-file", type=click.Path(path_type=Path),
                     help="File holding the key's passphrase.")(f)
    f = click.option("--keyring", type=click.Path(path_type=Path),
                     help="Secret keyring file (with --sign); default: the gpg home.")(f)
    f = click.option("--key", help="Signing key name (with --sign).")(f)
    return click.option("--sign", is_flag=True,
                        help="Sign with GnuPG (Helm provenance, .prov).")(f)


def check_sign(sign: bool, key: str | None) -> None:
    from release.errors import BadInput

    if sign and not key:
        raise BadInput("--sign needs --key NAME", "name the GnuPG key to sign with")
    if key and not sign:
        raise BadInput("--key is only used with --sign", "add --sign or drop --key")
