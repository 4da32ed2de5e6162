"""Phase 3 hardening: PDB, ServiceMonitor/PrometheusRule render modes, NetworkPolicy, scheduling."""

from __future__ import annotations

from typing import Any

import helm_python
import pytest

from tests.chart import kubeapi
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
                "process": {"replicas": 3},
                "uisurface": {"replicas": 2},
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
    objs = render_objects(
        {"prometheusRule": {"enabled": True}, "serviceMonitor": {"enabled": True}},
        api_versions=MONITORING,
    )
    rule = _of(objs, "PrometheusRule", "uisurface")
    rules = rule["spec"]["groups"][0]["rules"]
    assert [r["alert"] for r in rules] == [
        "UISurfaceOperatorDown",
        "UISurfaceOperatorReconcileErrors",
        "UISurfaceOperatorWorkQueueDepth",
    ]
    job = 'job="ameide-ameide-operators-uisurface-operator"'
    assert all(job in r["expr"] and 'namespace="ameide-system"' in r["expr"] for r in rules)
    assert rules[0]["expr"] == (
        f'(sum by (namespace, job) (up{{namespace="ameide-system", {job}}}) == 0)'
        f' or absent(up{{namespace="ameide-system", {job}}})'
    )
    assert rules[0]["labels"]["severity"] == "critical"
    assert "controller_runtime_reconcile_errors_total" in rules[1]["expr"]
    assert rules[2]["expr"].endswith("> 100")
    assert "{{ $labels.controller }}" in rules[1]["annotations"]["description"]


def test_prometheus_rule_per_operator_deep_merge() -> None:
    objs = render_objects(
        {
            "serviceMonitor": {"enabled": True},
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


API_PORTS = [{"port": 443, "protocol": "TCP"}, {"port": 6443, "protocol": "TCP"}]


def test_network_policy_allows_only_dns_api_server_and_metrics() -> None:
    objs = render_objects({"networkPolicy": {"enabled": True, "apiServer": {"cidrs": ["10.0.0.1/32"]}}})
    np = _of(objs, "NetworkPolicy", "domain")["spec"]
    assert np["policyTypes"] == ["Ingress", "Egress"]
    assert np["ingress"] == [{"ports": [{"port": "metrics", "protocol": "TCP"}]}]
    dns, api = np["egress"]
    assert dns["ports"] == [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}]
    assert dns["to"][0]["podSelector"] == {"matchLabels": {"k8s-app": "kube-dns"}}
    assert api == {"ports": API_PORTS, "to": [{"ipBlock": {"cidr": "10.0.0.1/32"}}]}


def test_network_policy_without_an_api_server_address_fails() -> None:
    """Issue 12: empty cidrs used to render an egress rule without `to:` (any address)."""
    with pytest.raises(helm_python.HelmRenderError) as err:
        render({"networkPolicy": {"enabled": True}})
    assert (
        "operators.domain: networkPolicy.apiServer.cidrs is empty and the kubernetes Service's "
        "addresses could not be looked up" in str(err.value)
    )
    assert "networkPolicy.apiServer.allowAnyDestination=true" in str(err.value)


def test_network_policy_any_destination_only_when_asked() -> None:
    values = {"networkPolicy": {"enabled": True, "apiServer": {"allowAnyDestination": True}}}
    api = _of(render_objects(values), "NetworkPolicy", "agent")["spec"]["egress"][1]
    assert api == {"ports": API_PORTS}


KUBERNETES_SERVICE = {
    "apiVersion": "v1",
    "kind": "Service",
    "metadata": {"name": "kubernetes", "namespace": "default",
                 "labels": {"component": "apiserver", "provider": "kubernetes"}},
    "spec": {"clusterIP": "10.96.0.1", "clusterIPs": ["10.96.0.1"], "type": "ClusterIP",
             "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": 6443}]},
}  # fmt: skip


def _endpoint_slice(name: str, service: str, addresses: list[str], port: int) -> dict[str, Any]:
    return {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {"name": name, "namespace": "default",
                     "labels": {"kubernetes.io/service-name": service}},
        "addressType": "IPv4",
        "endpoints": [{"addresses": [a], "conditions": {"ready": True}} for a in addresses],
        "ports": [{"name": "https", "port": port, "protocol": "TCP"}],
    }  # fmt: skip


def test_network_policy_looks_up_the_api_server_at_install_time() -> None:
    """With a cluster, the `kubernetes` Service and its EndpointSlices name the destination;
    another Service's slice in `default` is ignored."""
    cluster = [
        KUBERNETES_SERVICE,
        _endpoint_slice("kubernetes", "kubernetes", ["172.18.0.2", "172.18.0.3"], 16443),
        _endpoint_slice("web-abcde", "web", ["10.244.1.7"], 8080),
    ]
    with kubeapi.serve(cluster) as (url, requested):
        objs = objects(render({"networkPolicy": {"enabled": True}}, cluster=url))
    api = _of(objs, "NetworkPolicy", "process")["spec"]["egress"][1]
    assert api["to"] == [
        {"ipBlock": {"cidr": "10.96.0.1/32"}},
        {"ipBlock": {"cidr": "172.18.0.2/32"}},
        {"ipBlock": {"cidr": "172.18.0.3/32"}},
    ]
    assert [p["port"] for p in api["ports"]] == [443, 6443, 16443]
    assert "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices" in requested


def test_network_policy_lookup_finding_nothing_still_fails() -> None:
    with kubeapi.serve([]) as (url, _), pytest.raises(helm_python.HelmRenderError) as err:
        render({"networkPolicy": {"enabled": True}}, cluster=url)
    assert "networkPolicy.apiServer.cidrs is empty" in str(err.value)


def test_network_policy_extra_rules_are_appended() -> None:
    extra_in = {"from": [{"podSelector": {"matchLabels": {"app": "debug"}}}],
                "ports": [{"port": "health", "protocol": "TCP"}]}  # fmt: skip
    extra_out = {"to": [{"ipBlock": {"cidr": "10.20.0.0/16"}}], "ports": [{"port": 5432}]}
    values = {
        "networkPolicy": {"enabled": True, "apiServer": {"cidrs": ["10.0.0.1/32"]}},
        "operators": {"domain": {"networkPolicy": {"extraIngress": [extra_in],
                                                   "extraEgress": [extra_out]}}},
    }  # fmt: skip
    objs = render_objects(values)
    domain = _of(objs, "NetworkPolicy", "domain")["spec"]
    assert domain["ingress"][1:] == [extra_in] and domain["egress"][2:] == [extra_out]
    assert len(_of(objs, "NetworkPolicy", "agent")["spec"]["egress"]) == 2


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
