"""Reproducible chart archives: the same commit gives the same bytes on every machine.

The file set follows Helm (`.helmignore`, subcharts under `charts/<name>/`, `crds/`), so Helm's
engine reads our archive exactly as its own. Everything that varies between machines is pinned:
entry order, modes (0644/0755), owners (0, no names), mtimes (the commit time or
SOURCE_DATE_EPOCH) and the gzip header (no name, no time stamp).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import stat
import tarfile
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from release import limits
from release.archive import read_chart_archive
from release.chart import (
    CHART_FILE,
    Names,
    commit_names,
    edit_versions,
    read_chart_yaml,
    validate_metadata,
)
from release.config import Settings
from release.errors import BadInput
from release.files import atomic_write
from release.helmignore import IgnoreRules
from release.version import parse_tag
from release.yamlread import parse_yaml, read_file_bytes

if TYPE_CHECKING:
    from release.gitrepo import GitRepo


@dataclass(frozen=True)
class PackageResult:
    path: Path
    digest: str  # "sha256:<hex>" of the archive bytes
    size: int
    name: str
    version: str
    app_version: str
    metadata: dict[str, Any]
    created: int  # epoch seconds: the archive's mtimes, OCI `created`, index `created`
    files: tuple[str, ...] = field(default=())
    dirty: bool = False  # chart files differ from the commit: the archive won't match it

    def as_json(self) -> dict[str, Any]:
        return {
            "path": str(self.path), "digest": self.digest, "size": self.size, "name": self.name,
            "version": self.version, "appVersion": self.app_version, "created": self.created,
            "files": list(self.files), "dirty": self.dirty,
        }


@dataclass(frozen=True)
class _Entry:
    name: str  # path inside the archive, under <chart-name>/
    data: bytes
    executable: bool


def _read(path: Path, rel: str) -> bytes:
    size = path.stat().st_size
    if size > limits.CHART_FILE_MAX:
        raise BadInput(f"{rel} is {size} bytes, over Helm's 5 MiB limit per file",
                       "add it to .helmignore or make it smaller")
    with path.open("rb") as fh:
        data = fh.read(limits.CHART_FILE_MAX + 1)
    if len(data) > limits.CHART_FILE_MAX:
        raise BadInput(f"{rel} grew past Helm's 5 MiB limit while being read",
                       "add it to .helmignore or make it smaller")
    return data[3:] if data.startswith(b"\xef\xbb\xbf") else data  # Helm strips a UTF-8 BOM


def chart_files(chart_dir: Path, names: Names = str) -> list[tuple[str, Path]]:
    """(relative path, real file) for every file Helm would load, links resolved and checked;
    messages name the chart's files with `names`."""
    root = chart_dir.resolve()
    rules = IgnoreRules.for_chart(chart_dir, names)
    found: list[tuple[str, Path]] = []

    def walk(directory: Path, rel: str, seen: frozenset[Path]) -> None:
        for entry in sorted(os.scandir(directory), key=lambda e: e.name):
            child_rel = f"{rel}{entry.name}"
            path = Path(entry.path)
            real = path.resolve()
            if entry.is_symlink():
                if real != root and root not in real.parents:
                    raise BadInput(f"{names(chart_dir / child_rel)} is a symlink to "
                                   f"{os.readlink(path)}, outside the chart",
                                   "replace the link with a copy of the file")
                if not real.exists():
                    raise BadInput(f"{names(chart_dir / child_rel)} is a dangling symlink",
                                   "remove or fix the link")
            if real.is_dir():
                if rules.ignored(child_rel, True):
                    continue
                if real in seen:
                    raise BadInput(f"{names(chart_dir / child_rel)} is a symlink loop",
                                   "remove the link")
                walk(real, child_rel + "/", seen | {real})
                continue
            if rules.ignored(child_rel, False):
                continue
            if not stat.S_ISREG(real.stat().st_mode):
                raise BadInput(f"{names(chart_dir / child_rel)} is not a regular file",
                               "remove it or .helmignore it")
            found.append((child_rel, real))

    walk(root, "", frozenset({root}))
    if not any(rel == CHART_FILE for rel, _ in found):
        raise BadInput(f"{names(chart_dir / '.helmignore')} excludes Chart.yaml (Helm reads a "
                       "'!pattern' line as 'ignore everything that does not match')",
                       "remove the '!' lines or the pattern matching Chart.yaml")
    return found


def _subchart_name(files: dict[str, bytes], origin: str) -> str:
    meta = files.get(CHART_FILE)
    if meta is None:
        raise BadInput(f"{origin} is not a chart (no Chart.yaml)",
                       "remove it from charts/ or add it to .helmignore")
    data = parse_yaml(meta.decode("utf-8", "replace"), f"{origin}/Chart.yaml")
    name = data.get("name") if isinstance(data, dict) else None
    if (not isinstance(name, str) or not name or name in (".", "..") or "/" in name
            or "\\" in name or any(ord(c) < 32 for c in name)):
        raise BadInput(f"{origin}/Chart.yaml has no valid name",
                       "set name: in the subchart to a plain name (no '.', '..' or slashes)")
    return name


