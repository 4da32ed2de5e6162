"""The `ameide-release` command line (plain click: no parameter layer to pay for at start-up, so
`notes` answers as fast as the work allows and needs no second parser).

Commands live in `release/commands/<concern>.py`, each exposing `register(group)`; this module
only wires them together and turns failures into one line and an exit code: 0 done, 2 bad input,
3 conflict with published content, 4 a registry, GitHub, git remote or the OS failed, 130
interrupted. Anything else is a bug (exit 1). Heavy modules are imported inside the commands.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, NoReturn

import click

from release import __version__
from release.commands import basic, chartdocs, index, notes, oci, pipeline
from release.commands.common import CliState

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


def _settings_options(f: Any) -> Any:
    for key, text in reversed(SETTING_FLAGS.items()):
        f = click.option(f"--{key}", key.replace("-", "_"), default=None, help=text)(f)
    return f


class _Interrupted(Exception):
    """Ctrl-C, carried past click (which would print a blank line and "Aborted!")."""


class _Group(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            raise _Interrupted() from None


@click.group(cls=_Group, name="ameide-release", no_args_is_help=True,
             context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--repo", type=click.Path(path_type=Path), default=Path("."),
              help="Project directory (default: current).")
@_settings_options
@click.version_option(__version__, "--version", prog_name="ameide-release",
                      message="%(prog)s %(version)s")
@click.pass_context
def app(ctx: click.Context, /, repo: Path, **flags: str | None) -> None:
    """Version, package, push (OCI), announce and release the AMEIDE operators Helm chart.

    Settings options apply to every command; see `ameide-release config`.
    """
    ctx.obj = CliState(repo=repo, flags={k.replace("_", "-"): v for k, v in flags.items()})


for module in (basic, oci, notes, pipeline, index, chartdocs):
    for command in module.COMMANDS:
        app.add_command(command)


def main(argv: list[str] | None = None) -> None:
    """Entry point: one line on stderr and a documented exit code for every expected failure."""
    from release.errors import GitError, ReleaseError

    try:
        code = app.main(args=argv, prog_name="ameide-release", standalone_mode=False)
    except ReleaseError as exc:
        _fail(str(exc), exc.exit_code)
    except GitError as exc:
        _fail(f"{exc}: check the repository's state", 2)
    except click.UsageError as exc:
        where = exc.ctx.command_path if exc.ctx is not None else "ameide-release"
        _fail(f"{exc.format_message()}: see `{where} --help`", exc.exit_code)
    except click.ClickException as exc:
        _fail(exc.format_message(), exc.exit_code)
    except (_Interrupted, KeyboardInterrupt, click.Abort):
        click.echo("interrupted: nothing was published after this point; re-run to finish",
                   err=True)
        sys.exit(130)
    except OSError as exc:
        from release.errors import describe_os_error

        _fail(str(describe_os_error(exc, "use")), 4)
    except Exception as exc:  # last resort: never show a traceback by default
        if os.environ.get("AMEIDE_RELEASE_DEBUG"):
            raise
        click.echo(f"internal error: {type(exc).__name__}: {exc} "
                   "(set AMEIDE_RELEASE_DEBUG=1 for a traceback and report it)", err=True)
        sys.exit(1)
    if isinstance(code, int) and code:
        sys.exit(code)


def _fail(message: str, code: int) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    if os.environ.get("GITHUB_ACTIONS") == "true":
        from release.ghactions import error_annotation

        click.echo(error_annotation(message))
    sys.exit(code)
