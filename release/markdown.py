"""Commit text → one safe line of inline Markdown, with GitHub references linked.

Authors write Markdown in commit subjects on purpose (`` `values.yaml` ``, *emphasis*, links), so
the text is kept as written, except for what could hurt the page it lands on. The rule, applied to
one line (all whitespace, line breaks included, collapses to single spaces first; control and
bidirectional-override characters are removed):

- kept as written: code spans (a backtick run closed by a run of the same length, contents
  untouched), `*`/`_` emphasis, `~~strike~~`, backslash escapes, entities, bare URLs, autolinks
  `<https://…>`, and inline links `[text](url)` whose URL is http(s), mailto or `#anchor`;
- escaped with a backslash, so they show as typed: `<` (no raw HTML, no comments), `|` (no table
  cells), every `[` and `]` that is not part of a kept link (no reference links, footnotes, task
  boxes or link definitions), `!` before `[` (images become plain text or links), a backtick run
  that nothing closes (so no code span can swallow what follows), and a trailing backslash;
- at the start of the line, a character that would open a block is escaped: `#` (heading), `>`
  (quote), `-`/`+`/`*` followed by a space (list), a digit run followed by `.` or `)` and a space
  (ordered list), `~~~` (fence), and a line made only of `-`, `*`, `_` or `=` (rule or heading
  underline);
- nothing inside a code span or a kept link is changed (references and mentions included).

So any subject is exactly one list item's inline content: it cannot end the list, start a
heading, open a block, inject HTML or leave a code span open.

References become links to the configured GitHub (or GitHub Enterprise) web host: `#N` (`(#N)`
is a pull request, a bare `#N` goes to /issues/N, which GitHub forwards to the pull request when it
is one), `GH-N`, and `owner/repo#N`. `@mentions` are left as written by default (GitHub notifies and
links them, as its own generated notes do); `mentions = "code"` wraps them in code spans so release
notes notify nobody.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MENTION_MODES = ("keep", "code")

# C0/C1 controls (whitespace is collapsed before this applies) and bidi overrides/isolates.
_INVISIBLE = dict.fromkeys([*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0), *range(0x202A, 0x202F),
                            *range(0x2066, 0x206A)])
_PLAIN_SPECIAL = str.maketrans({c: "\\" + c for c in "\\`*_[]<>|~&"})
# Anything the scanner acts on; text without any of these needs only the line-start rule.
_SPECIAL = re.compile(r"[`\\<|\[\]@#]|GH-[1-9]|://")
_TOKEN = re.compile(
    r"(?P<esc>\\[!-/:-@\[-`{-~])"
    r"|(?P<tick>`+)"
    r"|(?P<auto><(?:https?|mailto):[^\s<>`]*>)"
    r"|(?P<url>https?://[^\s<>`\[\]|]+)"
    r"|(?P<image>!\[)"
    r"|(?P<open>\[)"
    r"|(?P<ref>(?<![\w/#&.@-])(?:(?P<owner>[A-Za-z0-9][A-Za-z0-9-]{0,38})/"
    r"(?P<repo>[A-Za-z0-9._-]{1,100}))?#(?P<num>[1-9][0-9]{0,8})(?![\w-]))"
    r"|(?P<gh>(?<![\w-])GH-(?P<ghnum>[1-9][0-9]{0,8})(?![\w-]))"
    r"|(?P<mention>(?<![\w`@./+-])@[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}"
    r"(?:/[A-Za-z0-9._-]{1,100})?(?![\w@-]))"
    r"|(?P<lone>[\\<|\]])"
)
_LINK = re.compile(r"\[(?P<text>[^\[\]`\\]{1,300})\]\((?P<dest>[^\s()<>`]{1,2000})\)")
_SAFE_DEST = re.compile(r"(?:https?://|mailto:|#)", re.IGNORECASE)
_BLOCK_START = re.compile(r"[#>]|[-+*](?: |$)|[0-9]{1,9}[.)](?: |$)|~~~|(?:[-*_=] *)+$")


@dataclass(frozen=True, slots=True)
class LinkTarget:
    """Where references point: the web root (https://github.com or the GHE host) and owner/name."""

    web: str
    repository: str
    mentions: str = "keep"

    @property
    def repo_url(self) -> str:
        return f"{self.web}/{self.repository}"


def clean(text: str) -> str:
    """One line: whitespace runs (line breaks included) → one space; invisible controls dropped."""
    if text.isprintable() and "  " not in text and text[:1] != " " and text[-1:] != " ":
        return text  # the common case, and isprintable() is false for every character below
    return " ".join(text.split()).translate(_INVISIBLE)


def md_escape(text: object) -> str:
    """Plain text → inline Markdown that shows exactly that text (names, scopes, titles)."""
    return _line_start(clean(str(text)).translate(_PLAIN_SPECIAL))


def _line_start(s: str) -> str:
    m = _BLOCK_START.match(s)
    if m is None:
        return s
    if s[0].isdigit():
        cut = m.end() - (2 if m.group().endswith(" ") else 1)
        return s[:cut] + "\\" + s[cut:]
    return "\\" + s


def _code_end(text: str, start: int, run: int) -> int:
    """Index just after the backtick run of exactly `run` closing a span opened at `start`."""
    pos = start
    fence = "`" * run
    while True:
        at = text.find(fence, pos)
        if at < 0:
            return -1
        end = at
        while end < len(text) and text[end] == "`":
            end += 1
        if end - at == run:
            return end
        pos = end


def _link_text(text: str) -> str:
    return text.replace("<", "\\<").replace("|", "\\|")


def inline(text: str, target: LinkTarget, limit: int = 0) -> str:
    """Commit text → safe inline Markdown (see the module docstring for the exact rule).

    With `limit`, text longer than that many characters is cut with "…" between tokens or
    inside plain text, never inside a code span, link or reference."""
    text = clean(text)
    if limit and len(text) > limit:
        cut = limit - 1
    else:
        cut = len(text)
        if _SPECIAL.search(text) is None:
            return _line_start(text)
    out: list[str] = []
    pos = 0
    while pos < cut:
        m = _TOKEN.search(text, pos)
        if m is None or m.start() >= cut:
            out.append(text[pos:cut])
            break
        start = m.start()
        out.append(text[pos:start])
        kind = m.lastgroup
        token = m.group()
        pos = m.end()
        if pos > cut and kind not in ("tick", "open", "image", "lone"):
            break  # an atom that does not fit is left out whole
        if kind == "esc":
            out.append(token)
        elif kind == "tick":
            end = _code_end(text, pos, len(token))
            if end < 0:
                out.append("\\`" * len(token))
            elif end > cut:
                break
            else:
                out.append(text[start:end])
                pos = end
        elif kind in ("auto", "url"):
            out.append(token.replace("|", "%7C"))
        elif kind == "image":
            out.append("\\!")
            pos = start + 1  # the "[" is looked at again: a kept link or an escaped bracket
        elif kind == "open":
            link = _LINK.match(text, start)
            if link is not None and _SAFE_DEST.match(link.group("dest")):
                if link.end() > cut:
                    break
                dest = link.group("dest").replace("|", "%7C")
                out.append(f"[{_link_text(link.group('text'))}]({dest})")
                pos = link.end()
            else:
                out.append("\\[")
        elif kind == "ref":
            out.append(_reference(m, text, start, target))
        elif kind == "gh":
            out.append(f"[{token}]({target.repo_url}/issues/{m.group('ghnum')})")
        elif kind == "mention":
            out.append(f"`{token}`" if target.mentions == "code" else token)
        else:  # lone "\\", "<", "|" or "]"
            out.append("\\\\" if token == "\\" else "\\" + token)
    result = "".join(out)
    if cut < len(text):
        result = result.rstrip() + "…"
    return _line_start(result)


def _reference(m: re.Match[str], text: str, start: int, target: LinkTarget) -> str:
    num = m.group("num")
    owner, repo = m.group("owner"), m.group("repo")
    if owner is not None:
        return f"[{m.group()}]({target.web}/{owner}/{repo}/issues/{num})"
    paren = start > 0 and text[start - 1] == "(" and text.startswith(")", m.end())
    kind = "pull" if paren else "issues"
    return f"[#{num}]({target.repo_url}/{kind}/{num})"


def mention(login: str, target: LinkTarget) -> str:
    """A GitHub login as the notes show it: `@login`, or a code span with mentions = "code"."""
    return f"`@{login}`" if target.mentions == "code" else f"@{login}"
