"""Values behaviour: schema strictness, contradictions, images, leader election, RBAC, overrides."""

from __future__ import annotations

from typing import Any

import helm_python
import pytest

from tests.chart.helpers import (
    CHART,
    MONITORING,
    NOTES,
    OPERATORS,
    by_kind,
    objects,
    render,
    render_objects,
)


def _container(objs: list[dict[str, Any]], op: str) -> dict[str, Any]:
    dep = next(
        o
        for o in by_kind(objs, "Deployment")
        if o["metadata"]["labels"]["app.kubernetes.io/component"] == f"{op}-operator"
    )
    container: dict[str, Any] = dep["spec"]["template"]["spec"]["containers"][0]
    return container


@pytest.mark.parametrize(
    "values, where",
    [
        ({"bogus": 1}, "at '': additional properties 'bogus' not allowed"),
        (
            {"operators": {"domain": {"replics": 2}}},
            "at '/operators/domain': additional properties 'replics'",
        ),
        ({"operators": {"cron": {"enabled": True}}}, "additional properties 'cron' not allowed"),
        (
            {"podDisruptionBudget": {"enabled": True, "minAvaliable": 1}},
            "'minAvaliable' not allowed",
        ),
        (
            {"operators": {"agent": {"serviceMonitor": {"intervall": "1m"}}}},
            "'intervall' not allowed",
        ),
        ({"serviceMonitor": {"renderMode": "sometimes"}}, "/serviceMonitor/renderMode"),
        (
            {"operators": {"domain": {"image": {"digest": "sha256:abc"}}}},
            "/operators/domain/image/digest",
        ),
        ({"operators": {"domain": {"replicas": "2"}}}, "got string, want integer"),
    ],
)
def test_schema_rejects_unknown_keys_and_bad_types(values: dict[str, Any], where: str) -> None:
    with pytest.raises(helm_python.HelmValuesError) as err:
        render(values)
    assert where in str(err.value)


def test_lint_reports_unknown_key_as_error() -> None:
    report = helm_python.lint(CHART, {"operators": {"domain": {"replics": 2}}})
    assert report["errors"]


@pytest.mark.parametrize(
    "values, api_versions, message",
    [
        (
            {
                "podDisruptionBudget": {"enabled": True, "minAvailable": 1, "maxUnavailable": 1},
                "operators": {"process": {"replicas": 2}},
            },
            (),
            "operators.domain: podDisruptionBudget.minAvailable and "
            "podDisruptionBudget.maxUnavailable "
            "are both set",
        ),
        (
            {
                "operators": {
                    "agent": {
                        "podDisruptionBudget": {
                            "enabled": True,
                            "minAvailable": 1,
                            "maxUnavailable": "50%",
                        }
                    }
                }
            },
            (),
            "operators.agent: podDisruptionBudget.minAvailable and "
            "podDisruptionBudget.maxUnavailable",
        ),
        (
            {"serviceMonitor": {"enabled": True, "renderMode": "failIfMissing"}},
            (),
            "operators.domain: serviceMonitor.renderMode is failIfMissing but the cluster "
            "does not serve "
            "monitoring.coreos.com/v1 ServiceMonitor; install the Prometheus Operator CRDs first",
        ),
        (
            {"prometheusRule": {"enabled": True, "renderMode": "failIfMissing"}},
            (),
            "prometheusRule.renderMode is failIfMissing but the cluster does not serve "
            "monitoring.coreos.com/v1 PrometheusRule",
        ),
        (
            {"podDisruptionBudget": {"enabled": True, "minAvailable": 1}},
            (),
            "operators.domain: podDisruptionBudget.minAvailable (1) keeps all 1 replica(s) up, "
            "so no pod could ever be evicted",
        ),
        (
            {"serviceMonitor": {"enabled": True}, "metricsService": {"enabled": False}},
            MONITORING,
            "serviceMonitor.enabled needs the metrics Service",
        ),
        (
            {"operators": {"uisurface": {"healthProbeBindAddress": ":8080"}}},
            (),
            "operators.uisurface: metricsBindAddress and healthProbeBindAddress use the same "
            "port 8080",
        ),
        ({"serviceAccount": {"create": False}}, (), "serviceAccount.name is empty"),
    ],
)
def test_contradictions_fail_with_a_clear_message(
    values: dict[str, Any], api_versions: tuple[str, ...], message: str
) -> None:
    with pytest.raises(helm_python.HelmRenderError) as err:
        render(values, api_versions=api_versions)
    assert message in str(err.value)
    assert "templates/validate.yaml" in str(err.value)


def test_contradiction_in_a_disabled_operator_is_ignored() -> None:
    values = {
        "operators": {
            "domain": {
                "enabled": False,
                "podDisruptionBudget": {"enabled": True, "minAvailable": 1, "maxUnavailable": 1},
            }
        }
    }
    assert len(by_kind(render_objects(values), "Deployment")) == 3


