"""Which commits make up a release, and the changes they carry.

Range rule: the notes of tag T cover the commits reachable from T and not from the previous
release, which is the highest release tag with a lower SemVer version *reachable from T* (a hotfix
`v1.2.4` on `release-1.2` is compared with `v1.2.3`, not with `v1.3.0` on main). For a final T,
pre-release tags are not candidates unless `since_prerelease`. Unreleased notes (HEAD) start at
the highest release tag reachable from HEAD, with the same pre-release rule.

Inside a range, a revert and the commit it reverts both disappear; then, unless `all_paths`, only
commits touching the `notes-paths` setting stay; then non-conventional commits are dropped when
`non-conventional = "drop"`.

Contributors: the authors and co-authors of the commits a release keeps, with first contributions
marked as `release.contributors` defines them.

Speed and memory: one release costs a listing of the tags' names (read from the ref store, no
git process), one `cat-file` for the commits of the release and the tags that may precede it, a
few `merge-base --is-ancestor`, one ranged `git log` (which also answers the path scope) and,
for first contributions, one `git log` of the older history that stops as soon as every
contributor is found. The full changelog streams the whole history through a single `git log`,
keeps per commit only its parents, time, people and parsed changes (never the message), and
yields releases one at a time so the renderer can write each before the next is built (see
`all_releases`).
"""

from __future__ import annotations

import bisect
import contextlib
import gc
import heapq
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

from release.commits import REVERT, Change, parse_commit
from release.contributors import Person, co_authors, identity, is_bot, ordered
from release.errors import BadInput
from release.gitrepo import GitRepo, LogRecord, LogStream, TagRef
from release.timefmt import utc_day
from release.version import Version, tag_key, try_parse_tag

if TYPE_CHECKING:
    from release.config import Settings

# After this many non-ancestor candidates, ask git for all reachable tags at once instead.
_ANCESTOR_PROBES = 12


class ReleaseTag(NamedTuple):
    """A tag that names a release: prefix + strict SemVer (no build metadata). Records here
    are NamedTuples: defining dataclasses cost `notes` 20 ms of start-up (their module imports
    inspect, and each definition execs generated code)."""

    name: str
    sha: str
    key: tuple[Any, ...]  # precedence key (SemVer order), cheap to sort and compare
    text: str  # the version part of the name

    @property
    def prerelease(self) -> bool:
        return bool(self.key[3] == 0)

    @property
    def version(self) -> Version:
        """Built on demand: thousands of tags are sorted by `key`, only a few need objects."""
        return Version.parse(self.text)


class Release(NamedTuple):
    """One release's notes data: what `next`, `dry-run`, `notes` and `changelog` share."""

    tag: str | None  # None: unreleased changes at `sha`
    version: Version | None
    sha: str  # the target commit
    date: str | None  # YYYY-MM-DD (UTC) of the target commit; None when not yet tagged
    previous_tag: str | None
    previous_version: Version | None
    changes: tuple[Change, ...] = ()  # oldest first
    commits: int = 0  # commits in the range (after revert cancellation and path scope)
    people: tuple[Person, ...] = ()  # authors and co-authors of those commits

    @property
    def prerelease(self) -> bool:
        return bool(self.version is not None and self.version.prerelease)

    def to_json(self) -> dict[str, Any]:
        return {
            "tag": self.tag,
            "version": str(self.version) if self.version is not None else None,
            "sha": self.sha,
            "date": self.date,
            "previous_tag": self.previous_tag,
            "previous_version": (str(self.previous_version)
                                 if self.previous_version is not None else None),
            "prerelease": self.prerelease,
            "commits": self.commits,
            "changes": [c.to_json() for c in self.changes],
            "contributors": [p.to_json() for p in self.people],
        }


def release_tags(repo: GitRepo, prefix: str,
                 refs: Sequence[TagRef] | None = None) -> list[ReleaseTag]:
    """Every release tag in the repository (or among `refs`, from `repo.tags()` already run),
    lowest version first (same rule as `release.version.parse_tag`: prefix + strict SemVer, no
    build metadata)."""
    out: list[ReleaseTag] = []
    for info in refs if refs is not None else repo.tags():
        parsed = tag_key(info.name, prefix)
        if parsed is not None:
            out.append(ReleaseTag(info.name, info.sha, *parsed))
    out.sort(key=lambda t: t.key)
    return out


