"""Local commands: config, next, image-tags, bump, package, dry-run."""

from __future__ import annotations

from typing import Annotated

import typer

from release.commands.common import emit_json, settings


def register(app: typer.Typer) -> None:
    app.command("config")(config_cmd)
    app.command("image-tags")(image_tags_cmd)


def config_cmd(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Print the effective configuration and where each value came from."""
    s = settings(ctx)
    rows = s.describe()
    if as_json:
        emit_json({k: {"value": v, "source": src} for k, v, src in rows})
        return
    width = max(len(k) for k, _, _ in rows)
    for key, value, source in rows:
        shown = ",".join(value) if isinstance(value, list) else value
        typer.echo(f"{key:<{width}}  {shown!s:<40}  ({source})")


def image_tags_cmd(
    ctx: typer.Context,
    ref: Annotated[str, typer.Option(help="Git ref: refs/heads/main, refs/tags/v1.2.3, dev, v1.2.3.")],
    sha: Annotated[str, typer.Option(help="Commit sha (tagged as itself).")],
    fmt: Annotated[str, typer.Option("--format", help="text | json | github")] = "text",
) -> None:
    """Print the operator image tags for a ref (seed §3 tag strategy)."""
    from release.errors import BadInput
    from release.version import image_tags

    result = image_tags(ref, sha, settings(ctx).tag_prefix)
    if fmt == "text":
        for tag in result.tags:
            typer.echo(tag)
    elif fmt == "json":
        emit_json({"ref": result.ref, "sha": result.sha, "tags": list(result.tags)})
    elif fmt == "github":
        from release.ghactions import write_output

        write_output({"tags": ",".join(result.tags), "tags-json": list(result.tags)})
    else:
        raise BadInput(f"unknown --format {fmt!r}", "use text, json or github")
