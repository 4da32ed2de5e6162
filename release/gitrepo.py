"""All git access. Nothing else in the package runs git.

Plain `git` subprocesses: one process per question, and one streaming `git log` for history, so a
repository with tens of thousands of commits costs one process, not one object per commit.

Three rules keep it safe and honest:
- every revision, remote and path that comes from a user follows `--end-of-options` or `--`, and
  remotes and branch names are validated, so nothing a flag holds is read by git as an option;
- a failed command raises `GitError` (internal); questions ("does this tag exist", "is A an
  ancestor of B") answer with values instead, and only the caller decides what is bad input;
- a command that talks to a remote (push, fetch, ls-remote) that fails is a `RemoteError`
  (exit 4), like every other remote failure.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, NamedTuple

from release import limits
from release.errors import BadInput, GitError, RemoteError

# A remote given by name: what `git remote add` accepts, minus a leading dash.
_REMOTE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._/-]{0,99}")
# A ref name longer than this, or nested deeper, is no tag `tag_names` reports.
_REF_LINE_MAX = 4096
_REF_DEPTH_MAX = 64
_REMOTE_URL = re.compile(r"(?:https?|ssh|git|file)://\S+|[A-Za-z0-9_.-]+@[A-Za-z0-9_.-]+:\S+|/\S+")


class TagRef(NamedTuple):
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


def git_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """C locale for parseable output, no prompts, and no optional locks: a read such as
    `git status` then never rewrites the index, so planning leaves the repository byte-identical."""
    return {**os.environ, "LC_ALL": "C", "GIT_TERMINAL_PROMPT": "0", "GIT_OPTIONAL_LOCKS": "0",
            **(extra or {})}


def check_remote(remote: str) -> str:
    """A remote name or URL that git cannot read as an option."""
    if _REMOTE_NAME.fullmatch(remote) or (_REMOTE_URL.fullmatch(remote)
                                          and not remote.startswith("-")):
        return remote
    raise BadInput(f"remote {remote[:80]!r} is not a remote name or URL",
                   "pass a configured remote such as origin")


def check_branch_name(name: str) -> str:
    """A branch name git accepts and cannot read as an option (`git check-ref-format`'s rules,
    checked without running git)."""
    bad = (not name or name.startswith(("-", "/", ".")) or name.endswith(("/", ".", ".lock"))
           or ".." in name or "//" in name or "@{" in name or name == "@"
           or any(c in name for c in " ~^:?*[\\\x7f") or any(ord(c) < 32 for c in name))
    if bad or len(name) > 200:
        raise BadInput(f"{name[:80]!r} is not a valid branch name",
                       "use letters, digits, '-', '_', '.' and '/'")
    return name


class GitRepo:
    """A git working tree; every method is a read unless its name says otherwise."""

    def __init__(self, path: Path | str) -> None:
        path = Path(path)
        try:
            # git before 2.31 echoes `--path-format=absolute`, before 2.45 `--show-ref-format`:
            # both then mean what they say below (a relative directory is not used; only the
            # files backend exists).
            lines = self._git(path, "rev-parse", "--show-toplevel", "--is-shallow-repository",
                              "--path-format=absolute", "--git-common-dir",
                              "--show-ref-format").splitlines()
        except GitError:
            raise BadInput(f"{path} is not inside a git repository",
                           "run in a git checkout or pass --repo DIR") from None
        self.root = Path(lines[0])
        self.shallow = lines[1:2] == ["true"]
        common = next((Path(x) for x in lines[2:] if x.startswith("/")), None)
        # Where the files backend keeps loose tags (None: another backend, or not known).
        self._tags_dir = (common / "refs" / "tags" if common is not None
                          and lines[-1] in ("files", "--show-ref-format") else None)

    def require_history(self) -> None:
        """Refuse a shallow clone where the whole history is read: ranges would stop at the
        clone's boundary and everyone before it would look new, so the notes, the changelog and
        the next version would be wrong without any error."""
        if self.shallow:
            raise BadInput(f"{self.root} is a shallow clone: release notes, versions and the "
                           "changelog need the whole history",
                           "git fetch --unshallow --tags (in Actions: actions/checkout with "
                           "fetch-depth: 0)")

    @staticmethod
    def _run(cwd: Path, args: Sequence[str], input_: bytes | None = None,
             env: Mapping[str, str] | None = None) -> bytes:
        """The one place git runs to completion; a failure is a `GitError`."""
        try:
            proc = subprocess.run(["git", *args], cwd=cwd, input=input_, capture_output=True,
                                  env=git_env(env), check=False)
        except FileNotFoundError:
            if not cwd.is_dir():
                raise BadInput(f"{cwd} is not a directory", "pass an existing directory") from None
            raise BadInput("git is not installed", "install git and retry") from None
        except NotADirectoryError:
            raise BadInput(f"{cwd} is not a directory", "pass an existing directory") from None
        if proc.returncode != 0:
            raise GitError(tuple(args), proc.stderr.decode("utf-8", "replace"), proc.returncode)
        return proc.stdout

    @classmethod
    def _git(cls, cwd: Path, *args: str) -> str:
        return cls._run(cwd, args).decode("utf-8", "replace")

    def git(self, *args: str) -> str:
        return self._git(self.root, *args)

    # --- commits -------------------------------------------------------------------------
    def resolve(self, rev: str) -> str | None:
        """The commit `rev` names, or None."""
        try:
            return self.git("rev-parse", "--verify", "--quiet", "--end-of-options",
                            f"{rev}^{{commit}}").strip() or None
        except GitError:
            return None

    def rev_parse(self, rev: str) -> str:
        """The commit `rev` names; bad input when there is none."""
        sha = self.resolve(rev)
        if sha is None:
            if rev == "HEAD":
                self.head()  # says "no commits yet" when that is the reason
            raise BadInput(f"{rev[:100]!r} is not a commit in {self.root}",
                           "check the tag or revision name (git tag --list)")
        return sha

    def head(self) -> str:
        sha = self.resolve("HEAD")
        if sha is None:
            raise BadInput(f"{self.root} has no commits yet", "commit the chart first")
        return sha

    def commit_time(self, rev: str = "HEAD") -> int:
        """Committer time (seconds since the epoch): the reproducible clock of a release."""
        return int(self.git("show", "-s", "--format=%ct", self.rev_parse(rev), "--").strip())

    def is_ancestor(self, ancestor: str, descendant: str) -> bool:
        try:
            self.git("merge-base", "--is-ancestor", "--end-of-options", ancestor, descendant)
        except GitError as exc:
            if exc.returncode == 1:
                return False
            raise
        return True

    def count_commits(self, rev: str, exclude: str | None = None) -> int:
        args = ["rev-list", "--count", "--end-of-options", rev]
        if exclude:
            args.append(f"^{exclude}")
        return int(self.git(*args).strip())

    # --- tags ----------------------------------------------------------------------------
    def tags(self, merged_into: str | None = None) -> list[TagRef]:
        """Tags of commits (annotated ones peeled, tags of tags too; tags of trees or blobs are
        no releases), all or those reachable from `merged_into`, in one `for-each-ref` that
        reads no commit. A tag of a tag (rare: git warns when one is made) is peeled in one
        more `cat-file`, so the common listing stays a single process."""
        fmt = "%(refname:strip=2) %(objectname) %(*objectname) %(*objecttype) %(objecttype)"
        args = ["for-each-ref", f"--format={fmt}"]
        if merged_into:
            args.append(f"--merged={self.rev_parse(merged_into)}")
        out: list[TagRef] = []
        nested: list[tuple[str, str]] = []
        for line in self.git(*args, "refs/tags").splitlines():
            parts = line.split(" ")
            if len(parts) != 5:
                continue
            name, obj, peeled, peeled_type, obj_type = parts
            if (peeled_type or obj_type) == "commit":
                out.append(TagRef(name, peeled or obj))
            elif peeled_type == "tag":
                nested.append((name, peeled))
        if nested:
            query = "".join(f"{sha}^{{}}\n" for _, sha in nested).encode()
            answers = self._run(self.root, ["cat-file", "--batch-check=%(objectname) %(objecttype)"],
                                query).decode("ascii", "replace").splitlines()
            for (name, _), answer in zip(nested, answers, strict=False):
                sha, _, kind = answer.partition(" ")
                if kind == "commit":
                    out.append(TagRef(name, sha))
            out.sort(key=lambda t: t.name)
        return out

    def tag_names(self) -> list[str]:
        """Every tag's name, read from the ref store without opening one ref: a directory
        listing and the packed-refs file take 4 ms where `tags()` takes 60 ms on 2,600 loose
        tags (for-each-ref reads every ref and peels every annotated tag). Which commit a name
        points at stays git's answer (`tag_commits`): a name listed here that git cannot
        resolve, such as a stale `.lock` file, is no tag there."""
        if self._tags_dir is None:
            return self.git("for-each-ref", "--format=%(refname:strip=2)",
                            "refs/tags").splitlines()
        names = set(_packed_tag_names(self._tags_dir.parent.parent / "packed-refs"))
        names.update(_loose_names(self._tags_dir))
        return sorted(names)

    def tag_commits(self, names: Sequence[str]) -> dict[str, str]:
        """name → commit for the given tags (annotated ones and tags of tags peeled) in one
        `cat-file`; names that are no tag of a commit are left out."""
        wanted = [n for n in names if n and not any(c in n for c in "\n\0")]
        if not wanted:
            return {}
        query = "".join(f"refs/tags/{name}^{{commit}}\n" for name in wanted).encode()
        answers = self._run(self.root, ["cat-file", "--batch-check=%(objectname) %(objecttype)"],
                            query).decode("ascii", "replace").splitlines()
        out: dict[str, str] = {}
        for name, answer in zip(wanted, answers, strict=False):
            sha, _, kind = answer.partition(" ")
            if kind == "commit":
                out[name] = sha
        return out

    def tag_commit(self, tag: str) -> str | None:
        return self.resolve(f"refs/tags/{tag}")

    def branches(self, patterns: Sequence[str]) -> dict[str, str]:
        """Local branches and remote-tracking branches whose short name (`main`,
        `origin/main` → `main`) matches a pattern (fnmatch): name → commit."""
        import fnmatch

        out: dict[str, str] = {}
        fmt = "%(refname) %(objectname)"
        for line in self.git("for-each-ref", f"--format={fmt}", "refs/heads",
                             "refs/remotes").splitlines():
            ref, _, sha = line.partition(" ")
            if ref.startswith("refs/heads/"):
                short = ref[len("refs/heads/"):]
            else:
                short = ref[len("refs/remotes/"):].partition("/")[2]
            if short and short != "HEAD" and any(fnmatch.fnmatchcase(short, p) for p in patterns):
                out[ref] = sha
        return out

    # --- history -------------------------------------------------------------------------
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
        args += ["--name-only", "--full-history", "--sparse", "--", *paths] if paths is not None \
            else ["--"]
        return LogStream(self.root, _revs(include, exclude), paths is not None, args)

    def contributed_before(self, rev: str, emails: set[str]) -> set[str]:
        """Which of `emails` (lower-cased) authored or co-authored a commit reachable from `rev`,
        by the rule the notes use for a release's own commits (`release.contributors`).

        Reads newest first and stops as soon as all are found, so people with recent commits cost
        a few records; only a genuinely new person makes git read the whole history."""
        from release.contributors import co_authors, identity

        wanted = set(emails)
        found: set[str] = set()
        if not wanted:
            return found
        with self.iter_log([rev]) as log:
            for record in log:
                people = [record.author_email]
                if len(record.parents) < 2:  # a merge's trailers are its branch's commits'
                    people += [email for _, email in co_authors(record.message)]
                found.update(e for e in map(identity, people) if e in wanted)
                if found == wanted:
                    break
        return found

    # --- working tree --------------------------------------------------------------------
    def status(self, *paths: str) -> str:
        """`git status --porcelain` limited to paths (all when none); empty means clean."""
        args = ["status", "--porcelain=v1", "--untracked-files=all", "--", *paths]
        return self.git(*args)

    def is_dirty(self, *paths: str) -> bool:
        return bool(self.status(*paths).strip())

    def is_tracked(self, path: str) -> bool:
        return bool(self.git("ls-files", "--", path).strip())

    def relpath(self, path: Path) -> str:
        return Path(os.path.relpath(path.resolve(), self.root.resolve())).as_posix()

    def export_tree(self, rev: str, path: str, dest: Path) -> None:
        """Write `path` as committed in `rev` below `dest`. Git writes the files itself (through
        a throwaway index), so the repository's index, HEAD and working tree are untouched; line
        endings are the committed bytes whatever this machine's core.autocrlf says."""
        import tempfile

        commit = self.rev_parse(rev)
        dest.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="ameide-release-index-") as tmp:
            try:
                self._run(self.root, ["-c", "core.autocrlf=false", "-c", "core.symlinks=true",
                                      f"--work-tree={dest}", "checkout", commit, "--", path],
                          env={"GIT_INDEX_FILE": os.path.join(tmp, "index")})
            except GitError as exc:
                raise BadInput(f"{path} cannot be read from commit {commit[:12]} "
                               f"({exc.reason})", "commit the chart, or point --chart at it") \
                    from None

    def read_blob(self, rev: str, path: str, limit: int) -> bytes | None:
        """The content of `path` in commit `rev`, or None when it is not there (at most `limit`
        bytes: a bigger one is bad input)."""
        commit = self.rev_parse(rev)
        try:
            size = int(self.git("cat-file", "-s", f"{commit}:{path}").strip())
        except GitError:
            return None
        if size > limit:
            raise BadInput(f"{path} at {commit[:12]} is {size} bytes, over the {limit}-byte limit",
                           "keep the file smaller")
        return self._run(self.root, ["cat-file", "blob", f"{commit}:{path}"])

    def read_text_blob(self, rev: str, path: str, limit: int) -> str | None:
        """`read_blob` as text, decoded by the rule for text files on disk (UTF-8, BOM
        stripped; anything else is bad input naming the file and the commit)."""
        from release.yamlread import decode_text

        data = self.read_blob(rev, path, limit)
        if data is None:
            return None
        return decode_text(data, f"{path} at {rev[:12]}", "save it as UTF-8 and commit it")

    # --- writes (hotfix and release commits only) ----------------------------------------
    def current_branch(self) -> str | None:
        name = self.git("rev-parse", "--abbrev-ref", "HEAD").strip()
        return None if name == "HEAD" else name

    def branch_exists(self, name: str) -> bool:
        return self.resolve(f"refs/heads/{name}") is not None

    def create_branch(self, name: str, start: str) -> None:
        self.git("branch", "--end-of-options", check_branch_name(name), start)

    def delete_branch(self, name: str) -> None:
        self.git("branch", "-D", "--end-of-options", name)

    def switch(self, rev: str) -> None:
        # `checkout` takes no --end-of-options; a branch or sha of ours never starts with "-".
        if rev.startswith("-"):
            raise BadInput(f"{rev[:80]!r} is not a branch or commit", "check the name")
        self.git("checkout", "-q", rev, "--")

    def cherry_pick(self, sha: str) -> list[str] | None:
        """Pick `sha` with -x; on a conflict abort and return the conflicting paths. A failure
        that is not a conflict (no git identity, say) is raised as `BadInput` with git's own
        reason, after the pick is aborted."""
        try:
            self.git("cherry-pick", "-x", "--allow-empty", "--end-of-options", sha)
        except GitError as exc:
            conflicts = self.git("diff", "--name-only", "--diff-filter=U").split()
            self._abort_pick()
            if conflicts:
                return conflicts
            raise BadInput(f"cherry-pick of {sha[:12]} failed: {exc.reason}",
                           "fix what git reports (e.g. set user.name and user.email) and run "
                           "the hotfix again") from None
        return None

    def _abort_pick(self) -> None:
        try:
            self.git("cherry-pick", "--abort")
        except GitError:
            self.git("reset", "-q", "--merge")

    def reset_hard(self, commit: str) -> None:
        """Reset to a commit id of ours (never user text: `reset` takes no --end-of-options)."""
        self.git("reset", "-q", "--hard", self.rev_parse(commit), "--")

    def commit_paths(self, message: str, *paths: str) -> str:
        self.git("add", "--", *paths)
        try:
            self.git("commit", "-q", "-m", message, "--", *paths)
        except GitError as exc:
            raise BadInput(f"git commit failed: {exc.reason}",
                           "fix what git reports (e.g. set user.name and user.email)") from None
        return self.head()

    def create_tag(self, name: str, rev: str, message: str,
                   tagger: tuple[str, str] | None = None) -> None:
        """An annotated tag; `tagger` (name, email) when the machine has no git identity of
        its own (a CI runner)."""
        env = ({"GIT_COMMITTER_NAME": tagger[0], "GIT_COMMITTER_EMAIL": tagger[1]}
               if tagger else {})
        try:
            self._run(self.root, ["tag", "-a", "-m", message, "--end-of-options", name, rev],
                      env=env)
        except GitError as exc:
            raise BadInput(f"git tag {name} failed: {exc.reason}",
                           "fix what git reports (e.g. set user.name and user.email)") from None

    def parents(self, rev: str) -> tuple[str, ...]:
        line = self.git("rev-list", "--parents", "-n", "1", "--end-of-options",
                        self.rev_parse(rev)).split()
        return tuple(line[1:])

    def message(self, rev: str) -> str:
        return self.git("show", "-s", "--format=%B", self.rev_parse(rev), "--")

    def write_commit(self, parent: str, files: Mapping[str, bytes], message: str, *,
                     author: tuple[str, str], when: int) -> str:
        """A commit on top of `parent` with `files` replaced, made with git's plumbing through
        a throwaway index: no branch, no working tree and no index of the repository is
        touched. The same parent, files, message, author and time give the same commit id."""
        import tempfile

        commit = self.rev_parse(parent)
        name, email = author
        with tempfile.TemporaryDirectory(prefix="ameide-release-index-") as tmp:
            env = {"GIT_INDEX_FILE": os.path.join(tmp, "index"), "GIT_AUTHOR_NAME": name,
                   "GIT_AUTHOR_EMAIL": email, "GIT_COMMITTER_NAME": name,
                   "GIT_COMMITTER_EMAIL": email, "GIT_AUTHOR_DATE": f"@{when} +0000",
                   "GIT_COMMITTER_DATE": f"@{when} +0000"}
            self._run(self.root, ["read-tree", commit], env=env)
            for path, data in sorted(files.items()):
                blob = self._run(self.root, ["hash-object", "-w", "--stdin"], data).decode().strip()
                self._run(self.root, ["update-index", "--add", "--cacheinfo",
                                      f"100644,{blob},{path}"], env=env)
            tree = self._run(self.root, ["write-tree"], env=env).decode().strip()
            return self._run(self.root, ["commit-tree", tree, "-p", commit, "-F", "-"],
                             message.encode(), env=env).decode().strip()

    # --- remotes -------------------------------------------------------------------------
    def push(self, remote: str, *refspecs: str, force_with_lease: str | None = None,
             token: tuple[str, str] | None = None, atomic: bool = False) -> None:
        """Push refspecs; a failure is a remote failure (exit 4). `token` = (web origin such as
        https://github.com, token): sent as an HTTP header for that origin only, through the
        environment (never on a command line or in .git/config), when the remote lives there.
        `atomic`: every ref is updated or none is."""
        args = ["push", "--porcelain", *(["--atomic"] if atomic else [])]
        if force_with_lease is not None:
            args.append(f"--force-with-lease={force_with_lease}")
        self._remote(args, remote, refspecs, "push to", token)

    def remote_url(self, remote: str) -> str:
        check_remote(remote)
        try:
            return self.git("remote", "get-url", "--end-of-options", remote).strip()
        except GitError:
            return remote  # a URL given directly

    def fetch(self, remote: str, *refspecs: str, token: tuple[str, str] | None = None) -> None:
        """Fetch refspecs (no tags besides those named); `token` as for `push`."""
        self._remote(["fetch", "--quiet", "--no-tags"], remote, refspecs, "fetch from", token)

    def remote_refs(self, remote: str, *patterns: str,
                    token: tuple[str, str] | None = None) -> dict[str, str]:
        """`git ls-remote`: ref name → object (peeled tags as `name^{}`); `token` as for
        `push` (a checkout without stored credentials cannot even read a private remote)."""
        out = self._remote(["ls-remote"], remote, patterns, "list the refs of", token)
        refs: dict[str, str] = {}
        for line in out.splitlines():
            sha, _, ref = line.partition("\t")
            if ref:
                refs[ref] = sha
        return refs

    def _remote(self, args: list[str], remote: str, rest: Sequence[str], doing: str,
                token: tuple[str, str] | None = None) -> str:
        check_remote(remote)
        env: dict[str, str] = {}
        if token is not None:
            origin, secret = token
            if self.remote_url(remote).startswith(origin.rstrip("/") + "/"):
                import base64

                basic = base64.b64encode(f"x-access-token:{secret}".encode()).decode()
                env = {"GIT_CONFIG_COUNT": "1",
                       "GIT_CONFIG_KEY_0": f"http.{origin.rstrip('/')}/.extraheader",
                       "GIT_CONFIG_VALUE_0": f"AUTHORIZATION: basic {basic}"}
        try:
            return self._run(self.root, [*args, "--end-of-options", remote, *rest],
                             env=env).decode("utf-8", "replace")
        except GitError as exc:
            raise RemoteError(f"git could not {doing} {remote}: {exc.reason[:300]}",
                              "check the remote's address, your access and the network, then "
                              "re-run") from None


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
            # GIT_FLUSH=0: git flushes per commit into a pipe by default, 50,000 tiny writes
            # and as many wake-ups; block-buffered, a history streams in a few thousand reads.
            self._proc = subprocess.Popen(["git", *args], cwd=root,
                                          env=git_env({"GIT_FLUSH": "0"}),
                                          stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                          stderr=subprocess.PIPE)
        except FileNotFoundError:
            raise BadInput("git is not installed", "install git and retry") from None
        _widen_pipe(self._proc.stdout)
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
        read = proc.stdout.read1  # type: ignore[attr-defined]
        fields: list[str] = []
        for batch in nul_fields(iter(lambda: read(1 << 16), b"")):
            fields += batch
            # A record is: the previous gap, header, name, email, message, then its file list
            # (the next gap); it is complete once the NUL after that gap has arrived.
            end = len(fields) - 5
            at = 0
            while at < end:
                yield _record(fields, at, paths)
                at += 5
            del fields[:at]
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
            raise GitError(("log",), stderr.decode("utf-8", "replace"), code)


