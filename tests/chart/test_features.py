"""What operator charts offer (issue 12), each with the contradiction or refusal it brings.

Why: cert-manager's, kyverno's and external-secrets' charts set users' expectations: aggregated
RBAC, namespace-scoped installs, extension points (extra volumes, containers, objects), rollout
and probe knobs, `helm test`. Each feature is rendered through Helm's engine and each refusal is
checked with its message, so a platform team learns the fix from the error alone.
"""

from __future__ import annotations

import re
from typing import Any

import helm_python
import pytest

from tests.chart.helpers import (
    MONITORING,
    OPERATORS,
    assert_restricted,
    by_kind,
    monitoring_errors,
    objects,
    pod_specs,
    render,
    render_objects,
)

RESERVED = ("app.kubernetes.io/component", "app.kubernetes.io/name", "app.kubernetes.io/instance",
            "app.kubernetes.io/managed-by", "helm.sh/chart")  # fmt: skip


def _deployment(objs: list[dict[str, Any]], op: str) -> dict[str, Any]:
    return next(d for d in by_kind(objs, "Deployment") if d["metadata"]["name"].endswith(f"-{op}-operator"))


def _pod(objs: list[dict[str, Any]], op: str) -> dict[str, Any]:
    spec: dict[str, Any] = _deployment(objs, op)["spec"]["template"]["spec"]
    return spec


def _render_error(values: dict[str, Any], api_versions: tuple[str, ...] = ()) -> str:
    with pytest.raises(helm_python.HelmRenderError) as err:
        render(values, api_versions=api_versions)
    assert "templates/validate.yaml" in str(err.value)
    return str(err.value)


def _schema_error(values: dict[str, Any]) -> str:
    with pytest.raises(helm_python.HelmValuesError) as err:
        render(values)
    return str(err.value)


# --------------------------------------------------------------------------------------------
# issue 12's fixes 1, 3 and 5


def test_global_is_open_and_the_root_has_enabled() -> None:
    objs = render_objects({"enabled": True, "global": {"storageClass": "fast", "postgres": {"x": 1}}})
    assert len(by_kind(objs, "Deployment")) == 4
    assert "/global/imagePullPolicy" in _schema_error({"global": {"imagePullPolicy": "Sometimes"}})


@pytest.mark.parametrize(
    "pdb, replicas, message",
    [
        ({"minAvailable": "100%"}, 1, 'minAvailable (100%) keeps all 1 replica(s) up'),
        ({"minAvailable": "50%"}, 1, 'minAvailable (50%) keeps all 1 replica(s) up'),
        ({"minAvailable": "67%"}, 3, 'minAvailable (67%) keeps all 3 replica(s) up'),
        ({"minAvailable": 2}, 2, "minAvailable (2) keeps all 2 replica(s) up"),
        ({"maxUnavailable": 0}, 3, "podDisruptionBudget.maxUnavailable is 0, so no pod could ever"),
        ({"maxUnavailable": "0%"}, 3, "podDisruptionBudget.maxUnavailable is 0%"),
    ],
)
def test_pdb_that_blocks_every_drain_is_refused(pdb: dict[str, Any], replicas: int, message: str) -> None:
    values = {"operators": {"process": {"replicas": replicas,
                                        "podDisruptionBudget": {"enabled": True, **pdb}}}}  # fmt: skip
    error = _render_error(values)
    assert f"operators.process: podDisruptionBudget.{message}" in error or message in error
    assert "node drains would hang" in error


@pytest.mark.parametrize(
    "pdb, replicas",
    [({"minAvailable": "50%"}, 2), ({"minAvailable": "66%"}, 3), ({"maxUnavailable": "10%"}, 1),
     ({"maxUnavailable": 1}, 1), ({}, 1)],
)  # fmt: skip
def test_pdb_that_allows_an_eviction_renders(pdb: dict[str, Any], replicas: int) -> None:
    values = {"operators": {"agent": {"replicas": replicas,
                                      "podDisruptionBudget": {"enabled": True, **pdb}}}}  # fmt: skip
    (rendered,) = by_kind(render_objects(values), "PodDisruptionBudget")
    assert rendered["spec"].get("minAvailable", rendered["spec"].get("maxUnavailable")) is not None


