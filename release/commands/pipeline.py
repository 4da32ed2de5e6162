"""The release as users run it: `dry-run`, `publish`, `hotfix`.

`dry-run` prints the plan (`release.plan.make_plan`); `publish` executes that same plan. With
`--online`, `dry-run` also asks the registry, GitHub and the Helm repository what each step would
do — reading only — and exits 3 when a step would conflict with what is published. `publish`
shows progress in colour on a terminal and plain lines elsewhere (CI logs), prints JSON with
`--json`, and inside GitHub Actions also writes `$GITHUB_OUTPUT` and `$GITHUB_STEP_SUMMARY`.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from release.commands.common import (
    CliState,
    Command,
    check_sign,
    echo,
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
from release.errors import for_terminal

if TYPE_CHECKING:
    from argparse import ArgumentParser

    from release.plan import ReleasePlan
    from release.steps.base import StepCheck, StepOutcome


def index_step_options(p: ArgumentParser) -> None:
    p.add_argument("--index-dir", type=Path, metavar="DIR",
                   help="Also merge the chart into this Helm repository's index.yaml.")
    p.add_argument("--index-url", help="Base URL of the charts in index.yaml (default: the "
                   "GitHub release asset).")


def dry_run_options(p: ArgumentParser) -> None:
    p.add_argument("--tag", help="Release tag (default: the next version from commits).")
    p.add_argument("--prerelease", metavar="CHANNEL",
                   help="Plan the next pre-release of the channel (e.g. rc) instead.")
    p.add_argument("--online", action="store_true", help="Also ask the registry, GitHub and the "
                   "Helm repository what each step would do (reads only).")
    plain_http_option(p)
    index_step_options(p)
    registry_login_options(p)
    json_option(p)


def dry_run_cmd(state: CliState, *, tag: str | None, prerelease: str | None, online: bool,
                plain_http: bool, index_dir: Path | None, index_url: str | None,
                username: str | None, password_stdin: bool, as_json: bool) -> None:
    """Show the whole release plan. Writes nothing; sends nothing unless --online."""
    import tempfile

    from release.errors import Conflict
    from release.executor import check_steps
    from release.plan import PlanOptions, make_plan

    s = settings(state)
    _, release_target = target(s, tag, prerelease=prerelease)
    options = PlanOptions(plain_http=plain_http, index_dir=index_dir, index_url=index_url)
    checks: list[StepCheck] = []
    with tempfile.TemporaryDirectory(prefix="ameide-release-dry-run-") as tmp:
        plan = make_plan(release_target, s, Path(tmp), options)
        if online:
            rt = runtime(s, username, password_stdin)
            try:
                checks = check_steps(plan.steps, rt)
            finally:
                rt.close()
        if as_json:
            data = plan.as_json()
            if online:
                data["online"] = [c.as_json() for c in checks]
            emit_json(data)
        else:
            _print_plan(plan, checks)
    conflicts = [c for c in checks if c.verdict == "would conflict"]
    if conflicts:
        raise Conflict(f"{len(conflicts)} step(s) would conflict with what is published "
                       f"({', '.join(c.step for c in conflicts)})",
                       "publish would exit 3 without overwriting anything; bump the version "
                       "or find out who published it")


def _print_plan(plan: ReleasePlan, checks: list[StepCheck]) -> None:
    """The plan as people read it; each line holds commit subjects, paths or what servers said,
    so it goes to the terminal through `for_terminal` (the notes are safe Markdown already)."""
    def show(text: str) -> None:
        echo(for_terminal(text, one_line=True))

    t = plan.target
    state = ("exists" + ("" if t.at_head else " (not at HEAD)")) if t.tag_exists \
        else "would be created at HEAD"
    header = "nothing is written" + (", only read" if checks else ", pushed or sent")
    show(f"Release {t.tag} — dry run: {header}")
    if t.decided_by is not None:
        for reason in t.decided_by.explain():
            show(f"  {reason}")
    rows = [
        ("version", f"{t.version} (appVersion \"{t.version}\")"
                    + (" — pre-release" if t.prerelease else "")),
        ("tag", f"{t.tag}: {state}, commit {t.commit[:12]}"),
        ("previous", plan.release.previous_tag or "(none: first release)"),
        ("image tags", ", ".join(plan.image_tags)),
    ]
    for key, value in rows:
        show(f"  {key:<11} {value}")
    verdicts = {c.step: c for c in checks}
    show("")
    show("Steps:")
    for step in plan.steps:
        check = verdicts.get(step.name)
        mark = f"  [{check.verdict}] {check.detail}" if check else ""
        show(f"  {step.name:<11} {step.describe()}{mark}")
    show("")
    show("Release notes:")
    echo(plan.notes.rstrip("\n"))


def publish_options(p: ArgumentParser) -> None:
    p.add_argument("--tag", help="Release tag at HEAD, e.g. v1.2.3.")
    p.add_argument("--channel", choices=["release", "dev"], default="release",
                   help="dev: the chart of HEAD as X.Y.Z-dev.N+<sha> in the dev-registry (no "
                   "tag, CHANGELOG or GitHub release).")
    plain_http_option(p)
    p.add_argument("--force", action="store_true", help="Overwrite published content that "
                   "differs (says what it replaces).")
    index_step_options(p)
    sign_options(p)
    registry_login_options(p)
    json_option(p)


def publish_cmd(state: CliState, *, tag: str | None, channel: str, plain_http: bool,
                force: bool, index_dir: Path | None, index_url: str | None, sign: bool,
                key: str | None, keyring: Path | None, passphrase_file: Path | None,
                username: str | None, password_stdin: bool, as_json: bool) -> None:
    """Publish a tagged release: package, lint, push, index, CHANGELOG, GitHub release.

    Executes exactly the plan `dry-run --tag TAG` shows; every step checks whether it is
    already done first, so a re-run finishes a failed release and writes nothing after a
    finished one."""
    from release import ghactions
    from release.errors import BadInput
    from release.executor import publish_dev, publish_tag
    from release.plan import PlanOptions

    check_sign(sign, key)
    if channel == "release" and tag is None:
        raise BadInput("publish needs --tag", "pass the release tag at HEAD, e.g. --tag v1.2.3, "
                       "or --channel dev for a dev chart")
    if channel == "dev" and (tag is not None or index_dir is not None):
        raise BadInput("a dev chart has no tag and no index entry",
                       "drop --tag and --index-dir with --channel dev")
    s = settings(state)
    rt = runtime(s, username, password_stdin)
    options = PlanOptions(channel=channel, plain_http=plain_http, force=force,
                          index_dir=index_dir, index_url=index_url, sign_key=key,
                          keyring=keyring, passphrase_file=passphrase_file)
    try:
        if tag is None:
            result = publish_dev(s, options, rt, progress(as_json))
        else:
            result = publish_tag(s, tag, options, rt, progress(as_json))
    finally:
        rt.close()
    if ghactions.in_actions():
        ghactions.write_output(result.outputs())
        ghactions.write_summary(result.summary_markdown())
    if as_json:
        emit_json(result.as_json())
        return
    info(f"{result.tag}: {'published' if result.wrote else 'already published: nothing to do'}")
    out = result.outputs()
    echo(for_terminal(out["release-url"] or out["oci-reference"], one_line=True))


def release_pr_options(p: ArgumentParser) -> None:
    p.add_argument("--base", help="Branch the release pull request targets, e.g. main or "
                   "release-1.2 (default: the current branch).")
    p.add_argument("--remote", default="origin", help="Remote that holds the branches and tags.")
    p.add_argument("--prerelease", metavar="CHANNEL",
                   help="Propose the next pre-release of the channel (rc → 1.3.0-rc.1, then rc.2).")
    json_option(p)


def release_pr_cmd(state: CliState, *, base: str | None, remote: str, prerelease: str | None,
                   as_json: bool) -> None:
    """Keep the release pull request up to date, or tag the merged one.

    On a merged release commit: tag it, push the tag and print it (`release-tag` in Actions):
    publish it with `publish --tag` on a checkout of the tag (a tag pushed with GITHUB_TOKEN
    starts no workflow). Otherwise: propose the next release as one commit on the bot branch and
    a pull request labelled `release: pending`; a run that changes nothing writes nothing."""
    from urllib.parse import urlsplit

    from release import ghactions
    from release.errors import BadInput
    from release.github import token_from_env
    from release.releasepr import release_pr
    from release.render import web_url
    from release.target import open_repo

    s = settings(state)
    repo = open_repo(s)
    base = base or repo.current_branch()
    if not base:
        raise BadInput("HEAD is detached and no --base was given",
                       "pass --base BRANCH (in Actions: --base \"$GITHUB_REF_NAME\")")
    token = token_from_env(os.environ)
    web = urlsplit(web_url(s))
    rt = runtime(s)
    try:
        outcome = release_pr(s, repo, rt.github(write=True), base=base, remote=remote,
                             prerelease=prerelease, token=(f"{web.scheme}://{web.netloc}", token))
    finally:
        rt.close()
    if ghactions.in_actions():
        ghactions.write_output({"action": outcome.action, "release-tag": outcome.tag or "",
                                "pr": str(outcome.pr_number or "")})
    if as_json:
        emit_json(outcome.as_json())
        return
    info(f"{outcome.action}: {outcome.detail}")
    if outcome.tag:
        echo(outcome.tag)


def progress(as_json: bool) -> Callable[[StepOutcome], None] | None:
    """How step outcomes are shown: a coloured mark and a bold step name on a terminal (unless
    NO_COLOR is set), plain lines in logs, none in JSON mode. Three ANSI codes need no library;
    the detail (paths, what servers said) goes through `for_terminal`, never through markup."""
    from release import ghactions

    if as_json:
        return None
    if sys.stderr.isatty() and not ghactions.in_actions():
        plain = bool(os.environ.get("NO_COLOR"))  # no-color.org: set and not empty

        def show(outcome: StepOutcome) -> None:
            mark, colour = ("✓", 32) if outcome.wrote else ("=", 36)
            step = f"{outcome.step:<9}"
            text = for_terminal(f" {outcome.status}: {outcome.detail}", one_line=True)
            line = (f"{mark} {step}{text}" if plain
                    else f"\x1b[{colour}m{mark}\x1b[0m \x1b[1m{step}\x1b[0m{text}")
            print(line, file=sys.stderr, flush=True)

        return show
    return lambda o: info(for_terminal(f"{o.step}: {o.status}: {o.detail}", one_line=True))


def hotfix_options(p: ArgumentParser) -> None:
    p.add_argument("--from", dest="from_tag", required=True,
                   help="The release to fix, e.g. v1.2.3.")
    p.add_argument("--pick", action="append", default=[],
                   help="Commit to cherry-pick (repeatable).")
    p.add_argument("--push", action="store_true", help="Push the branch and tag.")
    p.add_argument("--remote", default="origin", help="Remote for --push.")


def hotfix_cmd(state: CliState, *, from_tag: str, pick: list[str], push: bool,
               remote: str) -> None:
    """Cut vX.Y.(Z+1) on release-X.Y from vX.Y.Z: cherry-pick, bump, CHANGELOG, commit, tag."""
    from release.hotfix import cut_hotfix

    result = cut_hotfix(settings(state), from_tag, pick, push=push, remote=remote)
    info(f"{result.tag} tagged on {result.branch} ({'created' if result.branch_created else 'reused'}"
         f", {len(result.picked)} picked, previous {result.previous_tag})")
    if result.pushed:
        info(f"pushed {result.branch} and {result.tag} to {remote}")
    else:
        info("publish it by pushing the branch and tag:")
        echo(result.push_command)


# The commands this module adds to `ameide-release`.
COMMANDS = {
    "dry-run": Command(dry_run_options, dry_run_cmd),
    "publish": Command(publish_options, publish_cmd),
    "release-pr": Command(release_pr_options, release_pr_cmd),
    "hotfix": Command(hotfix_options, hotfix_cmd),
}
