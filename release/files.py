"""Writing files the safe way: never half a file, never a changed mode, never a FIFO.

Every file the tool writes (Chart.yaml, archives, CHANGELOG.md, index.yaml, index.html) goes
through `atomic_write`. A disk that is full, a read-only file system or a missing permission is
a `SystemFailure` (exit 4) naming the file; what was there before is left as it was.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

from release.errors import BadInput, describe_os_error


def atomic_write(path: Path, data: bytes | str) -> None:
    """Write beside `path`, fsync, rename: readers see the old file or the new one, and an
    interrupted run leaves no partial file. An existing file keeps its mode; a new one is 0644.
    Something other than a regular file at `path` (a FIFO, a device, a directory) is refused:
    renaming over it would lose it, and opening it could hang."""
    payload = data.encode("utf-8") if isinstance(data, str) else data
    try:
        existing = path.lstat()
    except FileNotFoundError:
        existing = None
    except OSError as exc:
        raise describe_os_error(exc, "inspect") from None
    if existing is not None and not stat.S_ISREG(existing.st_mode):
        raise BadInput(f"{path} exists and is not a regular file",
                       "remove it or choose another path")
    mode = existing.st_mode & 0o7777 if existing is not None else 0o644
    tmp: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
        tmp = None
    except OSError as exc:
        exc.filename = str(path)  # name the file the user knows, not our temporary one
        raise describe_os_error(exc, "write") from None
    finally:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
