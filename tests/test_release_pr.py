"""Releases without hand work (issue #10): the release pull request, merging it, pre-releases,
hotfix lines and dev charts.

Real git with a bare repository as `origin`, GitHub through respx (pulls, labels, comments,
releases in their REST shapes), the real registry for what gets published, Helm's engine to
pull a dev chart. Every scenario runs twice: the second run sends no write request and pushes
nothing."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from tests.charts import DEMO
from tests.conftest import CliResult
from tests.fakegithub import TOKEN, FakeGitHub
from tests.gitutil import GitBuilder
from tests.registry_fixtures import Registry

pytestmark = pytest.mark.registry


class Origin:
    """A bare `origin` and the CI checkout that pushes to it."""

    def __init__(self, tmp: Path) -> None:
        self.bare = tmp / "origin.git"
        subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(self.bare)],
                       check=True)
        self.work = GitBuilder(tmp / "work")
        self.work.git("remote", "add", "origin", str(self.bare))

    def refs(self) -> dict[str, str]:
        out = subprocess.run(["git", "for-each-ref", "--format=%(objectname) %(refname)"],
                             cwd=self.bare, capture_output=True, text=True, check=True).stdout
        return {ref: sha for sha, ref in (line.split() for line in out.splitlines())}

    def push(self, *refs: str) -> None:
        self.work.git("push", "-q", "origin", *refs)

    def show(self, rev: str, path: str) -> str:
        return subprocess.run(["git", "show", f"{rev}:{path}"], cwd=self.bare,
                              capture_output=True, text=True, check=True).stdout

    def person(self) -> GitBuilder:
        """Someone else's clone of the repository."""
        person = GitBuilder(self.work.root.parent / "person")
        person.git("remote", "add", "origin", str(self.bare))
        person.git("fetch", "-q", "origin")
        return person

    def merge_release_pr(self, branch: str = "release/next", base: str = "main") -> str:
        """A person merges the pull request on GitHub (a merge commit), CI checks out base."""
        w = self.work
        w.git("fetch", "-q", "origin", f"+refs/heads/{branch}:refs/remotes/origin/{branch}")
        w.checkout(base)
        w.clock += 60
        w.git("merge", "-q", "--no-ff", "-m", "Merge pull request #1 from o/release-next",
              f"origin/{branch}")
        self.push(base)
        return w.head()


@pytest.fixture
def origin(tmp_path: Path) -> Origin:
    o = Origin(tmp_path)
    o.work.commit("feat(chart): the demo chart", dict(DEMO))
    o.work.tag("v1.2.3", annotated=True)
    o.push("main", "v1.2.3")
    return o


def run(cli: Callable[..., CliResult], o: Origin, registry: Registry | None, namespace: str,
        *args: str, code: int = 0) -> CliResult:
    extra = ["--registry", registry.oci(namespace)] if registry else []
    result = cli("--repo", str(o.work.root), "--github-repository", "o/r", *extra, *args)
    assert result.code == code, result
    return result


def merged_fix(cli: Callable[..., CliResult], o: Origin, gh: FakeGitHub) -> str:
    """A fix on main, its release pull request (#1) proposed and merged: the merge commit."""
    o.work.commit("fix(chart): a fix", {"chart/templates/fix.yaml": "a: 1\n"})
    o.push("main")
    run(cli, o, None, "", "release-pr")
    merge = o.merge_release_pr()
    gh.merge(1, merge)
    return merge


