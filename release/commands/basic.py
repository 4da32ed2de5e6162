"""Local commands: config, next, image-tags, bump, package."""

from __future__ import annotations

from pathlib import Path

import click

from release.commands.common import emit_json, info, json_option, resolve_path, settings, target


@click.command("config")
@json_option
@click.pass_context
def config_cmd(ctx: click.Context, as_json: bool) -> None:
    """Print the effective configuration and where each value came from."""
    s = settings(ctx)
    rows = s.describe()
    if as_json:
        emit_json({k: {"value": v, "source": src} for k, v, src in rows})
        return
    width = max(len(k) for k, _, _ in rows)
    for key, value, source in rows:
        shown = ",".join(value) if isinstance(value, list) else \
            str(value).lower() if isinstance(value, bool) else value
        click.echo(f"{key:<{width}}  {shown!s:<40}  ({source})")


@click.command("image-tags")
@click.option("--ref", required=True,
              help="Git ref: refs/heads/main, refs/tags/v1.2.3, dev, v1.2.3.")
@click.option("--sha", required=True, help="Commit sha (tagged as itself).")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "github"]), default="text",
              help="text | json | github")
@click.pass_context
def image_tags_cmd(ctx: click.Context, ref: str, sha: str, fmt: str) -> None:
    """Print the operator image tags for a ref (seed §3 tag strategy)."""
    from release.version import image_tags

    result = image_tags(ref, sha, settings(ctx).tag_prefix)
    if fmt == "text":
        for tag in result.tags:
            click.echo(tag)
    elif fmt == "json":
        emit_json({"ref": result.ref, "sha": result.sha, "tags": list(result.tags)})
    else:
        from release.ghactions import write_output

        write_output({"tags": ",".join(result.tags), "tags-json": list(result.tags)})


@click.command("bump")
@click.option("--tag", required=True, help="Release tag, e.g. v1.2.3.")
@click.option("--allow-downgrade", is_flag=True, help="Allow a lower version.")
@click.pass_context
def bump_cmd(ctx: click.Context, tag: str, allow_downgrade: bool) -> None:
    """Set version and appVersion in Chart.yaml from a tag, keeping comments and formatting."""
    from release.bump import bump_chart

    result = bump_chart(settings(ctx), tag, allow_downgrade=allow_downgrade)
    click.echo(result.message)


@click.command("package")
@click.option("--tag", default=None,
              help="Release tag: the chart as committed at the tag (or at HEAD, where the tag "
                   "would be), with its version. Default: the working tree as it is.")
@click.option("--out", type=click.Path(path_type=Path), default=Path("dist"),
              help="Directory for the archive.")
@json_option
@click.pass_context
def package_cmd(ctx: click.Context, tag: str | None, out: Path, as_json: bool) -> None:
    """Build <name>-<version>.tgz reproducibly and print its sha256 digest."""
    from release.package import PackageResult, build_package

    s = settings(ctx)
    out_dir = resolve_path(out)
    result: PackageResult
    if tag is None:
        result = build_package(s, None, out_dir)
    else:
        from release.steps.build import package_step

        _, release_target = target(s, tag)
        result = package_step(release_target, s, out_dir).package
    if as_json:
        emit_json(result.as_json())
        return
    if result.dirty:
        info("warning: the chart has uncommitted changes; this archive will not match any commit")
    click.echo(f"{result.path}")
    click.echo(f"{result.digest}")


@click.command("next")
@click.option("--explain", is_flag=True, help="Show which commits decided the version.")
@click.option("--prerelease", metavar="CHANNEL", default=None,
              help="The next pre-release of the version, e.g. rc → 1.3.0-rc.1, then rc.2.")
@json_option
@click.pass_context
def next_cmd(ctx: click.Context, explain: bool, prerelease: str | None, as_json: bool) -> None:
    """Print the next version from conventional commits since the previous release tag."""
    from release.target import next_version, open_repo

    s = settings(ctx)
    result = next_version(s, open_repo(s), prerelease=prerelease)
    if as_json:
        emit_json(result.as_json())
        return
    click.echo(str(result.version))
    if explain:
        for line in result.explain():
            info(line)


# The commands this module adds to `ameide-release`.
COMMANDS = (config_cmd, next_cmd, image_tags_cmd, bump_cmd, package_cmd)
