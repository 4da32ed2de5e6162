"""`index`: add a release to a Helm repository `index.yaml` (the gh-pages `helm repo add` route)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from release.commands.common import (
    CliState,
    Command,
    echo,
    emit_json,
    json_option,
    run_alone,
    settings,
    target,
)

if TYPE_CHECKING:
    from argparse import ArgumentParser


def index_options(p: ArgumentParser) -> None:
    p.add_argument("--tag", required=True, help="Release tag, e.g. v1.2.3.")
    p.add_argument("--index-dir", type=Path, required=True, metavar="DIR",
                   help="Directory holding index.yaml (a gh-pages checkout).")
    p.add_argument("--url", help="Base URL the archive is served from (default: the GitHub "
                   "release asset of the tag).")
    p.add_argument("--package", dest="package_path", type=Path, metavar="PATH",
                   help="Use this chart archive instead of packaging the tag.")
    json_option(p)


def index_cmd(state: CliState, *, tag: str, index_dir: Path, url: str | None,
              package_path: Path | None, as_json: bool) -> None:
    """Merge the tag's chart into INDEX_DIR/index.yaml; a listed version is never changed."""
    import tempfile
    from dataclasses import replace

    from release.steps.base import Runtime
    from release.steps.build import archive_step, package_step
    from release.steps.index import index_step

    s = settings(state)
    repo, release_target = target(s, tag, must_exist=True)
    with tempfile.TemporaryDirectory(prefix="ameide-index-") as tmp:
        if package_path is not None:
            # `created` is the tag's commit time, as for an archive built here.
            package = replace(archive_step(package_path).package,
                              created=repo.commit_time(release_target.commit))
        else:
            # Rebuilt from the tag's commit, whatever the working tree holds: the same bytes as
            # the release asset the entry's URL points at.
            package = package_step(release_target, s, Path(tmp)).package
        step = index_step(s, tag, package, index_dir=index_dir, base_url=url)
        outcome = run_alone(step, Runtime(s, {}))
    if as_json:
        emit_json(outcome.details)
    elif outcome.status == "added":
        echo(f"added {step.entry['name']} {step.entry['version']} to "
             f"{index_dir / 'index.yaml'} ({step.url})")
    else:
        echo(f"{index_dir / 'index.yaml'} already lists {step.entry['name']} "
             f"{step.entry['version']} with this digest; nothing to do")


# The commands this module adds to `ameide-release`.
COMMANDS = {"index": Command(index_options, index_cmd)}
