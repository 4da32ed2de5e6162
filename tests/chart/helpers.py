"""Render the operators chart with Helm's own engine (helm_python) and check what comes out.

`helm_python.Chart.render` has no way to pass cluster API versions, but the native `helm_render`
call it wraps accepts `api_versions` and `kube_version` in its options JSON (the same fields as
`helm template --api-versions/--kube-version`); `render` uses that private entry point only when a
test needs them, and a test proves the option is honoured. With `cluster` (an API server URL)
the chart is rendered by `helm_python.Config.render`, whose `lookup` asks that server.
Prometheus Operator objects are validated against the operator's own CRDs (fixtures/).
"""

from __future__ import annotations

import copy
import functools
import json
from pathlib import Path
from typing import Any

import helm_python
import kubernetes_validate
import yaml
from helm_python import _native
from jsonschema.protocols import Validator

from tests.chart.crdschema import crd_validator

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "chart"
GITOPS_VALUES = ROOT / "gitops" / "sources" / "values"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
OPERATORS = ("domain", "process", "agent", "uisurface")
MONITORING = (
    "monitoring.coreos.com/v1",
    "monitoring.coreos.com/v1/ServiceMonitor",
    "monitoring.coreos.com/v1/PodMonitor",
    "monitoring.coreos.com/v1/PrometheusRule",
)
MONITORING_CRDS = {
    kind: FIXTURES / "prometheus-operator" / f"monitoring.coreos.com_{plural}.yaml"
    for kind, plural in (
        ("ServiceMonitor", "servicemonitors"),
        ("PodMonitor", "podmonitors"),
        ("PrometheusRule", "prometheusrules"),
    )
}
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
    cluster: str | None = None,
) -> dict[str, str]:
    """Template path -> rendered text, as `helm template` would produce it (or, with `cluster`,
    as `helm install` would render against that API server)."""
    with helm_python.Chart.load(chart) as loaded:
        if cluster is not None:
            with helm_python.Config(kube_apiserver=cluster, kube_token="test") as cfg:
                return cfg.render(loaded, values, name=name, namespace=namespace)
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
    """Strict OpenAPI validation; Prometheus Operator kinds against the operator's own CRDs.
    Identical objects (the CRDs recur in every scenario) are validated once per version."""
    _validate_once(json.dumps(obj, sort_keys=True), version)


@functools.cache
def _validate_once(text: str, version: str) -> None:
    obj = json.loads(text)
    if obj["apiVersion"].startswith("monitoring.coreos.com/"):
        errors = monitoring_errors(obj)
        assert not errors, f"{obj['kind']}/{obj['metadata']['name']} invalid: {errors}"
        return
    try:
        kubernetes_validate.validate(obj, version, strict=True)
    except kubernetes_validate.ValidationError as exc:
        raise AssertionError(
            f"{obj['kind']}/{obj['metadata']['name']} invalid for {version}: "
            f"{exc.message} at {list(exc.path)}"
        ) from None


def monitoring_errors(obj: dict[str, Any]) -> list[str]:
    """What the Prometheus Operator's CRD (v0.93.0, fixtures/) would refuse in `obj`."""
    assert obj["apiVersion"] == "monitoring.coreos.com/v1", obj["apiVersion"]
    return [
        f"{'.'.join(str(p) for p in e.absolute_path)}: {e.message}"
        for e in _monitoring_validator(obj["kind"]).iter_errors(obj)
    ]


@functools.cache
def _monitoring_validator(kind: str) -> Validator:
    """Parsing a 75 kB CRD costs more than rendering the chart: once per kind and run."""
    doc = yaml.load(MONITORING_CRDS[kind].read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
    return crd_validator(doc, "v1")


def pod_specs(objs: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """`Kind/name` and pod spec of every Deployment and bare Pod (the `helm test` hooks)."""
    out = []
    for o in objs:
        if o["kind"] == "Deployment":
            out.append((f"Deployment/{o['metadata']['name']}", o["spec"]["template"]["spec"]))
        elif o["kind"] == "Pod":
            out.append((f"Pod/{o['metadata']['name']}", o["spec"]))
    return out


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
        if name.startswith("Deployment/") and container in spec["containers"][:1]:
            assert container.get("livenessProbe") and container.get("readinessProbe"), where
        assert not container["image"].endswith(":latest"), f"{where}: latest tag"
