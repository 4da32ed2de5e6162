"""Who made a release: commit authors and `Co-authored-by:` trailers, offline from git.

A person is an email address (compared lower-cased), so one author with two display names counts
once; the name shown is the first one met. Bots are recognised by a `[bot]` suffix on the name or
on the email's local part (GitHub's `dependabot[bot]`, `renovate[bot]`, `github-actions[bot]`).

A *first contribution* is a person with a commit (authored or co-authored) in a release and none
in the history its previous release contains (every commit reachable from the previous release
tag). A release without a previous release marks nobody: everyone in it would be new.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import NamedTuple

MAX_CO_AUTHORS = 20  # trailers read per commit: a hostile message cannot blow up the list
# One quantifier per run of characters (the name is stripped afterwards): linear in the message,
# where `[ \t]*([^<>\n]*?)[ \t]*<` backtracked cubically over a line of spaces.
_CO_AUTHOR = re.compile(r"^[ \t]*co-authored-by:([^<>\n]*)<([^<>\s]{1,254})>[ \t]*$",
                        re.IGNORECASE | re.MULTILINE)
_NOREPLY = re.compile(r"(?:[0-9]+\+)?([A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38})"
                      r"@users\.noreply\.", re.IGNORECASE)
LOGIN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}(?:\[bot\])?")


class Person(NamedTuple):
    """One contributor of one release."""

    name: str
    email: str  # lower-cased: the identity
    bot: bool
    first: bool = False  # first contribution (see the module docstring)
    sha: str = ""  # a commit they authored in the release, for a login lookup; "" if co-author only

    def to_json(self) -> dict[str, object]:
        return {"name": self.name, "email": self.email, "bot": self.bot, "first": self.first}


def identity(email: str) -> str:
    return email.strip().lower()


def is_bot(name: str, email: str) -> bool:
    local = email.split("@", 1)[0]
    return name.lower().endswith("[bot]") or local.lower().endswith("[bot]")


def co_authors(message: str) -> list[tuple[str, str]]:
    """(name, email) of the `Co-authored-by:` trailers of a commit message (at most 20)."""
    if "-by:" not in message and "-BY:" not in message and "-By:" not in message:
        return []
    return [(m.group(1).strip() or m.group(2), m.group(2))
            for m in _CO_AUTHOR.finditer(message)][:MAX_CO_AUTHORS]


def noreply_login(email: str) -> str | None:
    """The GitHub login a `users.noreply` address encodes (`123+octo@users.noreply.github.com`)."""
    m = _NOREPLY.match(email)
    return m.group(1) if m is not None else None


def ordered(people: Iterable[Person]) -> tuple[Person, ...]:
    """People in display order: by name, case-insensitively, then by email (stable output)."""
    return tuple(sorted(people, key=lambda p: (p.name.casefold(), p.email)))
