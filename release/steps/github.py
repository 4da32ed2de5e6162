"""The GitHub step: the release of the tag, with its notes and assets (and SHA256SUMS).

Everything GitHub should hold — name, body, prerelease, make_latest, assets with digests, which
published assets to keep — is decided when the step is made (`spec_github_release`), by the
same function for `github-release` and `publish`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from release.steps.base import Runtime, StepCheck, StepOutcome

if TYPE_CHECKING:
    from release.config import Settings
    from release.ghrelease import GitHubReleaseSpec
    from release.notes import Release, ReleaseTag
    from release.render import Lookup


@dataclass(frozen=True)
class GitHubStep:
    spec: GitHubReleaseSpec
    force: bool = False
    name: str = "github"

    def describe(self) -> str:
        s = self.spec
        assets = ", ".join(f"{a.name} ({a.size} bytes)" for a in s.assets) or "no assets"
        return (f"release {s.tag} on {s.repository} (prerelease: {str(s.prerelease).lower()}, "
                f"latest: {s.make_latest}); assets: {assets}")

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "force": self.force, **self.spec.to_json()}

    def check(self, runtime: Runtime) -> StepCheck:
        from release.ghrelease import github_release_state

        state = github_release_state(self.spec, runtime.github(write=False))
        if not state.exists:
            return StepCheck(self.name, "would create", f"no release {self.spec.tag} yet")
        if state.done:
            return StepCheck(self.name, "already done",
                             f"release {self.spec.tag} has this body and these assets")
        if state.conflicts and not self.force:
            return StepCheck(self.name, "would conflict",
                             f"release {self.spec.tag} differs: {', '.join(state.conflicts)}")
        missing = [n for n, s in state.assets.items() if s in ("missing", "broken")]
        return StepCheck(self.name, "would create",
                         f"release {self.spec.tag} exists; would upload {', '.join(missing)}"
                         if missing else f"release {self.spec.tag} would be updated (--force)")

    def run(self, runtime: Runtime) -> StepOutcome:
        from release.ghrelease import sync_github_release

        result = sync_github_release(self.spec, runtime.github(write=True), force=self.force,
                                     tag_prefix=runtime.settings.tag_prefix)
        return StepOutcome(self.name, result.action,
                           f"{result.html_url} (latest: {result.make_latest}; uploaded "
                           f"{len(result.uploaded)}, kept {len(result.skipped)})", result.wrote,
                           {"release-url": result.html_url}, result.to_json())


def github_step(settings: Settings, release: Release, tags: Sequence[ReleaseTag],
                assets: Sequence[Path], *, force: bool = False,
                lookup: Lookup | None = None) -> GitHubStep:
    """`lookup` renders the notes with GitHub logins and labels (`github-release --github`)."""
    from release.ghrelease import spec_github_release

    return GitHubStep(spec_github_release(release, settings, tags, assets, lookup), force)
