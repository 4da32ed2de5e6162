"""The index step: the release's entry in the Helm repository `index.yaml` (`helm repo add`).

The entry (metadata, digest, `created`, the URL of the archive) is computed when the step is
made. It is written into a local checkout of the repository's branch (`--index-dir`), together
with `index.html`, the page people read, generated from the index (`release.pages`); without
one, the release workflow's pages job writes it, and the step only reads the published
`<helm-repo-url>/index.yaml` when asked to check.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from release.errors import BadInput
from release.steps.base import Runtime, StepCheck, StepOutcome

if TYPE_CHECKING:
    from release.config import Settings
    from release.oci.publish import PackageLike


@dataclass(frozen=True)
class IndexStep:
    entry: dict[str, Any]
    index_dir: Path | None  # where to write; None: the pages job writes it
    repo_url: str | None  # the published repository, for checks
    name: str = "index"

    @property
    def url(self) -> str:
        return str(self.entry["urls"][0])

    def describe(self) -> str:
        what = f"{self.entry['name']} {self.entry['version']} (sha256:{self.entry['digest']})"
        if self.index_dir is not None:
            return f"{what} into {self.index_dir / 'index.yaml'}"
        where = f"{self.repo_url}/index.yaml" if self.repo_url else "the Helm repository"
        return f"{what} into {where} by the release workflow's pages job"

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "entry": self.entry,
                "index_dir": str(self.index_dir) if self.index_dir else None,
                "repo_url": self.repo_url}

    def check(self, runtime: Runtime) -> StepCheck:
        from release.index import entry_state, fetch_index, load_index

        if self.index_dir is not None:
            index: dict[str, Any] | None = load_index(self.index_dir / "index.yaml")
            where = str(self.index_dir / "index.yaml")
        elif self.repo_url:
            index = fetch_index(self.repo_url)
            where = f"{self.repo_url}/index.yaml"
        else:
            return StepCheck(self.name, "skipped", "no Helm repository configured")
        if index is None:
            return StepCheck(self.name, "would create", f"{where} does not exist yet")
        state, have = entry_state(index, self.entry)
        if state == "present":
            return StepCheck(self.name, "already done", f"{where} lists this version")
        if state == "different":
            return StepCheck(self.name, "would conflict",
                             f"{where} lists {self.entry['version']} with sha256:{have}")
        return StepCheck(self.name, "would create", f"{where} gains {self.entry['version']}")

    def run(self, runtime: Runtime) -> StepOutcome:
        from release.index import merge_index
        from release.pages import render_index_html, write_index_html

        if self.index_dir is None:
            return StepOutcome(self.name, "skipped", self.describe(), False)
        result = merge_index(self.index_dir, self.entry)
        # the page people read, made from the index just merged, before either file is written
        page = render_index_html(result.index, runtime.settings)
        result.write()
        page_changed = write_index_html(self.index_dir, page).changed
        return StepOutcome(self.name, result.status,
                           f"{result.path} {result.status} {result.version}"
                           + ("; index.html rewritten" if page_changed else ""),
                           result.status == "added" or page_changed, {},
                           {"index": str(result.path), "name": result.name,
                            "version": result.version, "digest": f"sha256:{result.digest}",
                            "url": result.url, "status": result.status})


def index_step(settings: Settings, tag: str, package: PackageLike, *,
               index_dir: Path | None = None, base_url: str | None = None) -> IndexStep:
    """The entry of `package` (released as `tag`), served from `base_url`, or else from the
    GitHub release's assets."""
    from release.index import github_asset_url, index_entry, join_url
    from release.render import web_url
    from release.version import parse_tag

    version = str(parse_tag(tag, settings.tag_prefix))
    if package.version != version:
        raise BadInput(f"{package.path.name} holds {package.name} {package.version}, "
                       f"but tag {tag} is {version}",
                       "pass the archive packaged for this tag, or omit --package")
    filename = f"{package.name}-{package.version}.tgz"
    url = (join_url(base_url, filename) if base_url
           else github_asset_url(web_url(settings), tag, filename))
    entry = index_entry(package.metadata, package.digest, package.created, url)
    repo_url = str(settings["helm-repo-url"]) or None
    return IndexStep(entry, index_dir, repo_url)