def _expand_subchart_tgz(path: Path, origin: str) -> dict[str, tuple[bytes, bool]]:
    return {m.path: (m.data, m.executable) for m in read_chart_archive(path, origin)}


def _entries(chart_dir: Path, name: str, chart_yaml: bytes, names: Names) -> list[_Entry]:
    entries: list[_Entry] = []
    subdirs: dict[str, dict[str, tuple[bytes, bool]]] = {}
    for rel, real in chart_files(chart_dir, names):
        executable = bool(real.stat().st_mode & 0o111)
        parts = rel.split("/")
        if rel == CHART_FILE:
            entries.append(_Entry(f"{name}/{rel}", chart_yaml, False))
        elif parts[0] == "charts" and len(parts) >= 2 and not rel.endswith(".prov"):
            if len(parts) == 2 and rel.endswith((".tgz", ".tar.gz")):
                files = _expand_subchart_tgz(real, rel)
                sub = _subchart_name({k: v[0] for k, v in files.items()}, rel)
                for sub_rel, (data, exe) in files.items():
                    entries.append(_Entry(f"{name}/charts/{sub}/{sub_rel}", data, exe))
            elif len(parts) == 2:
                raise BadInput(f"{rel} is not a chart", "move it out of charts/ or .helmignore it")
            else:
                subdirs.setdefault(parts[1], {})["/".join(parts[2:])] = (_read(real, rel), executable)
        else:
            entries.append(_Entry(f"{name}/{rel}", _read(real, rel), executable))
    for dirname, files in subdirs.items():
        sub = _subchart_name({k: v[0] for k, v in files.items()}, f"charts/{dirname}")
        for sub_rel, (data, exe) in files.items():
            entries.append(_Entry(f"{name}/charts/{sub}/{sub_rel}", data, exe))
    total = sum(len(e.data) for e in entries)
    if total > limits.CHART_DECOMPRESSED_MAX:
        raise BadInput(f"the chart's files add up to {total} bytes, over Helm's "
                       f"{limits.CHART_DECOMPRESSED_MAX}-byte limit for a chart",
                       "add large files to .helmignore")
    archived = [e.name for e in entries]
    if len(archived) != len(set(archived)):
        dupes = sorted({n for n in archived if archived.count(n) > 1})
        raise BadInput(f"two subcharts produce the same files: {dupes[0]}",
                       "keep one copy of each subchart in charts/")
    return sorted(entries, key=lambda e: e.name)


def write_archive(entries: list[_Entry], mtime: int) -> bytes:
    """Deterministic tar.gz bytes."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT, encoding="utf-8") as tar:
        for entry in entries:
            info = tarfile.TarInfo(entry.name)
            info.size = len(entry.data)
            info.mtime = mtime
            info.mode = 0o755 if entry.executable else 0o644
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            tar.addfile(info, io.BytesIO(entry.data))
    out = io.BytesIO()
    # Level 6 (zlib's and Go's default): 3x faster than 9 for about 1% more bytes.
    with gzip.GzipFile(filename="", mode="wb", fileobj=out, mtime=0, compresslevel=6) as gz:
        gz.write(raw.getvalue())
    return out.getvalue()


def source_date_epoch(repo: GitRepo | None, rev: str | None, root: Path) -> int:
    """SOURCE_DATE_EPOCH if set, else the commit time of `rev` (default HEAD)."""
    env = os.environ.get("SOURCE_DATE_EPOCH")
    if env is not None:
        if not env.isascii() or not env.isdigit() or len(env) > 12:
            raise BadInput(f"SOURCE_DATE_EPOCH={env[:20]!r} is not a whole number of seconds",
                           "set it to a Unix time such as $(git log -1 --format=%ct)")
        return int(env)
    if repo is None:
        raise BadInput(f"{root} is not a git repository, so there is no commit time for "
                       "the archive", "commit the chart or set SOURCE_DATE_EPOCH")
    return repo.commit_time(rev or "HEAD")


# The annotations of a release for a chart directory (whose files messages name with `Names`).
Annotate = Callable[[Path, Names], Mapping[str, str]]


def build(chart_dir: Path, out_dir: Path, mtime: int, version: str | None = None,
          app_version: str | None = None, annotate: Annotate | None = None,
          names: Names = str) -> PackageResult:
    """Package a chart directory; version/appVersion, when given, are written into Chart.yaml,
    and so are the annotations `annotate` returns for the chart directory (a release's Artifact
    Hub annotations): every other byte of Chart.yaml is kept. Messages name the chart's files
    with `names` (a chart exported from a commit: `release.chart.commit_names`)."""
    chart = read_chart_yaml(chart_dir, names)
    origin = names(chart_dir / CHART_FILE)
    if version is not None:
        app_version = app_version or version
        if chart.data.get("version") != version or chart.data.get("appVersion") != app_version:
            chart = edit_versions(chart, version, app_version, origin)
    if annotate is not None:
        from release.artifacthub import apply_annotations

        chart = apply_annotations(chart, annotate(chart_dir, names), origin)
    metadata = chart.data
    if version is not None or annotate is not None:
        validate_metadata(metadata, origin)
    name, final_version = metadata["name"], metadata["version"]
    entries = _entries(chart_dir, name, chart.text.encode("utf-8"), names)
    data = write_archive(entries, mtime)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{name}-{final_version}.tgz"
    atomic_write(path, data)
    return PackageResult(
        path=path,
        digest="sha256:" + hashlib.sha256(data).hexdigest(),
        size=len(data),
        name=name,
        version=final_version,
        app_version=str(metadata.get("appVersion") or final_version),
        metadata=metadata,
        created=mtime,
        files=tuple(e.name for e in entries),
    )


def _tag_version(settings: Settings, tag: str | None) -> str | None:
    return str(parse_tag(tag, settings.tag_prefix)) if tag is not None else None


def _open_repo(settings: Settings) -> GitRepo | None:
    from release.gitrepo import GitRepo

    try:
        return GitRepo(settings.root)
    except BadInput:
        return None


def build_package(settings: Settings, tag: str | None, out_dir: Path) -> PackageResult:
    """Package the working tree's chart as it is (a development build, `dirty` when it differs
    from HEAD); the clock is the tag's commit if it exists, else HEAD."""
    version = _tag_version(settings, tag)
    repo = _open_repo(settings)
    rev = None
    dirty = False
    if repo is not None:
        if tag and repo.tag_commit(tag):
            rev = f"refs/tags/{tag}"
        dirty = repo.is_dirty(repo.relpath(settings.chart_dir))
    mtime = source_date_epoch(repo, rev, settings.root)
    return replace(build(settings.chart_dir, out_dir, mtime, version), dirty=dirty)


