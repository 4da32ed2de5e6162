"""Phase 3 hardening: PDB, ServiceMonitor/PrometheusRule render modes, NetworkPolicy, scheduling."""

from __future__ import annotations

from typing import Any

import pytest

from tests.chart.helpers import MONITORING, NOTES, by_kind, objects, render, render_objects


def _of(objs: list[dict[str, Any]], kind: str, op: str) -> dict[str, Any]:
    return next(o for o in by_kind(objs, kind) if o["metadata"]["name"].endswith(f"-{op}-operator"))


def test_hardening_is_off_by_default() -> None:
    kinds = {o["kind"] for o in render_objects(api_versions=MONITORING)}
    assert kinds.isdisjoint(
        {"PodDisruptionBudget", "ServiceMonitor", "PrometheusRule", "NetworkPolicy"}
    )


def test_pdb_defaults_to_max_unavailable_one_and_is_per_operator() -> None:
    objs = render_objects({"operators": {"process": {"podDisruptionBudget": {"enabled": True}}}})
    (pdb,) = by_kind(objs, "PodDisruptionBudget")
    assert pdb["metadata"]["name"].endswith("-process-operator")
    assert pdb["spec"]["maxUnavailable"] == 1 and "minAvailable" not in pdb["spec"]


def test_pdb_min_available_global_with_per_operator_override() -> None:
    objs = render_objects(
        {
            "podDisruptionBudget": {"enabled": True, "minAvailable": "50%"},
            "operators": {
                "agent": {"podDisruptionBudget": {"enabled": False}},
                "domain": {"replicas": 3, "podDisruptionBudget": {"minAvailable": 2}},
            },
        }
    )
    pdbs = by_kind(objs, "PodDisruptionBudget")
    assert len(pdbs) == 3
    assert _of(objs, "PodDisruptionBudget", "domain")["spec"]["minAvailable"] == 2
    assert _of(objs, "PodDisruptionBudget", "uisurface")["spec"]["minAvailable"] == "50%"


@pytest.mark.parametrize(
    "api_versions, mode, rendered",
    [
        ((), "skipIfMissing", False),
        (
            ("monitoring.coreos.com/v1/ServiceMonitor", "monitoring.coreos.com/v1/PrometheusRule"),
            "skipIfMissing",
            True,
        ),
        (("monitoring.coreos.com/v1",), "skipIfMissing", True),
        ((), "alwaysRender", True),
        (MONITORING, "failIfMissing", True),
    ],
)
def test_monitoring_render_modes(api_versions: tuple[str, ...], mode: str, rendered: bool) -> None:
    values = {
        "serviceMonitor": {"enabled": True, "renderMode": mode},
        "prometheusRule": {"enabled": True, "renderMode": mode},
    }
    manifests = render(values, api_versions=api_versions)
    objs = objects(manifests)
    assert len(by_kind(objs, "ServiceMonitor")) == (4 if rendered else 0)
    assert len(by_kind(objs, "PrometheusRule")) == (4 if rendered else 0)
    assert ("no ServiceMonitor rendered" in manifests[NOTES]) is (not rendered)


def test_api_versions_option_reaches_capabilities() -> None:
    """The private render path really passes API versions (else the modes above prove nothing)."""
    values = {"serviceMonitor": {"enabled": True}}
    assert by_kind(render_objects(values, api_versions=("example.com/v1",)), "ServiceMonitor") == []
    assert len(by_kind(render_objects(values, api_versions=MONITORING), "ServiceMonitor")) == 4


def test_service_monitor_targets_the_metrics_service() -> None:
    objs = render_objects(
        {
            "serviceMonitor": {
                "enabled": True,
                "interval": "1m",
                "scrapeTimeout": "10s",
                "labels": {"release": "kps"},
            }
        },
        api_versions=MONITORING,
    )
    sm, svc = _of(objs, "ServiceMonitor", "agent"), _of(objs, "Service", "agent")
    assert sm["spec"]["selector"]["matchLabels"].items() <= svc["metadata"]["labels"].items()
    assert sm["spec"]["endpoints"] == [
        {
            "port": "metrics",
            "path": "/metrics",
            "scheme": "http",
            "interval": "1m",
            "scrapeTimeout": "10s",
        }
    ]
    assert sm["metadata"]["labels"]["release"] == "kps"
    assert sm["spec"]["namespaceSelector"] == {"matchNames": ["ameide-system"]}


def test_prometheus_rule_default_alerts() -> None:
    objs = render_objects({"prometheusRule": {"enabled": True}}, api_versions=MONITORING)
    rule = _of(objs, "PrometheusRule", "uisurface")
    rules = rule["spec"]["groups"][0]["rules"]
    assert [r["alert"] for r in rules] == [
        "UISurfaceOperatorDown",
        "UISurfaceOperatorReconcileErrors",
        "UISurfaceOperatorWorkQueueDepth",
    ]
    job = 'job="ameide-ameide-operators-uisurface-operator"'
    assert all(job in r["expr"] and 'namespace="ameide-system"' in r["expr"] for r in rules)
    assert (
        rules[0]["expr"].startswith("absent(up{") and rules[0]["labels"]["severity"] == "critical"
    )
    assert "controller_runtime_reconcile_errors_total" in rules[1]["expr"]
    assert rules[2]["expr"].endswith("> 100")
    assert "{{ $labels.controller }}" in rules[1]["annotations"]["description"]


