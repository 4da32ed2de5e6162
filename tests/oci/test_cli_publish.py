"""`push` and `verify` from a real git repository, and `--sign` provenance Helm accepts."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import helm_python
import pytest

from release.oci.artifact import PROV_MEDIA_TYPE
from release.oci.publish import prepare_upload
from tests.conftest import CliResult, release_archive
from tests.gitutil import GitBuilder
from tests.oci.conftest import CHART_YAML
from tests.registry_fixtures import Registry

pytestmark = pytest.mark.registry


def _release_repo(git: GitBuilder) -> None:
    git.commit("feat: chart", {
        "chart/Chart.yaml": CHART_YAML.format(version="0.1.0"),
        "chart/values.yaml": "replicas: 1\n",
        "chart/templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n",
    })
    git.tag("v0.1.0")


def test_push_then_verify_the_tag(gitrepo: GitBuilder, open_registry: Registry, namespace: str,
                                  cli: Callable[..., CliResult]) -> None:
    _release_repo(gitrepo)
    to = open_registry.oci(namespace)
    first = cli("--repo", str(gitrepo.root), "push", "--tag", "v0.1.0", "--to", to,
                "--plain-http", "--json")
    assert first.code == 0, first
    data = json.loads(first.out)
    assert data["status"] == "pushed" and data["requests"] <= 7
    again = cli("--repo", str(gitrepo.root), "push", "--tag", "v0.1.0", "--to", to,
                "--plain-http")
    assert again.code == 0 and "already published" in again.err
    assert again.out.strip() == f"oci://{data['reference']}@{data['digest']}"
    assert open_registry.manifest_digest(f"{namespace}/demo", "0.1.0") == data["digest"]

    ok = cli("--repo", str(gitrepo.root), "--registry", to, "verify", "--tag", "v0.1.0",
             "--plain-http")
    assert ok.code == 0, ok
    assert "matches the rebuild of v0.1.0" in ok.err

    # the chart moves on after the tag: verify still rebuilds the tag's commit
    gitrepo.commit("fix: later", {"chart/values.yaml": "replicas: 2\n"})
    assert cli("--repo", str(gitrepo.root), "--registry", to, "verify", "--tag", "v0.1.0",
               "--plain-http").code == 0


def test_verify_flags_a_tag_overwritten_with_other_content(
        gitrepo: GitBuilder, open_registry: Registry, namespace: str, tmp_path: Path,
        cli: Callable[..., CliResult]) -> None:
    _release_repo(gitrepo)
    to = open_registry.oci(namespace)
    other_src = GitBuilder(tmp_path / "other")
    other_src.commit("feat: other", {
        "chart/Chart.yaml": CHART_YAML.format(version="0.1.0"),
        "chart/values.yaml": "replicas: 3\n",
    })
    assert cli("--repo", str(other_src.root), "push", "--to", to, "--plain-http").code == 0
    refused = cli("--repo", str(gitrepo.root), "push", "--tag", "v0.1.0", "--to", to,
                  "--plain-http")
    assert refused.code == 3 and "nothing was written" in refused.err
    bad = cli("--repo", str(gitrepo.root), "--registry", to, "verify", "--tag", "v0.1.0",
              "--plain-http")
    assert bad.code == 3 and "chart archive: published sha256:" in bad.err
    assert bad.err.count("\n") == 1


def test_dirty_chart_is_not_published(gitrepo: GitBuilder, open_registry: Registry,
                                      namespace: str, cli: Callable[..., CliResult]) -> None:
    _release_repo(gitrepo)
    gitrepo.git("tag", "-d", "v0.1.0")  # no tag to build from: the working tree would be it
    (gitrepo.root / "chart" / "values.yaml").write_text("replicas: 9\n")
    r = cli("--repo", str(gitrepo.root), "push", "--tag", "v0.1.0", "--to",
            open_registry.oci(namespace), "--plain-http")
    assert r.code == 2 and "uncommitted" in r.err
    assert open_registry.tags(f"{namespace}/demo") == []


def test_a_tagged_release_is_pushed_as_committed_whatever_the_working_tree(
        gitrepo: GitBuilder, open_registry: Registry, namespace: str,
        cli: Callable[..., CliResult], tmp_path: Path) -> None:
    _release_repo(gitrepo)
    (gitrepo.root / "chart" / "values.yaml").write_text("replicas: 9\n")
    r = cli("--repo", str(gitrepo.root), "push", "--tag", "v0.1.0", "--to",
            open_registry.oci(namespace), "--plain-http", "--json")
    assert r.code == 0, r
    committed = release_archive(gitrepo.root, "v0.1.0", tmp_path)
    upload = prepare_upload(committed, open_registry.oci(namespace), plain_http=True)
    assert json.loads(r.out)["digest"] == upload.digest


def test_signed_push_carries_a_provenance_layer_helm_verifies(
        gitrepo: GitBuilder, open_registry: Registry, namespace: str, tmp_path: Path,
        keyrings: tuple[Path, Path], cli: Callable[..., CliResult]) -> None:
    secring, pubring = keyrings
    _release_repo(gitrepo)
    r = cli("--repo", str(gitrepo.root), "push", "--tag", "v0.1.0", "--to",
            open_registry.oci(namespace), "--plain-http", "--sign", "--key", "Release Bot",
            "--keyring", str(secring), "--json")
    assert r.code == 0, r
    repo = f"{namespace}/demo"
    manifest = json.loads(open_registry.manifest(repo, "0.1.0")[0])
    prov_desc = [d for d in manifest["layers"] if d["mediaType"] == PROV_MEDIA_TYPE]
    assert len(prov_desc) == 1
    prov = open_registry.blob(repo, prov_desc[0]["digest"])
    assert prov is not None and prov.startswith(b"-----BEGIN PGP SIGNED MESSAGE-----")

    dest = tmp_path / "pulled"
    dest.mkdir()
    helm_python.pull(f"oci://{open_registry.host}/{repo}", version="0.1.0",
                     destination=str(dest), plain_http=True)
    tgz = dest / "demo-0.1.0.tgz"
    (dest / "demo-0.1.0.tgz.prov").write_bytes(prov)
    verified = helm_python.verify(str(tgz), keyring=str(pubring))
    assert verified["file_name"] == "demo-0.1.0.tgz"
    assert any("Release Bot" in who for who in verified["signed_by"])

    # a re-run signs again (new time stamp) but sees the same chart: nothing is written
    again = cli("--repo", str(gitrepo.root), "push", "--tag", "v0.1.0", "--to",
                open_registry.oci(namespace), "--plain-http", "--sign", "--key", "Release Bot",
                "--keyring", str(secring), "--json")
    assert again.code == 0, again
    assert json.loads(again.out)["status"] == "already-published"
    assert json.loads(again.out)["digest"] == json.loads(r.out)["digest"]
    unsigned = cli("--repo", str(gitrepo.root), "push", "--tag", "v0.1.0", "--to",
                   open_registry.oci(namespace), "--plain-http")
    assert unsigned.code == 0 and "already published" in unsigned.err

    # tampering is caught by Helm's check of our provenance
    (dest / "demo-0.1.0.tgz.prov").write_bytes(prov.replace(b"sha256:", b"sha256:0", 1))
    with pytest.raises(helm_python.HelmError):
        helm_python.verify(str(tgz), keyring=str(pubring))


def test_sign_needs_a_key(gitrepo: GitBuilder, cli: Callable[..., CliResult]) -> None:
    _release_repo(gitrepo)
    r = cli("--repo", str(gitrepo.root), "push", "--sign", "--to", "oci://127.0.0.1:9/x",
            "--plain-http")
    assert r.code == 2 and "--key" in r.err
