"""CHANGELOG.md: the full file over every release, and the idempotent one-release update.

`--update` inserts the new release above the first release already in the file and leaves every
byte below it untouched, so hand edits survive. A release is "already there" when the file holds
its `<!-- release: TAG -->` marker or a `## ` heading naming its version; then nothing changes,
which makes running the update twice for the same tag a no-op.
"""

from __future__ import annotations

import filecmp
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from release.files import atomic_write
from release.render import Lookup, render_changelog, write_changelog

if TYPE_CHECKING:
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


def changelog_with_entry(text: str, tag: str, version: str, entry: str,
                         settings: Settings) -> str | None:
    """`text` with a rendered entry at the top, or None when it already describes the release:
    the one rule for the changelog file (`insert_entry`) and the release pull request's commit,
    so neither ever holds a release twice."""
    if has_release(text, tag, version):
        return None
    header = render_changelog([], settings) if not text.strip() else ""  # only a new file has one
    return insert_release(text, entry, header)


def insert_entry(path: Path, tag: str, version: str, entry: str, settings: Settings) -> bool:
    """Put a rendered entry at the top of the changelog at `path` unless the file already
    describes the release; True when the file changed."""
    new = changelog_with_entry(read_changelog(path), tag, version, entry, settings)
    if new is None:
        return False
    atomic_write(path, new)
    return True


def print_full(releases: Iterable[Release], settings: Settings,
               lookup: Lookup | None = None) -> None:
    """The whole changelog over `releases` (highest version first) on stdout. It is built in a
    spool file (releases are written while git still reads, and a restart can cut the file
    back), then copied out: the text never sits in memory whole."""
    with tempfile.TemporaryFile("w+", encoding="utf-8", newline="") as spool:
        write_changelog(releases, settings, spool, lookup)
        spool.seek(0)
        shutil.copyfileobj(spool, sys.stdout, 1 << 20)
    sys.stdout.flush()


def write_full(path: Path, releases: Iterable[Release], settings: Settings,
               may_replace: Callable[[Path], None], lookup: Lookup | None = None,
               ) -> tuple[bool, int]:
    """Stream the whole changelog into a file beside `path`, then put it in place unless the
    content is already there; `may_replace(path)` raises when an existing, different file must
    not be overwritten. Returns (whether the file changed, the number of releases)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w+", encoding="utf-8", newline="") as fh:
            count = write_changelog(releases, settings, fh, lookup)
            fh.flush()
            os.fsync(fh.fileno())
        if path.is_file() and not path.is_symlink() and filecmp.cmp(tmp, path, shallow=False):
            return False, count
        may_replace(path)
        os.chmod(tmp, path.stat().st_mode & 0o7777 if path.is_file() else 0o644)
        os.replace(tmp, path)
        return True, count
    finally:
        Path(tmp).unlink(missing_ok=True)
