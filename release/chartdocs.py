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


# The line breaks YAML (PyYAML and libyaml alike) counts in `Mark.line`.
_BREAKS = re.compile("\r\n|[\n\r\x85\u2028\u2029]")


def _scalar_lines(root: Any) -> set[int]:
    """Lines that belong to a multi-line scalar (a `|` block, a folded or quoted text): their
    text is the value's, never a comment or a key."""
    import yaml

    lines: set[int] = set()
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            stack.extend(n for pair in node.value for n in pair)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
        elif node.end_mark.line > node.start_mark.line:
            last = node.end_mark.line - (node.end_mark.column == 0)
            lines.update(range(node.start_mark.line + 1, last + 1))
    return lines


def _doc_above(lines: list[str], line: int, text_lines: set[int]) -> tuple[str | None, str] | None:
    """The `# -- (type) description` comment right above `line` (and the comment lines after
    it), or None: the comment lines directly above, up to a blank or any other line."""
    block: list[str] = []
    n = line - 1
    while n >= 0 and n not in text_lines and lines[n].lstrip(" ").startswith("#"):
        block.append(lines[n])
        n -= 1
    block.reverse()
    start = next((i for i in range(len(block) - 1, -1, -1) if _DOC.match(block[i])), None)
    if start is None:
        return None
    doc = _DOC.match(block[start])
    assert doc is not None
    more = [m["text"].strip() for m in map(_MORE.match, block[start + 1:]) if m]
    return doc["type"], " ".join(t for t in (doc["text"].strip(), *more) if t)


def parse_values(text: str) -> list[ValueDoc]:
    """Rows for every documented key, in file order; fails when a value has no description.

    Keys come from the parsed document (a key's node knows its line), and its description is
    the `# --` comment right above that line: text inside block scalars and lists is never
    mistaken for a comment or a key. Keys of a flow mapping (`{a: 1}`) are part of their
    parent's value."""
    import yaml

    from release.yamlread import parse_yaml_tree

    data, root = parse_yaml_tree(text, "values.yaml")
    if data is None:
        return []
    if not isinstance(data, dict) or not isinstance(root, yaml.MappingNode):
        raise BadInput("values.yaml is not a mapping", "make its top level a mapping of keys")
    lines = _BREAKS.split(text)
    text_lines = _scalar_lines(root)
    rows: list[ValueDoc] = []
    missing: list[str] = []

    def walk(node: Any, values: dict[Any, Any], path: list[str], covered: bool) -> None:
        # the pairs are in the order of the dict's items (duplicate keys are refused)
        for (key_node, value_node), (key, value) in zip(node.value, values.items(),
                                                        strict=True):
            name = [*path, key_node.value if isinstance(key_node, yaml.ScalarNode)
                    else str(key)]
            mark = key_node.start_mark
            own_line = not lines[mark.line][:mark.column].strip()  # a block key, not {a: 1}
            doc = _doc_above(lines, mark.line, text_lines) if own_line else None
            if doc is not None:
                kind, description = doc
                rows.append(ValueDoc(key=".".join(name), type=kind or _type_of(value),
                                     default=json.dumps(_plain(value), separators=(",", ":")),
                                     description=description))
            if isinstance(value, dict) and value and isinstance(value_node, yaml.MappingNode):
                walk(value_node, value, name, covered or doc is not None)
            elif not (covered or doc is not None):
                missing.append(".".join(name))

    walk(root, data, [], False)
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
