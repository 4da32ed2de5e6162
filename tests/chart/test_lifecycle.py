"""CRD lifecycle, the upgrade from the first release (0.1.0), and use as a subchart.

Why: Helm installs a chart's `crds/` once and never upgrades them, so 0.1.0's CRDs could only be
upgraded by hand. The CRDs are now templates; these tests pin what that means: the rendered CRDs
are exactly the plain files in `files/crds/` plus chart metadata, `crds.keep` protects custom
resources at uninstall, and an existing 0.1.0 install can move over. No API server runs here, so
the upgrade is checked against Helm's own rules, re-stated from helm/helm pkg/action/validate.go
(`existingResourceConflict`/`checkOwnership`: an object that already exists may only join a
release when it has `app.kubernetes.io/managed-by: Helm` and the release's
`meta.helm.sh/release-name`/`-namespace` annotations) and from the API server's: a CRD upgrade
must keep serving what it served, and old objects must stay valid. Subchart use is tested with a
real umbrella chart rendered and linted by Helm's engine.
"""

from __future__ import annotations

import copy
import re
import shutil
from pathlib import Path
from typing import Any

import helm_python
import pytest
import yaml

from tests.chart.crdschema import crd_errors
from tests.chart.helpers import (
    CHART,
    FIXTURES,
    K8S_VERSIONS,
    MONITORING,
    by_kind,
    objects,
    render,
    render_objects,
    validate_k8s,
)

CRD_FILES = sorted((CHART / "files" / "crds").glob("*.yaml"))
FIRST_RELEASE = FIXTURES / "ameide-operators-0.1.0.tgz"
RELEASE, NAMESPACE = "ameide", "ameide-system"