def release_and_publish(cli: Callable[..., CliResult], o: Origin, registry: Registry,
                        namespace: str, *args: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The workflow's two jobs: `release-pr` tags a merged release and names the tag, then the
    publish job runs `publish --tag` on a checkout of that tag. (report, published)"""
    report = json.loads(run(cli, o, None, "", "release-pr", *args, "--json").out)
    tag = report["tag"]
    assert tag, report
    branch = o.work.git("rev-parse", "--abbrev-ref", "HEAD").strip()
    o.work.checkout(tag)
    try:
        published = run(cli, o, registry, namespace, "publish", "--tag", tag, "--plain-http",
                        "--json")
    finally:
        o.work.checkout(branch)
    return report, json.loads(published.out)


def idempotent(cli: Callable[..., CliResult], o: Origin, gh: FakeGitHub, *args: str) -> None:
    """The second run of the same job: no write request, nothing pushed."""
    refs, writes = o.refs(), list(gh.writes)
    result = run(cli, o, None, "", "release-pr", *args, "--json")
    assert json.loads(result.out)["action"] in ("unchanged", "nothing", "already released")
    assert o.refs() == refs and gh.writes == writes


def test_the_release_pr_flow_from_proposal_to_published_release(
        origin: Origin, github: FakeGitHub, cli: Callable[..., CliResult],
        open_registry: Registry, namespace: str) -> None:
    o, w = origin, origin.work
    # nothing since v1.2.3: no pull request
    result = run(cli, o, None, "", "release-pr", "--json")
    assert json.loads(result.out)["action"] == "nothing" and github.pulls == {}

    # --- a feature: the first release PR ---------------------------------------------------
    w.commit("feat(chart): topology spread by zone", {"chart/templates/tsc.yaml": "kind: List\n"})
    o.push("main")
    result = run(cli, o, None, "", "release-pr", "--json")
    assert json.loads(result.out)["action"] == "proposed"
    pr = github.pulls[1]
    assert pr["title"] == "chore(release): v1.3.0" and pr["base"]["ref"] == "main"
    assert pr["head"]["ref"] == "release/next"
    assert [label["name"] for label in pr["labels"]] == ["release: pending"]
    assert "topology spread by zone" in pr["body"] and "| version | `1.3.0`" in pr["body"]
    branch = o.refs()["refs/heads/release/next"]
    assert "version: 1.3.0" in o.show(branch, "chart/Chart.yaml")
    assert "<!-- release: v1.3.0 -->" in o.show(branch, "CHANGELOG.md")
    log = subprocess.run(["git", "log", "--format=%s|%ae", f"main..{branch}"], cwd=o.bare,
                         capture_output=True, text=True, check=True).stdout.splitlines()
    assert log == ["chore(release): v1.3.0|41898282+github-actions[bot]@users.noreply.github.com"]
    assert w.git("status", "--porcelain") == ""  # the checkout was not touched
    idempotent(cli, o, github)

    # --- a fix: the PR follows ---------------------------------------------------------------
    w.commit("fix(chart): leader election lease name", {"chart/templates/lease.yaml": "a: 1\n"})
    o.push("main")
    run(cli, o, None, "", "release-pr")
    assert o.refs()["refs/heads/release/next"] != branch
    assert "leader election lease name" in github.pulls[1]["body"]
    assert github.pulls[1]["title"] == "chore(release): v1.3.0"
    idempotent(cli, o, github)

    # --- a docs commit outside the chart: the release would not change, nothing does --------
    w.commit("docs: readme", {"README.md": "# demo\n"})
    o.push("main")
    idempotent(cli, o, github)

    # --- a person's commit on the bot branch: refused, nothing overwritten -----------------
    person = o.person()
    person.git("checkout", "-q", "-b", "mine", "origin/release/next")
    person.commit("docs(changelog): wording", {"CHANGELOG.md": "# Changelog\n\nmine\n"})
    person.git("push", "-q", "origin", "mine:release/next")
    theirs = o.refs()["refs/heads/release/next"]
    writes = list(github.writes)
    refused = run(cli, o, None, "", "release-pr", code=3)
    assert "did not make" in refused.err and "docs(changelog): wording" in refused.err
    assert refused.err.count("\n") == 1 and TOKEN not in refused.err
    assert o.refs()["refs/heads/release/next"] == theirs and github.writes == writes
    # they drop their commit again (the release PR's own commit is back)
    person.git("push", "-q", "-f", "origin", "mine~1:release/next")

    # --- merged: tagged at the merge commit, then published by the next job -----------------
    merge = o.merge_release_pr()
    github.merge(1, merge)
    # the run dies right after pushing the tag (before the publish job) ...
    first = run(cli, o, open_registry, namespace, "release-pr", "--json")
    assert json.loads(first.out)["action"] == "released"
    assert o.refs()["refs/tags/v1.3.0"] != merge  # annotated: the tag object
    assert w.git("rev-parse", "v1.3.0^{commit}").strip() == merge
    assert [label["name"] for label in github.pulls[1]["labels"]] == ["release: tagged"]
    # ... and the re-run of the job finishes the release
    report, published = release_and_publish(cli, o, open_registry, namespace)
    assert report["action"] == "already released" and report["tag"] == "v1.3.0"
    assert published["manifest-digest"] == open_registry.manifest_digest(
        f"{namespace}/demo", "1.3.0")
    release = github.releases["v1.3.0"]
    assert "topology spread by zone" in release["body"] and release["_make_latest"] == "true"
    # and once more: everything already done, nothing written anywhere
    refs, writes = o.refs(), list(github.writes)
    _, last = release_and_publish(cli, o, open_registry, namespace)
    assert last["already_done"] is True
    assert o.refs() == refs and github.writes == writes


def test_pre_releases_then_the_final_release(origin: Origin, github: FakeGitHub,
                                             cli: Callable[..., CliResult],
                                             open_registry: Registry, namespace: str) -> None:
    o, w = origin, origin.work
    w.commit("feat(chart): a new knob", {"chart/templates/knob.yaml": "a: 1\n"})
    o.push("main")
    run(cli, o, None, "", "release-pr", "--prerelease", "rc")
    assert github.pulls[1]["title"] == "chore(release): v1.3.0-rc.1"
    idempotent(cli, o, github, "--prerelease", "rc")
    github.merge(1, o.merge_release_pr())
    release_and_publish(cli, o, open_registry, namespace)
    rc1 = github.releases["v1.3.0-rc.1"]
    assert rc1["prerelease"] is True and rc1["_make_latest"] == "false"

    w.commit("fix(chart): the knob's default", {"chart/templates/knob.yaml": "a: 2\n"})
    o.push("main")
    run(cli, o, None, "", "release-pr", "--prerelease", "rc")
    assert github.pulls[2]["title"] == "chore(release): v1.3.0-rc.2"
    github.merge(2, o.merge_release_pr())
    release_and_publish(cli, o, open_registry, namespace)
    assert github.releases["v1.3.0-rc.2"]["prerelease"] is True

    run(cli, o, None, "", "release-pr")  # the final release
    assert github.pulls[3]["title"] == "chore(release): v1.3.0"
    github.merge(3, o.merge_release_pr())
    release_and_publish(cli, o, open_registry, namespace)
    final = github.releases["v1.3.0"]
    assert final["prerelease"] is False and final["_make_latest"] == "true"
    # the final notes cover everything since the previous final release, both pre-releases
    assert "a new knob" in final["body"] and "the knob's default" in final["body"]
    assert "/compare/v1.2.3...v1.3.0" in final["body"]
    import io
    import tarfile

    import yaml

    with tarfile.open(fileobj=io.BytesIO(open_registry.blob(  # the packaged Chart.yaml
            f"{namespace}/demo", json.loads(open_registry.manifest(
                f"{namespace}/demo", "1.3.0-rc.2")[0])["layers"][0]["digest"]) or b"")) as tar:
        member = tar.extractfile("demo/Chart.yaml")
        assert member is not None
        chart = yaml.safe_load(member.read())
    assert chart["annotations"]["artifacthub.io/prerelease"] == "true"


def test_a_hotfix_line_gets_its_own_release_pr(origin: Origin, github: FakeGitHub,
                                               cli: Callable[..., CliResult],
                                               open_registry: Registry, namespace: str) -> None:
    o, w = origin, origin.work
    w.commit("feat(chart): next minor", {"chart/templates/next.yaml": "a: 1\n"})
    urgent = w.commit("fix(chart): urgent", {"chart/templates/urgent.yaml": "a: 1\n"})
    w.tag("v1.3.0", annotated=True)
    o.push("main", "v1.3.0")
    w.git("checkout", "-q", "-b", "release-1.2", "v1.2.3")
    w.clock += 60
    w.git("cherry-pick", "-x", urgent)
    o.push("release-1.2")
    run(cli, o, None, "", "release-pr", "--base", "release-1.2")
    pr = github.pulls[1]
    assert pr["title"] == "chore(release): v1.2.4" and pr["base"]["ref"] == "release-1.2"
    assert pr["head"]["ref"] == "release/next-release-1.2"
    assert "urgent" in pr["body"] and "next minor" not in pr["body"]
    idempotent(cli, o, github, "--base", "release-1.2")
    github.merge(1, o.merge_release_pr("release/next-release-1.2", "release-1.2"))
    release_and_publish(cli, o, open_registry, namespace, "--base", "release-1.2")
    hot = github.releases["v1.2.4"]
    assert hot["_make_latest"] == "false"  # v1.3.0 is higher
    assert "urgent" in hot["body"] and "next minor" not in hot["body"]


def test_a_dev_chart_per_commit(origin: Origin, github: FakeGitHub,
                                cli: Callable[..., CliResult], open_registry: Registry,
                                namespace: str, tmp_path: Path) -> None:
    import helm_python

    o, w = origin, origin.work
    w.commit("feat(chart): work in progress", {"chart/templates/wip.yaml": "a: 1\n"})
    w.commit("fix(chart): more of it", {"chart/templates/wip.yaml": "a: 2\n"})
    o.push("main")
    head = w.head()
    dev_registry = open_registry.oci(namespace + "-dev")
    result = run(cli, o, None, "", "--dev-registry", dev_registry, "publish", "--channel", "dev",
                 "--plain-http", "--json")
    version = f"1.3.0-dev.2+{head[:7]}"
    report = json.loads(result.out)
    assert report["oci-reference"] == f"{dev_registry}/demo:{version.replace('+', '_')}"
    assert github.calls == []  # no GitHub release
    assert "<!-- release:" not in (w.root / "CHANGELOG.md").read_text() \
        if (w.root / "CHANGELOG.md").exists() else True
    assert w.git("tag", "--list").split() == ["v1.2.3"]  # no tag
    pulled = tmp_path / "pulled"
    pulled.mkdir()
    helm_python.pull(f"oci://{open_registry.host}/{namespace}-dev/demo", version=version,
                     destination=str(pulled), plain_http=True)
    with helm_python.Chart.load(str(pulled / f"demo-{version}.tgz")) as chart:
        rendered = chart.render({}, name="x", namespace="y")
    assert any(head in text for text in rendered.values())  # appVersion: the commit's images
    again = json.loads(run(cli, o, None, "", "--dev-registry", dev_registry, "publish",
                           "--channel", "dev", "--plain-http", "--json").out)
    assert again["already_done"] is True


# --- refusals ----------------------------------------------------------------------------------

def test_a_release_commit_whose_version_disagrees_with_its_subject(
        origin: Origin, github: FakeGitHub, cli: Callable[..., CliResult]) -> None:
    o, w = origin, origin.work
    text = (w.root / "chart/Chart.yaml").read_text()
    w.commit("chore(release): v1.4.0", {"chart/Chart.yaml": text.replace("0.1.0", "1.3.0", 1)})
    o.push("main")
    refs = o.refs()
    result = run(cli, o, None, "", "release-pr", code=2)
    assert "v1.4.0" in result.err and "1.3.0" in result.err and result.err.count("\n") == 1
    assert o.refs() == refs and github.writes == []


def test_a_release_whose_tag_exists_at_another_commit(
        origin: Origin, github: FakeGitHub, cli: Callable[..., CliResult]) -> None:
    o, w = origin, origin.work
    w.git("checkout", "-q", "-b", "side")
    w.commit("feat(chart): elsewhere", {"chart/templates/y.yaml": "a: 1\n"})
    w.tag("v1.3.0")  # someone tagged by hand, on another branch
    w.checkout("main")
    w.commit("feat(chart): x", {"chart/templates/x.yaml": "a: 1\n"})
    o.push("main", "v1.3.0")
    run(cli, o, None, "", "release-pr")
    assert github.pulls[1]["title"] == "chore(release): v1.3.0"
    github.merge(1, o.merge_release_pr())
    refs = o.refs()
    result = run(cli, o, None, "", "release-pr", code=3)
    assert "v1.3.0 already exists" in result.err and o.refs() == refs


def test_a_missing_token_and_a_missing_base(origin: Origin, cli: Callable[..., CliResult],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    monkeypatch.delenv("GH_TOKEN", raising=False)
    refs = origin.refs()
    result = run(cli, origin, None, "", "release-pr", code=2)
    assert "GITHUB_TOKEN" in result.err and origin.refs() == refs
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    with respx.mock(assert_all_called=False) as router:
        FakeGitHub(router)
        result = run(cli, origin, None, "", "release-pr", "--base", "release-9.9", code=2)
    assert "no branch release-9.9" in result.err and origin.refs() == refs


def test_a_squash_merge_with_an_edited_title_still_releases(
        origin: Origin, github: FakeGitHub, cli: Callable[..., CliResult]) -> None:
    """release-please's failure mode: an edited title silently skips the release. Here the
    commit itself says what it releases, whatever its message."""
    o, w = origin, origin.work
    w.commit("fix(chart): a fix", {"chart/templates/fix.yaml": "a: 1\n"})
    o.push("main")
    run(cli, o, None, "", "release-pr")
    w.git("fetch", "-q", "origin", "+refs/heads/release/next:refs/remotes/origin/release/next")
    w.git("merge", "-q", "--squash", "origin/release/next")
    w.clock += 60
    w.git("commit", "-q", "-m", "Ship it (#1)")  # a person rewrote the title
    o.push("main")
    result = json.loads(run(cli, o, None, "", "release-pr", "--json").out)
    assert result["action"] == "released" and result["tag"] == "v1.2.4"
    assert w.git("rev-parse", "v1.2.4^{commit}").strip() == w.head()


# --- races with other pushes -------------------------------------------------------------------

def test_a_merged_release_pr_overtaken_by_another_push_is_released_by_the_next_run(
        origin: Origin, github: FakeGitHub, cli: Callable[..., CliResult]) -> None:
    """A fix lands on main before the job of the merge commit runs: that job finds HEAD behind
    the tip and leaves the work to the job of the tip (exit 0), which tags the merge commit it
    finds on main's first-parent history and proposes the next release above it."""
    o, w = origin, origin.work
    w.commit("feat(chart): a", {"chart/templates/a.yaml": "a: 1\n"})
    o.push("main")
    run(cli, o, None, "", "release-pr")
    merge = o.merge_release_pr()
    github.merge(1, merge)
    w.commit("fix(chart): b", {"chart/templates/b.yaml": "a: 1\n"})
    o.push("main")  # pushed before the job of the merge commit ran
    tip = w.head()

    w.checkout(merge)  # the job of the merge commit checks out the merge commit
    refs, writes = o.refs(), list(github.writes)
    late = json.loads(run(cli, o, None, "", "release-pr", "--base", "main", "--json").out)
    assert late["action"] == "superseded" and late["tag"] is None
    assert tip[:12] in late["detail"] and o.refs() == refs and github.writes == writes

    w.checkout("main")  # the job of the tip
    result = json.loads(run(cli, o, None, "", "release-pr", "--json").out)
    assert result["action"] == "released" and result["tag"] == "v1.3.0"
    assert w.git("rev-parse", "v1.3.0^{commit}").strip() == merge
    assert o.refs()["refs/tags/v1.3.0"] == w.git("rev-parse", "v1.3.0").strip()
    assert [label["name"] for label in github.pulls[1]["labels"]] == ["release: tagged"]
    # the next proposal builds on v1.3.0: one entry per release, never v1.3.0 twice
    assert github.pulls[2]["title"] == "chore(release): v1.3.1"
    changelog = o.show(o.refs()["refs/heads/release/next"], "CHANGELOG.md")
    assert changelog.count("<!-- release: v1.3.0 -->") == 1
    assert changelog.count("<!-- release: v1.3.1 -->") == 1
    assert "chore(release)" not in changelog.split("<!-- release: v1.3.0 -->")[0]
    idempotent(cli, o, github)


def test_a_proposal_never_repeats_an_entry_the_changelog_already_has(
        origin: Origin, github: FakeGitHub, cli: Callable[..., CliResult]) -> None:
    """The entry of the version proposed was written by hand (`changelog --update`) and
    committed, not tagged yet: the release commit keeps that one entry."""
    o, w = origin, origin.work
    w.commit("feat(chart): a", {"chart/templates/a.yaml": "a: 1\n"})
    run(cli, o, None, "", "changelog", "--update", "--tag", "v1.3.0")
    w.commit("docs(changelog): v1.3.0", {})
    o.push("main")
    run(cli, o, None, "", "release-pr")
    assert github.pulls[1]["title"] == "chore(release): v1.3.0"
    changelog = o.show(o.refs()["refs/heads/release/next"], "CHANGELOG.md")
    assert changelog.count("<!-- release: v1.3.0 -->") == 1
    assert changelog == (w.root / "CHANGELOG.md").read_text()


def test_a_tag_pushed_by_a_person_is_left_to_the_tag_workflow(
        origin: Origin, github: FakeGitHub, cli: Callable[..., CliResult],
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """`hotfix --push` pushes release-1.2 and v1.2.4 together: the push of the tag starts the
    `v*` workflow, which publishes it. The release-PR run of the branch push finds the release
    already tagged, by someone else, and hands out no tag to publish: two publishers of one
    release would race on POST /releases (422) and sign twice."""
    o, w = origin, origin.work
    w.commit("feat(chart): next minor", {"chart/templates/next.yaml": "a: 1\n"})
    fix = w.commit("fix(chart): urgent", {"chart/templates/urgent.yaml": "a: 1\n"})
    w.tag("v1.3.0", annotated=True)
    o.push("main", "v1.3.0")
    run(cli, o, None, "", "hotfix", "--from", "v1.2.3", "--pick", fix, "--push")
    w.checkout("release-1.2")
    outputs = tmp_path / "outputs"
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_OUTPUT", str(outputs))
    refs = o.refs()
    report = json.loads(run(cli, o, None, "", "release-pr", "--base", "release-1.2",
                            "--json").out)
    assert report["action"] == "already released" and report["tag"] is None
    assert "v1.2.4" in report["detail"] and "Test Author" in report["detail"]
    assert "release-tag=\n" in outputs.read_text()
    assert o.refs() == refs and github.releases == {}


def test_a_tag_pushed_after_the_checkout_is_read_from_the_remote(
        origin: Origin, github: FakeGitHub, cli: Callable[..., CliResult]) -> None:
    """A person tags the merge commit and pushes the tag while the job runs: the run tags
    nothing, reads who tagged it (fetching that one tag) and leaves it to the tag workflow."""
    o, w = origin, origin.work
    merge = merged_fix(cli, o, github)
    person = o.person()
    person.tag("v1.2.4", merge, annotated=True)
    person.git("push", "-q", "origin", "v1.2.4")
    theirs = o.refs()["refs/tags/v1.2.4"]
    report = json.loads(run(cli, o, None, "", "release-pr", "--json").out)
    assert report["action"] == "already released" and report["tag"] is None
    assert report["pushed"] is False and o.refs()["refs/tags/v1.2.4"] == theirs
    assert w.git("rev-parse", "v1.2.4").strip() == theirs  # the tag as the remote has it


def test_a_remote_tag_at_another_commit_leaves_no_local_tag(
        origin: Origin, github: FakeGitHub, cli: Callable[..., CliResult]) -> None:
    o, w = origin, origin.work
    merged_fix(cli, o, github)
    person = o.person()
    person.tag("v1.2.4", "origin/main~1", annotated=True)  # the wrong commit
    person.git("push", "-q", "origin", "v1.2.4")
    refs = o.refs()
    result = run(cli, o, None, "", "release-pr", code=3)
    assert "v1.2.4" in result.err and result.err.count("\n") == 1
    assert w.git("tag", "--list", "v1.2.4") == "" and o.refs() == refs


def test_every_git_call_to_the_remote_carries_the_token(
        origin: Origin, github: FakeGitHub, cli: Callable[..., CliResult],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The workflow's checkout keeps no credentials: on a private repository a read without
    the token (ls-remote, fetch) fails like a push would. (Where the token may go is
    tests/hardening/test_credentials.py's concern.)"""
    from release.gitrepo import GitRepo

    calls: list[tuple[str, bool]] = []
    real = GitRepo._remote

    def spy(self: GitRepo, args: list[str], remote: str, rest: Any, doing: str,
            token: tuple[str, str] | None = None) -> str:
        calls.append((args[0], token is not None and token[1] == TOKEN))
        return real(self, args, remote, rest, doing, token)

    monkeypatch.setattr(GitRepo, "_remote", spy)
    o, w = origin, origin.work
    w.commit("fix(chart): a fix", {"chart/templates/fix.yaml": "a: 1\n"})
    o.push("main")
    run(cli, o, None, "", "release-pr")  # proposes: the branch does not exist yet
    w.commit("fix(chart): another", {"chart/templates/fix2.yaml": "a: 1\n"})
    o.push("main")
    # a fresh checkout lacks the branch's commit: the run fetches it before comparing
    w.git("update-ref", "-d", "refs/remotes/origin/release/next")
    w.git("reflog", "expire", "--expire=now", "--all")
    w.git("gc", "-q", "--prune=now")
    run(cli, o, None, "", "release-pr")  # rewrites the branch
    github.merge(1, o.merge_release_pr())
    run(cli, o, None, "", "release-pr")  # tags and pushes the tag
    assert {name for name, _ in calls} == {"ls-remote", "fetch", "push"}
    assert all(with_token for _, with_token in calls), calls


@pytest.mark.parametrize("path", ["CHANGELOG.md", "chart/Chart.yaml"])
def test_a_committed_file_that_is_not_utf8_is_bad_input(
        origin: Origin, github: FakeGitHub, cli: Callable[..., CliResult], path: str) -> None:
    o, w = origin, origin.work
    old = (w.root / path).read_bytes() if (w.root / path).exists() else b"# Changelog\n"
    w.commit("docs: latin-1", {path: old + b"# caf\xe9\n"})
    w.commit("feat(chart): x", {"chart/templates/x.yaml": "a: 1\n"})
    o.push("main")
    refs = o.refs()
    result = run(cli, o, None, "", "release-pr", code=2)
    assert path in result.err and "not UTF-8" in result.err and result.err.count("\n") == 1
    assert o.refs() == refs and github.writes == []


def test_the_pull_request_body_stays_under_githubs_limit(
        origin: Origin, github: FakeGitHub, cli: Callable[..., CliResult]) -> None:
    """GitHub refuses a pull request body over 65,536 characters (422): notes that long are cut
    (the full entry is in the pull request's CHANGELOG.md), the table and the marker stay."""
    o, w = origin, origin.work
    lines = "".join(f"* fix(chart): a long description of fix number {n:04d} " + "x" * 60 + "\n"
                    for n in range(900))
    w.commit(f"Many fixes (#7)\n\n{lines}", {"chart/templates/many.yaml": "a: 1\n"})
    o.push("main")
    run(cli, o, None, "", "release-pr")
    body = github.pulls[1]["body"]
    assert len(body) <= FakeGitHub.PULL_BODY_MAX
    assert "| version | `1.2.4`" in body and "fix number 0000" in body
    assert "Truncated" in body and body.rstrip().endswith("-->")
    changelog = o.show(o.refs()["refs/heads/release/next"], "CHANGELOG.md")
    assert "fix number 0899" in changelog  # the release commit keeps every entry
    idempotent(cli, o, github)


PULLS_DOC = "https://docs.github.com/rest/pulls/pulls#create-a-pull-request"


@pytest.mark.parametrize(("method", "path", "status", "answer", "says", "not_says"), [
    # the repository setting is off (new repositories): GitHub's own answer
    ("POST", "/pulls", 403, {"message": "GitHub Actions is not permitted to create or approve "
                                        "pull requests.", "documentation_url": PULLS_DOC,
                             "status": "403"},
     ["Allow GitHub Actions to create and approve pull requests", "pull-requests: write"],
     ["contents: write", "tag is pushed"]),
    # the workflow lacks pull-requests: write (labels live on the issues API)
    ("POST", "/issues/1/labels", 403, {
        "message": "Resource not accessible by integration", "status": "403",
        "documentation_url": "https://docs.github.com/rest/issues/labels#add-labels-to-an-issue"},
     ["pull-requests: write"], ["contents: write", "tag is pushed"]),
    ("POST", "/pulls", 422, {"message": "Validation Failed", "errors": [
        {"resource": "PullRequest", "code": "custom",
         "message": "A pull request already exists for o:release/next."}],
        "documentation_url": PULLS_DOC, "status": "422"},
     ["A pull request already exists", "release/next"], ["tag is pushed", "contents: write"]),
])
def test_pull_request_errors_say_what_to_fix(
        origin: Origin, cli: Callable[..., CliResult], monkeypatch: pytest.MonkeyPatch,
        method: str, path: str, status: int, answer: dict[str, Any], says: list[str],
        not_says: list[str]) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    origin.work.commit("fix(chart): a fix", {"chart/templates/fix.yaml": "a: 1\n"})
    origin.push("main")
    with respx.mock(assert_all_called=False) as router:
        # registered first, so it answers instead of the fake's route for the same request
        router.route(method=method, url__regex=rf"^https://api\.github\.com/repos/o/r{path}$"
                     ).mock(return_value=httpx.Response(status, json=answer))
        FakeGitHub(router)
        result = run(cli, origin, None, "", "release-pr", code=4)
    assert result.err.count("\n") == 1 and TOKEN not in result.err
    assert all(text in result.err for text in says), result.err
    assert not any(text in result.err for text in not_says), result.err


def test_an_invalid_chart_yaml_earlier_in_the_history_blocks_nothing(
        origin: Origin, github: FakeGitHub, cli: Callable[..., CliResult]) -> None:
    """Chart.yaml is read with the loader every command uses (Helm's rules). A broken one that
    a later commit fixed is no release commit, and no reason to stop the run."""
    o, w = origin, origin.work
    good = (w.root / "chart/Chart.yaml").read_text()
    w.commit("fix(chart): oops", {"chart/Chart.yaml": good.replace("apiVersion: v2",
                                                                   "apiVersion: v1")})
    w.commit("fix(chart): apiVersion back to v2", {"chart/Chart.yaml": good})
    o.push("main")
    report = json.loads(run(cli, o, None, "", "release-pr", "--json").out)
    assert report["action"] == "proposed" and github.pulls[1]["title"] == "chore(release): v1.2.4"
    # at HEAD the same file is bad input, named with the commit
    w.commit("fix(chart): broken again", {"chart/Chart.yaml": good.replace("apiVersion: v2",
                                                                           "apiVersion: v1")})
    o.push("main")
    result = run(cli, o, None, "", "release-pr", code=2)
    assert "chart/Chart.yaml at" in result.err and "apiVersion" in result.err


@pytest.mark.parametrize("object_format", ["sha1", "sha256"])
def test_the_branch_comparison_hashes_files_as_git_does(tmp_path: Path,
                                                        object_format: str) -> None:
    """An unchanged proposal is recognised from the branch's tree alone (no file read back):
    the blob ids are computed the way git computes them, in either object format."""
    from release.gitrepo import GitRepo
    from release.releasepr import _holds

    root = tmp_path / "r"
    subprocess.run(["git", "init", "-q", f"--object-format={object_format}", str(root)],
                   check=True)
    g = GitBuilder(root)  # re-initialises it, keeping the object format
    files = {"chart/Chart.yaml": b"version: 1.0.0\n", "CHANGELOG.md": "caf\u00e9\n".encode()}
    commit = g.commit("x", {path: data for path, data in files.items()})
    repo = GitRepo(root)
    assert _holds(repo, commit, files)
    assert not _holds(repo, commit, {**files, "CHANGELOG.md": b"other\n"})
    assert not _holds(repo, commit, {**files, "missing.md": b""})
