"""Build the Grafana dashboard for the wndchrm queue: ``python -m services.monitor.grafana.build_dashboard``.

The JSON next to this file is generated, never edited by hand: change the panels here and rerun (a test
fails while the committed JSON differs from what this script writes). Queries use the raw metrics of
wndchrm-monitor (``wndchrm_queue_*``) and of the workers (``wndchrm_worker_*``) so the dashboard works
without the recording rules.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

OUTPUT = Path(__file__).with_name("wndchrm-queue.json")
DS = {"type": "prometheus", "uid": "${datasource}"}
RATE = "$__rate_interval"
PARENTS = 'batch=~"$batch"'

Panel = dict[str, Any]


def target(expr: str, legend: str = "", ref: str = "A", instant: bool = False) -> dict[str, Any]:
    t: dict[str, Any] = {"datasource": DS, "expr": expr, "legendFormat": legend or "__auto", "refId": ref}
    if instant:
        t.update(instant=True, range=False, format="table")
    return t


def timeseries(title: str, targets: list[dict[str, Any]], unit: str = "short", stack: bool = False,
               description: str = "") -> Panel:
    custom: dict[str, Any] = {"fillOpacity": 20 if stack else 0, "lineWidth": 1, "showPoints": "never"}
    if stack:
        custom["stacking"] = {"group": "A", "mode": "normal"}
    return {"type": "timeseries", "title": title, "description": description, "datasource": DS,
            "targets": targets,
            "fieldConfig": {"defaults": {"unit": unit, "custom": custom}, "overrides": []},
            "options": {"legend": {"displayMode": "list", "placement": "bottom", "showLegend": True},
                        "tooltip": {"mode": "multi", "sort": "desc"}}}


def stat(title: str, expr: str, unit: str = "short", mappings: list[dict[str, Any]] | None = None,
         thresholds: list[dict[str, Any]] | None = None) -> Panel:
    steps = thresholds or [{"color": "green", "value": None}]
    return {"type": "stat", "title": title, "datasource": DS, "targets": [target(expr)],
            "fieldConfig": {"defaults": {"unit": unit, "mappings": mappings or [],
                                         "thresholds": {"mode": "absolute", "steps": steps}},
                            "overrides": []},
            "options": {"colorMode": "background", "graphMode": "none", "reduceOptions":
                        {"calcs": ["lastNotNull"], "fields": "", "values": False}}}


def row(title: str) -> Panel:
    return {"type": "row", "title": title, "collapsed": False, "panels": []}


def parent(suffix: str) -> str:
    """A per-parent series, filtered by the batch variable."""
    return f"wndchrm_queue_parent_{suffix}{{{PARENTS}}}"


def rate(metric: str, by: str = "", selector: str = "") -> str:
    grouping = f" by ({by})" if by else ""
    return f"sum{grouping} (rate({metric}{selector}[{RATE}]))"


def quantile(q: float) -> str:
    buckets = rate("wndchrm_worker_job_duration_seconds_bucket", "le, kind, job_type")
    return f"histogram_quantile({q}, {buckets})"


def parent_table() -> Panel:
    """One row per active parent: a bar gauge of the share done, then the counts and age."""
    columns = [("progress", f"{parent('dependencies_done')} / ({parent('dependencies')} > 0)"),
               ("total", parent("dependencies")),
               ("done", parent("dependencies_done")),
               ("running", parent("dependencies_running")),
               ("failed", parent("dependencies_failed")),
               ("left", parent("dependencies_left")),
               ("age", parent("age_seconds"))]
    refs = "ABCDEFG"
    targets = [target(expr, name, ref, instant=True) for (name, expr), ref in zip(columns, refs, strict=True)]
    rename = {f"Value #{ref}": name for (name, _), ref in zip(columns, refs, strict=True)}
    keep = {"parent": False, "batch": False, **{name: False for name, _ in columns}}
    order = {name: i for i, name in enumerate(["parent", "batch", *[c for c, _ in columns]])}
    return {
        "type": "table", "title": "Parent progress", "datasource": DS, "targets": targets,
        "description": "Active parents (oldest first); beyond the monitor's --max-parents they are summed in "
                       "parent=\"other\".",
        "transformations": [
            {"id": "merge", "options": {}},
            {"id": "organize", "options": {"excludeByName": {"Time": True, "__name__": True, "instance": True,
                                                             "job": True},
                                           "includeByName": {}, "indexByName": order,
                                           "renameByName": rename}},
            {"id": "filterFieldsByName", "options": {"include": {"names": list(keep)}}},
            {"id": "sortBy", "options": {"sort": [{"field": "age", "desc": True}]}},
        ],
        "fieldConfig": {
            "defaults": {"custom": {"align": "auto", "cellOptions": {"type": "auto"}}},
            "overrides": [
                {"matcher": {"id": "byName", "options": "progress"},
                 "properties": [{"id": "unit", "value": "percentunit"}, {"id": "min", "value": 0},
                                {"id": "max", "value": 1},
                                {"id": "custom.cellOptions", "value": {"type": "gauge", "mode": "gradient"}},
                                {"id": "custom.width", "value": 240}]},
                {"matcher": {"id": "byName", "options": "age"},
                 "properties": [{"id": "unit", "value": "s"}]},
                {"matcher": {"id": "byName", "options": "failed"},
                 "properties": [{"id": "custom.cellOptions", "value": {"type": "color-text"}},
                                {"id": "thresholds", "value": {"mode": "absolute", "steps": [
                                    {"color": "green", "value": None}, {"color": "red", "value": 1}]}}]},
            ],
        },
        "options": {"showHeader": True, "footer": {"show": False, "reducer": ["sum"], "fields": ""}},
    }


def panels() -> list[Panel]:
    up_mapping = [{"type": "value", "options": {"0": {"text": "DOWN", "color": "red"},
                                                "1": {"text": "UP", "color": "green"}}}]
    return [
        row("Queue"),
        timeseries("Queue depth", [
            target("max(wndchrm_queue_depth)", "ready or running (autoscaling)", "A"),
            target("max(wndchrm_queue_jobs_left)", "left (incl. delayed)", "B"),
            target("max(wndchrm_queue_parents_waiting_dependencies)", "parents waiting on dependencies", "C"),
        ], description="Jobs ready or running in the main and dependency tubes; KEDA/HPA scale on it."),
        timeseries("Workers", [
            target("max(wndchrm_queue_workers_busy)", "busy", "A"),
            target("max(wndchrm_queue_workers_idle)", "idle", "B"),
        ], stack=True, description="Worker processes connected to beanstalkd (watching the main tube)."),
        timeseries("Throughput", [
            target(rate("wndchrm_worker_jobs_total", "job_type, outcome", '{outcome!="expanded"}'),
                   "{{job_type}} {{outcome}}", "A"),
            target(rate("wndchrm_queue_server_deletes_total"), "beanstalkd deletes", "B"),
        ], unit="ops", description="Jobs ended per second by type (job: parent, dep: dependency), outcome."),
        row("Parents"),
        parent_table(),
        row("Jobs"),
        timeseries("Job duration p50 / p95", [
            target(quantile(0.5), "p50 {{kind}} {{job_type}}", "A"),
            target(quantile(0.95), "p95 {{kind}} {{job_type}}", "B"),
        ], unit="s"),
        timeseries("Failures and retries", [
            target(rate("wndchrm_worker_jobs_total", "job_type", '{outcome="failed"}'),
                   "failed {{job_type}}", "A"),
            target(rate("wndchrm_worker_retries_total", "job_type"), "retried {{job_type}}", "B"),
            target(f"sum({parent('dependencies_failed')})", "failed deps of active parents", "C"),
        ], unit="ops"),
        timeseries("Jobs in progress", [
            target("sum by (kind, job_type) (wndchrm_worker_jobs_in_progress)", "{{kind}} {{job_type}}", "A"),
        ]),
        row("beanstalkd"),
        stat("beanstalkd", "min(wndchrm_queue_beanstalkd_up)", mappings=up_mapping,
             thresholds=[{"color": "red", "value": None}, {"color": "green", "value": 1}]),
        stat("Uptime", "max(wndchrm_queue_server_uptime_seconds)", unit="s"),
        stat("Buried beyond manifests",
             'max(sum by (instance) (wndchrm_queue_tube_jobs{state="buried"})'
             " - on (instance) wndchrm_queue_manifests)",
             thresholds=[{"color": "green", "value": None}, {"color": "orange", "value": 1}]),
        timeseries("Tubes by state", [
            target('sum by (tube, state) (wndchrm_queue_tube_jobs{state!="urgent"})', "{{tube}} {{state}}"),
        ]),
        timeseries("beanstalkd commands", [
            target(rate("wndchrm_queue_server_puts_total"), "puts", "A"),
            target(rate("wndchrm_queue_server_reserves_total"), "reserves", "B"),
            target(rate("wndchrm_queue_server_timeouts_total"), "TTR timeouts", "C"),
            target(rate("wndchrm_queue_server_connections_total"), "new connections", "D"),
        ], unit="ops"),
        timeseries("Monitor scrape", [
            target("max(wndchrm_queue_scrape_duration_seconds)", "scrape duration", "A"),
            target(rate("wndchrm_queue_scrape_errors_total"), "errors/s", "B"),
        ], unit="s"),
    ]


def layout(items: list[Panel]) -> list[Panel]:
    """Place panels on Grafana's 24-column grid: rows full width, tables full width, the rest three a row."""
    y, x, placed = 0, 0, []
    for i, panel in enumerate(items):
        if panel["type"] in ("row", "table"):
            if x:
                y, x = y + 8, 0
            height = 1 if panel["type"] == "row" else 10
            panel["gridPos"] = {"h": height, "w": 24, "x": 0, "y": y}
            y += height
        else:
            width, height = (8, 4) if panel["type"] == "stat" else (8, 8)
            if x + width > 24:
                y, x = y + 8, 0
            panel["gridPos"] = {"h": height, "w": width, "x": x, "y": y}
            x += width
        panel["id"] = i + 1
        placed.append(panel)
    return placed


