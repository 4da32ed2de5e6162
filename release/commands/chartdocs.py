"""`chart-docs`: regenerate (or check) the values table in the chart README."""

from __future__ import annotations

from typing import TYPE_CHECKING

from release.commands.common import CliState, Command, info, settings

if TYPE_CHECKING:
    from argparse import ArgumentParser


def chart_docs_options(p: ArgumentParser) -> None:
    p.add_argument("--check", action="store_true", help="Fail when README.md is stale; write nothing.")


def chart_docs_cmd(state: CliState, *, check: bool) -> None:
    """Regenerate the values table in <chart>/README.md from the `# --` comments in values.yaml."""
    from release.chartdocs import regenerate
    from release.errors import BadInput
    from release.files import atomic_write

    chart_dir = settings(state).chart_dir
    current, fresh = regenerate(chart_dir)
    readme = chart_dir / "README.md"
    if current == fresh:
        info(f"{readme}: values table is up to date")
        return
    if check:
        raise BadInput(f"{readme} values table is stale against values.yaml",
                       "run `ameide-release chart-docs` and commit README.md")
    atomic_write(readme, fresh)
    info(f"{readme}: values table regenerated")


# The commands this module adds to `ameide-release`.
COMMANDS = {"chart-docs": Command(chart_docs_options, chart_docs_cmd)}
