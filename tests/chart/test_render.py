"""Scenario renders: lint, strict Kubernetes validation, restricted pods, labels, names."""

from __future__ import annotations

import copy
import functools
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

SIDECAR: dict[str, Any] = {
    "name": "log-shipper",
    "image": "ghcr.io/ameideio/log-shipper:1.0.0",
    "volumeMounts": [{"name": "config", "mountPath": "/etc/shipper", "readOnly": True}],
}
EVERYTHING: dict[str, Any] = {
    "global": {"imagePullSecrets": [{"name": "ghcr"}], "storageClass": "fast"},
    "commonLabels": {"team": "platform"},
    "operators": {
        "domain": {
            "replicas": 3,
            "image": {"digest": "sha256:" + "ab" * 32},
            "extraArgs": ["--max-concurrent-reconciles=4"],
            "extraEnv": [{"name": "GOMAXPROCS", "value": "2"}],
            "podDisruptionBudget": {"minAvailable": 2},
            "logging": {"level": "debug"},
            "extraVolumes": [{"name": "config", "configMap": {"name": "shipper"}}],
            "extraVolumeMounts": [{"name": "config", "mountPath": "/etc/config"}],
            "extraContainers": [SIDECAR],
            "initContainers": [{"name": "wait", "image": "busybox:1.36", "command": ["true"]}],
            "deploymentAnnotations": {"reloader.stakater.com/auto": "true"},
        },
        "process": {"serviceMonitor": {"enabled": False}, "podMonitor": {"enabled": True}},
        "uisurface": {"networkPolicy": {"apiServer": {"cidrs": ["10.96.0.1/32"]}}},
    },
    "podDisruptionBudget": {"enabled": True, "unhealthyPodEvictionPolicy": "AlwaysAllow"},
    "serviceMonitor": {"enabled": True, "labels": {"release": "kps"}},
    "prometheusRule": {"enabled": True},
    "networkPolicy": {
        "enabled": True,
        "apiServer": {"cidrs": ["172.18.0.2/32"]},
        "extraEgress": [{"to": [{"ipBlock": {"cidr": "10.20.0.0/16"}}], "ports": [{"port": 5432}]}],
    },
    "grafanaDashboard": {"enabled": True},
    "leaderElectionTimings": {"leaseDurationSeconds": 30, "renewDeadlineSeconds": 20},
    "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 0}},
    "startupProbe": {"failureThreshold": 30, "periodSeconds": 2},
    "hostAliases": [{"ip": "10.1.2.3", "hostnames": ["vault.internal"]}],
    "dnsConfig": {"options": [{"name": "ndots", "value": "2"}]},
    "runtimeClassName": "gvisor",
    "extraObjects": [
        {"apiVersion": "v1", "kind": "ConfigMap",
         "metadata": {"name": "{{ .Release.Name }}-shipper", "namespace": "{{ .Release.Namespace }}"},
         "data": {"release": "{{ .Release.Name }}"}},
    ],
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
}  # fmt: skip


def chart_objects(objs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The objects the chart itself makes (without the user's extraObjects)."""
    return [o for o in objs if not o["metadata"]["name"].endswith("-shipper")]


def only(operator: str) -> dict[str, Any]:
    return {"operators": {op: {"enabled": op == operator} for op in OPERATORS}}


# name -> (values, api_versions, expected object count)
SCENARIOS: dict[str, tuple[dict[str, Any] | None, tuple[str, ...], int]] = {
    "defaults": (None, (), 29),
    "everything": (EVERYTHING, MONITORING, 47),
    "watch-namespaces": ({"watchNamespaces": ["team-a", "team-b"]}, (), 31),
    **{f"only-{op}": (only(op), (), 20) for op in OPERATORS},
    **{
        f"env-{env}": (env_values(env), MONITORING, count)
        for env, count in (("dev", 31), ("staging", 31), ("production", 35))
    },
    "env-production-no-prometheus": (env_values("production"), (), 27),
}


def scenario_objects(name: str) -> list[dict[str, Any]]:
    return copy.deepcopy(_scenario_render(name))


@functools.cache
def _scenario_render(name: str) -> list[dict[str, Any]]:
    """Each scenario is rendered once per run; tests get their own copy."""
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
                "allowWeakerPodSecurity": True,
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
    for obj in chart_objects(scenario_objects(scenario)):
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
        if o["kind"] in ("Deployment", "PodDisruptionBudget", "ServiceMonitor", "PodMonitor"):
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
    after_objs = chart_objects(render_objects(values, api_versions=MONITORING, chart=bumped))
    assert _selectors(after_objs) == before
    versions = {o["metadata"]["labels"]["app.kubernetes.io/version"] for o in after_objs}
    assert versions == {"9.9.9", "main"}  # the version label did change


@pytest.mark.parametrize("release", ["r" * 53, "ameide-operators-" + "x" * 36])
def test_names_fit_in_63_characters(release: str) -> None:
    objs = render_objects(EVERYTHING, name=release, api_versions=MONITORING)
    assert len(objs) == SCENARIOS["everything"][2]
    seen = set()
    for obj in objs:
        name = obj["metadata"]["name"]
        assert len(name) <= 63, name
        assert not name.endswith("-"), name
        assert (obj["kind"], name) not in seen
        seen.add((obj["kind"], name))
    for op in OPERATORS:  # the part that tells operators apart survives truncation
        assert any(o["metadata"]["name"].endswith(f"-{op}-operator") for o in objs)
