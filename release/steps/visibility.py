"""The visibility step: right after the push, can anyone pull the release anonymously?

GHCR creates a new package private, and a release nobody can pull is not released. The step
runs `release.oci.visibility.anonymous_access` — no credentials, reads only — and reports
"public" or "private". With `expect-public = true` a private package fails the release with
exit 4 after the push: what was pushed stays published, the index, CHANGELOG and GitHub
release are not written yet, and a re-run after changing the package's visibility finishes the
release (every step checks first). `dry-run --online` reports the current visibility.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from release.steps.base import Runtime, StepCheck, StepOutcome

if TYPE_CHECKING:
    from release.config import Settings
    from release.oci.reference import ChartRef
    from release.oci.visibility import AnonymousAccess
    from release.steps.push import PushStep


@dataclass(frozen=True)
class VisibilityStep:
    ref: ChartRef
    expect_public: bool
    name: str = "visibility"

    def describe(self) -> str:
        return (f"anonymous pull check of {self.ref.oci}"
                + (" (expect-public: private fails the release, exit 4)"
                   if self.expect_public else ""))

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "reference": self.ref.oci,
                "expect_public": self.expect_public}

    def _access(self, runtime: Runtime) -> AnonymousAccess:
        from release.oci.visibility import anonymous_access

        return anonymous_access(self.ref, **runtime.registry_options)

    def check(self, runtime: Runtime) -> StepCheck:
        access = self._access(runtime)
        if access.state == "absent":
            return StepCheck(self.name, "would create", f"{access.detail}: known after the push "
                             "(GHCR creates new packages private)")
        if access.state == "private" and self.expect_public:
            return StepCheck(self.name, "would fail", f"{access.detail} (publish would exit 4 "
                             "after the push: expect-public is true)")
        return StepCheck(self.name, "already done", access.detail)

    def run(self, runtime: Runtime) -> StepOutcome:
        access = self._access(runtime)
        # Right after our push the tag exists: not seeing it anonymously means private.
        state = "public" if access.state == "public" else "private"
        if self.expect_public:
            access.require_public(published=True)
        return StepOutcome(self.name, state, access.detail, False, {"visibility": state},
                           access.as_json())


def visibility_step(push: PushStep, settings: Settings) -> VisibilityStep:
    """The anonymous pull check of what `push` publishes."""
    return VisibilityStep(push.upload.ref, settings.expect_public)
