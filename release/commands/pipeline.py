"""The release as users run it: `dry-run`, `publish`, `hotfix`.

`publish` shows progress with rich on a terminal and plain lines elsewhere (CI logs), prints JSON
with `--json`, and inside GitHub Actions also writes `$GITHUB_OUTPUT` and `$GITHUB_STEP_SUMMARY`.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from release.commands.common import emit_json, info, settings
from release.commands.oci import PlainOpt, PwStdinOpt, UserOpt

if TYPE_CHECKING:
    from release.pipeline import Step
    from release.plan import ReleasePlan


def register(app: typer.Typer) -> None:
    app.command("dry-run")(dry_run_cmd)
    app.command("publish")(publish_cmd)
    app.command("hotfix")(hotfix_cmd)


JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]


def dry_run_cmd(
    ctx: typer.Context,
    tag: Annotated[str | None, typer.Option(help="Release tag (default: the next version "
                                            "from commits).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Show the whole release plan. Writes nothing, sends nothing, works offline."""
    from release.plan import make_plan

    s = settings(ctx)
    with tempfile.TemporaryDirectory(prefix="ameide-release-dry-run-") as tmp:
        plan = make_plan(s, tag, Path(tmp))
        if as_json:
            emit_json(plan.as_json())
        else:
            _print_plan(plan)


def _print_plan(plan: ReleasePlan) -> None:
    pkg, gh = plan.package, plan.github
    state = ("exists" + ("" if plan.at_head else " (not at HEAD)")) if plan.tag_exists \
        else "would be created at HEAD"
    rows = [
        ("version", f"{plan.version} (appVersion \"{plan.version}\")"
                    + (" — pre-release" if plan.prerelease else "")),
        ("tag", f"{plan.tag}: {state}, commit {plan.sha[:12]}"),
        ("previous", plan.previous_tag or "(none: first release)"),
        ("image tags", ", ".join(plan.image_tags)),
        ("package", f"{pkg.path.name} {pkg.digest} ({pkg.size} bytes, {len(pkg.files)} files)"),
        ("push", f"{plan.oci_reference}"),
        ("changelog", "already has this release" if plan.changelog_has_entry
                      else "would gain this release at the top"),
        ("GitHub", f"release {gh.tag} on {gh.repository} (prerelease: "
                   f"{str(gh.prerelease).lower()}, latest: {gh.make_latest})"),
        ("assets", ", ".join(f"{a.name} ({a.size} bytes)" for a in gh.assets)),
    ]
    typer.echo(f"Release {plan.tag} — dry run: nothing is written, pushed or sent")
    if plan.decided_by is not None:
        for line in plan.decided_by.explain():
            typer.echo(f"  {line}")
    for key, value in rows:
        typer.echo(f"  {key:<11} {value}")
    typer.echo("")
    typer.echo("Release notes:")
    typer.echo(plan.notes.rstrip("\n"))


def publish_cmd(
    ctx: typer.Context,
    tag: Annotated[str, typer.Option(help="Release tag at HEAD, e.g. v1.2.3.")],
    plain_http: PlainOpt = False,
    force: Annotated[bool, typer.Option("--force", help="Overwrite published content that "
                                        "differs (says what it replaces).")] = False,
    index_dir: Annotated[Path | None, typer.Option(help="Also merge the chart into this Helm "
                                                   "repository's index.yaml.")] = None,
    index_url: Annotated[str | None, typer.Option(help="Base URL of the charts in index.yaml "
                                                  "(default: the GitHub release asset).")] = None,
    sign: Annotated[bool, typer.Option("--sign", help="Sign with GnuPG (.prov).")] = False,
    key: Annotated[str | None, typer.Option(help="Signing key name (with --sign).")] = None,
    keyring: Annotated[Path | None, typer.Option(help="Secret keyring (with --sign).")] = None,
    passphrase_file: Annotated[Path | None, typer.Option(help="Key passphrase file.")] = None,
    username: UserOpt = None,
    password_stdin: PwStdinOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Publish a tagged release: package, push, index, CHANGELOG, GitHub release. Re-runnable."""
    from release import ghactions
    from release.commands.oci import _credentials
    from release.errors import BadInput
    from release.oci.reference import split_registry
    from release.pipeline import PublishOptions, publish

    if sign != bool(key):
        raise BadInput("--sign and --key go together", "pass --sign --key NAME, or neither")
    s = settings(ctx)
    host, _ = split_registry(s.registry)
    options = PublishOptions(plain_http=plain_http, force=force, index_dir=index_dir,
                             index_url=index_url, sign_key=key, keyring=keyring,
                             passphrase_file=passphrase_file,
                             credentials=_credentials(host, username, password_stdin))
    fancy = not as_json and sys.stderr.isatty() and not ghactions.in_actions()
    with tempfile.TemporaryDirectory(prefix="ameide-release-publish-") as tmp:
        if fancy:
            from rich.console import Console

            console = Console(stderr=True)

            def show(step: Step) -> None:
                mark = "[green]✓[/]" if step.wrote else "[cyan]=[/]"
                console.print(f"{mark} [bold]{step.name:<9}[/] {step.status}: {step.detail}",
                              highlight=False, markup=True)

            with console.status(f"publishing {tag}…"):
                result = publish(s, tag, Path(tmp), options, show)
        else:
            result = publish(s, tag, Path(tmp), options,
                             None if as_json else lambda st: info(f"{st.name}: {st.status}: "
                                                                  f"{st.detail}"))
    if ghactions.in_actions():
        ghactions.write_output(result.outputs())
        ghactions.write_summary(result.summary_markdown())
    if as_json:
        emit_json(result.as_json())
        return
    info(f"{tag}: {'published' if result.wrote else 'already published: nothing to do'}")
    typer.echo(result.release_url or result.oci_reference)


def hotfix_cmd(
    ctx: typer.Context,
    from_tag: Annotated[str, typer.Option("--from", help="The release to fix, e.g. v1.2.3.")],
    pick: Annotated[list[str] | None, typer.Option("--pick", help="Commit to cherry-pick "
                                                   "(repeatable).")] = None,
    push: Annotated[bool, typer.Option("--push", help="Push the branch and tag.")] = False,
    remote: Annotated[str, typer.Option(help="Remote for --push.")] = "origin",
) -> None:
    """Cut vX.Y.(Z+1) on release-X.Y from vX.Y.Z: cherry-pick, bump, CHANGELOG, commit, tag."""
    from release.hotfix import cut_hotfix

    result = cut_hotfix(settings(ctx), from_tag, pick or [], push=push, remote=remote)
    info(f"{result.tag} tagged on {result.branch} ({'created' if result.branch_created else 'reused'}"
         f", {len(result.picked)} picked, previous {result.previous_tag})")
    if result.pushed:
        info(f"pushed {result.branch} and {result.tag} to {remote}")
    else:
        info("publish it by pushing the branch and tag:")
        typer.echo(result.push_command)