@pytest.mark.parametrize("label", RESERVED)
@pytest.mark.parametrize(
    "where",
    ["commonLabels", "podLabels", "serviceMonitor", "prometheusRule", "grafanaDashboard"],
)
def test_user_labels_cannot_replace_chart_labels(where: str, label: str) -> None:
    """Issue 12: `commonLabels`/`podLabels` used to duplicate keys and take the selector's place."""
    by_place: dict[str, dict[str, Any]] = {
        "commonLabels": {"commonLabels": {label: "x"}},
        "podLabels": {"operators": {"uisurface": {"podLabels": {label: "x"}}}},
        "serviceMonitor": {"serviceMonitor": {"enabled": True, "labels": {label: "x"}}},
        "prometheusRule": {"operators": {"agent": {"prometheusRule": {"labels": {label: "x"}}}}},
        "grafanaDashboard": {"grafanaDashboard": {"labels": {label: "x"}}},
    }
    error = _render_error(by_place[where], MONITORING)
    assert f"the label {label} is set by the chart itself" in error


def test_user_labels_land_once_and_selectors_stay() -> None:
    values = {"commonLabels": {"team": "a"}, "operators": {"domain": {"podLabels": {"tier": "b"}}}}
    text = render(values)["ameide-operators/templates/domain/deployment.yaml"]
    assert len(re.findall(r"^\s+app\.kubernetes\.io/component:", text, re.MULTILINE)) == 4
    pod = _deployment(render_objects(values), "domain")["spec"]["template"]["metadata"]["labels"]
    assert pod["tier"] == "b" and pod["team"] == "a"
    assert pod["app.kubernetes.io/component"] == "domain-operator"


# --------------------------------------------------------------------------------------------
# pod security and images


SC = "/securityContext"
WEAKER: list[tuple[dict[str, Any], str]] = [
    ({"podSecurityContext": {"runAsNonRoot": False}}, "at '/podSecurityContext/runAsNonRoot'"),
    ({"podSecurityContext": {"runAsNonRoot": None}}, "at '/podSecurityContext'"),
    ({"podSecurityContext": {"runAsUser": 0}}, "at '/podSecurityContext/runAsUser'"),
    ({"securityContext": {"privileged": True}}, f"at '{SC}/privileged'"),
    ({"securityContext": {"allowPrivilegeEscalation": True}}, f"at '{SC}/allowPrivilegeEscalation'"),
    ({"securityContext": {"capabilities": {"add": ["SYS_ADMIN"]}}}, f"at '{SC}/capabilities/add/0'"),
    ({"securityContext": {"capabilities": {"drop": ["NET_RAW"]}}}, f"at '{SC}/capabilities/drop'"),
    ({"securityContext": {"readOnlyRootFilesystem": False}}, f"at '{SC}/readOnlyRootFilesystem'"),
    ({"securityContext": {"seccompProfile": {"type": "Unconfined"}}}, f"at '{SC}/seccompProfile/type'"),
    ({"operators": {"domain": {"extraVolumes": [{"name": "host", "hostPath": {"path": "/"}}]}}},
     "invalid propertyName 'hostPath'"),
    ({"operators": {"agent": {"extraContainers": [
        {"name": "s", "image": "x:1", "securityContext": {"privileged": True}}]}}},
     "at '/operators/agent/extraContainers/0/securityContext/privileged'"),
    ({"operators": {"agent": {"initContainers": [
        {"name": "s", "image": "x:1", "ports": [{"containerPort": 80, "hostPort": 80}]}]}}},
     "at '/operators/agent/initContainers/0/ports/0'"),
]  # fmt: skip


@pytest.mark.parametrize("values, where", WEAKER)
def test_schema_refuses_weaker_pod_security(values: dict[str, Any], where: str) -> None:
    assert where in _schema_error(values)


@pytest.mark.parametrize("values", [v for v, _ in WEAKER if "podSecurityContext" not in v])
def test_the_escape_hatch_accepts_weaker_pods(values: dict[str, Any]) -> None:
    """`allowWeakerPodSecurity` renders them, and the pods are then no longer restricted."""
    objs = render_objects({**values, "allowWeakerPodSecurity": True})
    with pytest.raises(AssertionError):
        for name, spec in pod_specs(objs):
            assert_restricted(name, spec)


def test_net_bind_service_is_the_one_capability_allowed() -> None:
    values = {"securityContext": {"capabilities": {"add": ["NET_BIND_SERVICE"]}}}
    for name, spec in pod_specs(render_objects(values)):
        assert_restricted(name, spec)


