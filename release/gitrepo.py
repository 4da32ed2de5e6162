"""All git access. Nothing else in the package runs git.

Plain `git` subprocesses: one process per question, and one streaming `git log` for history, so a
repository with tens of thousands of commits costs one process, not one object per commit.
"""

from __future__ import annotations

import os
import subprocess
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from release.errors import BadInput


@dataclass(frozen=True)
class TagRef:
    name: str
    sha: str  # the commit the tag points at (annotated tags peeled)


@dataclass(frozen=True)
class LogRecord:
    sha: str
    parents: tuple[str, ...]
    message: str
    time: int = 0  # committer time


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

    def touching(self, include: Sequence[str], exclude: Sequence[str],
                 paths: Sequence[str]) -> PendingShas:
        """Start listing the non-merge commits of a range that touch `paths` (full history, no
        simplification); the answer is collected by `PendingShas.wait()`, so the caller can
        work while git computes the diffs."""
        return PendingShas(self.root, git_env(), _revs(include, exclude), paths)

    def log(self, include: Sequence[str], exclude: Sequence[str] = (),
            paths: Sequence[str] | None = None, topo: bool = False,
            ) -> tuple[list[LogRecord], set[str] | None]:
        """Commits reachable from `include` and not from `exclude`, newest first, in one pass.

        One `git log -z` streams sha, parents and raw message per commit (NUL separates commits,
        which git guarantees no message contains). With `paths`, `touching` runs at the same time
        and its set of shas is returned too; otherwise that set is None. `topo` gives parents
        after all their children (`--topo-order`), which range walks rely on.
        """
        pending = self.touching(include, exclude, paths) if paths is not None else None
        records = self.log_records(include, exclude, topo=topo)
        return records, (pending.wait() if pending is not None else None)

    def log_records(self, include: Sequence[str], exclude: Sequence[str] = (),
                    topo: bool = False) -> list[LogRecord]:
        """The `git log -z` half of `log`."""
        if not include:
            return []
        order = ["--topo-order"] if topo else []
        out = self._run(self.root, ["log", "-z", *order, "--format=%H %ct %P%n%B", "--stdin"],
                        _revs(include, exclude))
        records: list[LogRecord] = []
        append = records.append
        for chunk in out.decode("utf-8", "replace").split("\0"):
            head, _, message = chunk.partition("\n")
            if not head:
                continue
            ids = head.split(" ")
            append(LogRecord(ids[0], tuple(p for p in ids[2:] if p), message, int(ids[1])))
        return records

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


class PendingShas:
    """A `git log --format=%H -- paths` running in the background (see `GitRepo.touching`)."""

    def __init__(self, root: Path, env: dict[str, str], revs: bytes,
                 paths: Sequence[str]) -> None:
        self.paths = tuple(paths)
        self._out: list[bytes] = []
        self._proc: subprocess.Popen[bytes] | None = None
        self._thread: threading.Thread | None = None
        if not self.paths or not revs:
            return
        proc = subprocess.Popen(
            ["git", "log", "--no-merges", "--full-history", "--format=%H", "--stdin",
             "--", *self.paths],
            cwd=root, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE)
        self._proc = proc

        def drain() -> None:
            out, _ = proc.communicate(revs)
            self._out.append(out)

        self._thread = threading.Thread(target=drain, daemon=True)
        self._thread.start()

    def wait(self) -> set[str]:
        if self._proc is None or self._thread is None:
            return set()
        self._thread.join()
        if self._proc.returncode != 0:
            raise BadInput(f"git log -- {' '.join(self.paths)} failed",
                           "check the notes-paths setting and the repository state")
        return set(self._out[0].decode("ascii", "replace").split())
