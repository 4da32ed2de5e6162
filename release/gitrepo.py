"""All git access. Nothing else in the package runs git.

Plain `git` subprocesses: one process per question, and one streaming `git log` for history, so a
repository with tens of thousands of commits costs one process, not one object per commit.
"""

from __future__ import annotations

import os
import re
import subprocess
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, NamedTuple

from release.errors import BadInput


@dataclass(frozen=True)
class TagRef:
    name: str
    sha: str  # the commit the tag points at (annotated tags peeled)


class LogRecord(NamedTuple):
    """One commit as `iter_log` reads it (a tuple: 50,000 of them are built per changelog)."""

    sha: str
    parents: tuple[str, ...]
    message: str
    time: int = 0  # committer time
    author_name: str = ""  # .mailmap applied
    author_email: str = ""
    touched: bool = True  # touches the pathspec `iter_log` was given (always True without one)


def git_env() -> dict[str, str]:
    """C locale for parseable output, no prompts, and no optional locks: a read such as
    `git status` then never rewrites the index, so planning leaves the repository byte-identical."""
    return {**os.environ, "LC_ALL": "C", "GIT_TERMINAL_PROMPT": "0", "GIT_OPTIONAL_LOCKS": "0"}


class GitRepo:
    """A git working tree; every method is a read unless its name says otherwise."""

    def __init__(self, path: Path | str) -> None:
        path = Path(path)
        try:
            top = self._git(path, "rev-parse", "--show-toplevel").strip()
        except BadInput:
            raise BadInput(f"{path} is not inside a git repository",
                           "run in a git checkout or pass --repo DIR") from None
        self.root = Path(top)

    @staticmethod
    def _run(cwd: Path, args: Sequence[str], input_: bytes | None = None) -> bytes:
        """The one place git runs to completion; a failure is a one-line BadInput."""
        try:
            proc = subprocess.run(["git", *args], cwd=cwd, input=input_, capture_output=True,
                                  env=git_env(), check=False)
        except FileNotFoundError:
            raise BadInput("git is not installed", "install git and retry") from None
        except NotADirectoryError:
            raise BadInput(f"{cwd} is not a directory", "pass an existing directory") from None
        if proc.returncode != 0:
            message = proc.stderr.decode("utf-8", "replace").strip().splitlines()
            raise BadInput(f"git {args[0]} failed: {message[-1] if message else proc.returncode}",
                           "check the repository state")
        return proc.stdout

    @classmethod
    def _git(cls, cwd: Path, *args: str) -> str:
        return cls._run(cwd, args).decode("utf-8", "replace")

    def git(self, *args: str) -> str:
        return self._git(self.root, *args)

    # --- commits -------------------------------------------------------------------------
    def rev_parse(self, rev: str) -> str:
        try:
            return self.git("rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}").strip()
        except BadInput:
            if rev == "HEAD":
                self.head()  # says "no commits yet" when that is the reason
            raise BadInput(f"{rev!r} is not a commit in {self.root}",
                           "check the tag or revision name (git tag --list)") from None

    def head(self) -> str:
        try:
            return self.git("rev-parse", "--verify", "HEAD").strip()
        except BadInput:
            raise BadInput(f"{self.root} has no commits yet", "commit the chart first") from None

    def commit_time(self, rev: str = "HEAD") -> int:
        """Committer time (seconds since the epoch): the reproducible clock of a release."""
        return int(self.git("show", "-s", "--format=%ct", self.rev_parse(rev)).strip())

    def is_ancestor(self, ancestor: str, descendant: str) -> bool:
        try:
            self.git("merge-base", "--is-ancestor", ancestor, descendant)
        except BadInput:
            return False
        return True

    # --- tags ----------------------------------------------------------------------------
    def tags(self, merged_into: str | None = None) -> list[TagRef]:
        """Tags of commits (annotated ones peeled; tags of trees or blobs are no releases), all
        or those reachable from `merged_into`, in one cheap `for-each-ref` that reads no commit."""
        fmt = "%(refname:strip=2) %(objectname) %(*objectname) %(*objecttype) %(objecttype)"
        args = ["for-each-ref", f"--format={fmt}"]
        if merged_into:
            args.append(f"--merged={merged_into}")
        out: list[TagRef] = []
        for line in self.git(*args, "refs/tags").splitlines():
            parts = line.split(" ")
            if len(parts) != 5:
                continue
            name, obj, peeled, peeled_type, obj_type = parts
            if (peeled_type or obj_type) == "commit":
                out.append(TagRef(name, peeled or obj))
        return out

    def iter_log(self, include: Sequence[str], exclude: Sequence[str] = (),
                 paths: Sequence[str] | None = None, topo: bool = False,
                 tags_glob: str | None = None) -> LogStream:
        """Commits reachable from `include` (and, with `tags_glob`, from the tags matching
        `refs/tags/<tags_glob>`) and not from `exclude`, newest first, streamed from one
        `git log` that starts now, so the caller can work while git walks (`topo`: parents after
        all their children, at the price of git walking everything before printing anything).

        Only the fields the notes use are read: sha, committer time, parents, author name and
        email, raw message. With `paths`, the same process lists each non-merge commit's files
        under them (`--name-only --full-history --sparse` keeps every commit in the output), which
        sets `touched`; merges are never `touched`. NUL bytes frame each field (no message holds
        one); file names are not NUL-separated, so git C-quotes any odd one onto one line.
        """
        args = ["log", "--no-show-signature", "--no-color", "--no-renames",
                "--format=%x00%H %ct %P%x00%aN%x00%aE%x00%B%x00", "--stdin"]
        if topo:
            args.insert(1, "--topo-order")
        if tags_glob is not None:
            args.append(f"--glob=refs/tags/{tags_glob}")
        elif not include:
            return LogStream(None, b"", False)
        if paths is not None:
            args += ["--name-only", "--full-history", "--sparse", "--", *paths]
        return LogStream(self.root, _revs(include, exclude), paths is not None, args)

    def contributed_before(self, rev: str, emails: set[str]) -> set[str]:
        """Which of `emails` (lower-cased) authored or co-authored a commit reachable from `rev`.

        Reads newest first and stops as soon as all are found, so people with recent commits cost
        a few records; only a genuinely new person makes git read the whole history."""
        wanted = set(emails)
        found: set[str] = set()
        if not wanted:
            return found
        args = ["git", "log", "--no-show-signature",
                "--format=%x00%aE%x00%(trailers:key=Co-authored-by,valueonly,separator=%x1f)",
                rev]
        proc = subprocess.Popen(args, cwd=self.root, env=git_env(), stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL)
        assert proc.stdout is not None
        try:
            for line in proc.stdout:
                for part in line.decode("utf-8", "replace").split("\0"):
                    for email in _emails(part):
                        if email in wanted:
                            found.add(email)
                if found == wanted:
                    break
        finally:
            proc.kill()
            proc.stdout.close()
            proc.wait()
        return found

    def tag_commit(self, tag: str) -> str | None:
        try:
            return self.git("rev-parse", "--verify", "--quiet",
                            f"refs/tags/{tag}^{{commit}}").strip()
        except BadInput:
            return None

    # --- working tree --------------------------------------------------------------------
    def status(self, *paths: str) -> str:
        """`git status --porcelain` limited to paths (all when none); empty means clean."""
        args = ["status", "--porcelain=v1", "--untracked-files=all"]
        if paths:
            args += ["--", *paths]
        return self.git(*args)

    def is_dirty(self, *paths: str) -> bool:
        return bool(self.status(*paths).strip())

    def relpath(self, path: Path) -> str:
        return Path(os.path.relpath(path.resolve(), self.root.resolve())).as_posix()

    def export_tree(self, rev: str, path: str, dest: Path) -> None:
        """Write `path` as committed in `rev` below `dest` (read-only for the repository)."""
        import io
        import tarfile

        data = self._run(self.root, ["archive", "--format=tar", rev, "--", path])
        dest.mkdir(parents=True, exist_ok=True)
        try:
            with tarfile.open(fileobj=io.BytesIO(data)) as tar:
                tar.extractall(dest, filter="tar")
        except tarfile.TarError as exc:
            raise BadInput(f"{path} at {rev[:12]} cannot be exported ({exc})",
                           "remove links that point outside the chart") from None

    # --- writes (hotfix and release commits only) ----------------------------------------
    def current_branch(self) -> str | None:
        name = self.git("rev-parse", "--abbrev-ref", "HEAD").strip()
        return None if name == "HEAD" else name

    def branch_exists(self, name: str) -> bool:
        try:
            self.git("rev-parse", "--verify", "--quiet", f"refs/heads/{name}")
        except BadInput:
            return False
        return True

    def create_branch(self, name: str, start: str) -> None:
        self.git("branch", name, start)

    def delete_branch(self, name: str) -> None:
        self.git("branch", "-D", name)

    def switch(self, rev: str) -> None:
        self.git("checkout", "-q", rev)

    def cherry_pick(self, sha: str) -> list[str] | None:
        """Pick `sha` with -x; on conflict abort and return the conflicting paths."""
        try:
            self.git("cherry-pick", "-x", "--allow-empty", sha)
        except BadInput:
            conflicts = self.git("diff", "--name-only", "--diff-filter=U").split()
            try:
                self.git("cherry-pick", "--abort")
            except BadInput:
                self.git("reset", "-q", "--merge")
            return conflicts or ["(no file conflict reported)"]
        return None

    def reset_hard(self, rev: str) -> None:
        self.git("reset", "-q", "--hard", rev)

    def commit_paths(self, message: str, *paths: str) -> str:
        self.git("add", "--", *paths)
        self.git("commit", "-q", "-m", message, "--", *paths)
        return self.head()

    def create_tag(self, name: str, rev: str, message: str) -> None:
        self.git("tag", "-a", name, "-m", message, rev)

    def push(self, remote: str, *refspecs: str) -> None:
        self.git("push", remote, *refspecs)

