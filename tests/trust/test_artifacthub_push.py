"""`artifacthub-repo.yml` at the chart's `artifacthub.io` tag (issue #11 item 3): pushed with our
own OCI client to the real token-auth registry, in the layout Artifact Hub reads, idempotently;
`publish` does it when the file exists."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from release.artifacthub_repo import (
    REPOSITORY_METADATA_CONFIG,
    REPOSITORY_METADATA_LAYER,
    parse_repository_metadata,
)
from tests.charts import DEMO
from tests.conftest import CliResult
from tests.fakegithub import fake_github
from tests.gitutil import GitBuilder
from tests.registry_fixtures import TEST_PASSWORD, TEST_USER, Registry

pytestmark = pytest.mark.registry

METADATA = """repositoryID: 0b7c9f4e-3a1d-4f6e-9b2a-8c5d7e1f0a93
owners:
  - name: Platform team
    email: platform@example.com
"""


@pytest.fixture
def project(gitrepo: GitBuilder, monkeypatch: pytest.MonkeyPatch) -> GitBuilder:
    monkeypatch.setenv("AMEIDE_REGISTRY_USERNAME", TEST_USER)
    monkeypatch.setenv("AMEIDE_REGISTRY_PASSWORD", TEST_PASSWORD)
    gitrepo.commit("feat: demo", {**DEMO, "artifacthub-repo.yml": METADATA})
    return gitrepo


def test_pushed_where_and_how_artifact_hub_reads_it_and_only_once(
        project: GitBuilder, token_registry: Registry, namespace: str,
        cli: Callable[..., CliResult]) -> None:
    registry = token_registry.oci(namespace)

    def push(*extra: str) -> CliResult:
        result = cli("--repo", str(project.root), "--registry", registry, "artifacthub",
                     "--plain-http", *extra)
        assert result.code == 0, result
        return result

    first = json.loads(push("--json").out)
    assert first["status"] == "pushed" and first["wrote"] is True
    repository = f"{namespace}/demo"
    manifest = json.loads(token_registry.manifest(repository, "artifacthub.io")[0])
    assert manifest["config"]["mediaType"] == REPOSITORY_METADATA_CONFIG
    [layer] = manifest["layers"]
    assert layer["mediaType"] == REPOSITORY_METADATA_LAYER
    content = token_registry.blob(repository, layer["digest"])
    assert content is not None
    assert parse_repository_metadata(content.decode()) == parse_repository_metadata(METADATA)
    held = token_registry.manifest_digest(repository, "artifacthub.io")

    again = json.loads(push("--json").out)
    assert again["status"] == "unchanged" and again["wrote"] is False
    assert token_registry.manifest_digest(repository, "artifacthub.io") == held

    project.write("artifacthub-repo.yml", METADATA + "  - name: Second owner\n"
                                                    "    email: second@example.com\n")
    updated = json.loads(push("--json").out)
    assert updated["status"] == "updated"
    assert token_registry.manifest_digest(repository, "artifacthub.io") != held


def test_publish_pushes_it_and_dry_run_online_reports_it(
        project: GitBuilder, token_registry: Registry, namespace: str,
        cli: Callable[..., CliResult], monkeypatch: pytest.MonkeyPatch) -> None:

    from tests.fakegithub import TOKEN

    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    project.tag("v0.1.0", annotated=True)
    base = ["--repo", str(project.root), "--registry", token_registry.oci(namespace),
            "--github-repository", "o/r", "--helm-repo-url", ""]
    with fake_github():
        online = cli(*base, "dry-run", "--tag", "v0.1.0", "--online", "--plain-http", "--json")
        assert online.code == 0, online
        checks = {c["step"]: c["verdict"] for c in json.loads(online.out)["online"]}
        assert checks["artifacthub"] == "would create"
        published = cli(*base, "publish", "--tag", "v0.1.0", "--plain-http", "--json")
        assert published.code == 0, published
        steps = [s["name"] for s in json.loads(published.out)["steps"]]
        # after the push and its anonymous pull check (the visibility step)
        assert steps.index("artifacthub") == steps.index("visibility") + 1 == \
            steps.index("push") + 2
    assert token_registry.manifest_digest(f"{namespace}/demo", "artifacthub.io") is not None


def test_no_file_no_step(gitrepo: GitBuilder, cli: Callable[..., CliResult],
                         tmp_path: Path) -> None:
    gitrepo.commit("feat: demo", dict(DEMO))
    result = cli("--repo", str(gitrepo.root), "artifacthub")
    assert result.code == 2 and "artifacthub-repo.yml" in result.err
    plan = json.loads(cli("--repo", str(gitrepo.root), "dry-run", "--json").out)
    assert "artifacthub" not in [s["name"] for s in plan["steps"]]