def nul_fields(chunks: Iterable[bytes], limit: int = limits.COMMIT_FIELD_MAX,
               ) -> Iterator[list[str]]:
    """The NUL-separated fields of a byte stream read in chunks, a batch per chunk (the last
    field comes when the stream ends). A field is decoded only once its NUL has arrived: a UTF-8
    character may be split between two reads, never across a NUL. The unfinished field is kept
    as pieces, so a long one costs one join, and is cut at `limit` bytes (the rest of it is
    skipped up to its NUL): a giant commit message costs bounded memory and parsing."""
    pieces: list[bytes] = []
    held = 0
    for chunk in chunks:
        first = chunk.find(b"\0")
        if first < 0:
            if held < limit:
                pieces.append(chunk[:limit - held])
                held += len(pieces[-1])
            continue
        pieces.append(chunk[:max(0, min(first, limit - held))])
        batch = [b"".join(pieces).decode("utf-8", "replace")]
        last = chunk.rfind(b"\0")
        if last > first:
            batch += chunk[first + 1:last].decode("utf-8", "replace").split("\0")
        pieces = [chunk[last + 1:last + 1 + limit]]
        held = len(pieces[0])
        yield batch
    yield [b"".join(pieces).decode("utf-8", "replace")]


_PIPE_BYTES = 1 << 20