@pytest.mark.parametrize("tag", ["latest", "Latest", "LATEST"])
def test_latest_tag_is_refused(tag: str) -> None:
    operator = {"operators": {"process": {"image": {"tag": tag}}}}
    assert "/operators/process/image/tag" in _schema_error(operator)
    assert "/tests/image/tag" in _schema_error({"tests": {"image": {"tag": tag}}})


def test_sidecars_and_init_containers_inherit_the_restricted_context() -> None:
    sidecar = {"name": "proxy", "image": "ghcr.io/x/proxy:1.2.3",
               "securityContext": {"capabilities": {"add": ["NET_BIND_SERVICE"]}}}  # fmt: skip
    values = {"operators": {"domain": {
        "extraContainers": [sidecar],
        "initContainers": [{"name": "migrate", "image": "ghcr.io/x/migrate:1.0.0"}],
        "extraVolumes": [{"name": "certs", "secret": {"secretName": "domain-certs"}}],
        "extraVolumeMounts": [{"name": "certs", "mountPath": "/certs", "readOnly": True}],
    }}}  # fmt: skip
    spec = _pod(render_objects(values), "domain")
    proxy = spec["containers"][1]
    assert proxy["securityContext"]["capabilities"] == {"add": ["NET_BIND_SERVICE"], "drop": ["ALL"]}
    assert proxy["securityContext"]["readOnlyRootFilesystem"] is True
    assert spec["initContainers"][0]["securityContext"]["runAsNonRoot"] is True
    assert spec["volumes"][1] == {"name": "certs", "secret": {"secretName": "domain-certs"}}
    assert spec["containers"][0]["volumeMounts"][1]["mountPath"] == "/certs"
    assert_restricted("Deployment/domain", spec)


# --------------------------------------------------------------------------------------------
# RBAC


def test_aggregated_cluster_roles_for_view_edit_admin() -> None:
    roles = {r["metadata"]["name"]: r for r in by_kind(render_objects(), "ClusterRole")}
    view, edit = roles["ameide-ameide-operators-view"], roles["ameide-ameide-operators-edit"]
    agg = "rbac.authorization.k8s.io/aggregate-to-"
    assert {k for k, v in view["metadata"]["labels"].items() if k.startswith(agg) and v == "true"} == {
        f"{agg}view", f"{agg}edit", f"{agg}admin"}  # fmt: skip
    assert {k for k in edit["metadata"]["labels"] if k.startswith(agg)} == {f"{agg}edit", f"{agg}admin"}
    assert view["rules"][0]["verbs"] == ["get", "list", "watch"]
    assert "uisurfaces/status" in view["rules"][0]["resources"]
    assert set(edit["rules"][0]["verbs"]) == {"create", "update", "patch", "delete", "deletecollection"}
    assert "*/status" not in str(edit["rules"])
    off = render_objects({"rbac": {"aggregateClusterRoles": False}})
    assert not [r for r in by_kind(off, "ClusterRole") if r["metadata"]["name"].endswith(("-view", "-edit"))]


def test_watch_namespaces_swap_the_cluster_role_for_namespaced_roles() -> None:
    cluster = render_objects()
    manager_rules = next(r for r in by_kind(cluster, "ClusterRole")
                         if r["metadata"]["name"].endswith("-manager"))["rules"]  # fmt: skip
    objs = render_objects({"watchNamespaces": ["team-a", "team-b"]})
    assert not [r for r in by_kind(objs, "ClusterRole") if r["metadata"]["name"].endswith("-manager")]
    assert not [b for b in by_kind(objs, "ClusterRoleBinding") if b["metadata"]["name"].endswith("-manager")]
    roles = [r for r in by_kind(objs, "Role") if r["metadata"]["name"].endswith("-manager")]
    assert [r["metadata"]["namespace"] for r in roles] == ["team-a", "team-b"]
    assert all(r["rules"] == manager_rules for r in roles)
    bindings = [b for b in by_kind(objs, "RoleBinding") if b["metadata"]["name"].endswith("-manager")]
    assert [b["subjects"][0]["namespace"] for b in bindings] == ["ameide-system"] * 2
    env = {e["name"]: e.get("value") for e in _pod(objs, "agent")["containers"][0]["env"]}
    assert env["WATCH_NAMESPACE"] == "team-a,team-b"
    assert "WATCH_NAMESPACE" not in str(_pod(cluster, "agent"))
    assert "/watchNamespaces/0" in _schema_error({"watchNamespaces": ["Team_A"]})


