"""Render the operators chart with Helm's own engine (helm_python) and check what comes out.

`helm_python.Chart.render` has no way to pass cluster API versions, but the native `helm_render`
call it wraps accepts `api_versions` and `kube_version` in its options JSON (the same fields as
`helm template --api-versions/--kube-version`); `render` uses that private entry point only when a
test needs them, and a test proves the option is honoured.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import helm_python
import kubernetes_validate
import yaml
from helm_python import _native

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "chart"
GITOPS_VALUES = ROOT / "gitops" / "sources" / "values"
OPERATORS = ("domain", "process", "agent", "uisurface")
MONITORING = (
    "monitoring.coreos.com/v1",
    "monitoring.coreos.com/v1/ServiceMonitor",
    "monitoring.coreos.com/v1/PrometheusRule",
)
K8S_VERSIONS = ("1.28.0", kubernetes_validate.latest_version())
REQUIRED_LABELS = (
    "app.kubernetes.io/name",
    "app.kubernetes.io/instance",
    "app.kubernetes.io/version",
    "app.kubernetes.io/managed-by",
    "app.kubernetes.io/component",
    "app.kubernetes.io/part-of",
    "helm.sh/chart",
)
SELECTOR_KEYS = {
    "app.kubernetes.io/name",
    "app.kubernetes.io/instance",
    "app.kubernetes.io/component",
}
NOTES = "ameide-operators/templates/NOTES.txt"


def render(
    values: dict[str, Any] | None = None,
    *,
    name: str = "ameide",
    namespace: str = "ameide-system",
    api_versions: tuple[str, ...] = (),
    chart: Path = CHART,
) -> dict[str, str]:
    """Template path -> rendered text, as `helm template` would produce it."""
    with helm_python.Chart.load(chart) as loaded:
        if not api_versions:
            return loaded.render(values, name=name, namespace=namespace)
        opts = {"name": name, "namespace": namespace, "api_versions": list(api_versions)}
        out = _native.call_string(
            "helm_render",
            loaded._raw(),
            None if values is None else json.dumps(values),
            json.dumps(opts),
        )
        manifests: dict[str, str] = json.loads(out)
        return manifests


def objects(manifests: dict[str, str]) -> list[dict[str, Any]]:
    """Every Kubernetes object rendered, NOTES excluded, in a stable order."""
    out: list[dict[str, Any]] = []
    for path in sorted(manifests):
        if path.endswith("NOTES.txt"):
            continue
        out.extend(doc for doc in yaml.safe_load_all(manifests[path]) if doc)
    return out


def render_objects(values: dict[str, Any] | None = None, **kw: Any) -> list[dict[str, Any]]:
    return objects(render(values, **kw))


def by_kind(objs: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [o for o in objs if o["kind"] == kind]


def deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """Merge `over` into a copy of `base` the way `helm -f a.yaml -f b.yaml` does."""
    out = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def env_values(env: str) -> dict[str, Any]:
    """An environment's values merged over _shared, as the ApplicationSet passes them."""
    name = "foundation/foundation-ameide-operators.yaml"
    shared = yaml.safe_load((GITOPS_VALUES / "_shared" / name).read_text()) or {}
    own = yaml.safe_load((GITOPS_VALUES / env / name).read_text()) or {}
    return deep_merge(shared, own)


def validate_k8s(obj: dict[str, Any], version: str) -> None:
    """Strict OpenAPI validation; Prometheus Operator kinds get a structural check instead."""
    if obj["apiVersion"].startswith("monitoring.coreos.com/"):
        check_prometheus_shape(obj)
        return
    try:
        kubernetes_validate.validate(obj, version, strict=True)
    except kubernetes_validate.ValidationError as exc:
        raise AssertionError(
            f"{obj['kind']}/{obj['metadata']['name']} invalid for {version}: "
            f"{exc.message} at {list(exc.path)}"
        ) from None