def _packed_tag_names(path: Path) -> Iterator[str]:
    """Tag names in a packed-refs file (`<oid> refs/tags/<name>` lines): a regular file, read
    once within its bound (an 11,000-tag file is 700 KB); a line longer than any ref name, or
    the unfinished last one, is skipped."""
    if not os.path.lexists(path):
        return
    from release.yamlread import read_file_bytes

    data = read_file_bytes(path, "packed-refs", max_bytes=limits.PACKED_REFS_MAX,
                           fix="run `git pack-refs` to rewrite it, or remove it if it is no "
                               "file git wrote")
    count = 0
    for line in data.split(b"\n")[:-1]:
        _, sep, ref = line.partition(b" ")
        if sep and ref.startswith(b"refs/tags/") and len(line) <= _REF_LINE_MAX:
            count += 1
            if count > limits.TAG_NAMES_MAX:
                raise _too_many_tags(path)
            yield ref[10:].decode("utf-8", "surrogateescape")


def _loose_names(tags_dir: Path) -> Iterator[str]:
    """Names of the loose tags under `refs/tags` (names with slashes are subdirectories),
    without opening one: symlinked directories are not followed, depth and count are bounded."""
    count = 0
    pending: list[tuple[str, str]] = [(str(tags_dir), "")]
    while pending:
        directory, prefix = pending.pop()
        try:
            entries = os.scandir(directory)
        except OSError:  # gone, not a directory, unreadable: git skips it too
            continue
        with entries:
            for entry in entries:
                count += 1
                if count > limits.TAG_NAMES_MAX:
                    raise _too_many_tags(tags_dir)
                if entry.is_dir(follow_symlinks=False):
                    if prefix.count("/") < _REF_DEPTH_MAX:
                        pending.append((entry.path, f"{prefix}{entry.name}/"))
                else:
                    yield prefix + entry.name


def _too_many_tags(where: Path) -> BadInput:
    return BadInput(f"{where} lists more than {limits.TAG_NAMES_MAX:,} tags",
                    "delete the tags that are no releases (git tag -d)")


def _widen_pipe(pipe: IO[bytes] | None) -> None:
    """Let git run 1 MiB ahead of a reader busy with finished releases (Linux: F_SETPIPE_SZ;
    elsewhere, or when refused, the default 64 KiB pipe stays)."""
    if pipe is None or not sys.platform.startswith("linux"):
        return
    import contextlib
    import fcntl

    with contextlib.suppress(OSError):
        fcntl.fcntl(pipe.fileno(), 1031, _PIPE_BYTES)  # F_SETPIPE_SZ


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