# --------------------------------------------------------------------------------------------
# Deployment and pod knobs


def test_deployment_and_pod_knobs() -> None:
    values = {
        "deploymentAnnotations": {"a": "top", "b": "top"},
        "operators": {"process": {"deploymentAnnotations": {"b": "process"}}},
        "revisionHistoryLimit": 2,
        "startupProbe": {"failureThreshold": 30, "periodSeconds": 2},
        "hostAliases": [{"ip": "10.1.2.3", "hostnames": ["vault.internal"]}],
        "dnsConfig": {"options": [{"name": "ndots", "value": "2"}]},
        "runtimeClassName": "gvisor",
        "logging": {"level": "debug", "format": "console"},
        "leaderElectionTimings": {"leaseDurationSeconds": 60, "renewDeadlineSeconds": 40,
                                  "retryPeriodSeconds": 5},
    }  # fmt: skip
    objs = render_objects(values)
    dep = _deployment(objs, "process")
    assert dep["metadata"]["annotations"] == {"a": "top", "b": "process"}
    assert dep["spec"]["revisionHistoryLimit"] == 2
    spec = dep["spec"]["template"]["spec"]
    assert spec["hostAliases"] == values["hostAliases"] and spec["dnsConfig"] == values["dnsConfig"]
    assert spec["runtimeClassName"] == "gvisor"
    manager = spec["containers"][0]
    assert manager["startupProbe"] == {"failureThreshold": 30, "periodSeconds": 2,
                                       "httpGet": {"path": "/healthz", "port": "health"}}  # fmt: skip
    assert manager["args"][3:] == [
        "--zap-log-level=debug", "--zap-encoder=console", "--leader-elect-lease-duration=60s",
        "--leader-elect-renew-deadline=40s", "--leader-elect-retry-period=5s",
    ]  # fmt: skip
    default = _pod(render_objects(), "agent")["containers"][0]
    assert "startupProbe" not in default
    assert default["args"][3:] == ["--zap-log-level=info", "--zap-encoder=json"]


def test_recreate_strategy_drops_rolling_update_and_zero_zero_is_refused() -> None:
    dep = _deployment(render_objects({"strategy": {"type": "Recreate"}}), "domain")
    assert dep["spec"]["strategy"] == {"type": "Recreate"}
    error = _render_error({"strategy": {"rollingUpdate": {"maxSurge": 0, "maxUnavailable": "0%"}}})
    assert "strategy.rollingUpdate: maxSurge and maxUnavailable are both 0" in error


@pytest.mark.parametrize(
    "timings, message",
    [
        ({"leaseDurationSeconds": 10},
         "leaseDurationSeconds (10) must be greater than renewDeadlineSeconds (10)"),
        ({"renewDeadlineSeconds": 5, "retryPeriodSeconds": 5},
         "renewDeadlineSeconds (5) must be greater than 1.2 x retryPeriodSeconds (5)"),
    ],
)  # fmt: skip
def test_leader_election_timings_client_go_refuses(timings: dict[str, int], message: str) -> None:
    assert f"operators.domain: leaderElectionTimings.{message}" in _render_error(
        {"leaderElectionTimings": timings}
    )


def test_unhealthy_pod_eviction_policy() -> None:
    values = {"podDisruptionBudget": {"enabled": True, "unhealthyPodEvictionPolicy": "AlwaysAllow"}}
    pdbs = by_kind(render_objects(values), "PodDisruptionBudget")
    assert {p["spec"]["unhealthyPodEvictionPolicy"] for p in pdbs} == {"AlwaysAllow"}
    assert "unhealthyPodEvictionPolicy" not in str(by_kind(render_objects(
        {"podDisruptionBudget": {"enabled": True}}), "PodDisruptionBudget"))  # fmt: skip


def test_extra_objects_go_through_tpl() -> None:
    values = {"extraObjects": [
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "{{ .Release.Name }}-a"},
         "data": {"ns": "{{ .Release.Namespace }}"}},
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n"
        "  name: {{ include \"ameide-operators.fullname\" . }}-b\n",
    ]}  # fmt: skip
    cms = {c["metadata"]["name"]: c for c in by_kind(render_objects(values), "ConfigMap")}
    assert cms["ameide-a"]["data"] == {"ns": "ameide-system"}
    assert "ameide-ameide-operators-b" in cms


