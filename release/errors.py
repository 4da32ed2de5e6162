"""User-facing failures, and the internal ones that become them at the edge.

Every error the tool expects to meet is one of these classes. The message names the problem and
the fix in one line; the CLI prints it without a traceback and exits with the class's code:
2 bad input (nothing changed), 3 conflict with published content (nothing overwritten), 4 a
registry, GitHub, git remote or the operating system failed (what was published is intact).
Secrets never go into a message: callers pass descriptions of credentials, not their values.

`GitError` is internal: `release.gitrepo` raises it for a git command that failed, and callers
that expect a failure turn it into a value; one that reaches the CLI is reported as bad
repository state (exit 2), because local git only fails on the repository it is given.
"""

from __future__ import annotations


class ReleaseError(Exception):
    """Base class: a failure explained to the person running the tool."""

    exit_code = 1

    def __init__(self, problem: str, fix: str | None = None) -> None:
        self.problem = problem
        self.fix = fix
        super().__init__(str(self))

    def __str__(self) -> str:
        text = self.problem.rstrip(".")
        if self.fix:
            text += f": {self.fix}"
        return " ".join(text.split())  # always one line


class BadInput(ReleaseError):
    """The input (tag, flag, config, chart, working tree) is wrong; nothing was changed."""

    exit_code = 2


class Conflict(ReleaseError):
    """Published content differs from what we would publish; nothing was overwritten."""

    exit_code = 3


class RemoteError(ReleaseError):
    """A registry, GitHub or a git remote failed or refused; what was already published is
    intact."""

    exit_code = 4


class SystemFailure(ReleaseError):
    """The machine failed us (disk full, read-only file system, permissions): not the input's
    fault and not a remote's, but the same promise holds: nothing published was touched."""

    exit_code = 4


class GitError(Exception):
    """A git command exited non-zero (internal: see the module docstring)."""

    def __init__(self, args: tuple[str, ...], stderr: str, returncode: int) -> None:
        self.stderr = stderr
        self.returncode = returncode
        import re

        lines = stderr.strip().splitlines()
        reason = lines[-1] if lines else f"exit status {returncode}"
        # a remote URL may carry user:token@: never repeat it
        self.reason = re.sub(r"://[^/@\s]+@", "://***@", reason)
        super().__init__(f"git {args[0] if args else ''} failed: {self.reason}")


def describe_os_error(exc: OSError, doing: str) -> SystemFailure:
    """`OSError` → one line naming the file, what we were doing, and the fix."""
    import errno

    where = f" {exc.filename}" if exc.filename else ""
    reason = exc.strerror or type(exc).__name__
    fixes = {
        errno.ENOSPC: "free disk space and re-run (re-runs are safe)",
        errno.EDQUOT: "free disk space and re-run (re-runs are safe)",
        errno.EROFS: "the file system is read-only: choose a writable location",
        errno.EACCES: "check the permissions of that path",
        errno.EPERM: "check the permissions of that path",
    }
    return SystemFailure(f"cannot {doing}{where} ({reason})",
                         fixes.get(exc.errno or 0, "check the path and re-run"))


def for_terminal(text: str, *, one_line: bool = False) -> str:
    """Text as a terminal is given it: what servers, git or files said may hold escape
    sequences that retitle, clear or recolour the terminal, or a bidi override that reorders
    the line; every control or format character becomes '?' (line breaks too with
    `one_line`)."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() or (c == "\n" and not one_line) else "?" for c in text)
