"""Chart.yaml: load, check against Helm's rules, and set version/appVersion in place.

The bump edits only the two lines it owns, so comments, key order and the quoting of every other
field survive byte for byte; the result is re-parsed and checked before it replaces the file.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any

from release.errors import BadInput
from release.version import parse_version

CHART_FILE = "Chart.yaml"
# OCI repository path components are lowercase; a chart we cannot push is refused early.
_NAME = re.compile(r"[a-z0-9]+(?:[._-][a-z0-9]+)*")


@functools.cache
def _loader() -> type:
    """Safe YAML 1.1, as Helm's go-yaml reads Chart.yaml and index.yaml (`yes` is a bool), with
    libyaml's C parser when present. Timestamps stay the text they are, so files round-trip; a
    duplicate key is an error rather than a silent last-one-wins."""
    # Built on first use, so PyYAML stays out of `--help`.
    import yaml

    class Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
        def construct_mapping(self, node: Any, deep: bool = False) -> dict[Any, Any]:
            self.flatten_mapping(node)
            seen: set[Any] = set()
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=deep)
                if key in seen:
                    raise yaml.constructor.ConstructorError(
                        "while constructing a mapping", node.start_mark,
                        f"found duplicate key {key!r}", key_node.start_mark)
                seen.add(key)
            mapping: dict[Any, Any] = super().construct_mapping(node, deep=deep)
            return mapping

    Loader.add_constructor("tag:yaml.org,2002:timestamp",
                           lambda loader, node: loader.construct_scalar(node))
    return Loader


def load_yaml(text: str) -> Any:
    """Parse; raises yaml.YAMLError (with `problem_mark`) on bad input."""
    import yaml

    return yaml.load(text, Loader=_loader())


def load_yaml_documents(text: str) -> list[Any]:
    """Every document of a YAML stream (a CRD file may hold several), read like `load_yaml`."""
    import yaml

    return list(yaml.load_all(text, Loader=_loader()))


def parse_yaml(text: str, origin: str) -> Any:
    """`load_yaml`, with bad input as a one-line BadInput naming `origin` and the line."""
    import yaml

    try:
        return load_yaml(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise BadInput(f"{origin}{where} is not valid YAML", "fix the syntax") from None


def load_metadata(chart_dir: Path) -> dict[str, Any]:
    """The parsed Chart.yaml, checked with Helm's rules."""
    path = chart_dir / CHART_FILE
    if not path.is_file():
        raise BadInput(f"{path} not found", "point --chart at a Helm chart directory")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise BadInput(f"{path} is not UTF-8 text", "save it as UTF-8") from None
    data = parse_yaml(text, str(path))
    validate_metadata(data, path)
    assert isinstance(data, dict)
    return data


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
        raise BadInput(f"{path}: appVersion is {app_version!r} ({type(app_version).__name__})",
                       'quote it: appVersion: "1.2.3"')


_LINE = r"^{key}:[ \t]*(?P<value>\"[^\"\n]*\"|'[^'\n]*'|[^#\n]*?)(?P<tail>[ \t]+#[^\n]*)?[ \t]*$"


def set_versions(text: str, version: str, app_version: str, origin: str = CHART_FILE) -> str:
    """Chart.yaml text with version and appVersion set; nothing else changes."""
    new = text
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
    before, after = parse_yaml(text, origin), parse_yaml(new, origin)
    expected = {**before, "version": version, "appVersion": app_version}
    if after != expected:
        raise BadInput(f"{origin}: could not set version/appVersion without changing other fields",
                       "write version: and appVersion: as plain top-level lines")
    return new
