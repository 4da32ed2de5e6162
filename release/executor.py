"""Executing a plan's steps, and checking them without executing them.

`run_steps` runs steps in order, each under its own deadline (`release.limits.STEP_DEADLINE`:
a stalled server fails the step with exit 4 instead of hanging the release); every step asks
"already done?" first, so a re-run after a failure at any step finishes the release and a re-run
of a finished release writes nothing. `check_steps` asks each step what running it would do,
reading only. `publish` gates the plan first (`preflight`): what must never be published is
refused before the first request.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from release import limits
from release.errors import BadInput

if TYPE_CHECKING:
    from release.config import Settings
    from release.plan import PlanOptions, ReleasePlan
    from release.steps.base import Runtime, Step, StepCheck, StepOutcome
    from release.target import ReleaseTarget


def run_steps(steps: Iterable[Step], runtime: Runtime,
              report: Callable[[StepOutcome], None] | None = None) -> list[StepOutcome]:
    from release.sender import step_deadline

    outcomes = []
    for step in steps:
        with step_deadline(limits.STEP_DEADLINE, f"the {step.name} step"):
            outcome = step.run(runtime)
        outcomes.append(outcome)
        if report is not None:
            report(outcome)
    return outcomes


def check_steps(steps: Iterable[Step], runtime: Runtime) -> list[StepCheck]:
    from release.sender import step_deadline

    checks = []
    for step in steps:
        with step_deadline(limits.STEP_DEADLINE, f"checking the {step.name} step"):
            checks.append(step.check(runtime))
    return checks


@dataclass
class PublishReport:
    """What `publish` did: the step outcomes and the values a workflow reads."""

    tag: str
    version: str
    outcomes: list[StepOutcome] = field(default_factory=list)

    @property
    def wrote(self) -> bool:
        return any(o.wrote for o in self.outcomes)

    def outputs(self) -> dict[str, str]:
        """What the workflow reads from `$GITHUB_OUTPUT`."""
        values = {"version": self.version, "tag": self.tag, "chart-digest": "",
                  "oci-reference": "", "oci-repository": "", "manifest-digest": "",
                  "release-url": ""}
        for outcome in self.outcomes:
            values.update(outcome.outputs)
        return values

    def as_json(self) -> dict[str, Any]:
        return {**self.outputs(), "already_done": not self.wrote,
                "steps": [o.as_json() for o in self.outcomes]}

    def summary_markdown(self) -> str:
        out = self.outputs()
        lines = [f"## Release {self.tag}", "", "| step | result | detail |", "| --- | --- | --- |"]
        lines += [f"| {o.step} | {o.status} | {o.detail.replace('|', '/')} |"
                  for o in self.outcomes]
        lines += ["", f"- chart: `{out['oci-reference']}` (`{out['manifest-digest']}`)",
                  f"- archive digest: `{out['chart-digest']}`",
                  f"- GitHub release: {out['release-url'] or '(none)'}"]
        return "\n".join(lines) + "\n"


def preflight(target: ReleaseTarget, settings: Settings, environ: Mapping[str, str]) -> None:
    """Refuse what must never be published, before the plan is even made: a tag that does not
    exist or is not at HEAD, a dirty tree (the changelog excepted), a tag on no release branch,
    and a missing GitHub token (a release needs all its steps)."""
    from release.github import token_from_env

    repo = target.repo
    if not target.tag_exists:
        raise BadInput(f"tag {target.tag} does not exist in {repo.root}",
                       f"create it at the release commit (git tag -a {target.tag}) or fetch it")
    if not target.at_head:
        raise BadInput(f"tag {target.tag} points at {target.commit[:12]}, not at HEAD "
                       f"({target.head[:12]})", f"check out the tag first: git checkout {target.tag}")
    changelog = repo.relpath(settings.changelog_path)
    dirty = [line[3:] for line in repo.status().splitlines() if line[3:].strip('"') != changelog]
    if dirty:
        raise BadInput(f"the working tree has uncommitted changes ({', '.join(dirty[:3])}"
                       f"{', ...' if len(dirty) > 3 else ''})",
                       "commit or stash them: a release is built from the tagged commit only")
    require_release_branch(target, settings)
    token_from_env(environ)


def require_release_branch(target: ReleaseTarget, settings: Settings) -> None:
    """The tag's commit must be on a branch named by `release-branches` (local or
    remote-tracking): a tag pushed from a fork or a forgotten branch is never published."""
    patterns = list(settings["release-branches"])
    if not patterns:
        return
    branches = target.repo.branches(patterns)
    if any(sha == target.commit or target.repo.is_ancestor(target.commit, sha)
           for sha in branches.values()):
        return
    shown = ", ".join(patterns)
    if not branches:
        raise BadInput(f"no branch matching {shown} is known here, so {target.tag} cannot be "
                       "checked", "fetch the branches (git fetch origin, or checkout with "
                       "fetch-depth: 0) or set release-branches")
    raise BadInput(f"tag {target.tag} ({target.commit[:12]}) is on no release branch ({shown})",
                   "tag a commit of the default branch or of a release-X.Y branch")


def publish_tag(settings: Settings, tag: str, options: PlanOptions, runtime: Runtime,
                report: Callable[[StepOutcome], None] | None = None) -> PublishReport:
    """`publish --tag`: resolve the target, refuse what must never be published, make the plan
    and execute it (what the `publish` command and a merged release PR both run)."""
    import tempfile
    from pathlib import Path

    from release.plan import make_plan
    from release.target import open_repo, resolve_target

    target = resolve_target(settings, open_repo(settings), tag)
    preflight(target, settings, runtime.environ)
    with tempfile.TemporaryDirectory(prefix="ameide-release-publish-") as tmp:
        return publish(make_plan(target, settings, Path(tmp), options), runtime, report)


def publish_dev(settings: Settings, options: PlanOptions, runtime: Runtime,
                report: Callable[[StepOutcome], None] | None = None) -> PublishReport:
    """`publish --channel dev`: the chart of HEAD as `X.Y.Z-dev.N+<sha>` in the dev registry
    (package, lint, push; no tag, index, CHANGELOG or GitHub release). HEAD must be committed
    and on a release branch, like a release."""
    import tempfile
    from pathlib import Path

    from release.plan import make_plan
    from release.target import dev_target, open_repo

    repo = open_repo(settings)
    target, release = dev_target(settings, repo)
    if repo.is_dirty():
        raise BadInput("the working tree has uncommitted changes",
                       "commit or stash them: a dev chart is built from HEAD's commit")
    require_release_branch(target, settings)
    with tempfile.TemporaryDirectory(prefix="ameide-release-dev-") as tmp:
        return publish(make_plan(target, settings, Path(tmp), options, release), runtime,
                       report)


def publish(plan: ReleasePlan, runtime: Runtime,
            report: Callable[[StepOutcome], None] | None = None) -> PublishReport:
    """Execute `plan` (after `preflight`): lint must be clean, then every step in order."""
    plan.lint.require_clean()
    result = PublishReport(plan.target.tag, str(plan.target.version))

    def done(outcome: StepOutcome) -> None:
        result.outcomes.append(outcome)
        if report is not None:
            report(outcome)

    run_steps(plan.steps, runtime, done)
    return result
