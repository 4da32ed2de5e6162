"""The chart README's values table, generated from `# --` comments in values.yaml.

A key preceded by a `# -- description` comment becomes a row (helm-docs convention); an optional
`(type)` right after `--` overrides the inferred type. A documented map covers its children, so a
value is documented when it or one of its parents has a comment. Every value must be: the README
documents all of them or generation fails naming the ones missing.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from release.errors import BadInput

BEGIN = "<!-- chart-docs:values:begin -->"
END = "<!-- chart-docs:values:end -->"

_KEY = re.compile(r"^(?P<indent> *)(?P<key>[A-Za-z0-9_.\-/]+):(?:\s|$)")
_DOC = re.compile(r"^(?P<indent> *)# -- ?(?:\((?P<type>[^)]+)\) *)?(?P<text>.*)$")
_MORE = re.compile(r"^ *# ?(?P<text>.*)$")


@dataclass(frozen=True)
class ValueDoc:
    """One row of the table."""

    key: str
    type: str
    default: str
    description: str


# bool before int: a bool is an int in Python.
_TYPES: tuple[tuple[type, str], ...] = (
    (bool, "bool"), (int, "int"), (float, "float"), (str, "string"), (list, "list"), (dict, "object"))


def _type_of(value: Any) -> str:
    return next((name for kind, name in _TYPES if isinstance(value, kind)), "null")


def _plain(value: Any) -> Any:
    """ruamel containers to plain dicts and lists, for JSON."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _lookup(data: Any, path: list[str]) -> Any:
    for part in path:
        data = data[part]
    return data


def _leaves(data: Any, prefix: list[str]) -> list[list[str]]:
    """Paths of every value that needs a description: scalars, lists and empty maps."""
    if isinstance(data, dict) and data:
        out: list[list[str]] = []
        for key, value in data.items():
            out.extend(_leaves(value, [*prefix, str(key)]))
        return out
    return [prefix]


def _load(text: str) -> Any:
    from release.yamlread import parse_yaml

    return parse_yaml(text, "values.yaml")


def parse_values(text: str) -> list[ValueDoc]:
    """Rows for every documented key, in file order; fails when a value has no description."""
    data = _load(text) or {}
    if not isinstance(data, dict):
        raise BadInput("values.yaml is not a mapping", "make its top level a mapping of keys")
    rows: list[ValueDoc] = []
    stack: list[tuple[int, str]] = []
    pending: tuple[str | None, list[str]] | None = None
    list_indent: int | None = None
    for line in text.splitlines():
        stripped = line.strip()
        indent = len(line) - len(line.lstrip(" "))
        if list_indent is not None:
            if stripped and indent <= list_indent and not stripped.startswith("-"):
                list_indent = None
            else:
                continue
        doc = _DOC.match(line)
        if doc:
            pending = (doc["type"], [doc["text"].strip()])
            continue
        if stripped.startswith("#"):
            more = _MORE.match(line)
            if pending is not None and more:
                pending[1].append(more["text"].strip())
            continue
        if not stripped:
            pending = None
            continue
        if stripped.startswith("-"):
            list_indent = indent - 1
            continue
        match = _KEY.match(line)
        if not match:
            continue
        while stack and stack[-1][0] >= indent:
            stack.pop()
        stack.append((indent, match["key"]))
        if pending is not None:
            path = [k for _, k in stack]
            value = _lookup(data, path)
            kind, lines = pending
            rows.append(ValueDoc(
                key=".".join(path),
                type=kind or _type_of(value),
                default=json.dumps(_plain(value), separators=(",", ":")),
                description=" ".join(t for t in lines if t),
            ))
            pending = None
    documented = {row.key for row in rows}
    missing = []
    for leaf in _leaves(data, []):
        if not any(".".join(leaf[:n]) in documented for n in range(1, len(leaf) + 1)):
            missing.append(".".join(leaf))
    if missing:
        shown = ", ".join(missing[:5]) + (" …" if len(missing) > 5 else "")
        raise BadInput(f"values.yaml has {len(missing)} undocumented value(s): {shown}",
                       "add a `# -- description` comment above each key")
    return rows


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def values_table(text: str) -> str:
    """The Markdown table for the values in `text`."""
    out = ["| Key | Type | Default | Description |", "| --- | --- | --- | --- |"]
    for row in parse_values(text):
        out.append(f"| `{row.key}` | {_cell(row.type)} | `{_cell(row.default)}` | "
                   f"{_cell(row.description)} |")
    return "\n".join(out) + "\n"


def render_readme(readme: str, table: str) -> str:
    """`readme` with the text between the markers replaced by `table`."""
    start, end = readme.find(BEGIN), readme.find(END)
    if start < 0 or end < start:
        raise BadInput("the chart README has no values markers",
                       f"put {BEGIN} and {END} on their own lines where the table goes")
    return readme[: start + len(BEGIN)] + "\n" + table + readme[end:]


def regenerate(chart_dir: Path) -> tuple[str, str]:
    """(current README text, README text with a fresh table) for the chart in `chart_dir`."""
    from release import limits
    from release.yamlread import read_text_file

    values_path, readme_path = chart_dir / "values.yaml", chart_dir / "README.md"
    current = read_text_file(readme_path, "the chart README", max_bytes=limits.CHART_FILE_MAX)
    values = read_text_file(values_path, "values.yaml", max_bytes=limits.CHART_FILE_MAX)
    return current, render_readme(current, values_table(values))