def test_fail_if_missing_renders_when_the_api_is_served() -> None:
    values = {"serviceMonitor": {"enabled": True, "renderMode": "failIfMissing"}}
    assert len(by_kind(render_objects(values, api_versions=MONITORING), "ServiceMonitor")) == 4


def test_image_defaults_to_app_version_never_latest() -> None:
    objs = render_objects()
    for op in OPERATORS:
        assert _container(objs, op)["image"] == f"ghcr.io/ameideio/{op}-operator:0.1.0"


def test_image_tag_digest_and_registry_overrides() -> None:
    digest = "sha256:" + "0f" * 32
    objs = render_objects(
        {
            "global": {
                "imageRegistry": "registry.example.com/mirror/",
                "imagePullPolicy": "Always",
            },
            "operators": {
                "domain": {"image": {"tag": "dev"}},
                "process": {"image": {"digest": digest}},
                "agent": {"image": {"registry": "other.io", "repository": "x/agent"}},
            },
        }
    )
    assert _container(objs, "domain")["image"] == "registry.example.com/mirror/domain-operator:dev"
    assert _container(objs, "process")["image"] == (
        f"registry.example.com/mirror/process-operator:0.1.0@{digest}"
    )
    assert _container(objs, "agent")["image"] == "other.io/x/agent:0.1.0"
    assert _container(objs, "agent")["imagePullPolicy"] == "Always"


