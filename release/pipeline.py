"""`publish`: plan → package → push (OCI) → index → notes/CHANGELOG → GitHub release.

Every step first asks whether it is already done (tag present with our digest, index entry
present, changelog entry present, release present with our assets) and only then acts, so a re-run
after a failure at any step finishes the release, and a re-run of a finished release writes
nothing. All checks that need no network run before the first request: a bad tag, a dirty tree,
a tag not at HEAD, a chart failing lint or a missing GitHub token stop the release before anything
is published.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from release.errors import BadInput
from release.gitrepo import GitRepo
from release.version import parse_tag

if TYPE_CHECKING:
    import httpx

    from release.config import Settings
    from release.oci.credentials import Credentials
    from release.package import PackageResult


@dataclass(frozen=True)
class Step:
    name: str  # plan | package | push | index | changelog | github
    status: str  # what happened, e.g. "pushed", "already-published", "unchanged", "skipped"
    detail: str
    wrote: bool  # did this step change anything anywhere

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "status": self.status, "detail": self.detail,
                "wrote": self.wrote}


@dataclass
class PublishResult:
    tag: str
    version: str
    chart_digest: str = ""
    oci_reference: str = ""
    manifest_digest: str = ""
    release_url: str = ""
    steps: list[Step] = field(default_factory=list)

    @property
    def wrote(self) -> bool:
        return any(s.wrote for s in self.steps)

    def outputs(self) -> dict[str, str]:
        """What the workflow reads from `$GITHUB_OUTPUT`."""
        return {"version": self.version, "tag": self.tag, "chart-digest": self.chart_digest,
                "oci-reference": self.oci_reference, "manifest-digest": self.manifest_digest,
                "release-url": self.release_url}

    def as_json(self) -> dict[str, Any]:
        return {**self.outputs(), "already_done": not self.wrote,
                "steps": [s.as_json() for s in self.steps]}

    def summary_markdown(self) -> str:
        lines = [f"## Release {self.tag}", "", "| step | result | detail |", "| --- | --- | --- |"]
        lines += [f"| {s.name} | {s.status} | {s.detail.replace('|', '/')} |" for s in self.steps]
        lines += ["", f"- chart: `{self.oci_reference}` (`{self.manifest_digest}`)",
                  f"- archive digest: `{self.chart_digest}`",
                  f"- GitHub release: {self.release_url or '(none)'}"]
        return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class PublishOptions:
    plain_http: bool = False
    force: bool = False
    index_dir: Path | None = None
    index_url: str | None = None
    sign_key: str | None = None
    keyring: Path | None = None
    passphrase_file: Path | None = None
    credentials: Credentials | None = None
    registry_options: dict[str, Any] = field(default_factory=dict)  # e.g. retry policy, timeout
    github_client: httpx.Client | None = None  # tests inject a respx-mounted client
    github_sleep: Callable[[float], None] | None = None


def preflight(settings: Settings, tag: str, repo: GitRepo) -> str:
    """Refuse what must never be published; returns the tag's commit."""
    parse_tag(tag, settings.tag_prefix)
    tag_sha = repo.tag_commit(tag)
    if tag_sha is None:
        raise BadInput(f"tag {tag} does not exist in {repo.root}",
                       f"create it at the release commit (git tag -a {tag}) or fetch it")
    head = repo.head()
    if tag_sha != head:
        raise BadInput(f"tag {tag} points at {tag_sha[:12]}, not at HEAD ({head[:12]})",
                       f"check out the tag first: git checkout {tag}")
    changelog = repo.relpath(settings.changelog_path)
    dirty = [line[3:] for line in repo.status().splitlines() if line[3:].strip('"') != changelog]
    if dirty:
        raise BadInput(f"the working tree has uncommitted changes ({', '.join(dirty[:3])}"
                       f"{', ...' if len(dirty) > 3 else ''})",
                       "commit or stash them: a release is built from the tagged commit only")
    return tag_sha