def release_tags_near(repo: GitRepo, prefix: str, tag: str | None, *, at: str | None = None,
                      since_prerelease: bool = False) -> list[ReleaseTag]:
    """The release tags one release needs, with their commits: `tag` (None: the unreleased
    changes, or with `at` the highest release tag on commit `at` when there is one) and the tags
    `previous_release` probes first for it. Read from the tags' names and a `cat-file` or two
    instead of every tag's commit (`release_tags`: 60 ms of git on 2,600 loose tags, this 8).
    One candidate more than the probes makes `previous_release` take its own fallback, which asks
    git for all tags reachable from the release. A name git cannot resolve gets the full listing
    instead, so the answer is always `release_tags`' own."""
    named = sorted((_TagName(n, *k) for n in repo.tag_names() if (k := tag_key(n, prefix))),
                   key=lambda t: t.key)
    commits: dict[str, str] = {}
    if tag is None and at is not None:
        # Highest first, so the first name on `at` is the highest release tag there. A lower
        # one (a hotfix line's) is found by asking git which tags point at `at`.
        top = [t.name for t in reversed(named[-2 * (_ANCESTOR_PROBES + 1):])]
        commits = repo.tag_commits(top)
        if len(commits) < len(top):
            return release_tags(repo, prefix)
        tag = next((n for n in top if commits[n] == at), None)
        if tag is None and len(top) < len(named):
            # a lower release tag may be on `at` (a hotfix line's): which one, only every
            # tag's commit says (for-each-ref --points-at peels one level before git 2.42)
            return release_tags(repo, prefix)
    wanted = tag_key(tag, prefix) if tag is not None else None
    if tag is not None and wanted is None:
        return []
    below = wanted[0] if wanted is not None else None
    window = _candidates(named, below, below is None or below[3] == 1, since_prerelease)
    # `tag` itself only when it is listed: git would also read refs/tags/refs/tags/<tag>
    chosen = [*(t for t in named if t.name == tag), *window[:_ANCESTOR_PROBES + 1]]
    asked = [t.name for t in chosen if t.name not in commits]
    commits.update(repo.tag_commits(asked) if asked else {})
    if any(t.name not in commits for t in chosen):
        return release_tags(repo, prefix)
    return sorted((ReleaseTag(t.name, commits[t.name], t.key, t.text) for t in chosen),
                  key=lambda t: t.key)


class _TagName(NamedTuple):
    """A release tag known by name only (its commit not asked for yet)."""

    name: str
    key: tuple[Any, ...]
    text: str

    @property
    def prerelease(self) -> bool:
        return bool(self.key[3] == 0)


_Ranked = TypeVar("_Ranked", ReleaseTag, _TagName)
_T = TypeVar("_T")


def _candidates(tags: Sequence[_Ranked], below: tuple[Any, ...] | None, final: bool,
                since_prerelease: bool) -> list[_Ranked]:
    """Tags that could be the previous release, highest first."""
    out = [t for t in tags if below is None or t.key < below]
    if final and not since_prerelease:
        out = [t for t in out if not t.prerelease]
    out.reverse()
    return out


def previous_release(repo: GitRepo, tags: Sequence[ReleaseTag], sha: str,
                     below: Version | None, *, since_prerelease: bool = False,
                     ) -> ReleaseTag | None:
    """The highest release tag reachable from `sha` with a version lower than `below` (any
    version when None); pre-releases are skipped when the target is final (or unreleased)
    unless `since_prerelease`. After `_ANCESTOR_PROBES` candidates that are not ancestors,
    git lists the tags reachable from `sha` at once, and the answer comes from those alone
    (so `tags` may be `release_tags_near`'s few)."""
    final = below is None or not below.prerelease
    below_key = below.key if below is not None else None
    candidates = _candidates(tags, below_key, final, since_prerelease)
    for probes, tag in enumerate(candidates):
        if probes >= _ANCESTOR_PROBES:
            prefix = tag.name[:len(tag.name) - len(tag.text)]
            reachable = release_tags(repo, prefix, repo.tags(merged_into=sha))
            return next(iter(_candidates(reachable, below_key, final, since_prerelease)), None)
        if tag.sha == sha or repo.is_ancestor(tag.sha, sha):
            return tag
    return None


class Scope(NamedTuple):
    """What a settings object says about which changes to keep."""

    paths: tuple[str, ...] | None  # git pathspecs relative to the repository root; None = all
    drop_other: bool
    since_prerelease: bool


