"""Tags <-> SemVer versions, the next version from commits, and the image tags of a ref.

Only `<prefix>` + strict SemVer 2 is a release tag. Everything else is refused with the expected
form, because a loosely parsed tag ends up as a chart version nobody can install.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

from release.errors import BadInput

# semver.org's regex, ASCII only (str.isdigit() would accept unicode digits).
_PRERELEASE_AND_BUILD = (
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?")
SEMVER_RE = re.compile(r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)" + _PRERELEASE_AND_BUILD, re.ASCII)
# Minor and patch optional: Helm's lenient reading of an index (compiled on first use).
_LENIENT = r"(0|[1-9]\d*)(?:\.(0|[1-9]\d*)(?:\.(0|[1-9]\d*))?)?" + _PRERELEASE_AND_BUILD


_UINT64_MAX = 2**64 - 1  # Helm's semver library stores MAJOR, MINOR and PATCH as uint64


class Version:
    """A SemVer 2 version, ordered and compared by SemVer precedence (build metadata takes no
    part, as the specification says). Immutable. Our own: the six operations used here did not
    pay for the `semver` package, whose import (its command line: argparse and inspect) was 5 ms
    of every start."""

    __slots__ = ("_build", "_key", "_major", "_minor", "_patch", "_prerelease")

    def __init__(self, major: int, minor: int = 0, patch: int = 0, prerelease: str | None = None,
                 build: str | None = None) -> None:
        if min(major, minor, patch) < 0:
            raise ValueError(f"negative number in {major}.{minor}.{patch}")
        self._major, self._minor, self._patch = major, minor, patch
        self._prerelease, self._build = prerelease or None, build or None
        self._key = precedence_key(major, minor, patch, self._prerelease)

    @classmethod
    def parse(cls, text: str, *, optional_minor_and_patch: bool = False) -> Version:
        """Strict SemVer 2; with `optional_minor_and_patch`, `1` and `1.2` too (as 1.0.0 and
        1.2.0: Helm's lenient reading of an index). ValueError otherwise."""
        m = (re.fullmatch(_LENIENT, text, re.ASCII) if optional_minor_and_patch
             else SEMVER_RE.fullmatch(text))
        if m is None:
            raise ValueError(f"{text[:80]!r} is not a SemVer version")
        major, minor, patch, pre, build = m.groups()
        return cls(int(major), int(minor or 0), int(patch or 0), pre, build)

    @property
    def major(self) -> int:
        return self._major

    @property
    def minor(self) -> int:
        return self._minor

    @property
    def patch(self) -> int:
        return self._patch

    @property
    def prerelease(self) -> str | None:
        return self._prerelease

    @property
    def build(self) -> str | None:
        return self._build

    @property
    def key(self) -> tuple[Any, ...]:
        """The precedence as a plain tuple (see `precedence_key`)."""
        return self._key

    def finalize_version(self) -> Version:
        return Version(self._major, self._minor, self._patch)

    def bump_major(self) -> Version:
        return Version(self._major + 1)

    def bump_minor(self) -> Version:
        return Version(self._major, self._minor + 1)

    def bump_patch(self) -> Version:
        return Version(self._major, self._minor, self._patch + 1)

    def __str__(self) -> str:
        text = f"{self._major}.{self._minor}.{self._patch}"
        if self._prerelease:
            text += f"-{self._prerelease}"
        return text + (f"+{self._build}" if self._build else "")

    def __repr__(self) -> str:
        return f"Version({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        return self._key == other._key if isinstance(other, Version) else NotImplemented

    def __hash__(self) -> int:
        return hash(self._key)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return self._key < other._key

    def __le__(self, other: object) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return self._key <= other._key

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return self._key > other._key

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return self._key >= other._key


def _fits_helm(version: Version, text: str, what: str) -> Version:
    if max(version.major, version.minor, version.patch) > _UINT64_MAX:
        raise BadInput(f"{what} {text[:60]!r} has a number above 2^64-1, which Helm cannot load",
                       "use smaller version numbers")
    return version


def parse_version(text: str, what: str = "version") -> Version:
    """Strict SemVer 2 (build metadata allowed), or BadInput naming the value."""
    if not text or len(text) > 256 or not SEMVER_RE.fullmatch(text):
        raise BadInput(f"{what} {text[:80]!r} is not strict SemVer 2",
                       "use MAJOR.MINOR.PATCH[-PRERELEASE], e.g. 1.2.3 or 1.2.3-rc.1")
    return _fits_helm(Version.parse(text), text, what)


def parse_tag(tag: str, prefix: str = "v") -> Version:
    """A release tag: prefix + MAJOR.MINOR.PATCH[-PRE]; build metadata is refused in a tag."""
    example = f"{prefix}1.2.3 or {prefix}1.2.3-rc.1"
    if not tag:
        raise BadInput(f"tag {tag!r} is empty", f"pass a release tag such as {example}")
    if not tag.startswith(prefix):
        raise BadInput(f"tag {tag[:80]!r} does not start with the tag prefix {prefix!r}",
                       f"use the form {example}")
    body = tag[len(prefix):]
    if len(body) > 256 or not SEMVER_RE.fullmatch(body):
        raise BadInput(f"tag {tag[:80]!r} is not {prefix!r} + strict SemVer 2",
                       f"use the form {example}")
    version = _fits_helm(Version.parse(body), tag, "tag")
    if version.build:
        raise BadInput(f"tag {tag!r} carries build metadata (+{version.build})",
                       f"tag releases without '+...', e.g. {prefix}{version.finalize_version()}")
    return version


def precedence_key(major: int, minor: int, patch: int, pre: str | None) -> tuple[Any, ...]:
    """SemVer precedence as a plain tuple, cheap to sort thousands of tags by."""
    if not pre:
        return (major, minor, patch, 1, ())
    ids = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in pre.split("."))
    return (major, minor, patch, 0, ids)


