"""The shipped Prometheus config, rules, dashboard and Kubernetes components check out with the real tools."""

from __future__ import annotations

import filecmp
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from services.monitor.grafana import build_dashboard
from tests.monitor.monitor_promql import (
    COMPONENTS,
    PROMETHEUS,
    RULES,
    autoscaling_queries,
    dashboard_expressions,
    rules,
)


def promtool(*args: str, cwd: Path = PROMETHEUS) -> str:
    exe = shutil.which("promtool")
    if exe is None:
        pytest.fail("promtool is not installed (apt-get install prometheus)")
    result = subprocess.run([exe, *args], cwd=cwd, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout + result.stderr


def test_promtool_check_config() -> None:
    promtool("check", "config", "prometheus.yml")


def test_promtool_check_rules() -> None:
    promtool("check", "rules", *map(str, RULES))


def test_promtool_unit_tests_pass() -> None:
    promtool("test", "rules", "tests/alerts_test.yml")


def test_every_alert_has_a_unit_test() -> None:
    tests = yaml.safe_load((PROMETHEUS / "tests" / "alerts_test.yml").read_text())["tests"]
    tested = {case["alertname"] for test in tests for case in test.get("alert_rule_test", [])
              if case.get("exp_alerts")}
    assert {rule["alert"] for rule in rules("alert")} == tested


def test_dashboard_json_is_up_to_date() -> None:
    assert build_dashboard.OUTPUT.read_text(encoding="utf-8") == build_dashboard.render(), \
        "run: python -m services.monitor.grafana.build_dashboard"


def test_every_shipped_expression_parses(tmp_path: Path) -> None:
    """Dashboard and autoscaling queries, checked by promtool as recording rules of a scratch file."""
    exprs = dashboard_expressions() + autoscaling_queries()
    scratch = {"groups": [{"name": "parse", "rules": [{"record": f"parse:expr_{i}", "expr": e}
                                                      for i, e in enumerate(exprs)]}]}
    (tmp_path / "exprs.yml").write_text(yaml.safe_dump(scratch))
    out = promtool("check", "rules", "exprs.yml", cwd=tmp_path)
    assert f"{len(exprs)} rules found" in out


def test_dashboard_has_the_required_panels() -> None:
    board = build_dashboard.dashboard()
    titles = {p["title"] for p in board["panels"]}
    assert {"Queue depth", "Workers", "Throughput", "Parent progress", "Job duration p50 / p95",
            "Failures and retries", "beanstalkd"} <= titles
    assert board["templating"]["list"][0]["name"] == "datasource"
    table = next(p for p in board["panels"] if p["title"] == "Parent progress")
    gauges = [prop for o in table["fieldConfig"]["overrides"] for prop in o["properties"]
              if prop["id"] == "custom.cellOptions" and prop["value"]["type"] == "gauge"]
    assert gauges


def test_rule_copies_in_the_monitoring_component_are_identical() -> None:
    for path in RULES:
        assert filecmp.cmp(path, COMPONENTS / "monitoring" / "rules" / path.name, shallow=False), path.name


BASE = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: wndchrm-worker, labels: {app.kubernetes.io/name: wndchrm-worker}}
spec:
  selector: {matchLabels: {app.kubernetes.io/name: wndchrm-worker}}
  template:
    metadata: {labels: {app.kubernetes.io/name: wndchrm-worker}}
    spec: {containers: [{name: worker, image: worker}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: wndchrm-monitor, labels: {app.kubernetes.io/name: wndchrm-monitor}}
spec:
  selector: {matchLabels: {app.kubernetes.io/name: wndchrm-monitor}}
  template:
    metadata: {labels: {app.kubernetes.io/name: wndchrm-monitor}}
    spec: {containers: [{name: monitor, image: monitor}]}
"""


@pytest.mark.parametrize("component, kinds", [
    ("monitoring", {"ServiceMonitor", "PodMonitor", "ConfigMap"}),
    ("autoscaling-keda", {"ScaledObject"}),
    ("autoscaling-hpa", {"HorizontalPodAutoscaler"}),
])
def test_kustomize_components_build(tmp_path: Path, component: str, kinds: set[str]) -> None:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed")
    (tmp_path / "base.yaml").write_text(BASE)
    (tmp_path / "kustomization.yaml").write_text(yaml.safe_dump({
        "resources": ["base.yaml"],
        "components": [os.path.relpath(COMPONENTS / component, tmp_path)],
        "patches": [{"path": os.path.relpath(COMPONENTS / "monitoring" / "pod-annotations.patch.yaml",
                                             tmp_path)}],
    }))
    # The annotations patch lives outside the scratch kustomization; an overlay in k8s/ would not need this.
    result = subprocess.run([kubectl, "kustomize", "--load-restrictor", "LoadRestrictionsNone",
                             str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    docs = list(yaml.safe_load_all(result.stdout))
    assert kinds <= {d["kind"] for d in docs}
    worker = next(d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] == "wndchrm-worker")
    assert worker["spec"]["template"]["metadata"]["annotations"]["prometheus.io/port"] == "9311"
    for doc in docs:
        target = doc.get("spec", {}).get("scaleTargetRef", {})
        if target:
            assert target["name"] == "wndchrm-worker"
