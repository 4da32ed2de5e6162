"""`bump`: write a release's version into Chart.yaml, safely.

Refuses to downgrade (unless asked) and to write into a Chart.yaml with uncommitted edits, which
the bump would otherwise mix into the release commit.
"""

from __future__ import annotations

from dataclasses import dataclass

from release.chart import CHART_FILE, edit_versions, read_chart_yaml
from release.config import Settings
from release.errors import BadInput
from release.files import atomic_write
from release.version import parse_tag, parse_version


@dataclass(frozen=True)
class BumpResult:
    changed: bool
    old_version: str
    version: str
    message: str


def bump_chart(settings: Settings, tag: str, *, allow_downgrade: bool = False) -> BumpResult:
    target = parse_tag(tag, settings.tag_prefix)
    path = settings.chart_dir / CHART_FILE
    chart = read_chart_yaml(settings.chart_dir)  # read once (bounded), and edited from that text
    metadata = chart.data
    old = str(metadata["version"])
    new = str(target)
    if old == new and metadata.get("appVersion") == new:
        return BumpResult(False, old, new, f"{path} already at {new}: nothing to do")
    if parse_version(old) > target and not allow_downgrade:
        raise BadInput(f"{tag} ({new}) is lower than the chart's current version {old}",
                       "pass a higher tag, or --allow-downgrade if this is intended")
    from release.gitrepo import GitRepo

    try:
        repo: GitRepo | None = GitRepo(settings.root)
    except BadInput:
        repo = None
    if repo is not None and repo.is_dirty(repo.relpath(path)):
        raise BadInput(f"{path} has uncommitted changes",
                       "commit or stash them first, so the bump is the only change")
    atomic_write(path, edit_versions(chart, new, new, str(path)).text.encode("utf-8"))
    return BumpResult(True, old, new, f"{path}: version {old} -> {new}, appVersion \"{new}\"")