def check_prometheus_shape(obj: dict[str, Any]) -> None:
    """The fields the Prometheus Operator CRDs require, with their types."""
    assert obj["apiVersion"] == "monitoring.coreos.com/v1"
    meta, spec = obj["metadata"], obj["spec"]
    assert isinstance(meta["name"], str) and isinstance(meta["namespace"], str)
    if obj["kind"] == "ServiceMonitor":
        assert set(spec) <= {"namespaceSelector", "selector", "endpoints", "jobLabel"}
        assert isinstance(spec["selector"]["matchLabels"], dict)
        assert spec["endpoints"], "a ServiceMonitor needs endpoints"
        for ep in spec["endpoints"]:
            assert set(ep) <= {
                "port",
                "path",
                "scheme",
                "interval",
                "scrapeTimeout",
                "relabelings",
                "metricRelabelings",
            }
            assert isinstance(ep["port"], str)
            assert ep["scheme"] in ("http", "https")
    elif obj["kind"] == "PrometheusRule":
        assert set(spec) == {"groups"}
        for group in spec["groups"]:
            assert isinstance(group["name"], str) and group["rules"]
            for rule in group["rules"]:
                assert ("alert" in rule) != ("record" in rule)
                assert isinstance(rule["expr"], str) and rule["expr"].strip()
                assert set(rule) <= {"alert", "record", "expr", "for", "labels", "annotations"}
                for mapping in ("labels", "annotations"):
                    assert all(isinstance(v, str) for v in rule.get(mapping, {}).values())
    else:
        raise AssertionError(f"unexpected monitoring kind {obj['kind']}")


def pod_specs(objs: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    return [
        (o["metadata"]["name"], o["spec"]["template"]["spec"])
        for o in objs
        if o["kind"] == "Deployment"
    ]


RESTRICTED_VOLUMES = {
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "persistentVolumeClaim",
    "projected",
    "secret",
}


def assert_restricted(name: str, spec: dict[str, Any]) -> None:
    """The restricted Pod Security Standard, field by field, plus a read-only root filesystem."""
    pod_sc = spec.get("securityContext", {})
    for host in ("hostNetwork", "hostPID", "hostIPC", "hostUsers"):
        assert spec.get(host) in (None, False) or host == "hostUsers", f"{name}: {host}"
    for vol in spec.get("volumes", []):
        kinds = set(vol) - {"name"}
        assert kinds <= RESTRICTED_VOLUMES, f"{name}: volume type {kinds} not allowed"
    assert pod_sc.get("runAsUser") != 0, f"{name}: runAsUser 0"
    assert not pod_sc.get("sysctls"), f"{name}: sysctls"
    for container in spec["containers"] + spec.get("initContainers", []):
        sc = container.get("securityContext", {})
        where = f"{name}/{container['name']}"
        non_root = sc.get("runAsNonRoot", pod_sc.get("runAsNonRoot"))
        assert non_root is True, f"{where}: runAsNonRoot"
        assert sc.get("runAsUser", pod_sc.get("runAsUser")) != 0, f"{where}: runAsUser 0"
        seccomp = sc.get("seccompProfile", pod_sc.get("seccompProfile")) or {}
        assert seccomp.get("type") in ("RuntimeDefault", "Localhost"), f"{where}: seccomp"
        assert sc.get("allowPrivilegeEscalation") is False, f"{where}: allowPrivilegeEscalation"
        assert sc.get("privileged") in (None, False), f"{where}: privileged"
        caps = sc.get("capabilities", {})
        assert "ALL" in caps.get("drop", []), f"{where}: capabilities.drop ALL"
        assert set(caps.get("add", [])) <= {"NET_BIND_SERVICE"}, f"{where}: capabilities.add"
        assert sc.get("readOnlyRootFilesystem") is True, f"{where}: readOnlyRootFilesystem"
        assert all("hostPort" not in p for p in container.get("ports", [])), f"{where}: hostPort"
        assert container.get("livenessProbe") and container.get("readinessProbe"), where
        assert not container["image"].endswith(":latest"), f"{where}: latest tag"
