"""The PrometheusRule alerts and the Grafana dashboard, checked by Prometheus' own promtool.

Why: an alert expression that parses can still be wrong in ways only evaluation shows (issue 12:
`absent(up{...} == 1)` dropped the namespace and job labels, so two installs' alerts merged).
`promtool check rules` parses the rendered rules the way Prometheus loads them, and `promtool
test rules` evaluates them over synthetic series: the down alert fires per install with its
labels and stays quiet while one replica is up, reconcile errors fire on a steady rate but not
on one burst. The same run proves the 0.1.0 expressions fail these tests. The dashboard's
queries go through `promtool check rules` as recording rules, and must use the alerts' metrics.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import helm_python
import pytest
import yaml

from tests.chart.helpers import CHART, FIXTURES, MONITORING, by_kind, objects, render, render_objects

PROMTOOL_TIMEOUT = 60  # seconds; a rules test here takes well under one
FIRST_RELEASE = FIXTURES / "ameide-operators-0.1.0.tgz"
MONITORED = {
    "serviceMonitor": {"enabled": True},
    "prometheusRule": {"enabled": True},
    "operators": {op: {"enabled": op == "domain"} for op in ("process", "agent", "uisurface")},
}
JOB = "ameide-ameide-operators-domain-operator"


def promtool(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("promtool")
    assert exe, "promtool is missing: scripts/test installs it (Debian package prometheus)"
    return subprocess.run(
        [exe, *args], cwd=cwd, capture_output=True, text=True, timeout=PROMTOOL_TIMEOUT, check=False
    )


def rule_groups(namespace: str, values: dict[str, Any], chart: Path = CHART) -> list[dict[str, Any]]:
    objs = render_objects(values, namespace=namespace, api_versions=MONITORING, chart=chart)
    return [g for rule in by_kind(objs, "PrometheusRule") for g in rule["spec"]["groups"]]


def write_rules(tmp_path: Path, installs: dict[str, list[dict[str, Any]]]) -> list[str]:
    """One rule file per install, as the Prometheus Operator writes one per PrometheusRule."""
    names = []
    for namespace, groups in installs.items():
        name = f"{namespace}.rules.yaml"
        (tmp_path / name).write_text(yaml.safe_dump({"groups": groups}), encoding="utf-8")
        names.append(name)
    return names


def _up(namespace: str, instance: str, values: str) -> dict[str, str]:
    labels = f'namespace="{namespace}", job="{JOB}", instance="{instance}:8080"'
    return {"series": f"up{{{labels}}}", "values": values}


def _counter(namespace: str, values: str) -> dict[str, str]:
    labels = f'namespace="{namespace}", job="{JOB}", instance="10.0.0.1:8080", controller="domain"'
    return {"series": f"controller_runtime_reconcile_errors_total{{{labels}}}", "values": values}


def _down_alert(namespace: str) -> dict[str, Any]:
    return {"exp_labels": {"namespace": namespace, "job": JOB, "severity": "critical"},
            "exp_annotations": {
                "summary": "The domain operator is down",
                "description": f"No replica of {JOB} in namespace {namespace} has been scraped as "
                "up for 5m; Domain objects are not reconciled."}}  # fmt: skip


TESTS: list[dict[str, Any]] = [
    {
        "interval": "1m",
        "input_series": [
            # team-a: two replicas, one down: the operator still works, no alert
            _up("team-a", "10.0.0.1", "1x30"),
            _up("team-a", "10.0.0.2", "0x30"),
            # team-b: its only replica is scraped as down
            _up("team-b", "10.0.1.1", "0x30"),
            # team-c: its targets vanished entirely (deployment scaled to 0, pods gone)
        ],
        "alert_rule_test": [
            {"eval_time": "3m", "alertname": "DomainOperatorDown", "exp_alerts": []},
            {
                "eval_time": "10m",
                "alertname": "DomainOperatorDown",
                "exp_alerts": [_down_alert("team-b"), _down_alert("team-c")],
            },
        ],
    },
    {
        "interval": "1m",
        "input_series": [
            # team-a: a steady error every minute for 40 minutes
            _counter("team-a", "0+1x40"),
            # team-b: one burst of 20 errors at minute 5, then none
            _counter("team-b", "0 0 0 0 0 20+0x35"),
            # team-c: never an error
            _counter("team-c", "0x40"),
            _up("team-a", "10.0.0.1", "1x40"),
            _up("team-b", "10.0.1.1", "1x40"),
            _up("team-c", "10.0.2.1", "1x40"),
        ],
        "alert_rule_test": [
            {"eval_time": "10m", "alertname": "DomainOperatorReconcileErrors", "exp_alerts": []},
            {
                "eval_time": "30m",
                "alertname": "DomainOperatorReconcileErrors",
                "exp_alerts": [
                    {
                        "exp_labels": {
                            "namespace": "team-a", "job": JOB, "controller": "domain",
                            "severity": "warning",
                        },
                        "exp_annotations": {
                            "summary": "The domain operator fails to reconcile",
                            "description": f"Controller domain of {JOB} reports reconcile errors "
                            "(0.016666666666666666 per second).",
                        },
                    }
                ],
            },
            {"eval_time": "30m", "alertname": "DomainOperatorDown", "exp_alerts": []},
        ],
    },
]  # fmt: skip


def run_rule_tests(tmp_path: Path, chart: Path = CHART) -> subprocess.CompletedProcess[str]:
    files = write_rules(
        tmp_path, {ns: rule_groups(ns, MONITORED, chart) for ns in ("team-a", "team-b", "team-c")}
    )
    spec = {"rule_files": files, "evaluation_interval": "1m", "tests": TESTS}
    (tmp_path / "tests.yaml").write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    return promtool("test", "rules", "tests.yaml", cwd=tmp_path)


def test_rendered_rules_pass_promtool_check(tmp_path: Path) -> None:
    values = {
        **MONITORED,
        "prometheusRule": {"enabled": True, "alertLabels": {"team": "platform"}},
        "operators": {"domain": {"prometheusRule": {"additionalRules": [
            {"record": "ameide:reconcile_errors:rate5m",
             "expr": "sum(rate(controller_runtime_reconcile_errors_total[5m]))"}]}}},
    }  # fmt: skip
    files = write_rules(tmp_path, {"ameide-system": rule_groups("ameide-system", values)})
    result = promtool("check", "rules", "--lint-fatal", *files, cwd=tmp_path)
    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    assert "SUCCESS: 13 rules found" in out  # 3 alerts x 4 operators + the additional rule


def test_promtool_check_catches_a_broken_expression(tmp_path: Path) -> None:
    values = {
        **MONITORED,
        "prometheusRule": {"enabled": True,
                           "additionalRules": [{"alert": "Broken", "expr": "sum(rate(x[5m]"}]},
    }  # fmt: skip
    files = write_rules(tmp_path, {"ameide-system": rule_groups("ameide-system", values)})
    result = promtool("check", "rules", *files, cwd=tmp_path)
    assert result.returncode != 0 and "Broken" in result.stdout + result.stderr


def test_alerts_fire_per_install_with_labels_and_only_on_a_steady_error_rate(
    tmp_path: Path,
) -> None:
    result = run_rule_tests(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_the_first_release_alerts_fail_the_same_tests(tmp_path: Path) -> None:
    """The 0.1.0 down alert loses namespace and job, its error alert merges installs: promtool
    says so, which also proves the tests above can fail."""
    old = tmp_path / "old"
    old.mkdir()
    shutil.unpack_archive(FIRST_RELEASE, old)
    result = run_rule_tests(tmp_path, chart=old / "ameide-operators")
    out = result.stdout + result.stderr
    assert result.returncode != 0, out
    assert "DomainOperatorDown" in out and "DomainOperatorReconcileErrors" in out


def test_operator_down_without_a_scrape_config_is_refused() -> None:
    """Issue 12: the rule with neither ServiceMonitor nor PodMonitor fired forever."""
    with pytest.raises(helm_python.HelmRenderError) as err:
        render({"prometheusRule": {"enabled": True}}, api_versions=MONITORING)
    assert "prometheusRule.operatorDown needs the operator to be scraped" in str(err.value)


def test_pod_monitor_changes_the_job_the_alerts_select() -> None:
    values = {"podMonitor": {"enabled": True}, "prometheusRule": {"enabled": True}}
    objs = render_objects(values, api_versions=MONITORING)
    rule = next(r for r in by_kind(objs, "PrometheusRule") if r["metadata"]["name"] == JOB)
    expr = rule["spec"]["groups"][0]["rules"][0]["expr"]
    assert f'job="ameide-system/{JOB}"' in expr  # prometheus-operator's PodMonitor job label


# --------------------------------------------------------------------------------------------
# the Grafana dashboard

DASHBOARD_VALUES = {"grafanaDashboard": {"enabled": True, "annotations": {"grafana_folder": "AMEIDE"}}}


def _dashboard(
    namespace: str = "ameide-system", name: str = "ameide"
) -> tuple[dict[str, Any], dict[str, Any]]:
    (cm,) = by_kind(objects(render(DASHBOARD_VALUES, namespace=namespace, name=name)), "ConfigMap")
    return cm, json.loads(cm["data"]["ameide-operators.json"])


def _exprs(dashboard: dict[str, Any]) -> list[str]:
    return [t["expr"] for p in dashboard["panels"] for t in p["targets"]]


def test_dashboard_configmap_for_the_grafana_sidecar() -> None:
    cm, dashboard = _dashboard()
    assert cm["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert cm["metadata"]["annotations"] == {"grafana_folder": "AMEIDE"}
    assert dashboard["title"] == "AMEIDE operators (ameide-system/ameide)"
    assert len(dashboard["uid"]) <= 40
    namespace = next(v for v in dashboard["templating"]["list"] if v["name"] == "namespace")
    assert namespace["current"]["value"] == "ameide-system"
    titles = [p["title"] for p in dashboard["panels"]]
    for wanted in ("Reconcile rate", "Reconcile errors", "Work-queue depth", "Reconcile latency"):
        assert wanted in titles
    assert all("by (job" in e for e in _exprs(dashboard))  # one series per operator


def test_dashboard_is_opt_in_and_unique_per_release() -> None:
    assert by_kind(render_objects(), "ConfigMap") == []
    assert _dashboard("a", "x")[1]["uid"] != _dashboard("b", "x")[1]["uid"]


def test_dashboard_uses_the_metrics_the_alerts_use() -> None:
    objs = render_objects(
        {**MONITORED, "operators": {}}, api_versions=MONITORING
    )
    alert_metrics = {
        m
        for rule in by_kind(objs, "PrometheusRule")
        for r in rule["spec"]["groups"][0]["rules"]
        for m in re.findall(r"([a-z_]+)\{", r["expr"])
    }
    assert alert_metrics == {"up", "controller_runtime_reconcile_errors_total", "workqueue_depth"}
    used = " ".join(_exprs(_dashboard()[1]))
    assert all(f"{m}{{" in used for m in alert_metrics)


def test_dashboard_queries_are_valid_promql(tmp_path: Path) -> None:
    """Grafana variables replaced by what Grafana would send, each query checked as a rule."""
    rules = []
    for i, expr in enumerate(_exprs(_dashboard()[1])):
        concrete = (
            expr.replace("$__rate_interval", "2m")
            .replace("$namespace", "ameide-system")
            .replace("$job", ".+")
        )
        assert "$" not in concrete, concrete
        rules.append({"record": f"dashboard:query_{i}", "expr": concrete})
    (tmp_path / "dashboard.rules.yaml").write_text(
        yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}), encoding="utf-8"
    )
    result = promtool("check", "rules", "--lint-fatal", "dashboard.rules.yaml", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
