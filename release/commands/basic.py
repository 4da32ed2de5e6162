"""Local commands: config, next, image-tags, bump, package."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from release.commands.common import (
    CliState,
    Command,
    echo,
    emit_json,
    info,
    json_option,
    resolve_path,
    settings,
    target,
)
from release.errors import for_terminal

if TYPE_CHECKING:
    from argparse import ArgumentParser


def config_options(p: ArgumentParser) -> None:
    json_option(p)


def config_cmd(state: CliState, *, as_json: bool) -> None:
    """Print the effective configuration and where each value came from."""
    s = settings(state)
    rows = s.describe()
    if as_json:
        emit_json({k: {"value": v, "source": src} for k, v, src in rows})
        return
    width = max(len(k) for k, _, _ in rows)
    for key, value, source in rows:
        shown = ",".join(value) if isinstance(value, list) else \
            str(value).lower() if isinstance(value, bool) else value
        echo(for_terminal(f"{key:<{width}}  {shown!s:<40}  ({source})", one_line=True))


def image_tags_options(p: ArgumentParser) -> None:
    p.add_argument("--ref", required=True,
                   help="Git ref: refs/heads/main, refs/tags/v1.2.3, dev, v1.2.3.")
    p.add_argument("--sha", required=True, help="Commit sha (tagged as itself).")
    p.add_argument("--format", dest="fmt", choices=["text", "json", "github"], default="text",
                   help="text | json | github")


def image_tags_cmd(state: CliState, *, ref: str, sha: str, fmt: str) -> None:
    """Print the operator image tags for a ref (seed §3 tag strategy)."""
    from release.version import image_tags

    result = image_tags(ref, sha, settings(state).tag_prefix)
    if fmt == "text":
        for tag in result.tags:
            echo(tag)
    elif fmt == "json":
        emit_json({"ref": result.ref, "sha": result.sha, "tags": list(result.tags)})
    else:
        from release.ghactions import write_output

        write_output({"tags": ",".join(result.tags), "tags-json": list(result.tags)})


def bump_options(p: ArgumentParser) -> None:
    p.add_argument("--tag", required=True, help="Release tag, e.g. v1.2.3.")
    p.add_argument("--allow-downgrade", action="store_true", help="Allow a lower version.")


def bump_cmd(state: CliState, *, tag: str, allow_downgrade: bool) -> None:
    """Set version and appVersion in Chart.yaml from a tag, keeping comments and formatting."""
    from release.bump import bump_chart

    result = bump_chart(settings(state), tag, allow_downgrade=allow_downgrade)
    echo(result.message)


def package_options(p: ArgumentParser) -> None:
    p.add_argument("--tag", help="Release tag: the chart as committed at the tag (or at HEAD, "
                   "where the tag would be), with its version. Default: the working tree as it is.")
    p.add_argument("--out", type=Path, default=Path("dist"), metavar="DIR",
                   help="Directory for the archive.")
    json_option(p)


def package_cmd(state: CliState, *, tag: str | None, out: Path, as_json: bool) -> None:
    """Build <name>-<version>.tgz reproducibly and print its sha256 digest."""
    from release.package import PackageResult, build_package

    s = settings(state)
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
    echo(f"{result.path}")
    echo(f"{result.digest}")


def next_options(p: ArgumentParser) -> None:
    p.add_argument("--explain", action="store_true", help="Show which commits decided the version.")
    p.add_argument("--prerelease", metavar="CHANNEL",
                   help="The next pre-release of the version, e.g. rc → 1.3.0-rc.1, then rc.2.")
    json_option(p)


def next_cmd(state: CliState, *, explain: bool, prerelease: str | None, as_json: bool) -> None:
    """Print the next version from conventional commits since the previous release tag."""
    from release.target import next_version, open_repo

    s = settings(state)
    result = next_version(s, open_repo(s), prerelease=prerelease)
    if as_json:
        emit_json(result.as_json())
        return
    echo(str(result.version))
    if explain:
        for line in result.explain():
            info(line)


# The commands this module adds to `ameide-release`.
COMMANDS = {
    "config": Command(config_options, config_cmd),
    "next": Command(next_options, next_cmd),
    "image-tags": Command(image_tags_options, image_tags_cmd),
    "bump": Command(bump_options, bump_cmd),
    "package": Command(package_options, package_cmd),
}
