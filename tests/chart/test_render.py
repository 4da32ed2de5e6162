"""Scenario renders: lint, strict Kubernetes validation, restricted pods, labels, names."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import helm_python
import pytest
import yaml

from tests.chart.helpers import (
    CHART,
    K8S_VERSIONS,
    MONITORING,
    OPERATORS,
    REQUIRED_LABELS,
    SELECTOR_KEYS,
    assert_restricted,
    env_values,
    pod_specs,
    render_objects,
    validate_k8s,
)

EVERYTHING: dict[str, Any] = {
    "global": {"imagePullSecrets": [{"name": "ghcr"}]},
    "commonLabels": {"team": "platform"},
    "operators": {
        "domain": {
            "replicas": 3,
            "image": {"digest": "sha256:" + "ab" * 32},
            "extraArgs": ["--zap-log-level=debug"],
            "extraEnv": [{"name": "GOMAXPROCS", "value": "2"}],
            "podDisruptionBudget": {"minAvailable": 2},
        },
        "uisurface": {"networkPolicy": {"apiServer": {"cidrs": ["10.96.0.1/32"]}}},
    },
    "podDisruptionBudget": {"enabled": True},
    "serviceMonitor": {"enabled": True, "labels": {"release": "kps"}},
    "prometheusRule": {"enabled": True},
    "networkPolicy": {"enabled": True},
    "topologySpreadConstraints": [
        {
            "maxSkew": 1,
            "topologyKey": "topology.kubernetes.io/zone",
            "whenUnsatisfiable": "ScheduleAnyway",
        }
    ],
    "tolerations": [
        {"key": "dedicated", "operator": "Equal", "value": "ops", "effect": "NoSchedule"}
    ],
    "nodeSelector": {"kubernetes.io/os": "linux"},
}


def only(operator: str) -> dict[str, Any]:
    return {"operators": {op: {"enabled": op == operator} for op in OPERATORS}}


# name -> (values, api_versions, expected object count)
SCENARIOS: dict[str, tuple[dict[str, Any] | None, tuple[str, ...], int]] = {
    "defaults": (None, (), 13),
    "everything": (EVERYTHING, MONITORING, 29),
    **{f"only-{op}": (only(op), (), 7) for op in OPERATORS},
    **{
        f"env-{env}": (env_values(env), MONITORING, count)
        for env, count in (("dev", 25), ("staging", 25), ("production", 29))
    },
    "env-production-no-prometheus": (env_values("production"), (), 21),
}


def scenario_objects(name: str) -> list[dict[str, Any]]:
    values, apis, _ = SCENARIOS[name]
    return render_objects(values, api_versions=apis)


def test_lint_has_no_errors_or_warnings() -> None:
    report = helm_python.lint(CHART, strict=True)
    assert report["errors"] == []
    assert [m for m in report["messages"] if m["severity"] >= 2] == []


def test_lint_everything_enabled() -> None:
    report = helm_python.lint(CHART, EVERYTHING, strict=True)
    assert report["errors"] == []


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_scenario_object_count(scenario: str) -> None:
    objs = scenario_objects(scenario)
    assert len(objs) == SCENARIOS[scenario][2], sorted(
        f"{o['kind']}/{o['metadata']['name']}" for o in objs
    )


@pytest.mark.parametrize("version", K8S_VERSIONS)
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_every_object_validates_strictly(scenario: str, version: str) -> None:
    for obj in scenario_objects(scenario):
        validate_k8s(obj, version)


def test_validation_catches_a_bad_object() -> None:
    obj = render_objects()[0]
    obj["spec"] = {"bogus": True}
    with pytest.raises(AssertionError, match="invalid"):
        validate_k8s(obj, K8S_VERSIONS[0])


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_every_pod_meets_restricted_pss(scenario: str) -> None:
    specs = pod_specs(scenario_objects(scenario))
    assert specs
    for name, spec in specs:
        assert_restricted(name, spec)
        assert spec["automountServiceAccountToken"] is True


def test_restricted_check_catches_a_weakened_pod() -> None:
    with pytest.raises(AssertionError, match="allowPrivilegeEscalation"):
        objs = render_objects(
            {
                "securityContext": {
                    "allowPrivilegeEscalation": True,
                    "readOnlyRootFilesystem": True,
                    "capabilities": {"drop": ["ALL"]},
                }
            }
        )
        for name, spec in pod_specs(objs):
            assert_restricted(name, spec)


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_labels_on_every_object(scenario: str) -> None:
    for obj in scenario_objects(scenario):
        labels = obj["metadata"]["labels"]
        missing = [k for k in REQUIRED_LABELS if k not in labels]
        assert not missing, f"{obj['kind']}/{obj['metadata']['name']} lacks {missing}"
        assert labels["app.kubernetes.io/part-of"] == "ameide"
        assert labels["app.kubernetes.io/managed-by"] == "Helm"
        assert all(len(str(v)) <= 63 for v in labels.values())
        if obj["kind"] == "Deployment":
            pod_labels = obj["spec"]["template"]["metadata"]["labels"]
            assert all(k in pod_labels for k in REQUIRED_LABELS)


def _selectors(objs: list[dict[str, Any]]) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for o in objs:
        key = f"{o['kind']}/{o['metadata']['name']}"
        spec = o.get("spec", {})
        if o["kind"] in ("Deployment", "PodDisruptionBudget", "ServiceMonitor"):
            out[key] = spec["selector"]["matchLabels"]
        elif o["kind"] == "Service":
            out[key] = spec["selector"]
        elif o["kind"] == "NetworkPolicy":
            out[key] = spec["podSelector"]["matchLabels"]
    return out


def test_selectors_use_only_stable_labels_and_match_pods() -> None:
    objs = scenario_objects("everything")
    selectors = _selectors(objs)
    assert len(selectors) == 4 * 5
    for key, sel in selectors.items():
        assert set(sel) == SELECTOR_KEYS, key
    for dep in [o for o in objs if o["kind"] == "Deployment"]:
        pod_labels = dep["spec"]["template"]["metadata"]["labels"]
        assert dep["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()


def test_selectors_do_not_change_across_versions_and_tags(tmp_path: Path) -> None:
    before = _selectors(scenario_objects("everything"))
    bumped = tmp_path / "chart"
    shutil.copytree(CHART, bumped)
    meta = yaml.safe_load((bumped / "Chart.yaml").read_text())
    meta["version"], meta["appVersion"] = "9.9.9", "9.9.9"
    (bumped / "Chart.yaml").write_text(yaml.safe_dump(meta))
    values = {
        **EVERYTHING,
        "operators": {**EVERYTHING["operators"], "agent": {"image": {"tag": "main"}}},
    }
    after_objs = render_objects(values, api_versions=MONITORING, chart=bumped)
    assert _selectors(after_objs) == before
    versions = {o["metadata"]["labels"]["app.kubernetes.io/version"] for o in after_objs}
    assert versions == {"9.9.9", "main"}  # the version label did change


@pytest.mark.parametrize("release", ["r" * 53, "ameide-operators-" + "x" * 36])
def test_names_fit_in_63_characters(release: str) -> None:
    objs = render_objects(EVERYTHING, name=release, api_versions=MONITORING)
    assert len(objs) == 29
    seen = set()
    for obj in objs:
        name = obj["metadata"]["name"]
        assert len(name) <= 63, name
        assert not name.endswith("-"), name
        assert (obj["kind"], name) not in seen
        seen.add((obj["kind"], name))
    for op in OPERATORS:  # the part that tells operators apart survives truncation
        assert any(o["metadata"]["name"].endswith(f"-{op}-operator") for o in objs)
