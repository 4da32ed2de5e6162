"""What every command shares: settings from the global options, the release target, the
runtime with its credentials, the options several commands take, JSON and plain output.

A command is a function taking the global state and its options as typed keyword arguments,
plus a function declaring those options on the parser `release/cli.py` gives it (one
`add_argument` per option, `dest` = the parameter's name). Module-level imports here and in every
command module stay light: `ameide-release notes` pays only for what `notes` uses.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from release.errors import for_terminal

if TYPE_CHECKING:
    from argparse import ArgumentParser

    from release.config import Settings
    from release.gitrepo import GitRepo
    from release.steps.base import Runtime, Step, StepOutcome
    from release.target import ReleaseTarget


class CliState(NamedTuple):
    """The global options: the project directory and the settings flags given before the
    command (flag name without dashes → value; None when not given)."""

    repo: Path
    flags: dict[str, str | None]


class Command(NamedTuple):
    """One `ameide-release` command: `options` declares its options on the command's parser;
    `run(state, **options)` does the work (its docstring is the command's help)."""

    options: Callable[[ArgumentParser], None]
    run: Callable[..., None]


def settings(state: CliState, **more_flags: Any) -> Settings:
    """Settings for this run; command-specific flags (e.g. `push --to`) override global ones."""
    from release.config import load_settings

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


def echo(text: str, *, end: str = "\n") -> None:
    """A value for stdout, flushed at once so it keeps its place among the stderr lines."""
    print(text, end=end, flush=True)


def emit_json(data: Any) -> None:
    import json

    echo(json.dumps(data, indent=2, sort_keys=True, default=str))


def info(message: str) -> None:
    """Progress for people; stderr so stdout stays clean for values and JSON."""
    print(for_terminal(message), file=sys.stderr)


# --- options several commands share -------------------------------------------------------------
def json_option(p: ArgumentParser) -> None:
    p.add_argument("--json", dest="as_json", action="store_true", help="Machine-readable output.")


def registry_login_options(p: ArgumentParser) -> None:
    p.add_argument("--username", help="Registry user (else AMEIDE_REGISTRY_USERNAME, "
                   "GITHUB_TOKEN for ghcr.io, Helm or Docker logins).")
    p.add_argument("--password-stdin", action="store_true",
                   help="Read the registry password or token from stdin.")


def plain_http_option(p: ArgumentParser) -> None:
    p.add_argument("--plain-http", action="store_true",
                   help="HTTP, for loopback test registries only.")


def sign_options(p: ArgumentParser) -> None:
    p.add_argument("--sign", action="store_true", help="Sign with GnuPG (Helm provenance, .prov).")
    p.add_argument("--key", help="Signing key name (with --sign).")
    p.add_argument("--keyring", type=Path, metavar="PATH",
                   help="Secret keyring file (with --sign); default: the gpg home.")
    p.add_argument("--passphrase-file", type=Path, metavar="PATH",
                   help="File holding the key's passphrase.")


def check_sign(sign: bool, key: str | None) -> None:
    from release.errors import BadInput

    if sign and not key:
        raise BadInput("--sign needs --key NAME", "name the GnuPG key to sign with")
    if key and not sign:
        raise BadInput("--key is only used with --sign", "add --sign or drop --key")