def _crds(values: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    return by_kind(render_objects(values), "CustomResourceDefinition")


def _file(path: Path) -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return doc


def test_crd_files_are_plain_and_spec_comes_last() -> None:
    """The template copies everything after `spec:` as text, so `spec` must be the last key."""
    assert [p.name for p in CRD_FILES] == [
        "ameide.io_agents.yaml", "ameide.io_domains.yaml",
        "ameide.io_processes.yaml", "ameide.io_uisurfaces.yaml",
    ]  # fmt: skip
    for path in CRD_FILES:
        text = path.read_text(encoding="utf-8")
        assert "{{" not in text
        assert list(_file(path)) == ["apiVersion", "kind", "metadata", "spec"]
        assert text.count("\nspec:\n") == 1


def test_rendered_crds_are_the_files_with_chart_metadata() -> None:
    rendered = {c["metadata"]["name"]: c for c in _crds()}
    assert len(rendered) == 4
    for path in CRD_FILES:
        plain = _file(path)
        crd = rendered[plain["metadata"]["name"]]
        assert crd["spec"] == plain["spec"]
        labels = crd["metadata"]["labels"]
        assert labels["app.kubernetes.io/instance"] == RELEASE
        assert labels["app.kubernetes.io/managed-by"] == "Helm"
        assert labels["app.kubernetes.io/component"] == plain["metadata"]["labels"][
            "app.kubernetes.io/component"
        ]
        assert crd["metadata"]["annotations"] == {
            "helm.sh/resource-policy": "keep",
            "argocd.argoproj.io/sync-options": "Prune=false",
        }


def test_crds_keep_false_and_install_false() -> None:
    assert all("annotations" not in c["metadata"] for c in _crds({"crds": {"keep": False}}))
    assert _crds({"crds": {"install": False}}) == []


def test_crds_are_not_in_helms_install_once_directory() -> None:
    """A copy in crds/ would be installed first and then fight the templated one."""
    with helm_python.Chart.load(CHART) as loaded:
        assert loaded.crds == []
        assert any(f["name"] == "files/crds/ameide.io_domains.yaml" for f in loaded.files)


@pytest.mark.parametrize("version", K8S_VERSIONS)
def test_rendered_crds_validate_strictly(version: str) -> None:
    for crd in _crds({"crds": {"keep": False}}):
        validate_k8s(crd, version)


# --------------------------------------------------------------------------------------------
# the upgrade from 0.1.0


@pytest.fixture(scope="module")
def first_release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The 0.1.0 chart exactly as released (Helm's package of commit a583777)."""
    dest = tmp_path_factory.mktemp("first")
    shutil.unpack_archive(FIRST_RELEASE, dest)
    return dest / "ameide-operators"


def _key(obj: dict[str, Any]) -> tuple[str, str, str]:
    return obj["kind"], obj["metadata"].get("namespace", ""), obj["metadata"]["name"]


def _ownership_errors(obj: dict[str, Any]) -> list[str]:
    """Helm's checkOwnership: what stops an existing object from joining the release."""
    meta = obj["metadata"]
    errors = []
    if meta.get("labels", {}).get("app.kubernetes.io/managed-by") != "Helm":
        errors.append('label "app.kubernetes.io/managed-by" must be "Helm"')
    want = {"meta.helm.sh/release-name": RELEASE, "meta.helm.sh/release-namespace": NAMESPACE}
    for key, value in want.items():
        if meta.get("annotations", {}).get(key) != value:
            errors.append(f'annotation "{key}" must be "{value}"')
    return errors


def _readme_adoption(obj: dict[str, Any]) -> dict[str, Any]:
    """Apply the README's `kubectl label/annotate crd` lines to `obj`, as kubectl would."""
    readme = (CHART / "README.md").read_text(encoding="utf-8")
    adopted: dict[str, Any] = copy.deepcopy(obj)
    meta = adopted["metadata"]
    found = 0
    for verb, field in (("label", "labels"), ("annotate", "annotations")):
        for line in re.findall(rf"^\s*kubectl {verb} crd (.+)$", readme, re.MULTILINE):
            found += 1
            for key, value in re.findall(r"(\S+?)=(\S+)", line):
                value = value.replace("<release>", RELEASE).replace("<namespace>", NAMESPACE)
                meta.setdefault(field, {})[key] = value
    assert found == 2, "the README's CRD adoption commands are missing"
    return adopted


def test_upgrade_from_0_1_0_needs_only_the_crds_adopted(first_release: Path) -> None:
    """After `helm install` of 0.1.0 the cluster holds its release objects (owned) and its CRDs
    from crds/ (not owned). Of the new release's objects, only the CRDs already exist unowned."""
    with helm_python.Chart.load(first_release) as old:
        old_crds = [yaml.safe_load(c["data"]) for c in old.crds]
    old_release = {_key(o) for o in objects(render(chart=first_release))}
    cluster = {_key(c): c for c in old_crds}
    new = render_objects()
    to_create = [o for o in new if _key(o) not in old_release]
    conflicts = [o for o in to_create if _key(o) in cluster]
    assert sorted(o["metadata"]["name"] for o in conflicts) == sorted(
        c["metadata"]["name"] for c in old_crds
    )
    for crd in conflicts:
        live = cluster[_key(crd)]
        assert _ownership_errors(live), "0.1.0's CRDs are not owned: Helm refuses them as they are"
        assert _ownership_errors(_readme_adoption(live)) == []


def test_upgrade_keeps_serving_what_0_1_0_served(first_release: Path) -> None:
    with helm_python.Chart.load(first_release) as old:
        old_crds = {yaml.safe_load(c["data"])["metadata"]["name"]: yaml.safe_load(c["data"])
                    for c in old.crds}  # fmt: skip
    new_crds = {c["metadata"]["name"]: c for c in _crds()}
    assert set(new_crds) == set(old_crds)
    for name, old_crd in old_crds.items():
        new_crd = new_crds[name]
        for field in ("group", "names", "scope"):
            assert new_crd["spec"][field] == old_crd["spec"][field], (name, field)
        served = {v["name"] for v in new_crd["spec"]["versions"] if v["served"]}
        stored = [v["name"] for v in new_crd["spec"]["versions"] if v["storage"]]
        assert {v["name"] for v in old_crd["spec"]["versions"] if v["served"]} <= served
        assert stored == [v["name"] for v in old_crd["spec"]["versions"] if v["storage"]]
    for example in sorted((first_release / "examples").glob("*.yaml")):
        cr = _file(example)
        crd = next(c for c in new_crds.values() if c["spec"]["names"]["kind"] == cr["kind"])
        assert crd_errors(crd, cr) == [], example.name  # objects made with 0.1.0 stay valid


def test_upgrade_keeps_immutable_selectors(first_release: Path) -> None:
    replicas = {op: {"replicas": 2} for op in ("domain", "process", "agent", "uisurface")}
    values = {"podDisruptionBudget": {"enabled": True}, "operators": replicas}
    old = {_key(o): o for o in objects(render(values, chart=first_release))}
    new = {_key(o): o for o in render_objects(values)}
    deployments = [k for k in old if k[0] == "Deployment"]
    assert len(deployments) == 4
    for key in deployments:
        assert new[key]["spec"]["selector"] == old[key]["spec"]["selector"]
    assert {k for k in old if k[0] != "CustomResourceDefinition"} <= set(new)


def test_0_1_0_values_still_install_except_an_unnamed_api_server(first_release: Path) -> None:
    """A 0.1.0 user's values pass the new schema; the one deliberate break is a NetworkPolicy
    without API server addresses, refused with the fix in the message."""
    hardened = {
        "operators": {"domain": {"replicas": 2, "image": {"tag": "0.1.0"}}},
        "podDisruptionBudget": {"enabled": True, "maxUnavailable": 1},
        "serviceMonitor": {"enabled": True, "labels": {"release": "kps"}},
        "prometheusRule": {"enabled": True},
    }
    for values in (None, hardened):
        objects(render(values, chart=first_release))  # valid for 0.1.0 ...
        assert render_objects(values, api_versions=MONITORING)  # ... and for this chart
    with pytest.raises(helm_python.HelmRenderError) as err:
        render({**hardened, "networkPolicy": {"enabled": True}}, api_versions=MONITORING)
    assert "networkPolicy.apiServer.cidrs is empty" in str(err.value)


# --------------------------------------------------------------------------------------------
# as a subchart of an umbrella chart


def _umbrella(tmp_path: Path, chart: Path, values: dict[str, Any]) -> Path:
    root = tmp_path / "platform"
    (root / "charts").mkdir(parents=True)
    (root / "templates").mkdir()
    meta = yaml.safe_load((chart / "Chart.yaml").read_text(encoding="utf-8"))
    (root / "Chart.yaml").write_text(yaml.safe_dump({
        "apiVersion": "v2", "name": "platform", "version": "1.0.0",
        "description": "An umbrella chart of the platform team", "icon": "https://example.com/i.png",
        "dependencies": [{"name": "ameide-operators", "version": meta["version"],
                          "repository": "oci://ghcr.io/ameideio/charts",
                          "condition": "ameide-operators.enabled"}],
    }), encoding="utf-8")  # fmt: skip
    (root / "values.yaml").write_text(yaml.safe_dump(values), encoding="utf-8")
    (root / "templates" / "storage.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: platform-storage\n"
        "data:\n  storageClass: {{ .Values.global.storageClass | quote }}\n",
        encoding="utf-8",
    )
    shutil.copytree(chart, root / "charts" / "ameide-operators")
    return root


UMBRELLA_VALUES: dict[str, Any] = {
    "global": {"storageClass": "fast-ssd", "imageRegistry": "mirror.example.com/ameideio"},
    "ameide-operators": {"enabled": True, "operators": {"agent": {"enabled": False}}},
}


def test_umbrella_chart_renders_with_shared_globals_and_condition(tmp_path: Path) -> None:
    root = _umbrella(tmp_path, CHART, UMBRELLA_VALUES)
    with helm_python.Chart.load(root) as loaded:
        manifests = loaded.render(None, name="platform", namespace="platform")
    objs = objects(manifests)
    assert any(p.startswith("platform/charts/ameide-operators/templates/") for p in manifests)
    images = {d["spec"]["template"]["spec"]["containers"][0]["image"] for d in by_kind(objs, "Deployment")}
    assert images == {f"mirror.example.com/ameideio/{op}-operator:0.1.0"
                      for op in ("domain", "process", "uisurface")}  # fmt: skip
    assert len(by_kind(objs, "CustomResourceDefinition")) == 4
    report = helm_python.lint(root, strict=True, with_subcharts=True)
    assert report["errors"] == [], report


def test_umbrella_condition_false_drops_the_subchart(tmp_path: Path) -> None:
    values = {**UMBRELLA_VALUES, "ameide-operators": {"enabled": False}}
    with helm_python.Chart.load(_umbrella(tmp_path, CHART, values)) as loaded:
        objs = objects(loaded.render(None, name="platform", namespace="platform"))
    assert [o["metadata"]["name"] for o in objs] == ["platform-storage"]


def test_umbrella_with_0_1_0_fails_on_the_closed_global(tmp_path: Path, first_release: Path) -> None:
    """Issue 12: 0.1.0's schema closed `global` and the root, so this umbrella failed."""
    umbrella = _umbrella(tmp_path, first_release, UMBRELLA_VALUES)
    with helm_python.Chart.load(umbrella) as loaded, pytest.raises(helm_python.HelmValuesError) as err:
        loaded.render(None, name="platform", namespace="platform")
    assert "additional properties" in str(err.value) and "storageClass" in str(err.value)
