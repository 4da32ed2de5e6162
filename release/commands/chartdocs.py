"""`chart-docs`: regenerate (or check) the values table in the chart README."""

from __future__ import annotations

from typing import Annotated

import typer

from release.commands.common import info, settings


def register(app: typer.Typer) -> None:
    app.command("chart-docs")(chart_docs_cmd)


def chart_docs_cmd(
    ctx: typer.Context,
    check: Annotated[
        bool, typer.Option("--check", help="Fail when README.md is stale; write nothing.")
    ] = False,
) -> None:
    """Regenerate the values table in <chart>/README.md from the `# --` comments in values.yaml."""
    from release.chartdocs import regenerate
    from release.errors import BadInput

    chart_dir = settings(ctx).chart_dir
    current, fresh = regenerate(chart_dir)
    readme = chart_dir / "README.md"
    if current == fresh:
        info(f"{readme}: values table is up to date")
        return
    if check:
        raise BadInput(f"{readme} values table is stale against values.yaml",
                       "run `ameide-release chart-docs` and commit README.md")
    readme.write_text(fresh, encoding="utf-8")
    info(f"{readme}: values table regenerated")
