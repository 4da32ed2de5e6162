"""The `ameide-release` command line, on the standard library's argparse: one parser for the
whole CLI, and nothing to import at start-up beyond it (click alone cost `notes` about 15 ms of
its 0.1 s budget).

Global options come before the command name. Each command lives in `release/commands/<concern>.py`
(`COMMANDS`: name → options declared next to the function that runs them); only the module of the
command being run is imported, and heavy modules only inside the commands.

Failures are one line on stderr and an exit code: 0 done, 2 bad input — a usage error reads
`error: <message>: see `ameide-release <command> --help``, with no usage block —, 3 conflict with
published content, 4 a registry, GitHub, git remote or the OS failed, 130 interrupted. Anything
else is a bug (exit 1).
"""

from __future__ import annotations

import argparse
import os
import sys
from importlib import import_module
from pathlib import Path
from typing import Any, NoReturn

from release import __version__
from release.commands.common import CliState, Command
from release.errors import for_terminal

PROG = "ameide-release"

# Global flag → setting key; every setting has one (see release/config.py).
SETTING_FLAGS = {
    "chart": "Chart directory, relative to --repo.",
    "registry": "OCI registry, oci://host/namespace.",
    "github-repository": "GitHub owner/name.",
    "tag-prefix": "Release tag prefix (default v).",
    "changelog": "Changelog path, relative to --repo.",
    "github-api": "GitHub REST API base URL.",
    "notes-paths": "Paths whose commits make the notes, comma-separated.",
    "non-conventional": "other | drop: non-conventional commits in the notes.",
    "templates": "Directory of Jinja2 templates overriding the bundled ones.",
    "helm-repo-url": "URL of the Helm repository (helm repo add) the release is listed in.",
    "release-branches": "Branches a release tag must be on, comma-separated fnmatch patterns.",
    "release-pr-branch": "Branch of the release pull request (default release/next).",
    "dev-registry": "OCI registry of the per-commit dev charts (publish --channel dev).",
    "mentions": "keep | code: @mentions in the notes as written, or in code (no notification).",
    "contributors": "humans | all | none: the contributors line of the notes (all: bots too).",
    "sections": "Notes sections in order, comma-separated 'type: Title' entries.",
    "label-sections": "With --github: 'label: type' entries, comma-separated.",
    "expect-public": "true | false: a package anonymous users cannot pull fails publish (exit 4).",
}

# Command → the module of release/commands/ that declares and runs it.
COMMAND_MODULES = {
    "config": "basic", "next": "basic", "image-tags": "basic", "bump": "basic",
    "package": "basic",
    "push": "oci", "verify": "oci", "artifacthub": "oci",
    "notes": "notes", "changelog": "notes", "github-release": "notes",
    "dry-run": "pipeline", "publish": "pipeline", "release-pr": "pipeline", "hotfix": "pipeline",
    "index": "index",
    "chart-docs": "chartdocs",
}


class _UsageError(Exception):
    """A command line that does not parse; `prog` is the command whose --help shows the form."""

    def __init__(self, message: str, prog: str) -> None:
        super().__init__(message)
        self.prog = prog


def _unmeasured_formatter(prog: str) -> argparse.HelpFormatter:
    """The formatter add_argument uses to check each option: argparse's default measures the
    terminal for it, importing shutil and its compression modules (about 2 ms of `notes`)."""
    return argparse.RawDescriptionHelpFormatter(prog, width=80)


class _Parser(argparse.ArgumentParser):
    """argparse with this CLI's rules:

    - an error is raised, never printed with a usage block: main() makes it one line, exit 2;
    - no abbreviated options (`--ta` is not `--tag`);
    - the argument after an option that takes a value is that value, whatever it looks like (as
      getopt and click read it): `notes --tag --unreleased` asks for the tag "--unreleased", which
      the tag rule refuses; a value never turns into an option, nor an option into a value.
    """

    def __init__(self, prog: str, description: str, usage: str | None = None) -> None:
        self._takes_value: set[str] = set()  # filled by add_argument, which __init__ calls (-h)
        super().__init__(prog=prog, usage=usage, description=description, allow_abbrev=False,
                         formatter_class=_unmeasured_formatter)

    def add_argument(self, *args: Any, **kwargs: Any) -> argparse.Action:
        action = super().add_argument(*args, **kwargs)
        if action.nargs != 0:
            self._takes_value.update(action.option_strings)
        return action

    def takes_value(self, arg: str) -> bool:
        return arg in self._takes_value

    def error(self, message: str) -> NoReturn:
        raise _UsageError(message, self.prog)

    def format_help(self) -> str:
        self.formatter_class = argparse.RawDescriptionHelpFormatter  # as wide as the terminal
        return super().format_help()

    def parse_options(self, args: list[str]) -> dict[str, Any]:
        """The options in `args` by destination; an option's value is the next argument."""
        joined: list[str] = []
        rest = iter(args)
        for arg in rest:
            if arg == "--":  # the end of the options; no command takes other arguments
                extra = list(rest)
                joined += ["--", *extra] if extra else []
                break
            value = next(rest, None) if arg in self._takes_value else None
            if value == "--":  # argparse would read `--opt=--` as an empty list
                raise _UsageError(f"argument {arg}: expected one argument", self.prog)
            joined.append(arg if value is None else f"{arg}={value}")
        options, unknown = self.parse_known_args(joined)
        if unknown:
            raise _UsageError(_unrecognized(unknown), self.prog)
        return vars(options)


