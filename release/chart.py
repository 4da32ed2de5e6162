"""Chart.yaml: load, check against Helm's rules, and set version/appVersion in place.

The bump edits only the two lines it owns, so comments, key order and the quoting of every other
field survive byte for byte; the result is re-parsed and checked before it replaces the file.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Any, NamedTuple

from release import limits
from release.errors import BadInput
from release.version import parse_version
from release.yamlread import parse_yaml, read_text_file

CHART_FILE = "Chart.yaml"
# OCI repository path components are lowercase; a chart we cannot push is refused early.
_NAME = re.compile(r"[a-z0-9]+(?:[._-][a-z0-9]+)*")


# How messages name a file of the chart being read (default `str`: its path).
Names = Callable[[Path], str]


def commit_names(directory: Path, repo_path: str, at: str) -> Names:
    """Names for the files of a chart exported from a commit into `directory`, a temporary
    directory that is gone when anyone reads the message: each file is named by its path in the
    repository (`repo_path` is the chart's) and the commit, `chart/Chart.yaml at v1.0.0
    (abc123def456)`. Paths outside `directory` keep their own name."""
    roots = (directory, directory.resolve())

    def name(path: Path) -> str:
        for root in roots:
            if path == root or root in path.parents:
                inside = PurePosixPath(repo_path, path.relative_to(root).as_posix())
                return f"{inside} at {at}"
        return str(path)

    return name


class ChartText(NamedTuple):
    """Chart.yaml's text and its data as parsed from that very text. An edit proves what its
    result parses to, and returns both: the text is parsed once per edit, not again by the
    next one."""

    text: str
    data: dict[str, Any]

    @classmethod
    def parse(cls, text: str, origin: str) -> ChartText:
        data = parse_yaml(text, origin)
        if not isinstance(data, dict):
            raise BadInput(f"{origin} must be a YAML mapping",
                           "see https://helm.sh/docs/topics/charts/")
        return cls(text, data)


def read_chart_yaml(chart_dir: Path, names: Names = str) -> ChartText:
    """Chart.yaml, read once (bounded), parsed and checked with Helm's rules."""
    path = chart_dir / CHART_FILE
    shown = names(path)
    if not path.exists():
        raise BadInput(f"{shown} not found", "point --chart at a Helm chart directory")
    text = read_text_file(path, "Chart.yaml", max_bytes=limits.CHART_FILE_MAX, name=shown)
    return parse_chart_yaml(text, shown)


def parse_chart_yaml(text: str, origin: str) -> ChartText:
    """Chart.yaml's text (from a file, or from a commit) parsed and checked with Helm's rules;
    `origin` names it in messages."""
    chart = ChartText.parse(text, origin)
    validate_metadata(chart.data, origin)
    return chart


def load_metadata(chart_dir: Path) -> dict[str, Any]:
    """The parsed Chart.yaml, checked with Helm's rules."""
    return read_chart_yaml(chart_dir).data


def validate_metadata(data: Any, path: Path | str) -> None:
    """Helm's rules for a v2 chart, each failure naming the file and field."""
    if not isinstance(data, dict):
        raise BadInput(f"{path} must be a YAML mapping", "see https://helm.sh/docs/topics/charts/")
    if data.get("apiVersion") != "v2":
        raise BadInput(f"{path}: apiVersion is {data.get('apiVersion')!r}",
                       "set apiVersion: v2 (Helm 3+ charts)")
    name = data.get("name")
    if not isinstance(name, str) or not name:
        raise BadInput(f"{path}: name is missing", "set name: <chart-name>")
    if not _NAME.fullmatch(name):
        raise BadInput(f"{path}: name {name!r} is not a valid chart/OCI repository name",
                       "use lowercase letters, digits and single '.', '_' or '-' separators")
    version = data.get("version")
    if not isinstance(version, str):
        raise BadInput(f"{path}: version is {version!r}",
                       "set version to strict SemVer 2 as a string, e.g. version: 1.2.3")
    parse_version(version, f"{path}: version")
    if "type" in data and data["type"] not in ("application", "library"):
        raise BadInput(f"{path}: type is {data['type']!r}", "use application or library")
    app_version = data.get("appVersion")
    if app_version is not None and not isinstance(app_version, str):
        raise BadInput(f"{path}: appVersion is {str(app_version)[:40]!r} "
                       f"({type(app_version).__name__})", 'quote it: appVersion: "1.2.3"')
    annotations = data.get("annotations")
    if annotations is not None and not (
            isinstance(annotations, dict)
            and all(isinstance(k, str) and isinstance(v, str) for k, v in annotations.items())):
        raise BadInput(f"{path}: annotations must map text to text (Helm refuses numbers, "
                       "lists and maps there)", 'quote the values: key: "value"')
    for key in ("sources", "keywords"):
        value = data.get(key)
        if value is not None and not (isinstance(value, list)
                                      and all(isinstance(v, str) for v in value)):
            raise BadInput(f"{path}: {key} must be a list of text", f"write {key} as a YAML list")
    for key in ("maintainers", "dependencies"):
        value = data.get(key)
        if value is not None and not (isinstance(value, list)
                                      and all(isinstance(v, dict) for v in value)):
            raise BadInput(f"{path}: {key} must be a list of mappings",
                           f"write each of {key} as name: …")
    for key in ("home", "description", "icon", "kubeVersion", "condition", "tags"):
        value = data.get(key)
        if value is not None and not isinstance(value, str):
            raise BadInput(f"{path}: {key} must be text", f'quote it: {key}: "…"')


_LINE = r"^{key}:[ \t]*(?P<value>\"[^\"\n]*\"|'[^'\n]*'|[^#\n]*?)(?P<tail>[ \t]+#[^\n]*)?[ \t]*$"


def set_versions(text: str, version: str, app_version: str, origin: str = CHART_FILE) -> str:
    """Chart.yaml text with version and appVersion set; nothing else changes."""
    return edit_versions(ChartText.parse(text, origin), version, app_version, origin).text


def edit_versions(chart: ChartText, version: str, app_version: str,
                  origin: str = CHART_FILE) -> ChartText:
    """`chart` with version and appVersion set; nothing else changes."""
    new = chart.text
    for key, rendered in (("version", version), ("appVersion", f'"{app_version}"')):
        pattern = re.compile(_LINE.format(key=key), re.MULTILINE)
        matches = list(pattern.finditer(new))
        if len(matches) > 1:
            raise BadInput(f"{origin}: {key} appears {len(matches)} times", "keep one")
        if matches:
            m = matches[0]
            tail = m.group("tail") or ""
            new = new[: m.start()] + f"{key}: {rendered}{tail}" + new[m.end():]
        else:
            anchor = re.compile(_LINE.format(key="version"), re.MULTILINE).search(new)
            if anchor is None:
                raise BadInput(f"{origin}: no top-level 'version:' line to edit",
                               "write Chart.yaml in block style with version: on its own line")
            new = new[: anchor.end()] + f"\n{key}: {rendered}" + new[anchor.end():]
    after = parse_yaml(new, origin)
    if after != {**chart.data, "version": version, "appVersion": app_version}:
        raise BadInput(f"{origin}: could not set version/appVersion without changing other fields",
                       "write version: and appVersion: as plain top-level lines")
    return ChartText(new, after)
