"""Local commands: config, next, image-tags, bump, package, dry-run."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from release.commands.common import emit_json, info, settings


def register(app: typer.Typer) -> None:
    app.command("config")(config_cmd)
    app.command("image-tags")(image_tags_cmd)
    app.command("bump")(bump_cmd)
    app.command("package")(package_cmd)
    app.command("next")(next_cmd)


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


def bump_cmd(
    ctx: typer.Context,
    tag: Annotated[str, typer.Option(help="Release tag, e.g. v1.2.3.")],
    allow_downgrade: Annotated[bool, typer.Option(help="Allow a lower version.")] = False,
) -> None:
    """Set version and appVersion in Chart.yaml from a tag, keeping comments and formatting."""
    from release.bump import bump_chart

    result = bump_chart(settings(ctx), tag, allow_downgrade=allow_downgrade)
    typer.echo(result.message)


def package_cmd(
    ctx: typer.Context,
    tag: Annotated[str | None, typer.Option(help="Release tag; default: the chart's own version.")] = None,
    out: Annotated[Path, typer.Option(help="Directory for the archive.")] = Path("dist"),
    packager: Annotated[str, typer.Option(help="builtin or helm (binary).")] = "builtin",
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Build <name>-<version>.tgz reproducibly and print its sha256 digest."""
    from release.package import build_package, build_with_helm_binary

    s = settings(ctx)
    out_dir = out if out.is_absolute() else Path.cwd() / out
    if packager == "builtin":
        result = build_package(s, tag, out_dir)
    elif packager == "helm":
        result = build_with_helm_binary(s, tag, out_dir)
    else:
        from release.errors import BadInput

        raise BadInput(f"unknown --packager {packager!r}", "use builtin or helm")
    if as_json:
        emit_json(result.as_json())
        return
    if result.dirty:
        info("warning: the chart has uncommitted changes; this archive will not match any commit")
    typer.echo(f"{result.path}")
    typer.echo(f"{result.digest}")


def next_cmd(
    ctx: typer.Context,
    explain: Annotated[bool, typer.Option(help="Show which commits decided the version.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Print the next version from conventional commits since the previous release tag."""
    from release.plan import next_version

    result = next_version(settings(ctx))
    if as_json:
        emit_json(result.as_json())
        return
    typer.echo(str(result.version))
    if explain:
        for line in result.explain():
            info(line)
