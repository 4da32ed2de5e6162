"""User-facing failures.

Every error the tool expects to meet is one of these classes. The message names the problem and
the fix in one line; the CLI prints it without a traceback and exits with the class's code.
Secrets never go into a message: callers pass descriptions of credentials, not their values.
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
    """A registry or GitHub failed or refused; what was already published is intact."""

    exit_code = 4
