"""Fixtures shared by every test module."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.gitutil import GitBuilder


@pytest.fixture
def gitrepo(tmp_path: Path) -> GitBuilder:
    """An empty real git repository on branch main."""
    return GitBuilder(tmp_path / "repo")
