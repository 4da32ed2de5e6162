"""One plan, executed: `dry-run --online` reads what `publish` would write, and each single-step
command has exactly the effect of its step inside `publish`.

Real git, this project's real chart, the real token-auth registry behind a counting proxy,
GitHub through respx (its REST shapes)."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
import respx

from release.oci.credentials import Credentials
from release.oci.provenance import sign_chart
from release.package import PackageResult, read_archive
from tests.conftest import CliResult
from tests.fakegithub import TOKEN, FakeGitHub
from tests.gitutil import GitBuilder
from tests.oci.conftest import make_package  # noqa: F401 (fixture)
from tests.pushing import push_chart
from tests.registry_fixtures import TEST_PASSWORD, TEST_USER, FaultProxy, Registry

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.registry


@pytest.fixture
def project(gitrepo: GitBuilder) -> GitBuilder:
    shutil.copytree(ROOT / "chart", gitrepo.root / "chart")
    gitrepo.write("CHANGELOG.md", "# Changelog\n")
    gitrepo.commit("feat(chart): the AMEIDE operators chart", {})
    gitrepo.commit("fix(chart): probe the health port", {"chart/templates/domain/.keep.txt": "x"})
    gitrepo.tag("v1.2.3", annotated=True)
    return gitrepo


@pytest.fixture(autouse=True)
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {"GITHUB_TOKEN": TOKEN, "AMEIDE_REGISTRY_USERNAME": TEST_USER,
                        "AMEIDE_REGISTRY_PASSWORD": TEST_PASSWORD}.items():
        monkeypatch.setenv(name, value)


def verdicts(result: CliResult) -> dict[str, str]:
    return {c["step"]: c["verdict"] for c in json.loads(result.out)["online"]}


def test_dry_run_online_says_what_publish_would_do_and_only_reads(
        project: GitBuilder, token_registry: Registry, namespace: str, github: FakeGitHub,
        fault_proxy: Callable[..., FaultProxy], cli: Callable[..., CliResult],
        tmp_path: Path, make_package: Callable[..., PackageResult]) -> None:  # noqa: F811
    proxy = fault_proxy(token_registry.host)
    pages = tmp_path / "pages"
    pages.mkdir()
    common = ["--repo", str(project.root), "--registry", proxy.oci(namespace),
              "--github-repository", "o/r"]

    def online(*extra: str) -> CliResult:
        return cli(*common, "dry-run", "--tag", "v1.2.3", "--online", "--plain-http",
                   "--index-dir", str(pages), *extra)

    def only_reads() -> None:
        assert {s.method for s in proxy.seen} <= {"GET", "HEAD"}, proxy.seen
        assert all(c.startswith("GET ") for c in github.calls), github.calls

    first = online("--json")
    assert first.code == 0, first
    assert verdicts(first) == {"package": "local", "lint": "local", "push": "would create",
                               "visibility": "would create", "index": "would create",
                               "changelog": "would create", "github": "would create"}
    only_reads()
    assert not (pages / "index.yaml").exists()

    published = cli(*common, "publish", "--tag", "v1.2.3", "--plain-http", "--index-dir",
                    str(pages))
    assert published.code == 0, published
    project.git("commit", "-qam", "docs(changelog): v1.2.3")

    proxy.reset()
    github.calls.clear()
    again = online("--json")
    assert again.code == 0, again
    assert verdicts(again) == {"package": "local", "lint": "local", "push": "already done",
                               "visibility": "already done", "index": "already done",
                               "changelog": "already done", "github": "already done"}
    only_reads()
    text = online()
    assert "[already done]" in text.out and "[would" not in text.out

    # Someone else's artifact under the tag: the push would conflict, exit 3, nothing written.
    other = make_package(version="1.2.3", extra="someone else's")
    other = PackageResult(**{**other.__dict__, "name": "ameide-operators"})  # same repository
    shutil.copyfile(other.path, other.path.with_name("ameide-operators-1.2.3.tgz"))
    other = PackageResult(**{**other.__dict__,
                             "path": other.path.with_name("ameide-operators-1.2.3.tgz")})
    push_chart(other, proxy.oci(namespace), plain_http=True, force=True,
               credentials=Credentials(TEST_USER, TEST_PASSWORD, "test"))
    held = token_registry.manifest_digest(f"{namespace}/ameide-operators", "1.2.3")
    proxy.reset()
    conflict = online()
    assert conflict.code == 3, conflict
    assert conflict.err.count("\n") == 1 and "would conflict" in conflict.err
    assert "push        " in conflict.out and "[would conflict]" in conflict.out
    only_reads()
    assert token_registry.manifest_digest(f"{namespace}/ameide-operators", "1.2.3") == held


def published_state(fake: FakeGitHub, registry: Registry, repository: str
                    ) -> tuple[str | None, str, dict[str, str]]:
    release = fake.releases["v1.2.3"]
    assets = {name: "sha256:" + hashlib.sha256(data).hexdigest()
              for name, data in fake.uploaded.items()}
    return registry.manifest_digest(repository, "1.2.3"), str(release["body"]), assets


def test_each_single_step_command_has_the_effect_of_its_step_in_publish(
        project: GitBuilder, token_registry: Registry, cli: Callable[..., CliResult],
        tmp_path: Path) -> None:
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(project.root), str(clone)], check=True)
    subprocess.run(["git", "-C", str(clone), "checkout", "-q", "v1.2.3"], check=True)
    ns_steps, ns_publish = "steps" + namespace_suffix(tmp_path), "pub" + namespace_suffix(tmp_path)
    dist, pages_steps, pages_publish = tmp_path / "dist", tmp_path / "p1", tmp_path / "p2"
    for d in (pages_steps, pages_publish):
        d.mkdir()

    def run(repo: Path, namespace: str, *args: str) -> CliResult:
        result = cli("--repo", str(repo), "--registry", token_registry.oci(namespace),
                     "--github-repository", "o/r", *args)
        assert result.code == 0, result
        return result

    # The steps one by one, in the project.
    with respx.mock(assert_all_called=False) as router:
        router.route(host="127.0.0.1").pass_through()
        by_steps = FakeGitHub(router)
        package = run(project.root, ns_steps, "package", "--tag", "v1.2.3", "--out", str(dist),
                      "--json")
        archive = Path(json.loads(package.out)["path"])
        run(project.root, ns_steps, "push", "--tag", "v1.2.3", "--plain-http")
        run(project.root, ns_steps, "index", "--tag", "v1.2.3", "--index-dir", str(pages_steps))
        run(project.root, ns_steps, "changelog", "--update", "--tag", "v1.2.3")
        run(project.root, ns_steps, "github-release", "--tag", "v1.2.3", "--asset", str(archive))
        steps_state = published_state(by_steps, token_registry,
                                      f"{ns_steps}/ameide-operators")

    # publish, in an identical clone.
    with respx.mock(assert_all_called=False) as router:
        router.route(host="127.0.0.1").pass_through()
        by_publish = FakeGitHub(router)
        result = run(clone, ns_publish, "publish", "--tag", "v1.2.3", "--plain-http",
                     "--index-dir", str(pages_publish), "--json")
        publish_state = published_state(by_publish, token_registry,
                                        f"{ns_publish}/ameide-operators")
    outputs = json.loads(result.out)

    assert json.loads(package.out)["digest"] == outputs["chart-digest"]  # package
    assert steps_state[0] == publish_state[0] == outputs["manifest-digest"]  # push
    assert (pages_steps / "index.yaml").read_bytes() == \
        (pages_publish / "index.yaml").read_bytes()  # index
    assert (project.root / "CHANGELOG.md").read_bytes() == \
        (clone / "CHANGELOG.md").read_bytes()  # changelog --update
    assert steps_state[1:] == publish_state[1:]  # github-release: body and asset digests
    assert by_steps.releases["v1.2.3"]["_make_latest"] == \
        by_publish.releases["v1.2.3"]["_make_latest"]


def namespace_suffix(tmp_path: Path) -> str:
    return hashlib.sha256(str(tmp_path).encode()).hexdigest()[:10]


def test_github_release_keeps_a_published_signature_like_publish(
        project: GitBuilder, cli: Callable[..., CliResult], tmp_path: Path,
        keyrings: tuple[Path, Path]) -> None:
    """The drift #9 names: a re-run of github-release with a freshly signed .prov was a
    Conflict while publish kept the published signature. One step definition: both keep it."""
    secring, _ = keyrings
    with respx.mock(assert_all_called=False) as router:
        fake = FakeGitHub(router)
        for run in range(2):
            out = tmp_path / f"run{run}"
            package = cli("--repo", str(project.root), "package", "--tag", "v1.2.3", "--out",
                          str(out), "--json")
            archive = Path(json.loads(package.out)["path"])
            built = read_archive(archive)
            sign_chart(built.path, built.metadata, key="Release Bot", keyring=secring)
            result = cli("--repo", str(project.root), "--github-repository", "o/r",
                         "github-release", "--tag", "v1.2.3", "--asset", str(archive),
                         "--asset", str(archive) + ".prov")
            assert result.code == 0, result
        assert "kept" in result.out or "unchanged" in result.out
        assert {a["name"] for a in fake.assets.values()} == {
            "ameide-operators-1.2.3.tgz", "ameide-operators-1.2.3.tgz.prov", "SHA256SUMS"}
