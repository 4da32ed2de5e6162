"""The release plan: every step of a release, with every input decided, digests included.

`make_plan` is the one composition of the steps. `dry-run` prints the plan it returns (and
`dry-run --online` checks each step against the registry, GitHub and the Helm repository);
`publish` executes that same plan and nothing else (`release.executor`). Each single-step
command builds its step with the same builder the plan uses (`release.steps.*`), so a step has
exactly one definition.

Planning writes only into `workdir` (the archive, and the signature when signing): never to the
repository, a registry, GitHub or the network.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from release.config import Settings
    from release.notes import Release
    from release.package import PackageResult
    from release.steps.base import Step
    from release.steps.build import LintStep, PackageStep
    from release.steps.changelog import ChangelogStep
    from release.steps.github import GitHubStep
    from release.steps.push import PushStep
    from release.target import ReleaseTarget


@dataclass(frozen=True)
class PlanOptions:
    """What the person running the release chose (flags), beyond the settings."""

    channel: str = "release"  # "dev": package, lint and push to the dev registry only
    plain_http: bool = False
    force: bool = False
    index_dir: Path | None = None
    index_url: str | None = None
    sign_key: str | None = None
    keyring: Path | None = None
    passphrase_file: Path | None = None


@dataclass(frozen=True)
class ReleasePlan:
    """Everything a release of `target` does, in order."""

    target: ReleaseTarget
    release: Release  # the notes data
    notes: str  # Markdown, as `notes` prints it
    image_tags: tuple[str, ...]
    steps: tuple[Step, ...]

    def __iter__(self) -> Iterator[Step]:
        return iter(self.steps)

    def step(self, name: str) -> Step:
        return next(s for s in self.steps if s.name == name)

    def has(self, name: str) -> bool:
        return any(s.name == name for s in self.steps)

    @property
    def package(self) -> PackageResult:
        step: PackageStep = self.step("package")  # type: ignore[assignment]
        return step.package

    @property
    def lint(self) -> LintStep:
        return self.step("lint")  # type: ignore[return-value]

    @property
    def push(self) -> PushStep:
        return self.step("push")  # type: ignore[return-value]

    @property
    def changelog(self) -> ChangelogStep:
        return self.step("changelog")  # type: ignore[return-value]

    @property
    def github(self) -> GitHubStep:
        return self.step("github")  # type: ignore[return-value]

    def as_json(self) -> dict[str, Any]:
        t = self.target
        data: dict[str, Any] = {
            "tag": t.tag, "version": str(t.version), "appVersion": str(t.version),
            "prerelease": t.prerelease, "tag_exists": t.tag_exists, "sha": t.commit,
            "at_head": t.at_head, "previous_tag": self.release.previous_tag,
            "image_tags": list(self.image_tags), "package": self.package.as_json(),
            "lint": self.lint.as_json(),
            "oci_reference": self.push.reference, "manifest_digest": self.push.upload.digest,
            "notes": self.notes,
            "next": t.decided_by.as_json() if t.decided_by else None,
            "steps": [s.as_json() for s in self.steps],
        }
        if self.has("github"):
            data["github_release"] = self.github.spec.to_json()
        if self.has("changelog"):
            data["changelog"] = {"has_entry": self.changelog.has_entry,
                                 "entry": self.changelog.entry}
        return data


def make_plan(target: ReleaseTarget, settings: Settings, workdir: Path,
              options: PlanOptions | None = None, release: Release | None = None,
              ) -> ReleasePlan:
    """The plan `dry-run` prints and `publish` executes. Only `workdir` is written to.
    `release` (the notes data) is computed from the target unless given (a dev chart's)."""
    from release.lint import load_engine
    from release.notes import collect
    from release.render import render_notes, web_url
    from release.steps.artifacthub import artifacthub_step
    from release.steps.build import lint_step, package_step, sign_step
    from release.steps.changelog import changelog_step
    from release.steps.github import github_step
    from release.steps.index import index_step
    from release.steps.push import push_step
    from release.steps.visibility import visibility_step
    from release.version import image_tags

    opts = options or PlanOptions()
    dev = opts.channel == "dev"
    # One worker: Helm's engine (a Go library, ~80 ms) loads while the notes are read and the
    # archive is built, then lints in native code while the other steps are planned here. The
    # pool is closed on every path, an error in planning included.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(load_engine)
        if release is None:
            release = collect(target.repo, settings, target.tag, rev=target.commit,
                              planned=not target.tag_exists, tags=target.tags)
        package = package_step(target, settings, workdir, release,
                               app_version=target.commit if dev else None)
        linting = pool.submit(lint_step, package.package, f"the chart of {target.tag}")
        sign = (sign_step(package.package, opts.sign_key, opts.keyring, opts.passphrase_file)
                if opts.sign_key else None)
        prov = sign.prov if sign else None
        source = web_url(settings)  # the manifest's image.source when Chart.yaml names none
        if dev:  # a chart per commit: no tag, index, CHANGELOG or release
            later: list[Step] = [push_step(package.package, str(settings["dev-registry"]),
                                           prov=prov, plain_http=opts.plain_http,
                                           force=opts.force, source=source)]
        else:
            hub = artifacthub_step(settings, package.package.name, plain_http=opts.plain_http)
            push = push_step(package.package, settings.registry, prov=prov,
                             plain_http=opts.plain_http, force=opts.force, source=source)
            later = [
                push,
                visibility_step(push, settings),
                *([hub] if hub else []),
                index_step(settings, target.tag, package.package, index_dir=opts.index_dir,
                           base_url=opts.index_url),
                changelog_step(settings, release),
                github_step(settings, release, target.tags,
                            [package.package.path, *([prov] if prov else [])],
                            force=opts.force),
            ]
        notes = render_notes(release, settings)
        lint = linting.result()
    steps: list[Step] = [package, lint, *([sign] if sign else []), *later]
    return ReleasePlan(
        target=target,
        release=release,
        notes=notes,
        image_tags=(target.commit,) if dev else image_tags(
            f"refs/tags/{target.tag}", target.commit, settings.tag_prefix).tags,
        steps=tuple(steps),
    )