def test_args_ports_and_probes_follow_bind_addresses() -> None:
    objs = render_objects(
        {
            "operators": {
                "agent": {"metricsBindAddress": "127.0.0.1:9090", "healthProbeBindAddress": ":9091"}
            }
        }
    )
    c = _container(objs, "agent")
    assert c["args"][:3] == [
        "--leader-elect=true",
        "--metrics-bind-address=127.0.0.1:9090",
        "--health-probe-bind-address=:9091",
    ]
    assert {p["name"]: p["containerPort"] for p in c["ports"]} == {"metrics": 9090, "health": 9091}
    assert c["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "health"}
    assert c["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "health"}
    svc = next(
        s for s in by_kind(objs, "Service") if s["metadata"]["name"].endswith("agent-operator")
    )
    assert svc["spec"]["ports"][0]["port"] == 9090


def test_leader_election_forced_on_with_replicas_above_one() -> None:
    values = {
        "operators": {
            "domain": {"replicas": 2, "leaderElection": False},
            "process": {"leaderElection": False},
        }
    }
    manifests = render(values)
    objs = objects(manifests)
    assert "--leader-elect=true" in _container(objs, "domain")["args"]
    assert "--leader-elect=false" in _container(objs, "process")["args"]
    assert (
        "leader election was switched on because replicas > 1 (operators.domain" in manifests[NOTES]
    )
    assert "operators.process.leaderElection" not in manifests[NOTES]


def test_leader_election_role_only_when_some_operator_elects() -> None:
    off = {
        "operators": {op: {"leaderElection": False} for op in OPERATORS},
        "tests": {"enabled": False},
    }
    kinds = [o["kind"] for o in render_objects(off)]
    assert "Role" not in kinds and "RoleBinding" not in kinds
    roles = by_kind(render_objects(), "Role")
    (role,) = [r for r in roles if r["metadata"]["name"].endswith("-leader-election")]
    assert role["rules"][0] == {
        "apiGroups": ["coordination.k8s.io"],
        "resources": ["leases"],
        "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"],
    }
    assert role["metadata"]["namespace"] == "ameide-system"


def _manager_role(objs: list[dict[str, Any]], kind: str = "ClusterRole") -> dict[str, Any]:
    (role,) = [r for r in by_kind(objs, kind) if r["metadata"]["name"].endswith("-manager")]
    return role


def test_cluster_role_is_exactly_the_seed_table() -> None:
    role = _manager_role(render_objects())
    table = {
        (g, r, tuple(v))
        for rule in role["rules"]
        for g in rule["apiGroups"]
        for r in rule["resources"]
        for v in [rule["verbs"]]
    }
    star = ("*",)
    expected = {
        ("ameide.io", r, star)
        for r in ("domains", "processes", "agents", "uisurfaces", "*/status", "*/finalizers")
    }
    expected |= {
        ("apps", "deployments", star),
        ("batch", "jobs", star),
        ("batch", "cronjobs", star),
        ("", "services", star),
        ("", "configmaps", star),
        ("", "secrets", star),
        ("networking.k8s.io", "networkpolicies", star),
        ("gateway.networking.k8s.io", "httproutes", star),
        ("external-secrets.io", "externalsecrets", star),
        ("coordination.k8s.io", "leases", star),
        ("", "events", ("create", "patch")),
    }
    assert table == expected


def test_one_shared_service_account_bound_everywhere() -> None:
    objs = render_objects({"serviceAccount": {"name": "ops", "annotations": {"a": "b"}}})
    objs = [o for o in objs if o["metadata"]["labels"]["app.kubernetes.io/component"] != "test"]
    (sa,) = by_kind(objs, "ServiceAccount")
    assert sa["metadata"]["name"] == "ops" and sa["automountServiceAccountToken"] is False
    for binding in by_kind(objs, "ClusterRoleBinding") + by_kind(objs, "RoleBinding"):
        assert binding["subjects"] == [
            {"kind": "ServiceAccount", "name": "ops", "namespace": "ameide-system"}
        ]
    for dep in by_kind(objs, "Deployment"):
        spec = dep["spec"]["template"]["spec"]
        assert spec["serviceAccountName"] == "ops" and spec["automountServiceAccountToken"] is True


def test_existing_service_account_and_no_rbac() -> None:
    objs = render_objects(
        {
            "serviceAccount": {"create": False, "name": "existing"},
            "rbac": {"create": False},
            "tests": {"enabled": False},
        }
    )
    assert {o["kind"] for o in objs} == {"CustomResourceDefinition", "Deployment", "Service"}
    assert {
        d["spec"]["template"]["spec"]["serviceAccountName"] for d in by_kind(objs, "Deployment")
    } == {"existing"}


def test_disabling_an_operator_removes_all_its_objects() -> None:
    everything = {
        "podDisruptionBudget": {"enabled": True, "maxUnavailable": 1},
        "serviceMonitor": {"enabled": True},
        "prometheusRule": {"enabled": True},
        "networkPolicy": {"enabled": True, "apiServer": {"cidrs": ["10.0.0.1/32"]}},
    }
    full = render_objects(everything, api_versions=MONITORING)
    for op in OPERATORS:
        values = {**everything, "operators": {op: {"enabled": False}}}
        objs = render_objects(values, api_versions=MONITORING)
        assert len(objs) == len(full) - 7  # its 6 objects and its `helm test` pod
        assert not [
            o
            for o in objs
            if o["metadata"]["name"].endswith((f"-{op}-operator", f"-test-{op}"))
            or o["metadata"]["labels"]["app.kubernetes.io/component"] == f"{op}-operator"
        ]


def test_all_operators_disabled_renders_only_the_crds_and_their_roles() -> None:
    manifests = render({"operators": {op: {"enabled": False} for op in OPERATORS}})
    kinds = sorted(o["kind"] for o in objects(manifests))
    assert kinds == ["ClusterRole"] * 2 + ["CustomResourceDefinition"] * 4
    assert "only manages the CRDs" in manifests[NOTES]


def test_root_enabled_false_renders_nothing() -> None:
    manifests = render({"enabled": False, "networkPolicy": {"enabled": True}})
    assert objects(manifests) == []
    assert "The chart is disabled (enabled=false)" in manifests[NOTES]


def test_notes_speak_to_an_oci_install() -> None:
    """Someone who installed from the registry has no local examples/ or crds/ directory."""
    notes = render()[NOTES]
    assert "kubectl -n ameide-system wait deploy -l app.kubernetes.io/instance=ameide" in notes
    assert "helm test ameide -n ameide-system" in notes
    pull = "helm pull oci://ghcr.io/ameideio/charts/ameide-operators --version 0.1.0 --untar"
    assert pull in notes
    assert "-f /tmp/ameide-chart/ameide-operators/examples/domain-sample.yaml" in notes
    assert "-f examples/" not in notes and "-f crds/" not in notes
    assert "`helm upgrade` upgrades them" in notes and "helm.sh/resource-policy: keep" in notes
    for op in OPERATORS:
        assert f"deployment/ameide-ameide-operators-{op}-operator" in notes
    unkept = render({"crds": {"keep": False}})[NOTES]
    assert "`helm uninstall` deletes the CRDs and with them every Domain, Process" in unkept
    manual = render({"crds": {"install": False}})[NOTES]
    assert "kubectl apply --server-side -f /tmp/ameide-chart/ameide-operators/files/crds/" in manual


def test_common_and_pod_labels_never_reach_selectors() -> None:
    objs = render_objects(
        {
            "commonLabels": {"team": "x"},
            "operators": {"domain": {"podLabels": {"tier": "ctl"}, "podAnnotations": {"a": "1"}}},
        }
    )
    dep = next(d for d in by_kind(objs, "Deployment") if "domain" in d["metadata"]["name"])
    assert dep["metadata"]["labels"]["team"] == "x"
    assert dep["spec"]["template"]["metadata"]["labels"]["tier"] == "ctl"
    assert dep["spec"]["template"]["metadata"]["annotations"]["a"] == "1"
    assert "team" not in dep["spec"]["selector"]["matchLabels"]
    assert "tier" not in dep["spec"]["selector"]["matchLabels"]
