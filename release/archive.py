"""Reading chart archives (`.tgz`) we did not make, with Helm's rules and bounded memory.

Used for `push --archive`, `index --package`, the subcharts under `charts/` and anything else
that opens a `.tgz`. Helm's own loader (pkg/chart/loader/archive LoadArchiveFiles) refuses
absolute paths, `..`, drive letters and a Chart.yaml outside the chart's directory, and stops at
100 MiB of decompressed files; we apply the same rules, and refuse links, devices and FIFOs too
(Helm would load a link as an empty file, which is never what its author meant). The gzip stream
itself is counted as it is inflated, so a gzip bomb or an oversized tar header stops at the limit
instead of filling memory.
"""

from __future__ import annotations

import gzip
import io
import posixpath
import re
import tarfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from release import limits
from release.errors import BadInput, describe_os_error

_DRIVE = re.compile(r"^[a-zA-Z]:/")
_TAR_OVERHEAD = 16 * 1024 * 1024  # headers, padding and pax records around the files


@dataclass(frozen=True)
class ArchiveMember:
    name: str  # the path as stored, `/` separated, e.g. "mychart/templates/a.yaml"
    path: str  # the path inside the chart, cleaned: "templates/a.yaml"
    data: bytes
    executable: bool
    mtime: int


class _Inflated(io.RawIOBase):
    """The decompressed stream, refusing to produce more than `limit` bytes."""

    def __init__(self, raw: IO[bytes], limit: int, origin: str) -> None:
        self.inner = gzip.GzipFile(fileobj=raw, mode="rb")
        self.left = limit
        self.origin = origin

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self.inner.read(min(len(buffer), self.left + 1))
        self.left -= len(data)
        if self.left < 0:
            raise BadInput(f"{self.origin} decompresses to more than a chart may hold "
                           f"({limits.CHART_DECOMPRESSED_MAX} bytes, Helm's limit)",
                           "this is not a chart archive (or a gzip bomb)")
        buffer[: len(data)] = data
        return len(data)


def read_chart_archive(source: Path | bytes, origin: str) -> list[ArchiveMember]:
    """Every file of a chart archive, checked (see the module docstring)."""
    fix = "pass a chart archive made by `ameide-release package` or `helm package`"
    try:
        raw: IO[bytes] = io.BytesIO(source) if isinstance(source, bytes) else source.open("rb")
    except FileNotFoundError:
        raise BadInput(f"{origin} does not exist", fix) from None
    except IsADirectoryError:
        raise BadInput(f"{origin} is a directory, not a chart archive", fix) from None
    except OSError as exc:
        raise describe_os_error(exc, "read") from None
    try:
        stream = io.BufferedReader(_Inflated(raw, limits.CHART_DECOMPRESSED_MAX + _TAR_OVERHEAD,
                                             origin))
        return list(_members(stream, origin))
    except (tarfile.TarError, EOFError, OSError, zlib.error, gzip.BadGzipFile) as exc:
        raise BadInput(f"{origin} is not a gzipped chart archive ({type(exc).__name__})",
                       fix) from None
    finally:
        raw.close()


def _members(stream: IO[bytes], origin: str) -> Iterator[ArchiveMember]:
    remaining = limits.CHART_DECOMPRESSED_MAX
    count = 0
    with tarfile.open(fileobj=stream, mode="r|") as tar:
        for member in tar:
            count += 1
            if count > limits.ARCHIVE_MEMBERS_MAX:
                raise BadInput(f"{origin} has more than {limits.ARCHIVE_MEMBERS_MAX} entries",
                               "this is not a chart archive")
            if member.isdir():
                continue
            name = member.name
            if not member.isfile():
                kind = "link" if member.issym() or member.islnk() else "special file"
                raise BadInput(f"{origin} holds a {kind} ({name[:100]})",
                               "package the chart without links or device files")
            path = _chart_path(name, origin)
            if member.size > remaining:
                raise BadInput(f"{origin} decompresses to more than "
                               f"{limits.CHART_DECOMPRESSED_MAX} bytes (Helm's limit)",
                               "this is not a chart archive (or a gzip bomb)")
            handle = tar.extractfile(member)
            data = handle.read(member.size) if handle is not None else b""
            remaining -= len(data)
            if data.startswith(b"\xef\xbb\xbf"):
                data = data[3:]  # Helm strips a UTF-8 byte order mark
            yield ArchiveMember(name, path, data, bool(member.mode & 0o111), int(member.mtime))
    if count == 0:
        raise BadInput(f"{origin} holds no files", "this is not a chart archive")


def _chart_path(name: str, origin: str) -> str:
    """Helm's path checks: the chart directory stripped, no absolute or parent paths."""
    delimiter = "\\" if "\\" in name else "/"
    parts = name.split(delimiter)
    rest = "/".join(parts[1:])
    if rest.startswith("/") or name.startswith(("/", "\\")):
        raise BadInput(f"{origin} holds an absolute path ({name[:100]})",
                       "this archive is unsafe; rebuild it with helm package")
    clean = posixpath.normpath(rest) if rest else "."
    if clean == ".":
        raise BadInput(f"{origin} holds content outside the chart directory ({name[:100]})",
                       "this archive is unsafe; rebuild it with helm package")
    if clean.startswith(".."):
        raise BadInput(f"{origin} holds a path into the parent directory ({name[:100]})",
                       "this archive is unsafe; rebuild it with helm package")
    if _DRIVE.match(clean):
        raise BadInput(f"{origin} holds an illegally named file ({name[:100]})",
                       "this archive is unsafe; rebuild it with helm package")
    if parts[0] == "Chart.yaml":
        raise BadInput(f"{origin} has its Chart.yaml outside the chart directory",
                       "package the chart with helm package")
    return clean