# --------------------------------------------------------------------------------------------
# monitoring


def test_pod_monitor_instead_of_service_monitor() -> None:
    values = {"podMonitor": {"enabled": True, "interval": "1m", "labels": {"release": "kps"}},
              "metricsService": {"enabled": False}}  # fmt: skip
    objs = render_objects(values, api_versions=MONITORING)
    pms = by_kind(objs, "PodMonitor")
    assert len(pms) == 4 and by_kind(objs, "ServiceMonitor") == [] and by_kind(objs, "Service") == []
    pm = pms[0]
    assert pm["spec"]["podMetricsEndpoints"] == [
        {"port": "metrics", "path": "/metrics", "scheme": "http", "interval": "1m"}]
    assert pm["metadata"]["labels"]["release"] == "kps"
    assert monitoring_errors(pm) == []
    pm["spec"]["podMetricsEndpoints"][0]["portt"] = "x"
    assert monitoring_errors(pm)  # the Prometheus Operator CRD check does bite


def test_service_and_pod_monitor_together_are_refused() -> None:
    values = {"serviceMonitor": {"enabled": True},
              "operators": {"agent": {"podMonitor": {"enabled": True}}}}  # fmt: skip
    error = _render_error(values, MONITORING)
    assert "operators.agent: serviceMonitor.enabled and podMonitor.enabled are both true" in error


def test_pod_monitor_fail_if_missing() -> None:
    error = _render_error({"podMonitor": {"enabled": True, "renderMode": "failIfMissing"}})
    assert "podMonitor.renderMode is failIfMissing but the cluster does not serve" in error


# --------------------------------------------------------------------------------------------
# helm test


def test_helm_test_hooks() -> None:
    objs = render_objects({"operators": {"agent": {"enabled": False}}})
    hooks = [o for o in objs if o["metadata"].get("annotations", {}).get("helm.sh/hook") == "test"]
    pods = {p["metadata"]["name"]: p for p in by_kind(hooks, "Pod")}
    assert sorted(pods) == sorted(f"ameide-ameide-operators-test-{s}"
                                  for s in ("crds", "domain", "process", "uisurface"))  # fmt: skip
    crds = pods["ameide-ameide-operators-test-crds"]["spec"]["containers"][0]
    assert crds["image"] == "registry.k8s.io/kubectl:v1.33.5" and crds["command"] == ["kubectl"]
    assert crds["args"] == ["wait", "--for=condition=Established", "--timeout=120s",
                            "crd/agents.ameide.io", "crd/domains.ameide.io",
                            "crd/processes.ameide.io", "crd/uisurfaces.ameide.io"]  # fmt: skip
    domain = pods["ameide-ameide-operators-test-domain"]["spec"]["containers"][0]["args"]
    assert domain == ["wait", "--for=condition=Ready", "pod", "--selector",
                      "app.kubernetes.io/component=domain-operator,app.kubernetes.io/instance=ameide,"
                      "app.kubernetes.io/name=ameide-operators",
                      "--namespace", "ameide-system", "--timeout=120s"]  # fmt: skip
    weights = {o["kind"]: o["metadata"]["annotations"]["helm.sh/hook-weight"] for o in hooks}
    assert weights == {"Pod": "0", "ServiceAccount": "-5", "ClusterRole": "-5",
                       "ClusterRoleBinding": "-5", "Role": "-5", "RoleBinding": "-5"}  # fmt: skip
    rules = [r for o in hooks if o["kind"] in ("ClusterRole", "Role") for r in o["rules"]]
    assert all(set(r["verbs"]) == {"get", "list", "watch"} for r in rules)
    for name, spec in pod_specs(hooks):
        assert_restricted(name, spec)
        assert spec["serviceAccountName"] == "ameide-ameide-operators-test"
    assert not [o for o in render_objects({"tests": {"enabled": False}})
                if "helm.sh/hook" in o["metadata"].get("annotations", {})]  # fmt: skip


def test_every_operator_name_is_known() -> None:
    assert OPERATORS == ("domain", "process", "agent", "uisurface")
    assert objects(render({"enabled": False})) == []
