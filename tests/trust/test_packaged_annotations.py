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
