"""Conventional commits 1.0.0 → changes. Pure: text in, data out, no git and no I/O.

One commit yields zero or more `Change`s:
- a merge commit yields nothing (its side branch's commits carry the changes);
- a GitHub squash merge whose body lists two or more `* type: subject` lines yields one change per
  conventional line (the PR title is a summary of those; non-conventional bullets are dropped as
  PR-internal noise). A `!` title or a `BREAKING CHANGE:` footer on such a commit adds one breaking
  change for the title too, so the breaking text is never lost;
- `Revert "…"` + `This reverts commit <sha>.` yields a `revert` change naming the reverted sha, so
  `release.notes` can cancel a revert/target pair inside one release;
- anything else yields one change; non-conventional messages get type `other`.

Footers: the `BREAKING CHANGE:` text is the breaking description; inside it, a sentence starting
"To migrate" or "Migration:", or a separate `Migration:` footer, is the migration hint. Closing
keywords in the body (`Fixes #45`, `Closes: #45, owner/repo#9`, `Resolves GH-12`) are kept as the
change's `closes` references.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import NamedTuple

# type(scope)!: subject — the type is a noun of letters/digits/dashes; ": " is mandatory.
_HEADER = re.compile(r"([A-Za-z][A-Za-z0-9-]*)(?:\(([^()\r\n]*)\))?(!)?: +(\S.*)")
_REVERT_HEADER = re.compile(r'Revert "(.*)"\s*')
_REVERTS_SHA = re.compile(r"This reverts commit ([0-9a-fA-F]{7,64})")
_BREAKING = re.compile(r"^BREAKING[ -]CHANGE: *(.*)$", re.MULTILINE)
_FOOTER = re.compile(r"(?:[A-Za-z][A-Za-z0-9-]*|BREAKING CHANGE)(?:: | #)")
_BULLET = re.compile(r"^[ \t]*[*-][ \t]+(\S.*)$", re.MULTILINE)
# no leading \s*: `search` would retry it at every space of a long run (quadratic); digits
# bounded as GitHub's numbers are (and as Python's int() accepts)
_PR = re.compile(r"\(#([1-9][0-9]{0,8})\)\s*$")
_MIGRATION_FOOTER = re.compile(r"^Migration: *(.*)$", re.MULTILINE | re.IGNORECASE)
_MIGRATION_IN_TEXT = re.compile(r"(?:^|(?<=[.!?;] ))(?:To migrate\b|Migration:)", re.IGNORECASE)
_CLOSING = re.compile(r"^[ \t]*(?:close[sd]?|fix(?:e[sd])?|resolve[sd]?)\b:?[ \t]+(.*)$",
                      re.MULTILINE | re.IGNORECASE)
_CLOSED_REF = re.compile(r"(?:[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]{1,100})?#[1-9][0-9]{0,8}"
                         r"|GH-[1-9][0-9]{0,8}")
MAX_CLOSES = 20  # references kept per commit: a hostile body cannot blow up one entry

OTHER = "other"
REVERT = "revert"

# Bump levels by change type; anything not listed does not bump.
_LEVEL = {"feat": "minor", "fix": "patch", "perf": "patch", REVERT: "patch"}


class Change(NamedTuple):
    """One line of release notes. A NamedTuple, as every record type `notes` loads: built by
    the ten thousand, and defining a dataclass costs start-up (see `release.version`)."""

    sha: str
    type: str  # lower-cased conventional type; "other" when not conventional; "revert"
    scope: str | None
    subject: str  # header text after ": ", without a trailing "(#123)"
    breaking: bool = False
    breaking_text: str | None = None  # footer text, else the subject when only "!" marks it
    pr: int | None = None  # from a trailing "(#123)"
    reverts: str | None = None  # for type "revert": the (possibly abbreviated) reverted sha
    conventional: bool = True
    migration: str | None = None  # a breaking change's migration hint, from its footers
    closes: tuple[str, ...] = ()  # "#45", "owner/repo#9", "GH-12" from closing-keyword footers

    def to_json(self) -> dict[str, object]:
        return {
            "sha": self.sha, "type": self.type, "scope": self.scope, "subject": self.subject,
            "breaking": self.breaking, "breaking_text": self.breaking_text, "pr": self.pr,
            "reverts": self.reverts, "conventional": self.conventional,
            "migration": self.migration, "closes": list(self.closes),
        }


def _split_pr(subject: str) -> tuple[str, int | None]:
    if ")" not in subject[-3:]:
        return subject.strip(), None
    m = _PR.search(subject)
    if m is None:
        return subject.strip(), None
    return subject[: m.start()].strip(), int(m.group(1))


def _footer_texts(pattern: re.Pattern[str], body: str) -> list[str]:
    """Texts of the footers `pattern` (matched at a line's start) finds; a footer runs until the
    next footer token or the end, its lines joined by single spaces. One pass over the lines."""
    lines = body.split("\n")
    texts: list[str] = []
    i, count = 0, len(lines)
    while i < count:
        m = pattern.match(lines[i])
        i += 1
        if m is None:
            continue
        parts = [m.group(1).strip()]
        while i < count and not _FOOTER.match(lines[i]):
            parts.append(lines[i].strip())
            i += 1
        text = " ".join(part for part in parts if part)
        if text:
            texts.append(text)
    return texts


def _breaking_parts(body: str) -> tuple[list[str], str | None]:
    """(breaking descriptions, migration hint) from a body's footers."""
    if "BREAKING" not in body and "igration" not in body and "IGRATION" not in body:
        return [], None
    texts = _footer_texts(_BREAKING, body) if "BREAKING" in body else []
    hints: list[str] = []
    for i, text in enumerate(texts):
        m = _MIGRATION_IN_TEXT.search(text)
        if m is not None and m.start() > 0:
            texts[i] = text[: m.start()].strip()
            hints.append(text[m.start():].strip())
    if "igration:" in body or "IGRATION:" in body:
        hints += _footer_texts(_MIGRATION_FOOTER, body)
    hints = [h.removeprefix("Migration:").removeprefix("migration:").strip() for h in hints]
    return texts, " ".join(h for h in hints if h) or None


def _closes(body: str) -> tuple[str, ...]:
    if "#" not in body and "GH-" not in body:
        return ()
    refs: dict[str, None] = {}  # ordered and unique; full after MAX_CLOSES
    for m in _CLOSING.finditer(body):
        for ref in _CLOSED_REF.findall(m.group(1)):
            refs[ref] = None
            if len(refs) == MAX_CLOSES:
                return tuple(refs)
    return tuple(refs)


def parse_header(sha: str, header: str, body: str = "") -> Change:
    """One change from a header line (and the body's breaking footers)."""
    header = header.strip()
    m = _HEADER.fullmatch(header)
    if m is None:
        subject, pr = _split_pr(header)
        return Change(sha, OTHER, None, subject, pr=pr, conventional=False)
    kind = m.group(1).lower()
    scope = (m.group(2) or "").strip() or None
    subject, pr = _split_pr(m.group(4))
    texts, migration = _breaking_parts(body) if body else ([], None)
    breaking = bool(m.group(3)) or bool(texts)
    reverts = None
    if kind == REVERT:
        found = _REVERTS_SHA.search(body)
        reverts = found.group(1).lower() if found else None
    return Change(sha, kind, scope, subject, breaking=breaking,
                  breaking_text=("; ".join(texts) if texts else subject) if breaking else None,
                  pr=pr, reverts=reverts, migration=migration if breaking else None,
                  closes=_closes(body) if body else ())


def parse_commit(sha: str, message: str, merge: bool = False) -> list[Change]:
    """All changes one commit carries (see the module docstring for the rules)."""
    if merge:
        return []
    message = message.replace("\r\n", "\n")
    header, _, body = message.strip().partition("\n")
    header = header.strip()
    if not header:
        return []

    revert = _REVERT_HEADER.fullmatch(header)
    if revert is not None:
        found = _REVERTS_SHA.search(body)
        inner = parse_header(sha, revert.group(1))
        subject = revert.group(1).strip()
        subject, pr = _split_pr(subject)
        return [Change(sha, REVERT, inner.scope if inner.conventional else None, subject, pr=pr,
                       reverts=found.group(1).lower() if found else None)]

    if body and ("* " in body or "- " in body):
        bullets = [parse_header(sha, b) for b in _BULLET.findall(body)]
        conventional = [c for c in bullets if c.conventional]
        if len(conventional) >= 2:
            title = parse_header(sha, header, _strip_bullets(body))
            if title.breaking:
                conventional.insert(0, title)
            return conventional

    return [parse_header(sha, header, body)]


def _strip_bullets(body: str) -> str:
    return _BULLET.sub("", body)


def bump_level(changes: Iterable[Change]) -> str | None:
    """"major" | "minor" | "patch" | None: breaking → major, feat → minor, fix/perf/revert → patch.

    The 0.x rule (breaking → minor before 1.0.0) is `release.version.bump_version`'s business.
    """
    best: str | None = None
    for change in changes:
        if change.breaking:
            return "major"
        level = _LEVEL.get(change.type)
        if level == "minor" or (level == "patch" and best is None):
            best = level
    return best
