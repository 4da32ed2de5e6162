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

import contextlib
import functools
from collections.abc import Iterator
from typing import Any

from release import limits
from release.errors import BadInput


class _LimitError(ValueError):
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
                raise _LimitError(f"it expands to more than {max_nodes} nodes (aliases)")
            sizes[key] = total
            continue
        if key in sizes:
            continue
        if key in active:
            raise _LimitError("it holds a recursive alias")
        if depth > max_depth:
            raise _LimitError(f"it nests deeper than {max_depth} levels")
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


def _load_one(text: str, *, max_bytes: int = limits.YAML_DOCUMENT_MAX) -> tuple[Any, Any]:
    """Parse one document into (data, the node tree it was built from); raises
    yaml.YAMLError (with `problem_mark`) on bad syntax and `_LimitError` when the document is
    over a limit."""
    if len(text) > max_bytes:
        raise _LimitError(f"it is over {max_bytes} bytes")
    loader = _loader()(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, None
        _measure(node, limits.YAML_NODES_MAX, limits.YAML_DEPTH_MAX)
        return loader.construct_document(node), node
    finally:
        loader.dispose()


def _load_documents(text: str, *, max_bytes: int = limits.YAML_DOCUMENT_MAX) -> list[Any]:
    """Every document of a YAML stream (a CRD file may hold several), each measured like
    `_load_one`'s."""
    if len(text) > max_bytes:
        raise _LimitError(f"it is over {max_bytes} bytes")
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


def parse_yaml(text: str, origin: str, *, max_bytes: int = limits.YAML_DOCUMENT_MAX,
               fix: str | None = None) -> Any:
    """`_load_one`, with bad input as a one-line BadInput naming `origin` and the line; `fix`
    replaces the generic advice (e.g. "restore it from the branch history")."""
    with _bad_yaml_is_bad_input(origin, fix):
        return _load_one(text, max_bytes=max_bytes)[0]


def parse_yaml_tree(text: str, origin: str, *, max_bytes: int = limits.YAML_DOCUMENT_MAX,
                    ) -> tuple[Any, Any]:
    """`parse_yaml`, with the node tree the data was built from (`yaml.Node`, None for an
    empty document): for readers that need where a key is in the text (`start_mark.line`).
    A mapping node's pairs are in the order of the built dict's items."""
    with _bad_yaml_is_bad_input(origin, None):
        return _load_one(text, max_bytes=max_bytes)


def parse_yaml_documents(text: str, origin: str, *, max_bytes: int = limits.YAML_DOCUMENT_MAX,
                         fix: str | None = None) -> list[Any]:
    """`_load_documents`, with bad input refused as `parse_yaml` refuses it."""
    with _bad_yaml_is_bad_input(origin, fix):
        return _load_documents(text, max_bytes=max_bytes)


@contextlib.contextmanager
def _bad_yaml_is_bad_input(origin: str, fix: str | None) -> Iterator[None]:
    """The one mapping from a YAML failure to a one-line BadInput naming `origin`."""
    import yaml

    try:
        yield
    except _LimitError as exc:
        raise BadInput(f"{origin} is refused: {exc}",
                       fix or "write plain YAML without deep nesting or alias expansion") \
            from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None)
        detail = f" ({str(problem)[:120]})" if problem else ""
        raise BadInput(f"{origin}{where} is not valid YAML{detail}", fix or "fix the syntax") \
            from None
    except RecursionError:
        raise BadInput(f"{origin} nests too deeply", fix or "write plain YAML without deep "
                       "nesting") from None


def read_text_file(path: Any, what: str, *, max_bytes: int, fix: str | None = None,
                   name: str | None = None) -> str:
    """A regular file's text (UTF-8, BOM stripped), read with `read_file_bytes`; a file that is
    not UTF-8 is refused with one line (`fix` is its advice)."""
    data = read_file_bytes(path, what, max_bytes=max_bytes, name=name)
    return decode_text(data, name or f"{what} {path}", fix)


def decode_text(data: bytes, shown: str, fix: str | None = None) -> str:
    """A file's bytes as text: UTF-8, BOM stripped; anything else is refused with one line
    naming the file as `shown` (the rule for files on disk and files read from a commit)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BadInput(f"{shown} is not UTF-8 text", fix or "save it as UTF-8") from None


def read_file_bytes(path: Any, what: str, *, max_bytes: int, name: str | None = None,
                    fix: str | None = None, whose: str = "the") -> bytes:
    """A regular file's bytes, read once, refusing FIFOs (opened without blocking), devices,
    directories and files over `max_bytes` (`whose` limit it is, e.g. "Helm's") with one line
    each. Messages call the file `name`, when given, else `what` and its path; `fix`, when
    given, is their advice."""
    import os
    import stat
    from pathlib import Path

    from release.errors import describe_os_error

    path = Path(path)
    shown = name or f"{what} {path}"
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        raise BadInput(f"{shown} does not exist", fix or "check the path") from None
    except IsADirectoryError:
        raise BadInput(f"{shown} is not a regular file", fix or "replace it with a file") \
            from None
    except OSError as exc:
        raise describe_os_error(exc, f"read {what}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise BadInput(f"{shown} is not a regular file", fix or "replace it with a file")
        if info.st_size > max_bytes:
            raise BadInput(f"{shown} is {info.st_size} bytes, over {whose} {max_bytes}-byte "
                           "limit", fix or "keep the file smaller")
        with os.fdopen(fd, "rb", closefd=False) as fh:
            data = fh.read(max_bytes + 1)
    finally:
        os.close(fd)
    if len(data) > max_bytes:
        raise BadInput(f"{shown} grew past {whose} {max_bytes}-byte limit while being read",
                       fix or "keep it smaller")
    return data