def package_commit(settings: Settings, repo: GitRepo, commit: str, version: str | None,
                   out_dir: Path, annotate: Annotate | None = None,
                   app_version: str | None = None, tag: str | None = None) -> PackageResult:
    """The archive of the chart exactly as committed in `commit` (the working tree plays no
    part), with `version` written into Chart.yaml when given: the same commit and version give
    the same bytes on every machine. Messages name a file by its path in the repository and
    the commit (`tag`, when it has one), never the temporary directory it was exported to."""
    chart_rel = repo.relpath(settings.chart_dir)
    at = f"{tag} ({commit[:12]})" if tag else commit[:12]
    with tempfile.TemporaryDirectory(prefix="ameide-release-src-") as tmp:
        tree = Path(tmp) / "tree"
        repo.export_tree(commit, chart_rel, tree)
        if not (tree / chart_rel).is_dir():
            raise BadInput(f"{chart_rel} does not exist in commit {commit[:12]}",
                           "commit the chart, or point --chart at it")
        mtime = source_date_epoch(repo, commit, settings.root)
        return build(tree / chart_rel, out_dir, mtime, version, app_version, annotate=annotate,
                     names=commit_names(tree / chart_rel, chart_rel, at))


def read_archive(path: Path) -> PackageResult:
    """An existing chart archive, described like a fresh package: Chart.yaml's metadata, the
    digest of its bytes, and `created` = its newest entry's mtime (our archives pin every mtime
    to the commit time, so that is the commit time). Read with Helm's rules and limits
    (`release.archive`), in one read: the metadata and the digest are of the same bytes even if
    the file is replaced meanwhile."""
    fix = "pass a chart archive made by `ameide-release package` or `helm package`"
    data = read_file_bytes(path, "package", max_bytes=limits.CHART_DECOMPRESSED_MAX, fix=fix,
                           whose="Helm's")
    members = read_chart_archive(data, f"package {path}")
    charts = {m.name.split("/", 1)[0] for m in members}
    chart = next((m for m in members if m.path == CHART_FILE), None)
    if chart is None or len(charts) != 1:
        raise BadInput(f"{path} has no single <chart>/Chart.yaml", fix)
    try:
        text = chart.data.decode("utf-8")
    except UnicodeDecodeError:
        raise BadInput(f"Chart.yaml in {path} is not UTF-8 text", fix) from None
    metadata = parse_yaml(text, f"Chart.yaml in {path}")
    validate_metadata(metadata, f"Chart.yaml in {path}")
    version = str(metadata["version"])
    return PackageResult(
        path=path, digest="sha256:" + hashlib.sha256(data).hexdigest(), size=len(data),
        name=str(metadata["name"]), version=version,
        app_version=str(metadata.get("appVersion") or version), metadata=metadata,
        created=max((m.mtime for m in members), default=0),
        files=tuple(sorted(m.name for m in members)))