def _revs(include: Sequence[str], exclude: Sequence[str]) -> bytes:
    """Revisions for `git log --stdin`: one per line, exclusions as ^rev."""
    return "".join([*(f"{r}\n" for r in include), *(f"^{r}\n" for r in exclude)]).encode()


class LogStream:
    """A running `git log` (see `GitRepo.iter_log`): iterate it once for its records; `close()`
    (or leaving a `with` block) ends git early. A failure of git is a BadInput at the end."""

    def __init__(self, root: Path | None, revs: bytes, paths: bool,
                 args: Sequence[str] = ()) -> None:
        self._paths = paths
        self._proc: subprocess.Popen[bytes] | None = None
        self._feeder: threading.Thread | None = None
        if root is None:
            return
        try:
            self._proc = subprocess.Popen(["git", *args], cwd=root, env=git_env(),
                                          stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                          stderr=subprocess.PIPE)
        except FileNotFoundError:
            raise BadInput("git is not installed", "install git and retry") from None
        self._feeder = threading.Thread(target=_feed, args=(self._proc.stdin, revs), daemon=True)
        self._feeder.start()

    def __enter__(self) -> LogStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __iter__(self) -> Iterator[LogRecord]:
        proc = self._proc
        if proc is None:
            return
        assert proc.stdout is not None
        paths = self._paths
        fields: list[str] = []
        tail = ""
        while True:
            chunk = proc.stdout.read1(1 << 16)  # type: ignore[attr-defined]
            if chunk:
                fields += (tail + chunk.decode("utf-8", "replace")).split("\0")
                tail = fields.pop()
            else:
                fields.append(tail)
            # A record is: the previous gap, header, name, email, message, then its file list
            # (the next gap); it is complete once the NUL after that gap has arrived.
            end = len(fields) - 5
            at = 0
            while at < end:
                yield _record(fields, at, paths)
                at += 5
            del fields[:at]
            if not chunk:
                break
        self._finish(check=True)

    def __del__(self) -> None:
        self.close()  # a stream nobody read to the end (an error came first) stops git

    def close(self) -> None:
        if self._proc is not None and self._proc.returncode is None:
            self._proc.kill()
            self._finish(check=False)

    def _finish(self, check: bool) -> None:
        proc = self._proc
        assert proc is not None and proc.stdout is not None and proc.stderr is not None
        proc.stdout.close()
        stderr = proc.stderr.read()
        proc.stderr.close()
        code = proc.wait()
        if self._feeder is not None:
            self._feeder.join()
        if check and code != 0:
            message = stderr.decode("utf-8", "replace").strip().splitlines()
            raise BadInput(f"git log failed: {message[-1] if message else code}",
                           "check the repository state and the notes-paths setting")


def _feed(stdin: IO[bytes] | None, data: bytes) -> None:
    if stdin is None:
        return
    try:
        stdin.write(data)
        stdin.close()
    except (BrokenPipeError, OSError):
        pass


def _record(fields: list[str], at: int, paths: bool) -> LogRecord:
    head = fields[at + 1].split(" ")
    if len(head) < 2 or len(head[0]) < 40 or not head[1].isdigit():
        raise BadInput("git log printed an unexpected record",
                       "check the git version (2.20 or later is needed)")
    touched = bool(fields[at + 5].strip()) if paths else True
    return LogRecord(head[0], tuple(head[2:]) if len(head) > 2 and head[2] else (), fields[at + 4],
                     int(head[1]), fields[at + 2], fields[at + 3], touched)


_EMAIL = re.compile(r"<([^<>\s]+)>")


def _emails(part: str) -> list[str]:
    """Lower-cased emails in one `contributed_before` field: a bare author email, or
    co-author values ("Name <email>") separated by US characters."""
    part = part.strip()
    if not part:
        return []
    if "<" not in part:
        return [part.lower()]
    return [m.lower() for m in _EMAIL.findall(part)]