def dashboard() -> dict[str, Any]:
    return {
        "uid": "wndchrm-queue",
        "title": "wndchrm queue",
        "description": "The wndchrm queue on beanstalkd: depth, workers, throughput, per-parent progress.",
        "tags": ["wndchrm", "beanstalkd"],
        "editable": True,
        "schemaVersion": 39,
        "version": 1,
        "time": {"from": "now-3h", "to": "now"},
        "refresh": "30s",
        "timezone": "",
        "graphTooltip": 1,
        "links": [],
        "annotations": {"list": []},
        "templating": {"list": [
            {"name": "datasource", "label": "Data source", "type": "datasource", "query": "prometheus",
             "current": {}, "hide": 0, "refresh": 1, "options": [], "regex": ""},
            {"name": "batch", "label": "Batch", "type": "query", "datasource": DS,
             "query": {"query": "label_values(wndchrm_queue_parent_dependencies, batch)", "refId": "batch"},
             "definition": "label_values(wndchrm_queue_parent_dependencies, batch)",
             "includeAll": True, "multi": True, "allValue": ".*", "current": {}, "hide": 0, "refresh": 2,
             "options": [], "regex": "", "sort": 1},
        ]},
        "panels": layout(panels()),
    }


def render() -> str:
    """The dashboard as committed: stable key order so a rebuild without changes is byte-identical."""
    return json.dumps(dashboard(), indent=2, sort_keys=True) + "\n"


def expressions() -> list[str]:
    """Every PromQL expression in the dashboard (panels and variables), for tests."""
    board = dashboard()
    exprs = [t["expr"] for p in board["panels"] for t in p.get("targets", [])]
    # label_values(<selector>, <label>) is Grafana's; the selector inside is PromQL.
    variables = [re.fullmatch(r"label_values\((.*), \w+\)", v["definition"])
                 for v in board["templating"]["list"] if v["type"] == "query"]
    return exprs + [m.group(1) for m in variables if m]


def main() -> None:
    OUTPUT.write_text(render(), encoding="utf-8")
    sys.stdout.write(f"wrote {OUTPUT}\n")


if __name__ == "__main__":
    main()
