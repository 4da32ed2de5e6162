"""`push` and `verify`: publish the packaged chart to an OCI registry and check what is there.

Exit codes: 0 pushed / already published / verified, 2 bad input, 3 the registry holds different
content under the tag (nothing was written), 4 the registry failed or refused.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import click

from release.commands.common import (
    check_sign,
    emit_json,
    info,
    json_option,
    plain_http_option,
    registry_login_options,
    runtime,
    settings,
    sign_options,
    target,
)

if TYPE_CHECKING:
    from release.config import Settings
    from release.target import ReleaseTarget



def to_option(f: click.decorators.FC) -> click.decorators.FC:
    return click.option("--to", default=None, help="oci://HOST/NAMESPACE (default: the "
                        "registry setting).")(f)


def archive_option(f: click.decorators.FC) -> click.decorators.FC:
    return click.option("--archive", type=click.Path(path_type=Path), default=None,
                        help="Use this packaged .tgz instead of packaging the chart.")(f)


@click.command("push")
@click.option("--tag", default=None, help="Release tag, e.g. v1.2.3 (default: the chart's "
              "version at HEAD).")
@to_option
@plain_http_option
@click.option("--force", is_flag=True, help="Overwrite a tag that holds different content "
              "(says what it replaces).")
@sign_options
@archive_option
@registry_login_options
@json_option
@click.pass_context
def push_cmd(ctx: click.Context, tag: str | None, to: str | None, plain_http: bool, force: bool,
             sign: bool, key: str | None, keyring: Path | None, passphrase_file: Path | None,
             archive: Path | None, username: str | None, password_stdin: bool,
             as_json: bool) -> None:
    """Push the packaged chart; a re-run is safe (same content: 'already published')."""
    from release.executor import run_steps
    from release.steps.build import archive_step, package_step, sign_step
    from release.steps.push import push_step

    check_sign(sign, key)
    s = settings(ctx, registry=to)
    rt = runtime(s, username, password_stdin)
    with tempfile.TemporaryDirectory(prefix="ameide-release-push-") as tmp:
        if archive is not None:
            package = archive_step(archive).package
            if sign:  # the signature goes beside a copy, never beside the user's file
                import dataclasses
                import shutil

                local = Path(tmp) / package.path.name
                shutil.copyfile(package.path, local)
                package = dataclasses.replace(package, path=local)
        else:
            package = package_step(_push_target(s, tag), s, Path(tmp)).package
        prov = sign_step(package, str(key), keyring, passphrase_file).prov if sign else None
        step = push_step(package, s.registry, prov=prov, plain_http=plain_http, force=force)
        try:
            (outcome,) = run_steps([step], rt)
        finally:
            rt.close()
    if as_json:
        emit_json(outcome.details)
        return
    info(outcome.detail)
    click.echo(f"{step.reference}@{outcome.outputs['manifest-digest']}")


def _push_target(s: Settings, tag: str | None) -> ReleaseTarget:
    """The release to push: `tag`, or the chart's own version at HEAD. Without a tag to build
    from, uncommitted chart changes are refused: the archive would match no commit."""
    from release.chart import load_metadata
    from release.errors import BadInput

    repo, release_target = target(s, tag if tag is not None
                                  else s.tag_prefix + str(load_metadata(s.chart_dir)["version"]))
    if not release_target.tag_exists and repo.is_dirty(repo.relpath(s.chart_dir)):
        raise BadInput("the chart has uncommitted changes, so the archive would not match any "
                       "commit", "commit or stash the changes under the chart directory first")
    return release_target


@click.command("artifacthub")
@to_option
@plain_http_option
@registry_login_options
@json_option
@click.pass_context
def artifacthub_cmd(ctx: click.Context, to: str | None, plain_http: bool, username: str | None,
                    password_stdin: bool, as_json: bool) -> None:
    """Push artifacthub-repo.yml to the chart's `artifacthub.io` tag (idempotent)."""
    from release.chart import load_metadata
    from release.errors import BadInput
    from release.executor import run_steps
    from release.steps.artifacthub import artifacthub_step

    s = settings(ctx, registry=to)
    step = artifacthub_step(s, str(load_metadata(s.chart_dir)["name"]), plain_http=plain_http)
    if step is None:
        raise BadInput(f"there is no artifacthub-repo.yml in {s.root}",
                       "create it (owners, optional repositoryID): "
                       "https://artifacthub.io/docs/topics/repositories/")
    rt = runtime(s, username, password_stdin)
    try:
        (outcome,) = run_steps([step], rt)
    finally:
        rt.close()
    if as_json:
        emit_json(outcome.as_json())
        return
    info(f"{outcome.status}: {outcome.detail}")
    click.echo(f"{step.ref.oci}@{step.digest}")


@click.command("verify")
@click.option("--tag", required=True, help="Release tag to check, e.g. v1.2.3.")
@to_option
@plain_http_option
@archive_option
@registry_login_options
@json_option
@click.pass_context
def verify_cmd(ctx: click.Context, tag: str, to: str | None, plain_http: bool,
               archive: Path | None, username: str | None, password_stdin: bool,
               as_json: bool) -> None:
    """Pull the published chart, check every digest and compare with a rebuild of the tag."""
    from release.errors import Conflict
    from release.oci.publish import verify_chart
    from release.oci.reference import chart_ref
    from release.steps.build import archive_step, package_step

    s = settings(ctx, registry=to)
    rt = runtime(s, username, password_stdin)
    with tempfile.TemporaryDirectory(prefix="ameide-release-verify-") as tmp:
        if archive is not None:
            expected = archive_step(archive).package
        else:
            _, release_target = target(s, tag, must_exist=True)
            expected = package_step(release_target, s, Path(tmp)).package
        ref = chart_ref(s.registry, expected.name, expected.version, plain_http=plain_http)
        try:
            result = verify_chart(ref, expected, client=rt.registry(ref, push=False))
        finally:
            rt.close()
    if as_json:
        emit_json(result.as_dict())
    if not result.match:
        raise Conflict(f"oci://{result.reference} ({result.digest}) differs from the rebuild "
                       f"of {tag}: {result.difference}",
                       "find out who published it; never overwrite a release silently")
    if not as_json:
        info(f"verified oci://{result.reference}: {result.digest} matches the rebuild of {tag}")
        click.echo(f"oci://{result.reference}@{result.digest}")


# The commands this module adds to `ameide-release`.
COMMANDS = (push_cmd, verify_cmd, artifacthub_cmd)