def _unrecognized(args: list[str]) -> str:
    """What argparse says of arguments it does not know, naming the options but never a value:
    a mistyped option may well carry a token."""
    args = [a for a in args if a != "--"]
    names = [a.partition("=")[0] for a in args if a.startswith("-") and a != "-"]
    values = len(args) - len(names)
    shown = f"{values} value{'s' if values > 1 else ''} (not shown)" if values else ""
    if not names:
        return f"unrecognized arguments: {shown}"
    return f"unrecognized arguments: {', '.join(names)}" + (f" and {shown}" if shown else "")


class _TopParser(_Parser):
    """The global options; its help also lists the commands (their modules are light)."""

    def format_help(self) -> str:
        import shutil
        import textwrap

        width = max(len(name) for name in COMMAND_MODULES)
        lines = ["commands:"]
        for name in sorted(COMMAND_MODULES):
            summary = _help_text(_command(name)).split("\n\n")[0].replace("\n", " ")
            lines += textwrap.wrap(summary, max(shutil.get_terminal_size().columns - 2, width + 24),
                                   initial_indent=f"  {name:<{width}}  ",
                                   subsequent_indent=" " * (width + 4))
        return super().format_help() + "\n" + "\n".join(lines) + "\n"


def _global_parser() -> _TopParser:
    p = _TopParser(PROG, usage=f"{PROG} [OPTIONS] COMMAND [ARGS]...", description=(
        "Version, package, push (OCI), announce and release the AMEIDE operators Helm chart.\n\n"
        f"Settings options apply to every command; see `{PROG} config`."))
    p.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    p.add_argument("--repo", type=Path, default=Path("."), metavar="DIR",
                   help="Project directory (default: current).")
    for key, text in SETTING_FLAGS.items():
        p.add_argument(f"--{key}", metavar="VALUE", help=text)
    return p


def _command(name: str) -> Command:
    """The command `name` (a key of COMMAND_MODULES), importing only its module."""
    command: Command = import_module(f"release.commands.{COMMAND_MODULES[name]}").COMMANDS[name]
    return command


def _help_text(command: Command) -> str:
    return "\n".join(line.strip() for line in (command.run.__doc__ or "").strip().splitlines())


def _run(argv: list[str]) -> None:
    top = _global_parser()
    if not argv:  # the help, as a usage error: on stderr, exit 2
        top.print_help(sys.stderr)
        sys.exit(2)
    at = 0  # the command name: the first argument that is neither an option nor its value
    while at < len(argv) and argv[at].startswith("-") and argv[at] not in ("-", "--"):
        at += 2 if top.takes_value(argv[at]) else 1
    options = top.parse_options(argv[:at])
    at += argv[at:at + 1] == ["--"]  # `--` ends the global options
    if at >= len(argv):
        raise _UsageError("missing command", PROG)
    name = argv[at]
    if name not in COMMAND_MODULES:
        raise _UsageError(f"no such command {name!r}", PROG)
    command = _command(name)
    parser = _Parser(f"{PROG} {name}", _help_text(command))
    command.options(parser)
    kwargs = parser.parse_options(argv[at + 1:])
    repo: Path = options.pop("repo")
    command.run(CliState(repo, {k.replace("_", "-"): v for k, v in options.items()}), **kwargs)


def main(argv: list[str] | None = None) -> None:
    """Entry point: one line on stderr and a documented exit code for every expected failure."""
    from release.errors import GitError, ReleaseError

    try:
        _run(sys.argv[1:] if argv is None else list(argv))
    except _UsageError as exc:
        _fail(f"{exc}: see `{exc.prog} --help`", 2)
    except ReleaseError as exc:
        _fail(str(exc), exc.exit_code)
    except GitError as exc:
        _fail(f"{exc}: check the repository's state", 2)
    except KeyboardInterrupt:
        print("interrupted: nothing was published after this point; re-run to finish",
              file=sys.stderr, flush=True)
        sys.exit(130)
    except OSError as exc:
        from release.errors import describe_os_error

        _fail(str(describe_os_error(exc, "use")), 4)
    except Exception as exc:  # last resort: never show a traceback by default
        if os.environ.get("AMEIDE_RELEASE_DEBUG"):
            raise
        print(for_terminal(f"internal error: {type(exc).__name__}: {exc} (set "
                           "AMEIDE_RELEASE_DEBUG=1 for a traceback and report it)", one_line=True),
              file=sys.stderr, flush=True)
        sys.exit(1)


def _fail(message: str, code: int) -> NoReturn:
    message = for_terminal(message, one_line=True)
    print(f"error: {message}", file=sys.stderr, flush=True)
    if os.environ.get("GITHUB_ACTIONS") == "true":
        from release.ghactions import error_annotation

        print(error_annotation(message), flush=True)
    sys.exit(code)
