"""CHANGELOG.md: the full file over every release, and the idempotent one-release update.

`--update` inserts the new release above the first release already in the file and leaves every
byte below it untouched, so hand edits survive. A release is "already there" when the file holds
its `<!-- release: TAG -->` marker or a `## ` heading naming its version; then nothing changes,
which makes running the update twice for the same tag a no-op.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from release.files import atomic_write
from release.render import render_changelog

if TYPE_CHECKING:
    from collections.abc import Sequence

    from release.config import Settings
    from release.notes import Release

_MARKER = re.compile(r"^<!-- release: (\S+) -->[ \t]*$", re.MULTILINE)
_RELEASE_HEADING = re.compile(r"^## +\[?v?(\d+\.\d+\.\d+[0-9A-Za-z.+-]*)", re.MULTILINE)


def has_release(text: str, tag: str, version: str) -> bool:
    """Does the changelog already describe this release (by marker or by heading)?"""
    if any(m.group(1) == tag for m in _MARKER.finditer(text)):
        return True
    return any(m.group(1) == version for m in _RELEASE_HEADING.finditer(text))


def insert_release(text: str, entry: str, header: str) -> str:
    """`text` with `entry` placed above its first release (or at the end when it has none).

    `header` starts a file that is empty. Line endings follow the existing file."""
    newline = "\r\n" if "\r\n" in text else "\n"
    if newline != "\n":
        entry = entry.replace("\n", newline)
    if not text.strip():
        return header.rstrip("\n").replace("\n", newline) + newline + newline + entry
    positions = [m.start() for m in _MARKER.finditer(text)]
    positions += [m.start() for m in _RELEASE_HEADING.finditer(text)]
    if not positions:
        return text.rstrip("\r\n") + newline + newline + entry
    at = min(positions)
    return text[:at] + entry.rstrip("\r\n") + newline + newline + text[at:]


def read_changelog(path: Path) -> str:
    """The changelog's text ("" when there is none yet); a FIFO, a directory, a huge or
    non-UTF-8 file is refused with one line."""
    from release import limits
    from release.yamlread import read_text_file

    if not path.exists() and not path.is_symlink():
        return ""
    return read_text_file(path, "the changelog", max_bytes=limits.INDEX_DOCUMENT_MAX)


def insert_entry(path: Path, tag: str, version: str, entry: str, settings: Settings) -> bool:
    """Put a rendered entry at the top of the changelog at `path` unless the file already
    describes the release; True when the file changed."""
    old = read_changelog(path)
    if has_release(old, tag, version):
        return False
    atomic_write(path, insert_release(old, entry, render_changelog([], settings)))
    return True


def full(releases: Sequence[Release], settings: Settings) -> str:
    """The whole changelog over `releases` (highest version first)."""
    return render_changelog(releases, settings)
