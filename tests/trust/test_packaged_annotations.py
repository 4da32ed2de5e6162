"""The archives a release publishes carry generated Artifact Hub annotations (issue #11 item 3):
valid as the hub checks them, the same bytes for the same tag, a pre-release marked."""

from __future__ import annotations

import io
import json
import shutil
import tarfile
from collections.abc import Callable
from pathlib import Path

import yaml

from release.artifacthub_rules import validate_annotations
from tests.conftest import CliResult
from tests.gitutil import GitBuilder

ROOT = Path(__file__).resolve().parents[2]


def packaged_chart_yaml(archive: Path) -> dict[str, object]:
    with tarfile.open(archive) as tar:
        member = tar.extractfile("ameide-operators/Chart.yaml")
        assert member is not None
        data: dict[str, object] = yaml.safe_load(io.BytesIO(member.read()))
    return data


def test_two_tags_of_the_project_chart(gitrepo: GitBuilder, cli: Callable[..., CliResult],
                                       tmp_path: Path) -> None:
    shutil.copytree(ROOT / "chart", gitrepo.root / "chart")
    gitrepo.commit("feat(chart): the operators chart", {})
    gitrepo.tag("v1.0.0")
    gitrepo.commit("fix(chart): probe the health port", {"chart/templates/domain/.k.txt": "x"})
    gitrepo.commit("feat(domain)!: drop the v0 field", {"chart/templates/domain/.b.txt": "y"})
    gitrepo.tag("v1.1.0-rc.1")

    def package(tag: str, out: str) -> dict[str, str]:
        result = cli("--repo", str(gitrepo.root), "package", "--tag", tag, "--out",
                     str(tmp_path / out), "--json")
        assert result.code == 0, result
        data: dict[str, str] = json.loads(result.out)
        return data

    final, rc = package("v1.0.0", "a"), package("v1.1.0-rc.1", "b")
    assert package("v1.1.0-rc.1", "c")["digest"] == rc["digest"]  # same tag, same bytes
    for built, version in ((final, "1.0.0"), (rc, "1.1.0-rc.1")):
        chart = packaged_chart_yaml(Path(built["path"]))
        annotations = chart["annotations"]
        assert isinstance(annotations, dict)
        validate_annotations(annotations, "ameide-operators", built["path"])
        images = yaml.safe_load(annotations["artifacthub.io/images"])
        assert len(images) == 4 and all(i["image"].endswith(f":{version}") for i in images)
        crds = yaml.safe_load(annotations["artifacthub.io/crds"])
        assert {c["name"] for c in crds} == {"domains.ameide.io", "processes.ameide.io",
                                             "agents.ameide.io", "uisurfaces.ameide.io"}
        assert len(yaml.safe_load(annotations["artifacthub.io/crdsExamples"])) == 4
        assert annotations["artifacthub.io/license"] == "Apache-2.0"  # hand-written ones kept
    assert packaged_chart_yaml(Path(final["path"]))["annotations"][  # type: ignore[index]
        "artifacthub.io/prerelease"] == "false"
    rc_annotations = packaged_chart_yaml(Path(rc["path"]))["annotations"]
    assert rc_annotations["artifacthub.io/prerelease"] == "true"  # type: ignore[index]
    changes = yaml.safe_load(rc_annotations["artifacthub.io/changes"])  # type: ignore[index]
    assert [c["kind"] for c in changes] == ["changed", "fixed"]
    assert changes[0]["description"] == "domain: BREAKING: drop the v0 field"
    assert all(link["url"].startswith("https://github.com/ameideio/ameide-core/commit/")
               for c in changes for link in c["links"])


def test_an_example_linked_from_outside_the_chart_is_not_published(
        gitrepo: GitBuilder, cli: Callable[..., CliResult], tmp_path: Path) -> None:
    """A committed example that is a symlink to a file outside the chart (here an absolute
    one, a file of the machine that packages) would be read and published in crdsExamples:
    refused, as the packager refuses such a link. A .helmignore'd example is not part of the
    chart, so it is not published either."""
    shutil.copytree(ROOT / "chart", gitrepo.root / "chart")
    secret = tmp_path / "outside.yaml"
    secret.write_text(ROOT.joinpath("chart/examples/agent-sample.yaml").read_text()
                      .replace("spec:", "# s3cret-from-the-runner\nspec:", 1))
    gitrepo.commit("feat(chart): the operators chart", {
        "chart/.helmignore": "ci/\nexamples/draft-*\n",
        "chart/examples/draft-agent.yaml": secret.read_text().replace("s3cret", "draft")})
    gitrepo.tag("v1.0.0")
    built = cli("--repo", str(gitrepo.root), "package", "--tag", "v1.0.0", "--out",
                str(tmp_path / "a"), "--json")
    assert built.code == 0, built
    annotations = packaged_chart_yaml(Path(json.loads(built.out)["path"]))["annotations"]
    examples = yaml.safe_load(annotations["artifacthub.io/crdsExamples"])  # type: ignore[index]
    assert len(examples) == 4  # the draft is ignored by .helmignore

    (gitrepo.root / "chart/examples/leak.yaml").symlink_to(secret)
    gitrepo.commit("feat(chart): one more example", {})
    gitrepo.tag("v1.1.0")
    result = cli("--repo", str(gitrepo.root), "package", "--tag", "v1.1.0", "--out",
                 str(tmp_path / "b"))
    assert result.code == 2, result
    assert "chart/examples/leak.yaml at v1.1.0" in result.err
    assert "outside the chart" in result.err and result.err.count("\n") == 1
    assert not list((tmp_path / "b").glob("*.tgz"))
