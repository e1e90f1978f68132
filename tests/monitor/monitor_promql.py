"""Every PromQL expression the monitoring ships, Grafana variables replaced, for parse and data tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from services.monitor.grafana import build_dashboard

ROOT = Path(__file__).resolve().parents[2]
PROMETHEUS = ROOT / "services" / "monitor" / "prometheus"
RULES = [PROMETHEUS / "rules" / "recording.yml", PROMETHEUS / "rules" / "alerts.yml"]
COMPONENTS = ROOT / "k8s" / "components"

#: What Grafana substitutes before a query reaches Prometheus.
GRAFANA_VARIABLES = {"$__rate_interval": "1m", "$batch": ".*"}


def grafana_to_promql(expr: str) -> str:
    for variable, value in GRAFANA_VARIABLES.items():
        expr = expr.replace(variable, value)
    return expr


def dashboard_expressions() -> list[str]:
    return [grafana_to_promql(e) for e in build_dashboard.expressions()]


def rules(kind: str) -> list[dict[str, Any]]:
    """The recording ("record") or alerting ("alert") rules in the shipped rule files."""
    found = []
    for path in RULES:
        for group in yaml.safe_load(path.read_text())["groups"]:
            found += [rule for rule in group["rules"] if kind in rule]
    return found


def autoscaling_queries() -> list[str]:
    scaled = yaml.safe_load((COMPONENTS / "autoscaling-keda" / "scaledobject.yaml").read_text())
    return [t["metadata"]["query"] for t in scaled["spec"]["triggers"] if t["type"] == "prometheus"]
