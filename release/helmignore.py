"""`.helmignore` with Helm's own semantics, so our archive holds exactly the files Helm's would.

Helm's rules differ from gitignore: a pattern without '/' matches the base name, one with '/'
matches the whole relative path (fnmatch-style, '*' does not cross '/'), a leading '/' anchors, a
trailing '/' matches directories only, '**' is an error, and a `!pattern` line ignores every path
that does NOT match it. `templates/.?*` is always ignored.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from release.errors import BadInput

HELMIGNORE = ".helmignore"
DEFAULT_RULES = ("templates/.?*",)


@lru_cache(maxsize=512)
def _glob(pattern: str) -> re.Pattern[str]:
    """Go's path/filepath.Match: '*' and '?' never match '/', classes use [^...] for negation."""
    out, i = [], 0
    while i < len(pattern):
        c = pattern[i]
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            j = pattern.find("]", i + 2 if pattern[i + 1: i + 2] in ("^", "!") else i + 1)
            if j < 0:
                raise ValueError("unterminated character class")
            body = pattern[i + 1: j]
            if body[:1] in ("^", "!"):
                body = "^" + body[1:]
            out.append(f"[{body.replace(chr(92), chr(92) * 2)}]")
            i = j
        elif c == "\\" and i + 1 < len(pattern):
            i += 1
            out.append(re.escape(pattern[i]))
        else:
            out.append(re.escape(c))
        i += 1
    return re.compile("".join(out) + r"\Z")


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
        if rule.startswith("/"):
            rx = _glob(rule.lstrip("/"))
            match: Callable[[str], bool] = lambda p: rx.match(p) is not None  # noqa: E731
        elif "/" in rule:
            rx = _glob(rule)
            match = lambda p: rx.match(p) is not None  # noqa: E731
        else:
            rx = _glob(rule)
            match = lambda p: rx.match(p.rsplit("/", 1)[-1]) is not None  # noqa: E731
    except ValueError:
        raise BadInput(f"{origin}: '{raw}' is not a valid pattern", "fix or remove it") from None
    return _Rule(raw, negate, must_dir, match)


class IgnoreRules:
    def __init__(self, lines: list[str], origin: str = HELMIGNORE) -> None:
        rules = [_compile(line, origin) for line in lines]
        self.rules = [r for r in rules if r is not None]

    @classmethod
    def for_chart(cls, chart_dir: Path) -> IgnoreRules:
        path = chart_dir / HELMIGNORE
        lines = path.read_text(encoding="utf-8-sig").splitlines() if path.is_file() else []
        return cls([*lines, *DEFAULT_RULES], str(path))

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
