"""GitOps files: the Argo CD component and each environment's values merged over _shared."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from tests.chart.helpers import (
    K8S_VERSIONS,
    MONITORING,
    OPERATORS,
    ROOT,
    assert_restricted,
    by_kind,
    env_values,
    pod_specs,
    render_objects,
    validate_k8s,
)

COMPONENT = (
    ROOT / "gitops/environments/_shared/components/foundation/operators/"
    "ameide-operators/component.yaml"
)
ENVS = ("dev", "staging", "production")


def _images(env: str) -> dict[str, str]:
    objs = render_objects(env_values(env), api_versions=MONITORING)
    return {
        d["metadata"]["labels"]["app.kubernetes.io/component"]: d["spec"]["template"]["spec"][
            "containers"
        ][0]["image"]
        for d in by_kind(objs, "Deployment")
    }


def test_component_definition() -> None:
    comp = yaml.safe_load(COMPONENT.read_text())
    assert comp["name"] == "foundation-ameide-operators"
    assert (comp["project"], comp["domain"]) == ("ameide", "foundation")
    assert comp["dependencyPhase"] == "controllers" and comp["componentType"] == "operator"
    assert comp["rolloutPhase"] == "120"
    chart_meta = yaml.safe_load((ROOT / "chart/Chart.yaml").read_text())
    assert comp["chart"]["chart"] == chart_meta["name"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", comp["chart"]["version"])
    assert "ServerSideApply=true" in comp["syncOptions"]


@pytest.mark.parametrize("env", ENVS)
def test_environment_renders_valid_restricted_objects(env: str) -> None:
    objs = render_objects(env_values(env), api_versions=MONITORING)
    for obj in objs:
        for version in K8S_VERSIONS:
            validate_k8s(obj, version)
    for name, spec in pod_specs(objs):
        assert_restricted(name, spec)
    assert len(by_kind(objs, "Deployment")) == 4
    assert len(by_kind(objs, "NetworkPolicy")) == 4  # from _shared


def test_environments_only_set_known_files() -> None:
    base = ROOT / "gitops/sources/values"
    found = sorted(str(p.relative_to(base)) for p in base.rglob("*.yaml"))
    assert found == [
        f"{e}/foundation/foundation-ameide-operators.yaml"
        for e in ("_shared", "dev", "production", "staging")
    ]


def test_dev_uses_dev_tags_and_tolerations() -> None:
    assert _images("dev") == {
        f"{op}-operator": f"ghcr.io/ameideio/{op}-operator:dev" for op in OPERATORS
    }
    objs = render_objects(env_values("dev"))
    for _, spec in pod_specs(objs):
        assert spec["tolerations"][0]["key"] == "ameide.io/environment"
        assert spec["containers"][0]["imagePullPolicy"] == "Always"


def test_staging_uses_main_tags() -> None:
    assert set(_images("staging").values()) == {
        f"ghcr.io/ameideio/{op}-operator:main" for op in OPERATORS
    }


def test_production_is_pinned_and_highly_available() -> None:
    images = _images("production")
    assert all(
        re.fullmatch(r"ghcr\.io/ameideio/[a-z]+-operator:\d+\.\d+\.\d+", i) for i in images.values()
    )
    objs = render_objects(env_values("production"), api_versions=MONITORING)
    for dep in by_kind(objs, "Deployment"):
        assert dep["spec"]["replicas"] == 2
        spec = dep["spec"]["template"]["spec"]
        assert "--leader-elect=true" in spec["containers"][0]["args"]
        assert spec["affinity"]["podAntiAffinity"]
        assert spec["topologySpreadConstraints"][0]["topologyKey"] == "topology.kubernetes.io/zone"
    pdbs = by_kind(objs, "PodDisruptionBudget")
    assert len(pdbs) == 4 and all(p["spec"]["minAvailable"] == 1 for p in pdbs)


def test_environments_say_how_the_api_server_egress_is_open_and_skip_test_hooks() -> None:
    """Argo CD renders without a cluster: no lookup of the API server, no `helm test`."""
    for env in ENVS:
        values = env_values(env)
        assert values["tests"]["enabled"] is False
        api = values["networkPolicy"]["apiServer"]
        assert api.get("cidrs") or api["allowAnyDestination"] is True
        objs = render_objects(values, api_versions=MONITORING)
        assert not [o for o in objs if "helm.sh/hook" in o["metadata"].get("annotations", {})]


def test_env_merge_keeps_shared_keys(tmp_path: Path) -> None:
    values = env_values("production")
    assert values["networkPolicy"]["enabled"] is True  # from _shared
    assert values["operators"]["domain"]["replicas"] == 2  # from production
