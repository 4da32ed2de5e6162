"""`index`: add a release to a Helm repository `index.yaml` (the gh-pages `helm repo add` route)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer

from release.commands.common import emit_json, settings


def register(app: typer.Typer) -> None:
    app.command("index")(index_cmd)


def index_cmd(
    ctx: typer.Context,
    tag: Annotated[str, typer.Option(help="Release tag, e.g. v1.2.3.")],
    index_dir: Annotated[Path, typer.Option(
        "--index-dir", help="Directory holding index.yaml (a gh-pages checkout).")],
    url: Annotated[str | None, typer.Option(
        "--url", help="Base URL the archive is served from "
                      "(default: the GitHub release asset of the tag).")] = None,
    package: Annotated[Path | None, typer.Option(
        "--package", help="Use this chart archive instead of packaging the tag.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Merge the tag's chart into INDEX_DIR/index.yaml; a listed version is never changed."""
    from release import index as helm_index
    from release.errors import BadInput
    from release.gitrepo import GitRepo
    from release.version import parse_tag

    s = settings(ctx)
    version = str(parse_tag(tag, s.tag_prefix))

    def merge(archive: Path, metadata: dict[str, Any], created: int) -> helm_index.IndexResult:
        name, chart_version = metadata.get("name"), metadata.get("version")
        if chart_version != version:
            raise BadInput(f"{archive.name} holds {name} {chart_version}, "
                           f"but tag {tag} is {version}",
                           "pass the archive packaged for this tag, or omit --package")
        filename = f"{name}-{version}.tgz"
        where = (helm_index.join_url(url, filename) if url
                 else helm_index.github_asset_url(s.github_repository, tag, filename))
        return helm_index.update_index(index_dir, metadata, helm_index.sha256_file(archive),
                                       created, where)

    if package is not None:
        metadata = helm_index.archive_metadata(package)
        repo = GitRepo(s.root)
        sha = repo.tag_commit(tag)
        if sha is None:
            raise BadInput(f"tag {tag} does not exist in {repo.root}",
                           "create the tag or fetch it (git fetch --tags)")
        created = repo.commit_time(sha)
        result = merge(package, metadata, created)
    else:
        # Rebuilt from the tag's commit, whatever the working tree holds: the same bytes as the
        # release asset the entry's URL points at.
        from release.package import package_at_commit

        if GitRepo(s.root).tag_commit(tag) is None:
            raise BadInput(f"tag {tag} does not exist in {s.root}",
                           "create the tag or fetch it (git fetch --tags)")
        with tempfile.TemporaryDirectory(prefix="ameide-index-") as tmp:
            built = package_at_commit(s, f"refs/tags/{tag}", Path(tmp))
            result = merge(built.path, dict(built.metadata), built.created)

    if as_json:
        emit_json({"index": str(result.path), "name": result.name, "version": result.version,
                   "digest": f"sha256:{result.digest}", "url": result.url,
                   "status": result.status})
    elif result.status == "added":
        typer.echo(f"added {result.name} {result.version} to {result.path} ({result.url})")
    else:
        typer.echo(f"{result.path} already lists {result.name} {result.version} "
                   "with this digest; nothing to do")