def publish(settings: Settings, tag: str, workdir: Path,
            options: PublishOptions | None = None,
            report: Callable[[Step], None] | None = None,
            environ: dict[str, str] | None = None) -> PublishResult:
    import os
    import time

    from release.changelog import update_file
    from release.github import GitHub, plan_release, token_from_env
    from release.github import publish as publish_release
    from release.lint import require_clean_lint
    from release.notes import collect, release_tags
    from release.oci.publish import push_chart
    from release.package import build_package

    opts = options or PublishOptions()
    env = dict(os.environ) if environ is None else environ
    result = PublishResult(tag=tag, version=str(parse_tag(tag, settings.tag_prefix)))

    def done(step: Step) -> None:
        result.steps.append(step)
        if report is not None:
            report(step)

    repo = GitRepo(settings.root)
    sha = preflight(settings, tag, repo)
    token = token_from_env(env)  # before anything is published: a release needs all its steps
    tags = release_tags(repo, settings.tag_prefix)
    release = collect(repo, settings, tag, tags=tags)
    done(Step("plan", "ok", f"{tag} at {sha[:12]}, previous {release.previous_tag or '(none)'}, "
                            f"{len(release.changes)} changes", False))

    package = build_package(settings, tag, workdir)
    lint = require_clean_lint(package.path, f"the chart of {tag}")
    result.chart_digest = package.digest
    lint_note = "lint skipped: no Helm engine" if lint.skipped else f"lint ok ({lint.engine})"
    done(Step("package", "built", f"{package.path.name} {package.digest}; {lint_note}", False))

    prov = _sign(package.path, package.metadata, opts) if opts.sign_key else None
    pushed = push_chart(package, settings.registry, credentials=opts.credentials,
                        plain_http=opts.plain_http, force=opts.force, prov=prov,
                        **opts.registry_options)
    result.oci_reference = f"oci://{pushed.reference}"
    result.manifest_digest = pushed.digest
    done(Step("push", pushed.status, pushed.message(), pushed.status != "already-published"))

    if opts.index_dir is not None:
        done(_index_step(settings, tag, package, opts))

    changed = update_file(settings.changelog_path, release, settings)
    done(Step("changelog", "updated" if changed else "unchanged",
              f"{settings.changelog_path.name} {'gained' if changed else 'already has'} {tag}"
              + ("; commit it to the default branch" if changed else ""), changed))

    assets: list[Path] = [package.path, *([prov] if prov else [])]
    plan = plan_release(release, settings, tags, assets=assets)
    gh = GitHub(str(settings["github-api"]), settings.github_repository, token,
                client=opts.github_client, sleep=opts.github_sleep or time.sleep)
    try:
        published = publish_release(plan, gh, force=opts.force, tag_prefix=settings.tag_prefix,
                                    keep_existing=_prov_names(assets))
    finally:
        if opts.github_client is None:
            gh.close()
    result.release_url = published.html_url
    wrote = published.action != "unchanged" or bool(published.uploaded or published.replaced)
    done(Step("github", published.action,
              f"{published.html_url} (latest: {published.make_latest}; uploaded "
              f"{len(published.uploaded)}, kept {len(published.skipped)})", wrote))
    return result


def _prov_names(assets: Sequence[Path]) -> tuple[str, ...]:
    """A signature differs on every run: a published one (and the SHA256SUMS listing it) for
    the same chart is kept; the chart archive itself is still compared byte for byte."""
    from release.github import SUMS_NAME

    provs = tuple(p.name for p in assets if p.name.endswith(".prov"))
    return (*provs, SUMS_NAME) if provs else ()


def _sign(archive: Path, metadata: Mapping[str, Any], opts: PublishOptions) -> Path:
    from release.oci.provenance import sign_chart

    return sign_chart(archive, metadata, key=str(opts.sign_key), keyring=opts.keyring,
                      passphrase_file=opts.passphrase_file)


def _index_step(settings: Settings, tag: str, package: PackageResult,
                opts: PublishOptions) -> Step:
    from release.index import github_asset_url, join_url, update_index

    filename = package.path.name
    url = (join_url(opts.index_url, filename) if opts.index_url
           else github_asset_url(settings.github_repository, tag, filename))
    assert opts.index_dir is not None
    added = update_index(opts.index_dir, package.metadata, package.digest, package.created, url)
    return Step("index", added.status, f"{added.path} {added.status} {added.version}",
                added.status == "added")