def test_prometheus_rule_per_operator_deep_merge() -> None:
    objs = render_objects(
        {
            "prometheusRule": {
                "enabled": True,
                "alertLabels": {"team": "platform"},
                "additionalRules": [{"alert": "Extra", "expr": "vector(1) > 2"}],
            },
            "operators": {
                "domain": {
                    "prometheusRule": {
                        "operatorDown": {"enabled": False},
                        "workQueueDepth": {"threshold": 5},
                    }
                }
            },
        },
        api_versions=MONITORING,
    )
    domain = _of(objs, "PrometheusRule", "domain")["spec"]["groups"][0]["rules"]
    assert [r["alert"] for r in domain] == [
        "DomainOperatorReconcileErrors",
        "DomainOperatorWorkQueueDepth",
        "Extra",
    ]
    assert domain[1]["expr"].endswith("> 5") and domain[1]["for"] == "15m"
    assert domain[0]["labels"] == {"severity": "warning", "team": "platform"}
    agent = _of(objs, "PrometheusRule", "agent")["spec"]["groups"][0]["rules"]
    assert len(agent) == 4 and agent[2]["expr"].endswith("> 100")


def test_network_policy_allows_only_dns_api_server_and_metrics() -> None:
    objs = render_objects({"networkPolicy": {"enabled": True}})
    np = _of(objs, "NetworkPolicy", "domain")["spec"]
    assert np["policyTypes"] == ["Ingress", "Egress"]
    assert np["ingress"] == [{"ports": [{"port": "metrics", "protocol": "TCP"}]}]
    dns, api = np["egress"]
    assert dns["ports"] == [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}]
    assert dns["to"][0]["podSelector"] == {"matchLabels": {"k8s-app": "kube-dns"}}
    assert api == {"ports": [{"port": 443, "protocol": "TCP"}, {"port": 6443, "protocol": "TCP"}]}


def test_network_policy_cidrs_and_metrics_sources() -> None:
    peer = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}
    objs = render_objects(
        {
            "networkPolicy": {
                "enabled": True,
                "metrics": {"from": [peer]},
                "apiServer": {"cidrs": ["10.0.0.1/32", "fd00::1/128"]},
            },
            "operators": {
                "agent": {
                    "networkPolicy": {
                        "dns": {"namespaceSelector": {"matchLabels": {"name": "dns"}}}
                    }
                }
            },
        }
    )
    np = _of(objs, "NetworkPolicy", "process")["spec"]
    assert np["ingress"][0]["from"] == [peer]
    assert np["egress"][1]["to"] == [
        {"ipBlock": {"cidr": "10.0.0.1/32"}},
        {"ipBlock": {"cidr": "fd00::1/128"}},
    ]
    agent_dns = _of(objs, "NetworkPolicy", "agent")["spec"]["egress"][0]["to"][0]
    assert agent_dns["namespaceSelector"] == {
        "matchLabels": {"name": "dns"}
    }  # replaced, not merged


def _affinity(objs: list[dict[str, Any]], op: str) -> Any:
    return _of(objs, "Deployment", op)["spec"]["template"]["spec"].get("affinity")


def test_soft_anti_affinity_by_default_with_selector() -> None:
    term = _affinity(render_objects(), "domain")["podAntiAffinity"][
        "preferredDuringSchedulingIgnoredDuringExecution"
    ][0]
    assert term["weight"] == 100
    assert term["podAffinityTerm"]["topologyKey"] == "kubernetes.io/hostname"
    assert (
        term["podAffinityTerm"]["labelSelector"]["matchLabels"]["app.kubernetes.io/component"]
        == "domain-operator"
    )


def test_anti_affinity_modes_and_explicit_affinity() -> None:
    explicit = {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [
                    {"matchExpressions": [{"key": "pool", "operator": "In", "values": ["ops"]}]}
                ]
            }
        }
    }
    objs = render_objects(
        {
            "antiAffinity": {"mode": "hard"},
            "operators": {
                "agent": {"antiAffinity": {"mode": "none"}},
                "process": {"affinity": explicit},
            },
        }
    )
    assert (
        "requiredDuringSchedulingIgnoredDuringExecution"
        in _affinity(objs, "domain")["podAntiAffinity"]
    )
    assert _affinity(objs, "agent") is None
    assert _affinity(objs, "process") == explicit


def test_topology_spread_selector_filled_in_unless_given() -> None:
    given = {"matchLabels": {"custom": "yes"}}
    objs = render_objects(
        {
            "topologySpreadConstraints": [
                {
                    "maxSkew": 1,
                    "topologyKey": "topology.kubernetes.io/zone",
                    "whenUnsatisfiable": "ScheduleAnyway",
                },
                {
                    "maxSkew": 2,
                    "topologyKey": "kubernetes.io/hostname",
                    "whenUnsatisfiable": "DoNotSchedule",
                    "labelSelector": given,
                },
            ]
        }
    )
    tsc = _of(objs, "Deployment", "uisurface")["spec"]["template"]["spec"][
        "topologySpreadConstraints"
    ]
    assert (
        tsc[0]["labelSelector"]["matchLabels"]["app.kubernetes.io/component"]
        == "uisurface-operator"
    )
    assert tsc[1]["labelSelector"] == given


def test_scheduling_values_per_operator_replace_global() -> None:
    tol = [{"key": "a", "operator": "Exists", "effect": "NoSchedule"}]
    objs = render_objects(
        {
            "tolerations": tol,
            "nodeSelector": {"os": "linux"},
            "operators": {"domain": {"nodeSelector": {"pool": "ops"}}},
        }
    )
    spec = _of(objs, "Deployment", "domain")["spec"]["template"]["spec"]
    assert spec["nodeSelector"] == {"pool": "ops"} and spec["tolerations"] == tol
    assert _of(objs, "Deployment", "agent")["spec"]["template"]["spec"]["nodeSelector"] == {
        "os": "linux"
    }
