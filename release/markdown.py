"""Commit text → one safe line of inline Markdown, with GitHub references linked.

Authors write Markdown in commit subjects on purpose (`` `values.yaml` ``, *emphasis*, links), so
the text is kept as written, except for what could hurt the page it lands on. The rule, applied to
one line (non-whitespace control and bidirectional-override characters are removed, then every
whitespace run, line breaks included, becomes one space):

- kept as written: code spans (a backtick run closed by a run of the same length, contents
  untouched), `*`/`_` emphasis, `~~strike~~`, backslash escapes, entities, autolinks
  `<https://…>`, and inline links `[text](url)` whose URL is http(s), mailto or `#anchor`;
- bare `http(s)://…`, `ftp://…` and `www.…` URLs (any case) become explicit links (`<url>`,
  `[www.…](http://www.…)`), trailing punctuation left outside: GitHub links them anyway, but its
  autolinker would also swallow a backslash right after them and so undo the escape of a
  following `<` (plain texts — scopes, names, titles — escape the URL's `:` or `.` instead);
- escaped with a backslash, so they show as typed: `<` (no raw HTML, no comments), `|` (no table
  cells), every `[` and `]` that is not part of a kept link (no reference links, footnotes, task
  boxes or link definitions), `!` before `[` or before a reference we link (no images), a backtick
  run that nothing closes (so no code span can swallow what follows), and a lone backslash;
- at the start of the line, a character that would open a block is escaped: `#` (heading), `>`
  (quote), `-`/`+`/`*` followed by a space (list), a digit run followed by `.` or `)` and a space
  (ordered list), `~~~` (fence), and a line made only of `-`, `*`, `_` or `=` (rule or heading
  underline);
- nothing inside a code span or a kept link is changed (references and mentions included).

So any subject is exactly one list item's inline content: it cannot end the list, start a
heading, open a block, inject HTML or leave a code span open (tests/notes/test_markdown.py has
GitHub's own parser, cmark-gfm, check that on generated subjects).

References become links to the configured GitHub (or GitHub Enterprise) web host: `#N` (`(#N)`
is a pull request, a bare `#N` goes to /issues/N, which GitHub forwards to the pull request when it
is one), `GH-N`, and `owner/repo#N`. `@mentions` are left as written by default (GitHub notifies and
links them, as its own generated notes do); `mentions = "code"` wraps them in code spans so release
notes notify nobody.
"""

from __future__ import annotations

import re
from typing import NamedTuple

# C0/C1 controls that are not whitespace (whitespace is collapsed instead), bidi overrides and
# isolates: dropped.
_INVISIBLE = dict.fromkeys(c for c in [*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0),
                                       *range(0x202A, 0x202F), *range(0x2066, 0x206A)]
                           if not chr(c).isspace())
_PLAIN_SPECIAL = str.maketrans({c: "\\" + c for c in "\\`*_[]<>|~&"})
# Anything the scanner acts on (with "GH-" and "www."); text without any of these needs only
# the line-start rule. A lone character class: the regex engine scans for it at C speed.
_SPECIAL = re.compile(r"[`\\<|\[\]@#:]")
# Where GitHub's autolinker would start in plain text (it also swallows a backslash after a URL).
_AUTOLINK_START = re.compile(r"(?i)(?:https?|ftp)(?=://)|www(?=\.)")
_TOKEN = re.compile(
    r"(?P<esc>\\[!-/:-@\[-`{-~])"
    r"|(?P<tick>`+)"
    r"|(?P<auto><(?:https?|mailto):[^\s<>`]*>)"
    r"|(?P<url>(?i:(?:https?|ftp)://|www\.)[^\s<>\\]+)"
    r"|(?P<image>!\[)"
    r"|(?P<open>\[)"
    r"|(?P<ref>(?<![\w/#&.@-])(?:(?P<owner>[A-Za-z0-9][A-Za-z0-9-]{0,38})/"
    r"(?P<repo>[A-Za-z0-9._-]{1,100}))?#(?P<num>[1-9][0-9]{0,8})(?![\w-]))"
    r"|(?P<gh>(?<![\w-])GH-(?P<ghnum>[1-9][0-9]{0,8})(?![\w-]))"
    r"|(?P<mention>(?<![\w`@./+-])@[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}"
    r"(?:/[A-Za-z0-9._-]{1,100})?(?![\w@-]))"
    r"|(?P<lone>[\\<|\]])"
)
_LINK = re.compile(r"\[(?P<text>[^\[\]`\\]{1,300})\]\((?P<dest>[^\s()<>`\\]{1,2000})\)")
_URL_END = re.compile(r"[?!.,:;*_~'\"]+$")
_SAFE_DEST = re.compile(r"(?:https?://|mailto:|#)", re.IGNORECASE)
_BLOCK_CHARS = frozenset("#>-+*_=~0123456789")
_BLOCK_START = re.compile(r"[#>]|[-+*](?: |$)|[0-9]{1,9}[.)](?: |$)|~~~|(?:[-*_=] *)+$")


class LinkTarget(NamedTuple):
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
    return " ".join(text.translate(_INVISIBLE).split())


def md_escape(text: object) -> str:
    """Plain text → inline Markdown that shows exactly that text (names, scopes, titles); a URL
    in it stays text (its ":" or "." escaped), so no autolinker can eat an escape after it."""
    s = clean(str(text)).translate(_PLAIN_SPECIAL)
    if "://" in s or "ww." in s or "WW." in s:
        s = _AUTOLINK_START.sub(lambda m: m.group() + "\\", s)
    return _line_start(s)


def _line_start(s: str) -> str:
    if not s or s[0] not in _BLOCK_CHARS:
        return s
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


def _bare_url(url: str) -> str:
    """A bare URL as an explicit link: GitHub would autolink it anyway, but its autolinker also
    swallows backslashes right after it, which would undo the escape of a following "<"."""
    if url[:4].lower() == "www.":
        return f"[{url}](http://{url})"
    return f"<{url}>"


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
        if (_SPECIAL.search(text) is None and "GH-" not in text and "ww." not in text
                and "WW." not in text):
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
        elif kind == "auto":
            out.append(token.replace("|", "%7C"))
        elif kind == "url":
            url = _URL_END.sub("", token)
            if url.count("(") < url.count(")") and url.endswith(")"):
                url = url[:-1]
            pos = start + len(url)
            out.append(_bare_url(url.replace("|", "%7C")))
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
        elif kind in ("ref", "gh"):
            if out and out[-1].endswith("!"):  # "!" + a link we make would be an image
                out[-1] = out[-1][:-1] + "\\!"
            if kind == "ref":
                out.append(_reference(m, text, start, target))
            else:
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
