"""GitHub Actions plumbing: `$GITHUB_OUTPUT`, `$GITHUB_STEP_SUMMARY`, `::error::` annotations.

Outside Actions (no `$GITHUB_OUTPUT`) outputs are printed as `name=value` lines instead, so the
same command is useful locally.
"""

from __future__ import annotations

import json
import os
import secrets
import sys
from collections.abc import Mapping
from typing import Any


def _format(name: str, value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
    if "\n" in text:
        marker = f"ghadelim_{secrets.token_hex(8)}"
        return f"{name}<<{marker}\n{text}\n{marker}\n"
    return f"{name}={text}\n"


def write_output(values: Mapping[str, Any]) -> None:
    body = "".join(_format(k, v) for k, v in values.items())
    path = os.environ.get("GITHUB_OUTPUT")
    if path:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(body)
    else:
        sys.stdout.write(body)


def write_summary(markdown: str) -> bool:
    path = os.environ.get("GITHUB_STEP_SUMMARY")
    if not path:
        return False
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(markdown.rstrip("\n") + "\n")
    return True


def in_actions() -> bool:
    return os.environ.get("GITHUB_ACTIONS") == "true"


def error_annotation(message: str) -> str:
    """`::error::` line; % CR LF escaped as the runner expects."""
    escaped = message.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return f"::error title=ameide-release::{escaped}"


SIGNING_WORKFLOWS = ("release.yml", "release-pr.yml")  # .github/workflows/: where releases sign


def signing_identity_regexp(repo_web_url: str, release_branches: list[str] | None = None) -> str:
    """The certificate identity (a Fulcio SAN: the signing job's workflow at its ref) of every
    release this repository signs: the tag workflow (`refs/tags/...`) or the release-PR
    workflow on a release branch (`refs/heads/main`, `refs/heads/release-X.Y`). For
    `cosign verify --certificate-identity-regexp`: anchored, dots escaped (RE2 syntax)."""
    def literal(text: str) -> str:
        return "".join("\\" + c if c in ".^$*+?()[]{}|\\" else c for c in text)

    base = literal(repo_web_url.rstrip("/") + "/.github/workflows/")
    files = "|".join(literal(f) for f in SIGNING_WORKFLOWS)
    branches = "|".join(literal(b).replace("\\*", ".*")
                        for b in (release_branches or ["main", "release-*"]))
    return f"^{base}({files})@refs/(tags/.+|heads/({branches}))$"
