"""The whole release as the workflow runs it: this project's real chart, a real token-auth
registry, GitHub through respx, real git. Then a re-run (no writes) and a hotfix release."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import helm_python
import pytest

from tests.conftest import CliResult
from tests.fakegithub import TOKEN, FakeGitHub
from tests.gitutil import GitBuilder
from tests.registry_fixtures import TEST_PASSWORD, TEST_USER, Registry

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def project(gitrepo: GitBuilder) -> GitBuilder:
    """A repository like ours: the real chart, a changelog, conventional commits, tag v1.2.3."""
    shutil.copytree(ROOT / "chart", gitrepo.root / "chart")
    gitrepo.write("CHANGELOG.md", (ROOT / "CHANGELOG.md").read_text())
    gitrepo.write("README.md", "# operators\n")
    gitrepo.commit("feat(chart): the AMEIDE operators chart", {})
    gitrepo.commit("fix(chart): probe the health port", {"chart/templates/domain/.keep.txt": "x"})
    gitrepo.commit("docs: readme", {"README.md": "# operators\n\nmore\n"})
    gitrepo.tag("v1.2.3", annotated=True)
    return gitrepo


def publish(cli: Callable[..., CliResult], g: GitBuilder, registry: str, tag: str,
            *extra: str) -> CliResult:
    return cli("--repo", str(g.root), "--registry", registry, "--github-repository", "o/r",
               "publish", "--tag", tag, "--plain-http", *extra)


def test_release_rerun_and_hotfix(project: GitBuilder, token_registry: Registry, namespace: str,
                                  github: FakeGitHub, cli: Callable[..., CliResult],
                                  tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    outputs, summary = tmp_path / "github_output", tmp_path / "summary.md"
    for name, value in {"GITHUB_TOKEN": TOKEN, "GITHUB_ACTIONS": "true",
                        "GITHUB_OUTPUT": str(outputs), "GITHUB_STEP_SUMMARY": str(summary),
                        "AMEIDE_REGISTRY_USERNAME": TEST_USER,
                        "AMEIDE_REGISTRY_PASSWORD": TEST_PASSWORD}.items():
        monkeypatch.setenv(name, value)
    registry = token_registry.oci(namespace)
    repository = f"{namespace}/ameide-operators"
    pages = tmp_path / "pages"
    pages.mkdir()

    # --- v1.2.3: the plan first, then publish executes exactly that plan -------------------
    planned = cli("--repo", str(project.root), "--registry", registry, "--github-repository",
                  "o/r", "dry-run", "--tag", "v1.2.3", "--plain-http", "--index-dir",
                  str(pages), "--json")
    assert planned.code == 0, planned
    plan = json.loads(planned.out)
    first = publish(cli, project, registry, "v1.2.3", "--index-dir", str(pages))
    assert first.code == 0, first
    manifest_digest = token_registry.manifest_digest(repository, "1.2.3")
    assert manifest_digest is not None
    values = dict(line.split("=", 1) for line in outputs.read_text().splitlines())
    assert values["manifest-digest"] == manifest_digest
    assert values["version"] == "1.2.3" and values["chart-digest"].startswith("sha256:")
    assert values["release-url"] == "https://github.com/o/r/releases/tag/v1.2.3"
    assert "## Release v1.2.3" in summary.read_text()

    client = helm_python.RegistryClient(plain_http=True)
    client.login(token_registry.host, TEST_USER, TEST_PASSWORD, plain_http=True)
    pulled_dir = tmp_path / "pulled"
    pulled_dir.mkdir()
    helm_python.pull(f"oci://{token_registry.host}/{repository}", client=client,
                     version="1.2.3", destination=str(pulled_dir), plain_http=True)
    pulled = pulled_dir / "ameide-operators-1.2.3.tgz"
    assert "sha256:" + __import__("hashlib").sha256(pulled.read_bytes()).hexdigest() \
        == values["chart-digest"]
    with helm_python.Chart.load(str(pulled)) as chart:
        rendered = chart.render({}, name="ameide", namespace="ameide-system")
    deployments = [t for name, t in rendered.items() if name.endswith("deployment.yaml")]
    assert deployments and all(":1.2.3" in t for t in deployments)  # image tag = appVersion

    release = github.releases["v1.2.3"]
    assert "probe the health port" in release["body"] and "readme" not in release["body"]
    assert release["_make_latest"] == "true" and release["prerelease"] is False
    assets = {a["name"] for a in github.assets.values()}
    assert assets == {"ameide-operators-1.2.3.tgz", "SHA256SUMS"}
    changelog = (project.root / "CHANGELOG.md").read_text()
    assert "<!-- release: v1.2.3 -->\n## 1.2.3 (" in changelog
    # What was published is what the plan said, field by field.
    assert manifest_digest == plan["manifest_digest"]
    assert values["chart-digest"] == plan["package"]["digest"]
    assert release["body"] == plan["github_release"]["body"]
    assert {name: "sha256:" + __import__("hashlib").sha256(data).hexdigest()
            for name, data in github.uploaded.items()} == {
        a["name"]: a["digest"] for a in plan["github_release"]["assets"]}
    assert plan["changelog"]["entry"].strip() in changelog
    assert "probe the health port" in changelog
    index = (pages / "index.yaml").read_text()
    assert 'version: "1.2.3"' in index and values["chart-digest"].removeprefix("sha256:") in index

    # --- the same release again: nothing is written anywhere ------------------------------
    calls_before = len(github.calls)
    token_requests_before = len(token_registry.token_server.requests)  # type: ignore[union-attr]
    changelog_before, index_before = changelog, index
    again = publish(cli, project, registry, "v1.2.3", "--index-dir", str(pages), "--json")
    assert again.code == 0, again
    result = json.loads(again.out)
    assert result["already_done"] is True
    assert [s["status"] for s in result["steps"]] == [
        "built", "ok", "already-published", "public", "present", "unchanged", "unchanged"]
    assert all(c.startswith("GET ") for c in github.calls[calls_before:])
    assert len(github.calls) - calls_before == 1
    assert token_registry.manifest_digest(repository, "1.2.3") == manifest_digest
    # at most one token for the push's check, and one anonymous one for the visibility check
    asked = token_registry.token_server.requests[token_requests_before:]  # type: ignore[union-attr]
    assert len([r for r in asked if r["has_auth"]]) <= 1
    assert len([r for r in asked if not r["has_auth"]]) == 1
    assert (project.root / "CHANGELOG.md").read_text() == changelog_before
    assert (pages / "index.yaml").read_text() == index_before

    # --- main moves on to v1.3.0, which becomes latest ------------------------------------
    project.git("commit", "-qam", "docs(changelog): v1.2.3")
    project.commit("feat(chart): topology spread by zone", {"chart/templates/domain/.z.txt": "z"})
    urgent = project.commit("fix(chart): leader election lease name",
                            {"chart/templates/rbac/.lease.txt": "lease"})
    project.tag("v1.3.0", annotated=True)
    assert publish(cli, project, registry, "v1.3.0").code == 0
    project.git("commit", "-qam", "docs(changelog): v1.3.0")
    assert github.latest == "v1.3.0"

    # --- hotfix v1.2.4 from v1.2.3 with just the urgent fix --------------------------------
    cut = cli("--repo", str(project.root), "--github-repository", "o/r", "hotfix", "--from", "v1.2.3",
              "--pick", urgent)
    assert cut.code == 0, cut
    assert cut.out.strip() == "git push --atomic origin release-1.2 v1.2.4"
    project.checkout("v1.2.4")
    hot = publish(cli, project, registry, "v1.2.4")
    assert hot.code == 0, hot
    assert github.latest == "v1.3.0"
    hotfix_release = github.releases["v1.2.4"]
    assert hotfix_release["_make_latest"] == "false"
    assert "leader election lease name" in hotfix_release["body"]
    assert "topology spread" not in hotfix_release["body"]
    assert "probe the health port" not in hotfix_release["body"]  # that was in v1.2.3
    assert token_registry.manifest_digest(repository, "1.2.4") is not None
    on_branch = project.git("show", "v1.2.4:CHANGELOG.md")
    assert on_branch.split("<!-- release: ")[1].startswith("v1.2.4 -->")  # newest first
    assert "[1.2.4](https://github.com/o/r/compare/v1.2.3...v1.2.4)" in on_branch
