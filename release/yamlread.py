"""Reading YAML we did not write (Chart.yaml, values.yaml, index.yaml), with bounds.

YAML 1.1 through libyaml's C parser when present, as Helm's go-yaml reads charts and indexes
(`yes` is a bool); timestamps stay the text they are, so files round-trip; a duplicate key is an
error rather than a silent last-one-wins. A document is parsed into nodes first and measured
before anything is built from it: its size, its nesting depth and the number of nodes it would
have with every alias expanded. An alias bomb ("billion laughs") is a few hundred bytes that
expand to billions of nodes: it is refused in linear time instead of hanging whatever walks the
result later.
"""

from __future__ import annotations

import functools
from typing import Any

from release import limits
from release.errors import BadInput


class YamlLimitError(ValueError):
    """The document is over one of the limits (see `release.limits`)."""


@functools.cache
def _loader() -> type:
    # Built on first use, so PyYAML stays out of `--help`.
    import yaml

    class Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
        def construct_mapping(self, node: Any, deep: bool = False) -> dict[Any, Any]:
            self.flatten_mapping(node)
            seen: set[Any] = set()
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=deep)
                try:
                    duplicate = key in seen
                except TypeError:
                    raise yaml.constructor.ConstructorError(
                        "while constructing a mapping", node.start_mark,
                        "found an unhashable key (a list or map used as a key)",
                        key_node.start_mark) from None
                if duplicate:
                    raise yaml.constructor.ConstructorError(
                        "while constructing a mapping", node.start_mark,
                        f"found duplicate key {str(key)[:80]!r}", key_node.start_mark)
                seen.add(key)
            mapping: dict[Any, Any] = super().construct_mapping(node, deep=deep)
            return mapping

    Loader.add_constructor("tag:yaml.org,2002:timestamp",
                           lambda loader, node: loader.construct_scalar(node))
    return Loader


def _measure(root: Any, max_nodes: int, max_depth: int) -> None:
    """Expanded node count and depth of a node graph, each distinct node visited once."""
    import yaml

    sizes: dict[int, int] = {}
    active: set[int] = set()
    # Iterative post-order walk: (node, depth, children pushed?)
    stack: list[tuple[Any, int, bool]] = [(root, 1, False)]
    while stack:
        node, depth, expanded = stack.pop()
        key = id(node)
        if expanded:
            active.discard(key)
            children = _children(node)
            total = 1 + sum(sizes[id(c)] for c in children)
            if total > max_nodes:
                raise YamlLimitError(f"it expands to more than {max_nodes} nodes (aliases)")
            sizes[key] = total
            continue
        if key in sizes:
            continue
        if key in active:
            raise YamlLimitError("it holds a recursive alias")
        if depth > max_depth:
            raise YamlLimitError(f"it nests deeper than {max_depth} levels")
        if not isinstance(node, yaml.CollectionNode):
            sizes[key] = 1
            continue
        active.add(key)
        stack.append((node, depth, True))
        for child in _children(node):
            if id(child) not in sizes:
                stack.append((child, depth + 1, False))


def _children(node: Any) -> list[Any]:
    import yaml

    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def load_yaml(text: str, *, max_bytes: int = limits.YAML_DOCUMENT_MAX) -> Any:
    """Parse one document; raises yaml.YAMLError (with `problem_mark`) on bad syntax and
    `YamlLimitError` when the document is over a limit."""
    if len(text) > max_bytes:
        raise YamlLimitError(f"it is over {max_bytes} bytes")
    loader = _loader()(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _measure(node, limits.YAML_NODES_MAX, limits.YAML_DEPTH_MAX)
        return loader.construct_document(node)
    finally:
        loader.dispose()


def load_yaml_documents(text: str, *, max_bytes: int = limits.YAML_DOCUMENT_MAX) -> list[Any]:
    """Every document of a YAML stream (a CRD file may hold several), each measured like
    `load_yaml`'s."""
    if len(text) > max_bytes:
        raise YamlLimitError(f"it is over {max_bytes} bytes")
    loader = _loader()(text)
    out = []
    try:
        while loader.check_node():
            node = loader.get_node()
            _measure(node, limits.YAML_NODES_MAX, limits.YAML_DEPTH_MAX)
            out.append(loader.construct_document(node))
    finally:
        loader.dispose()
    return out


def parse_yaml(text: str, origin: str, *, max_bytes: int = limits.YAML_DOCUMENT_MAX) -> Any:
    """`load_yaml`, with bad input as a one-line BadInput naming `origin` and the line."""
    import yaml

    try:
        return load_yaml(text, max_bytes=max_bytes)
    except YamlLimitError as exc:
        raise BadInput(f"{origin} is refused: {exc}",
                       "write plain YAML without deep nesting or alias expansion") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None)
        detail = f" ({str(problem)[:120]})" if problem else ""
        raise BadInput(f"{origin}{where} is not valid YAML{detail}", "fix the syntax") from None
    except RecursionError:
        raise BadInput(f"{origin} nests too deeply", "write plain YAML without deep nesting") \
            from None


def read_text_file(path: Any, what: str, *, max_bytes: int, fix: str | None = None) -> str:
    """A regular file's text (UTF-8, BOM stripped), refusing FIFOs, devices, directories,
    oversized and non-UTF-8 files with one line each."""
    import os
    import stat
    from pathlib import Path

    from release.errors import describe_os_error

    path = Path(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        raise BadInput(f"{what} {path} does not exist", "check the path") from None
    except OSError as exc:
        raise describe_os_error(exc, f"read {what}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise BadInput(f"{what} {path} is not a regular file", "replace it with a file")
        if info.st_size > max_bytes:
            raise BadInput(f"{what} {path} is {info.st_size} bytes, over the {max_bytes}-byte "
                           "limit", "keep the file smaller")
        with os.fdopen(fd, "rb", closefd=False) as fh:
            data = fh.read(max_bytes + 1)
    finally:
        os.close(fd)
    if len(data) > max_bytes:
        raise BadInput(f"{what} {path} is over the {max_bytes}-byte limit", "keep it smaller")
    return decode_text(data, f"{what} {path}", fix)


def decode_text(data: bytes, what: str, fix: str | None = None) -> str:
    """A file's bytes as text: UTF-8, BOM stripped; anything else is refused with one line
    (the rule for files on disk and files read from a commit alike)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BadInput(f"{what} is not UTF-8 text", fix or "save it as UTF-8") from None
