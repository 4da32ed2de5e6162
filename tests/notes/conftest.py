"""Fixtures for the notes tests: settings for a GitBuilder repository and golden files.

Regenerate golden files with `UPDATE_GOLDEN=1 pytest tests/notes`, then review the diff before
committing it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from release.config import Settings, load_settings
from tests.gitutil import GitBuilder

GOLDEN = Path(__file__).resolve().parent.parent / "golden"


def make_settings(repo: GitBuilder, **values: object) -> Settings:
    flags = {k.replace("_", "-"): v for k, v in values.items()}
    return load_settings(repo.root, flags, environ={})


@pytest.fixture
def golden() -> Callable[[str, str], None]:
    update = bool(os.environ.get("UPDATE_GOLDEN"))

    def check(name: str, text: str) -> None:
        path = GOLDEN / name
        if update or not path.exists():
            if not update:
                pytest.fail(f"golden file {path} is missing: run with UPDATE_GOLDEN=1")
            path.write_text(text, encoding="utf-8")
        assert text == path.read_text(encoding="utf-8"), f"{name} differs from its golden file"

    return check
