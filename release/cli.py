"""The `ameide-release` command line.

Commands live in `release/commands/<concern>.py`, each exposing `register(app)`; this module only
wires them together and turns `ReleaseError`s into one-line messages and exit codes
(0 done, 2 bad input, 3 conflict with published content, 4 remote failure). Heavy modules are
imported inside the commands so `--help` starts fast.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from release import __version__
from release.commands import basic, chartdocs, index, notes, oci, pipeline
from release.commands.common import CliState
from release.errors import ReleaseError

app = typer.Typer(
    name="ameide-release",
    help="Version, package, push (OCI), announce and release the AMEIDE operators Helm chart.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"ameide-release {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    ctx: typer.Context,
    repo: Annotated[Path, typer.Option("--repo", help="Project directory (default: current).")] = Path("."),
    chart: Annotated[str | None, typer.Option(help="Chart directory, relative to --repo.")] = None,
    registry: Annotated[str | None, typer.Option(help="OCI registry, oci://host/namespace.")] = None,
    github_repository: Annotated[str | None, typer.Option(help="GitHub owner/name.")] = None,
    tag_prefix: Annotated[str | None, typer.Option(help="Release tag prefix (default v).")] = None,
    changelog: Annotated[str | None, typer.Option(help="Changelog path, relative to --repo.")] = None,
    github_api: Annotated[str | None, typer.Option(help="GitHub REST API base URL.")] = None,
    notes_paths: Annotated[str | None, typer.Option(help="Paths whose commits make the notes, "
                                                    "comma-separated.")] = None,
    non_conventional: Annotated[str | None, typer.Option(help="other | drop: non-conventional "
                                                         "commits in the notes.")] = None,
    templates: Annotated[str | None, typer.Option(help="Directory of Jinja2 templates "
                                                  "overriding the bundled ones.")] = None,
    mentions: Annotated[str | None, typer.Option(help="keep | code: @mentions in the notes "
                                                 "as written, or in code (no notification).")] = None,
    contributors: Annotated[str | None, typer.Option(help="humans | all | none: the "
                                                     "contributors line (all: bots too).")] = None,
    sections: Annotated[str | None, typer.Option(help="Notes sections, comma-separated "
                                                 "'type: Title' entries in order.")] = None,
    label_sections: Annotated[str | None, typer.Option(help="With --github: 'label: section' "
                                                       "entries, comma-separated.")] = None,
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    """Settings options apply to every command; see `ameide-release config`."""
    ctx.obj = CliState(
        repo=repo,
        flags={
            "chart": chart,
            "registry": registry,
            "github-repository": github_repository,
            "tag-prefix": tag_prefix,
            "changelog": changelog,
            "github-api": github_api,
            "notes-paths": notes_paths,
            "non-conventional": non_conventional,
            "templates": templates,
            "mentions": mentions,
            "contributors": contributors,
            "sections": sections,
            "label-sections": label_sections,
        },
    )


for module in (basic, oci, notes, pipeline, index, chartdocs):
    module.register(app)


def main(argv: list[str] | None = None) -> None:
    """Entry point: one line on stderr and a documented exit code for every expected failure."""
    try:
        # `notes` and `changelog` skip Typer's ~80 ms parameter machinery when they can.
        if notes.fast_path(sys.argv[1:] if argv is None else list(argv)):
            return
        app(args=argv, standalone_mode=True)
    except ReleaseError as exc:
        typer.echo(f"error: {exc}", err=True)
        if os.environ.get("GITHUB_ACTIONS") == "true":
            from release.ghactions import error_annotation

            typer.echo(error_annotation(str(exc)))
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        typer.echo("interrupted: nothing was published after this point; re-run to finish", err=True)
        sys.exit(130)
    except Exception as exc:  # last resort: never show a traceback by default
        if os.environ.get("AMEIDE_RELEASE_DEBUG"):
            raise
        typer.echo(f"internal error: {type(exc).__name__}: {exc} "
                   "(set AMEIDE_RELEASE_DEBUG=1 for a traceback and report it)", err=True)
        sys.exit(1)