def scope_from(repo: GitRepo, settings: Settings, *, all_paths: bool = False,
               since_prerelease: bool = False) -> Scope:
    """`notes-paths` are relative to the project directory; git wants them relative to the
    repository root (they differ when the project lives in a subdirectory)."""
    drop = settings["non-conventional"] == "drop"
    if all_paths:
        return Scope(None, drop, since_prerelease)
    root = Path(settings.root).resolve()
    specs: list[str] = []
    for p in settings["notes-paths"]:
        spec = p if root == repo.root.resolve() else repo.relpath(root / p)
        spec = spec.removeprefix("./")
        up = os.path.normpath(spec)
        if Path(p).is_absolute() or up == ".." or up.startswith("../"):
            raise BadInput(f"notes-paths holds {p[:100]!r}, which is outside the repository",
                           "list paths inside it, relative to the project, e.g. chart/")
        if spec in ("", ".", "/"):
            return Scope(None, drop, since_prerelease)  # the whole repository
        if p.endswith("/") and not spec.endswith("/"):
            spec += "/"
        specs.append(spec)
    return Scope(tuple(specs), drop, since_prerelease)


class NotRead(Exception):
    """A question about commits git has not streamed yet (see `all_releases`)."""


class _Unread(tuple[int, ...]):
    """The parents of a commit while some of them have not been streamed yet: iterating them
    (what every walk does) raises NotRead, so a walk that needs them gives up instead of
    guessing. Everything else is a plain list lookup: walks run 130,000 of them on a big
    changelog."""

    __slots__ = ()

    def __iter__(self) -> Iterator[int]:
        raise NotRead


