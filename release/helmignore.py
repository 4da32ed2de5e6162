"""`.helmignore` with Helm's own semantics, so our archive holds exactly the files Helm's would.

Helm's rules differ from gitignore: a pattern without '/' matches the base name, one with '/'
matches the whole relative path (fnmatch-style, '*' does not cross '/'), a leading '/' anchors, a
trailing '/' matches directories only, '**' is an error, and a `!pattern` line ignores every path
that does NOT match it. `templates/.?*` is always ignored.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from release.errors import BadInput

if TYPE_CHECKING:
    from release.chart import Names

HELMIGNORE = ".helmignore"
DEFAULT_RULES = ("templates/.?*",)


class BadPattern(ValueError):
    """Go's filepath.ErrBadPattern."""


def _scan_chunk(pattern: str) -> tuple[bool, str, str]:
    """Go's scanChunk: leading stars, then the chunk up to the next star outside a class."""
    star = False
    while pattern.startswith("*"):
        pattern = pattern[1:]
        star = True
    in_range = False
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            if i + 1 < len(pattern):
                i += 1
        elif c == "[":
            in_range = True
        elif c == "]":
            in_range = False
        elif c == "*" and not in_range:
            break
        i += 1
    return star, pattern[:i], pattern[i:]


def _escaped(chunk: str) -> tuple[str, str]:
    """Go's getEsc: one (possibly escaped) character of a class."""
    if not chunk or chunk[0] in "-]":
        raise BadPattern
    if chunk[0] == "\\":
        chunk = chunk[1:]
        if not chunk:
            raise BadPattern
    char, rest = chunk[0], chunk[1:]
    if not rest:
        raise BadPattern
    return char, rest


def _match_chunk(chunk: str, s: str) -> str | None:
    """Go's matchChunk: the rest of `s` after `chunk` matched its start, or None. The whole
    chunk is always read, so a malformed one raises BadPattern whatever `s` is."""
    failed = False
    while chunk:
        if not failed and not s:
            failed = True
        c = chunk[0]
        if c == "[":
            r = ""
            if not failed:
                r, s = s[0], s[1:]
            chunk = chunk[1:]
            negated = chunk.startswith("^")
            if negated:
                chunk = chunk[1:]
            matched = False
            ranges = 0
            while True:
                if chunk.startswith("]") and ranges > 0:
                    chunk = chunk[1:]
                    break
                lo, chunk = _escaped(chunk)
                hi = lo
                if chunk[0] == "-":
                    hi, chunk = _escaped(chunk[1:])
                if lo <= r <= hi:
                    matched = True
                ranges += 1
            if matched == negated:
                failed = True
        elif c == "?":
            if not failed:
                if s[0] == "/":
                    failed = True
                s = s[1:]
            chunk = chunk[1:]
        else:
            if c == "\\":
                chunk = chunk[1:]
                if not chunk:
                    raise BadPattern
            if not failed:
                if chunk[0] != s[0]:
                    failed = True
                s = s[1:]
            chunk = chunk[1:]
    return None if failed else s


def glob_match(pattern: str, name: str) -> bool:
    """Go's path/filepath.Match (what Helm's .helmignore uses): '*' and '?' never match '/',
    classes are `[...]` / `[^...]`. Each chunk after a star takes its leftmost match and never
    backtracks into an earlier star, so the time is O(len(pattern) x len(name)) whatever the
    pattern: six stars cost what one does (a regex translation backtracks exponentially)."""
    while pattern:
        star, chunk, pattern = _scan_chunk(pattern)
        if star and not chunk:
            return "/" not in name  # a trailing star matches the rest, unless it holds a '/'
        rest = _match_chunk(chunk, name)
        if rest is not None and (not rest or pattern):
            name = rest
            continue
        if star:
            found = False
            i = 0
            while i < len(name) and name[i] != "/":
                rest = _match_chunk(chunk, name[i + 1:])
                if rest is not None and not (not pattern and rest):
                    name = rest
                    found = True
                    break
                i += 1
            if found:
                continue
        while pattern:  # the rest of the pattern must still be well formed
            _, chunk, pattern = _scan_chunk(pattern)
            _match_chunk(chunk, "")
        return False
    return not name


@dataclass(frozen=True)
class _Rule:
    raw: str
    negate: bool
    must_dir: bool
    match: Callable[[str], bool]


def _compile(line: str, origin: str) -> _Rule | None:
    rule = line.strip()
    if not rule or rule.startswith("#"):
        return None
    if "**" in rule:
        raise BadInput(f"{origin}: '{rule}' uses '**', which Helm does not support",
                       "write one pattern per directory level instead")
    raw, negate = rule, rule.startswith("!")
    if negate:
        rule = rule[1:]
    must_dir = rule.endswith("/")
    rule = rule.rstrip("/") if must_dir else rule
    try:
        glob_match(rule, "abc")  # Helm's own syntax check: a malformed pattern is an error
    except BadPattern:
        raise BadInput(f"{origin}: '{raw[:100]}' is not a valid pattern", "fix or remove it") \
            from None
    if rule.startswith("/"):
        anchored = rule.lstrip("/")
        match: Callable[[str], bool] = lambda p: glob_match(anchored, p)  # noqa: E731
    elif "/" in rule:
        match = lambda p: glob_match(rule, p)  # noqa: E731
    else:
        match = lambda p: glob_match(rule, p.rsplit("/", 1)[-1])  # noqa: E731
    return _Rule(raw, negate, must_dir, match)


class IgnoreRules:
    def __init__(self, lines: list[str], origin: str = HELMIGNORE) -> None:
        rules = [_compile(line, origin) for line in lines]
        self.rules = [r for r in rules if r is not None]

    @classmethod
    def for_chart(cls, chart_dir: Path, names: Names = str) -> IgnoreRules:
        """The chart's rules; messages name the file with `names`."""
        path = chart_dir / HELMIGNORE
        shown = names(path)
        lines: list[str] = []
        if path.exists() or path.is_symlink():
            from release import limits
            from release.yamlread import read_text_file

            lines = read_text_file(path, ".helmignore", max_bytes=limits.CHART_FILE_MAX,
                                   name=shown).splitlines()
        return cls([*lines, *DEFAULT_RULES], shown)

    def ignored(self, path: str, is_dir: bool) -> bool:
        """Helm's evaluation order, quirks included (first deciding rule wins)."""
        for rule in self.rules:
            if rule.negate:
                if rule.must_dir and not is_dir:
                    return True
                if not rule.match(path):
                    return True
                continue
            if rule.must_dir and not is_dir:
                continue
            if rule.match(path):
                return True
        return False
