"""What every command shares: settings from the global options, JSON output, plain messages."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import typer

from release.config import Settings, load_settings


@dataclass
class CliState:
    repo: Path
    flags: dict[str, Any] = field(default_factory=dict)


def settings(ctx: typer.Context, **more_flags: Any) -> Settings:
    """Settings for this run; command-specific flags (e.g. `push --to`) override global ones."""
    state: CliState = ctx.find_root().obj or CliState(repo=Path("."))
    flags = {**state.flags, **{k: v for k, v in more_flags.items() if v is not None}}
    return load_settings(state.repo, flags)


def emit_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, sort_keys=True, default=str))


def info(message: str) -> None:
    """Progress for people; stderr so stdout stays clean for values and JSON."""
    print(message, file=sys.stderr)
