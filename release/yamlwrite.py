"""Writing YAML that reads back as what was written (index.yaml, Artifact Hub annotations).

Our own writer, for bytes that depend on nothing but the data (no YAML library version or
line-width setting can change them) and for speed. Helm reads YAML 1.1 (go-yaml): `1e-05` is
text there (a float needs a dot: `1.0e-05`), `yes` is a bool, `2024-01-01` a time. So numbers,
booleans and null follow one rule (`yaml11_plain`), and text that could be misread is written
double-quoted with JSON string syntax (valid YAML 1.1 and 1.2), escaping what YAML forbids raw
(`quote_yaml`). `block_yaml` is the one block-style layout; each document kind chooses how plain its
text may be, key order, and how lists sit under keys (Helm's index style or the indented one).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from typing import Any

from release.errors import BadInput

# printable for JSON but not for YAML (C1 controls, line separators, BOM, non-characters)
_YAML_UNSAFE = re.compile("[\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def yaml11_plain(value: Any) -> str | None:
    """None, a bool, an int or a float as YAML 1.1 plain text; None for anything else."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return ".nan"
        if math.isinf(value):
            return ".inf" if value > 0 else "-.inf"
        mantissa, exp, exponent = repr(value).partition("e")
        if not exp:
            return mantissa
        if "." not in mantissa:
            mantissa += ".0"  # YAML 1.1 reads 1e-05 as text: it wants 1.0e-05
        return f"{mantissa}e{exponent if exponent[0] in '+-' else '+' + exponent}"
    return None


def quote_yaml(text: str) -> str:
    """A double-quoted scalar any YAML reader reads back as `text` (undecodable bytes from git,
    which Python holds as lone surrogates, become U+FFFD)."""
    text = _SURROGATE.sub("\ufffd", text)
    return _YAML_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}",
                            json.dumps(text, ensure_ascii=False))


def _nested(value: Any) -> bool:
    return isinstance(value, dict | list) and len(value) > 0


def block_yaml(value: Any, *, scalar: Callable[[Any], str], key: Callable[[Any], str],
               sort_keys: bool, indent_lists: bool, max_depth: int, max_nodes: int) -> str:
    """`value` as block-style YAML text ending in a newline. `indent_lists=False` is Helm's
    layout (a list under a key starts at the key's column). Bounded: deeper than `max_depth`
    or more than `max_nodes` values (a shared value counts each time it is written) is bad
    input, so an alias-expanded document cannot blow up what we write."""
    if not _nested(value):
        return scalar(value) + "\n"
    out: list[str] = []
    budget = max_nodes

    def emit(node: dict[Any, Any] | list[Any], indent: int, depth: int) -> None:
        nonlocal budget
        if depth > max_depth:
            raise BadInput(f"a value nests deeper than {max_depth} levels", "flatten it")
        budget -= len(node)
        if budget < 0:
            raise BadInput(f"a value holds more than {max_nodes} items (aliases count every "
                           "use)", "make it smaller")
        pad = " " * indent
        if isinstance(node, dict):
            for k in sorted(node, key=str) if sort_keys else node:
                item = node[k]
                if _nested(item):
                    out.append(f"{pad}{key(k)}:")
                    emit(item, indent + 2 if indent_lists or isinstance(item, dict) else indent,
                         depth + 1)
                else:
                    out.append(f"{pad}{key(k)}: {scalar(item)}")
            return
        for item in node:
            if _nested(item):
                first = len(out)
                emit(item, indent + 2, depth + 1)
                out[first] = f"{pad}- {out[first][indent + 2:]}"
            else:
                out.append(f"{pad}- {scalar(item)}")

    emit(value, 0, 0)
    return "\n".join(out) + "\n"
