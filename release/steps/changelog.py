"""The changelog step: the release's entry at the top of CHANGELOG.md.

The entry's text is rendered when the step is made. Running it inserts the entry unless the file
already describes the release (by marker or heading), leaving every other byte as it was.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from release.steps.base import Runtime, StepCheck, StepOutcome

if TYPE_CHECKING:
    from release.config import Settings
    from release.notes import Release
    from release.render import Lookup


@dataclass(frozen=True)
class ChangelogStep:
    path: Path
    tag: str
    version: str
    entry: str  # Markdown, starting with its `<!-- release: TAG -->` marker
    has_entry: bool  # the file already describes this release (when the step was made)
    name: str = "changelog"

    def describe(self) -> str:
        if self.has_entry:
            return f"{self.path.name} already has {self.tag}"
        return f"{self.path.name} would gain {self.tag} at the top"

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "path": str(self.path), "has_entry": self.has_entry,
                "entry": self.entry}

    def check(self, runtime: Runtime) -> StepCheck:
        if self.has_entry:
            return StepCheck(self.name, "already done", self.describe())
        return StepCheck(self.name, "would create", self.describe())

    def run(self, runtime: Runtime) -> StepOutcome:
        from release.changelog import insert_entry

        changed = insert_entry(self.path, self.tag, self.version, self.entry,
                               runtime.settings)
        detail = (f"{self.path.name} gained {self.tag}; commit it to the default branch"
                  if changed else f"{self.path.name} already has {self.tag}")
        return StepOutcome(self.name, "updated" if changed else "unchanged", detail, changed)


def changelog_step(settings: Settings, release: Release, path: Path | None = None,
                   lookup: Lookup | None = None) -> ChangelogStep:
    """The entry of `release` for the changelog at `path` (default: the `changelog` setting);
    `lookup` adds GitHub logins and labels (`--github`)."""
    from release.changelog import has_release, read_changelog
    from release.render import render_changelog_entry

    if release.tag is None or release.version is None:
        raise ValueError("only a tagged release goes into the changelog")
    target = path or settings.changelog_path
    text = read_changelog(target)
    return ChangelogStep(target, release.tag, str(release.version),
                         render_changelog_entry(release, settings, lookup),
                         has_release(text, release.tag, str(release.version)))