_UNREAD = _Unread()


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """The cyclic garbage collector paused, and what was built frozen out of its sight after:
    a history holds no cycles, and otherwise the collector walks the growing history again and
    again (a third of a big changelog's time)."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if collecting:
            gc.enable()


class History:
    """The commits one `git log` streamed, reduced to what the notes use: index, parents, time,
    whether the path scope keeps it, its people, and its parsed changes (kept commits and reverts
    only). Messages are dropped as soon as they are parsed."""

    def __init__(self, scope: Scope) -> None:
        self.scope = scope
        self.shas: list[str] = []
        self.index: dict[str, int] = {}
        self._parent_shas: list[tuple[str, ...]] = []
        self._waiting: dict[str, list[int]] = {}  # parent sha not read yet → its children
        self._missing: list[int] = []  # per commit: parents not read yet
        self.times: list[int] = []
        self.kept = bytearray()  # 1: a non-merge commit inside the path scope
        self.changes: dict[int, list[Change]] = {}
        self.reverts: set[int] = set()
        self.author: list[int] = []  # person id per commit
        self.author_name: list[int] = []  # name id per commit
        self.co: dict[int, tuple[tuple[int, int], ...]] = {}  # (person id, name id) co-authors
        self.emails: list[str] = []  # person id → lower-cased email
        self.ids: dict[str, int] = {}
        self.names: list[str] = []  # name id → display name
        self.name_ids: dict[str, int] = {}
        self.commits_of: list[list[int]] = []  # person id → commit indices, ascending
        self.topological = True  # every commit came before its parents
        self.complete = False  # the whole stream has been read
        # Parents as indices, filled in as the parents arrive (_UNREAD until then).
        self.graph: list[tuple[int, ...]] = []

    def _person(self, email: str) -> int:
        key = identity(email)
        pid = self.ids.get(key)
        if pid is None:
            pid = self.ids[key] = len(self.emails)
            self.emails.append(key)
            self.commits_of.append([])
        return pid

    def _name(self, name: str) -> int:
        nid = self.name_ids.get(name)
        if nid is None:
            nid = self.name_ids[name] = len(self.names)
            self.names.append(name)
        return nid

    @classmethod
    def read(cls, records: Iterable[LogRecord], scope: Scope) -> History:
        """Consume a log stream (see `reading`), the garbage collector paused meanwhile."""
        history = cls(scope)
        with paused_gc():
            for _ in history.reading(records):
                pass
        return history

    def reading(self, records: Iterable[LogRecord], every: int = 0) -> Iterator[int]:
        """Consume a log stream, yielding the number of commits read every `every` commits (0:
        never), so a caller can finish releases while git still streams. One loop with
        everything bound locally: it runs once per commit, 50,000 times for a big changelog."""
        h = self
        shas, index, parent_shas, times = h.shas, h.index, h._parent_shas, h.times
        kept_flags, changes, reverts, author, co = h.kept, h.changes, h.reverts, h.author, h.co
        commits_of, person, ids, name_of = h.commits_of, h._person, h.ids, h._name
        author_name = h.author_name
        graph, waiting, missing = h.graph, h._waiting, h._missing
        i = -1
        for i, (sha, parents, message, when, name, email, touched) in enumerate(records):
            shas.append(sha)
            index[sha] = i
            parent_shas.append(parents)
            children = waiting.pop(sha, None)
            if children is not None:  # this commit completes the parents of these children
                for c in children:
                    missing[c] -= 1
                    if not missing[c]:
                        graph[c] = tuple(index[p] for p in parent_shas[c])
            if not parents:
                graph.append(())
                missing.append(0)
            elif h.topological and not (parents[0] in index or (len(parents) > 1 and any(
                    p in index for p in parents))):
                graph.append(_UNREAD)
                missing.append(len(parents))
                for p in parents:
                    waiting.setdefault(p, []).append(i)
            else:  # a parent came before its child (clocks disagree): resolved once complete
                h.topological = False
                graph.append(_UNREAD)
                missing.append(-1)
            times.append(when)
            merge = len(parents) > 1
            kept = touched and not merge
            kept_flags.append(kept)
            revert = message.startswith(("Revert ", "revert"))
            if kept or revert:
                changes[i] = parse_commit(sha, message, merge=merge)
                if revert:
                    reverts.add(i)
            pid = ids.get(email.lower())
            if pid is None:
                pid = person(email)
            author.append(pid)
            author_name.append(name_of(name or email))
            commits_of[pid].append(i)
            if not merge:
                found = co_authors(message)
                if found:
                    others = {person(e): name_of(n) for n, e in reversed(found)}
                    others.pop(pid, None)
                    if others:
                        co[i] = tuple(sorted(others.items()))
                        for other in others:
                            commits_of[other].append(i)
            if every and i % every == every - 1:
                yield i + 1
        index_of = index.get
        # What is still unread is outside the walk (a shallow clone's boundary): dropped.
        for c, unread in enumerate(missing):
            if unread:
                graph[c] = tuple(j for p in parent_shas[c] if (j := index_of(p)) is not None)
        h._parent_shas, h._waiting, h._missing = [], {}, []
        h.complete = True
        yield i + 1

    def release_changes(self, indices: Sequence[int]) -> tuple[list[Change], list[int]]:
        """Changes of a range given newest first (parents after children): reverts cancelled,
        path scope and non-conventional drop applied. Returns (changes oldest first, indices of
        the commits kept)."""
        cancelled = self._cancelled(indices) if self.reverts else set()
        out: list[Change] = []
        kept: list[int] = []
        flags, drop = self.kept, self.scope.drop_other
        # Oldest first by committer time; equal times keep git's parents-before-children order
        # (a rebased branch shares one time). Both range strategies then list changes identically.
        for i in sorted(reversed(indices), key=self.times.__getitem__):
            if not flags[i] or i in cancelled:
                continue
            kept.append(i)
            for change in self.changes[i]:
                if drop and not change.conventional:
                    continue
                out.append(change)
        return out, kept

    def _cancelled(self, indices: Sequence[int]) -> set[int]:
        """Revert/target pairs inside the range. Newest first, so a revert of a revert cancels
        the first revert and the original change stays."""
        mine = [i for i in indices if i in self.reverts]
        reverts = [(i, ch.reverts) for i in sorted(mine)
                   for ch in self.changes[i] if ch.type == REVERT and ch.reverts]
        if not reverts:
            return set()
        inside = set(indices)
        cancelled: set[int] = set()
        for i, target in reverts:
            if i in cancelled:
                continue
            j = self.index.get(target) if len(target) == 40 else None
            if j is None:
                matches = [k for k in inside if self.shas[k].startswith(target)]
                if len(matches) != 1:
                    continue
                j = matches[0]
            if j not in inside or j in cancelled or j == i:
                continue
            cancelled.update((i, j))
        return cancelled

    def contributors(self, kept: Sequence[int]) -> dict[int, tuple[str, str]]:
        """Person id → (name, sha) from their newest authored commit in `kept` (by committer
        time, then sha: the same whichever order git listed), or (the co-author trailer's name,
        "") when they only co-authored."""
        found: dict[int, tuple[str, str]] = {}
        shas, times, names = self.shas, self.times, self.names
        for i in sorted(kept, key=lambda k: (times[k], shas[k]), reverse=True):
            pid = self.author[i]
            if not found.get(pid, ("", ""))[1]:
                found[pid] = (names[self.author_name[i]], shas[i])
            for other, nid in self.co.get(i, ()):
                if other not in found:
                    found[other] = (names[nid], "")
        return found

    def contributed_before(self, pid: int, base: int) -> bool:
        """Did person `pid` author or co-author `base` or one of its ancestors? A walk from the
        base in topological order that stops at their first commit, or once it has passed the
        last commit of theirs that could still be an ancestor."""
        mine = self.commits_of[pid]
        k = bisect.bisect_left(mine, base)
        if k == len(mine):
            if not self.complete:
                raise NotRead
            return False
        if mine[k] == base:
            return True
        last = mine[-1]
        author, co, parents = self.author, self.co, self.graph
        seen = {base}
        heap = [base]
        while heap:
            c = heapq.heappop(heap)
            if c > last:
                if not self.complete:
                    raise NotRead  # their next commit may still come, as an ancestor of the base
                return False
            if author[c] == pid or any(other == pid for other, _ in co.get(c, ())):
                return True
            for q in parents[c]:
                if q not in seen:
                    seen.add(q)
                    heapq.heappush(heap, q)
        return False

    def persons(self, found: dict[int, tuple[str, str]], first: set[int]) -> tuple[Person, ...]:
        out = []
        for pid, (name, sha) in found.items():
            email = self.emails[pid]
            out.append(Person(name, email, is_bot(name, email), pid in first, sha))
        return ordered(out)


def find_tag(tags: Sequence[ReleaseTag], name: str) -> ReleaseTag | None:
    return next((t for t in tags if t.name == name), None)


def collect(repo: GitRepo, settings: Settings, tag: str | None = None, *, rev: str = "HEAD",
            planned: bool = False, since_prerelease: bool = False, all_paths: bool = False,
            tags: Sequence[ReleaseTag] | None = None, people: bool = True,
            tag_at_rev: bool = False) -> Release:
    """One release's range and changes. Pure reads: no side effects.

    - `tag` names an existing release tag: the notes of that release.
    - `tag` names a release that does not exist yet and `planned`: the notes it would get if it
      were tagged at `rev` now (for `dry-run`; the version decides the previous release).
    - `tag` None: the unreleased changes at `rev` since the highest release reachable from it,
      or with `tag_at_rev` the release tagged at `rev` when there is one (`notes` without flags).

    `tags` (from `release_tags`) saves listing them again; without it, only the tags near the
    release are read (`release_tags_near`).

    `people=False` skips the contributors (whose first-contribution walk can read the whole
    history) for a caller that only wants the changes, such as the next version.
    """
    repo.require_history()
    prefix = settings.tag_prefix
    rev_sha = repo.rev_parse(rev) if tag is None else None
    if tags is not None:
        all_tags = list(tags)
    else:
        all_tags = release_tags_near(repo, prefix, tag, at=rev_sha if tag_at_rev else None,
                                     since_prerelease=since_prerelease)
    version: Version | None = None
    date: str | None = None
    found: ReleaseTag | None = None
    if tag is not None:
        found = find_tag(all_tags, tag)
        if found is None:
            version = try_parse_tag(tag, prefix)
            if version is None:
                raise BadInput(f"tag {tag[:100]!r} is not a release tag ({prefix!r} + SemVer)",
                               f"use the form {prefix}1.2.3 or {prefix}1.2.3-rc.1")
            if not planned:
                raise BadInput(f"release tag {tag!r} does not exist in {repo.root}",
                               "create the tag first, or fetch the tags (git fetch --tags)")
            sha = repo.rev_parse(rev)
        else:
            version, sha = found.version, found.sha
    else:
        assert rev_sha is not None
        sha = rev_sha
        if tag_at_rev:
            found = next((t for t in reversed(all_tags) if t.sha == sha), None)  # highest
            if found is not None:
                tag, version = found.name, found.version

    prev = previous_release(repo, all_tags, sha, version, since_prerelease=since_prerelease)
    scope = scope_from(repo, settings, all_paths=all_paths, since_prerelease=since_prerelease)
    with repo.iter_log([sha], [prev.sha] if prev else [], paths=scope.paths) as stream:
        history = History.read(stream, scope)
    changes, kept = history.release_changes(range(len(history.shas)))
    if tag is not None:  # a planned release is dated by the commit its tag will be on
        at = history.index.get(sha)
        date = utc_day(history.times[at] if at is not None else repo.commit_time(sha))
    found_people = history.contributors(kept) if people else {}
    first: set[int] = set()
    if prev is not None and found_people:
        emails = {history.emails[pid]: pid for pid in found_people}
        seen = repo.contributed_before(prev.sha, set(emails))
        first = {pid for email, pid in emails.items() if email not in seen}
    return Release(tag=tag, version=version, sha=sha, date=date,
                   previous_tag=prev.name if prev else None,
                   previous_version=prev.version if prev else None,
                   changes=tuple(changes), commits=len(kept),
                   people=history.persons(found_people, first))


# --- every release at once -------------------------------------------------------------------

def _reaches(parents: Sequence[Sequence[int]], start: int, goal: int) -> bool:
    """Is `goal` an ancestor of `start`? Indices are topological (children before parents), so
    only commits between the two need visiting."""
    if start == goal:
        return True
    if goal < start:
        return False
    seen = {start}
    stack = [start]
    while stack:
        for q in parents[stack.pop()]:
            if q == goal:
                return True
            if q < goal and q not in seen:
                seen.add(q)
                stack.append(q)
    return False


def _range(parents: Sequence[Sequence[int]], tip: int, base: int | None) -> list[int]:
    """Commits reachable from `tip` and not from `base`, newest (lowest index) first.

    Walks both sides in topological order, painting commits 1 (from tip), 2 (from base) or 3
    (both), and stops as soon as every queued commit is reachable from the base: the work is the
    size of the range plus the base's commits interleaved with it, not the whole history.
    """
    if base is None:
        out = []
        seen = {tip}
        stack = [tip]
        while stack:
            c = stack.pop()
            out.append(c)
            for q in parents[c]:
                if q not in seen:
                    seen.add(q)
                    stack.append(q)
        out.sort()
        return out
    if base == tip:
        return []
    flags = {tip: 1, base: 2}
    heap = [tip, base]
    heapq.heapify(heap)
    live = 1  # queued commits painted 1 only
    out = []
    pop, push = heapq.heappop, heapq.heappush
    while live and heap:
        c = pop(heap)
        f = flags[c]
        if f == 1:
            live -= 1
            out.append(c)
        for q in parents[c]:
            g = flags.get(q)
            if g is None:
                flags[q] = f
                push(heap, q)
                if f == 1:
                    live += 1
            elif g | f != g:
                flags[q] = g | f
                if g == 1:
                    live -= 1
    return out


EARLY_EVERY = 2048  # commits read between two tries at finishing releases before git is done


def all_releases(repo: GitRepo, settings: Settings, *, all_paths: bool = False,
                 since_prerelease: bool = False,
                 tags: Sequence[ReleaseTag] | None = None) -> ReleaseStream:
    """Every release, highest version first, from one streamed `git log` over all tags.

    git starts at once, on the history of every tag named like a release, so what the caller
    does next (imports, listing the tags) happens while git reads. git's date order streams from
    the first commit on (--topo-order walks everything first) and is topological unless committer
    clocks disagree: then git sorts it after all.

    Each release's previous release and range follow the same rules as `collect`, computed on
    the in-memory commit graph: ancestry by a walk bounded by topological position, ranges by a
    two-colour walk that stops once only the base's commits remain queued. See `ReleaseStream`
    for releases finished while git still reads.
    """
    repo.require_history()
    scope = scope_from(repo, settings, all_paths=all_paths, since_prerelease=since_prerelease)
    glob = settings.tag_prefix + "*"
    stream = repo.iter_log((), paths=scope.paths, tags_glob=glob)
    return ReleaseStream(repo, settings, stream, scope, glob, tags, since_prerelease)


class ReleaseStream:
    """The releases of `all_releases`, built as they are asked for.

    Without `on_restart` they come once the whole history is read. A consumer that can take
    back what it wrote (a spool file) sets `on_restart`: then releases already come while git
    still streams, each as soon as every commit its walks need has arrived (the newest first, as
    the output wants them). That is exact while git's order is topological; should a commit turn
    up after one of its parents, `on_restart()` is called, everything is read again in
    topological order and all releases come again.
    """

    def __init__(self, repo: GitRepo, settings: Settings, stream: LogStream, scope: Scope,
                 glob: str, tags: Sequence[ReleaseTag] | None, since_prerelease: bool) -> None:
        self._args = (repo, settings, stream, scope, glob, tags, since_prerelease)
        self.on_restart: Callable[[], None] | None = None

    def __iter__(self) -> Iterator[Release]:
        repo, settings, stream, scope, glob, tags, since_prerelease = self._args
        with stream:
            # git lists the tags while Python reads the history it streams (60 ms on 2,600
            # loose tags: git log would wait on a full pipe meanwhile)
            listed = (_in_background(lambda: release_tags(repo, settings.tag_prefix))
                      if tags is None else None)
            history = History(scope)
            early = self.on_restart is not None
            all_tags: list[ReleaseTag] | None = list(tags) if tags is not None else None
            pos = len(all_tags) - 1 if all_tags is not None else -1
            with paused_gc():
                for _ in history.reading(stream, EARLY_EVERY if early else 0):
                    if all_tags is None:
                        assert listed is not None
                        all_tags = listed()
                        pos = len(all_tags) - 1
                    while early and pos >= 0 and history.topological:
                        release = _release_at(history, all_tags, pos, since_prerelease)
                        if release is None:
                            break
                        yield release
                        pos -= 1
        if not all_tags:
            return
        if not history.topological:
            if pos < len(all_tags) - 1 and self.on_restart is not None:
                self.on_restart()
            pos = len(all_tags) - 1
            with repo.iter_log((), paths=scope.paths, topo=True, tags_glob=glob) as again:
                history = History.read(again, scope)
        for at in range(pos, -1, -1):
            release = _release_at(history, all_tags, at, since_prerelease)
            assert release is not None  # the history is complete
            yield release


def _in_background(call: Callable[[], _T]) -> Callable[[], _T]:
    """Run `call` on a thread (for a git process to wait on while Python works); the function
    returned waits for it and returns its value, or raises what it raised."""
    box: list[Any] = []

    def run() -> None:
        try:
            box.append((True, call()))
        except BaseException as exc:  # handed to the caller
            box.append((False, exc))

    thread = threading.Thread(target=run, daemon=True)
    thread.start()

    def result() -> _T:
        thread.join()
        ok, value = box[0]
        if not ok:
            raise value
        return value  # type: ignore[no-any-return]

    return result


def _release_at(history: History, tags: Sequence[ReleaseTag], pos: int,
                since_prerelease: bool) -> Release | None:
    """The release of `tags[pos]`; None while the history read so far cannot answer yet."""
    tag = tags[pos]
    index, graph = history.index, history.graph
    try:
        tip = index[tag.sha]
        prev = _dag_previous(tags, pos, tip, index, graph, since_prerelease)
        base = index[prev.sha] if prev is not None else None
        changes, kept = history.release_changes(_range(graph, tip, base))
        found = history.contributors(kept)
        first = ({pid for pid in found if not history.contributed_before(pid, base)}
                 if base is not None else set())
    except (NotRead, KeyError):  # a commit git has not streamed yet
        if history.complete:
            raise
        return None
    return Release(
        tag=tag.name, version=tag.version, sha=tag.sha, date=utc_day(history.times[tip]),
        previous_tag=prev.name if prev else None,
        previous_version=prev.version if prev else None,
        changes=tuple(changes), commits=len(kept), people=history.persons(found, first))


def _dag_previous(tags: Sequence[ReleaseTag], pos: int, tip: int, index: dict[str, int],
                  parents: Sequence[Sequence[int]], since_prerelease: bool) -> ReleaseTag | None:
    tag = tags[pos]
    skip_pre = not tag.prerelease and not since_prerelease
    for j in range(pos - 1, -1, -1):
        cand = tags[j]
        if cand.key == tag.key or (skip_pre and cand.prerelease):
            continue
        if _reaches(parents, tip, index[cand.sha]):
            return cand
    return None


def latest_final(tags: Iterable[ReleaseTag]) -> ReleaseTag | None:
    """The highest final (non-pre-release) tag: what GitHub should show as "latest"."""
    best: ReleaseTag | None = None
    for t in tags:
        if not t.prerelease and (best is None or t.key > best.key):
            best = t
    return best