def tag_key(tag: str, prefix: str) -> tuple[tuple[Any, ...], str] | None:
    """(precedence key, version text) of a release tag, None for any other tag: the rule of
    `parse_tag` (prefix, at most 256 characters, strict SemVer, no build metadata, numbers Helm
    can load) without building a Version, for scanning thousands of tags."""
    if not tag.startswith(prefix):
        return None
    text = tag[len(prefix):]
    if len(text) > 256:
        return None
    parts = text.split(".")
    if len(parts) == 3 and text.isascii() and all(
            p.isdigit() and (p[0] != "0" or p == "0") for p in parts):  # a final: no regex
        numbers = int(parts[0]), int(parts[1]), int(parts[2])
        return ((*numbers, 1, ()), text) if max(numbers) <= _UINT64_MAX else None
    m = SEMVER_RE.fullmatch(text)
    if m is None or m.group(5):
        return None
    numbers = int(m.group(1)), int(m.group(2)), int(m.group(3))
    if max(numbers) > _UINT64_MAX:
        return None
    return precedence_key(*numbers, m.group(4)), text


def try_parse_tag(tag: str, prefix: str = "v") -> Version | None:
    """For scanning a repository's tags: non-release tags are simply not releases."""
    try:
        return parse_tag(tag, prefix)
    except BadInput:
        return None


def tag_name(version: Version | str, prefix: str = "v") -> str:
    return f"{prefix}{version}"


def bump_version(current: Version | None, level: str | None) -> Version:
    """Apply a bump level; 0.x treats breaking changes as minor (SemVer's initial development)."""
    if current is None:
        return Version(0, 1, 0)
    if level is None:
        level = "patch"
    if current.prerelease:
        # 1.3.0-rc.2 + anything → 1.3.0: the pre-release was cut for this release.
        return current.finalize_version()
    if level == "major" and current.major == 0:
        level = "minor"
    if level == "major":
        return current.bump_major()
    if level == "minor":
        return current.bump_minor()
    return current.bump_patch()


class ImageTags(NamedTuple):
    ref: str
    sha: str
    tags: tuple[str, ...]


def image_tags(ref: str, sha: str, prefix: str = "v") -> ImageTags:
    """The seed's tag strategy: dev → dev, main → main, vX.Y.Z → X.Y.Z and X.Y, always the sha.

    Accepts `refs/heads/...`, `refs/tags/...` or a bare name. A pre-release tag gets only its full
    version: a floating `1.2` must never move to an rc.
    """
    if not re.fullmatch(r"[0-9a-fA-F]{7,64}", sha or ""):
        raise BadInput(f"sha {sha!r} is not a git commit id", "pass the full or short hex sha")
    sha = sha.lower()
    tags: list[str] = []
    name = ref
    if ref.startswith("refs/heads/"):
        name = ref[len("refs/heads/"):]
        kind = "branch"
    elif ref.startswith("refs/tags/"):
        name = ref[len("refs/tags/"):]
        kind = "tag"
    else:
        kind = "tag" if try_parse_tag(ref, prefix) else "branch"
    if kind == "branch":
        if name in ("dev", "main"):
            tags.append(name)
    else:
        version = parse_tag(name, prefix)
        tags.append(str(version))
        if not version.prerelease:
            tags.append(f"{version.major}.{version.minor}")
    tags.append(sha)
    return ImageTags(ref=ref, sha=sha, tags=tuple(dict.fromkeys(tags)))
