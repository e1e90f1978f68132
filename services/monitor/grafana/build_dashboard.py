"""Build the Grafana dashboard for the wndchrm queue: ``python -m services.monitor.grafana.build_dashboard``.

The JSON next to this file is generated, never edited by hand: change the panels here and rerun (a test
fails while the committed JSON differs from what this script writes). The panels are made with Grafana's
own builders (grafana-foundation-sdk, typed from Grafana's schema), so the JSON cannot drift from what
Grafana reads. Queries use the raw metrics of wndchrm-monitor (``wndchrm_queue_*``) and of the workers
(``wndchrm_worker_*``) so the dashboard works without the recording rules.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

from grafana_foundation_sdk.builders import common as cb
from grafana_foundation_sdk.builders import dashboard as db
from grafana_foundation_sdk.builders import prometheus, stat, table, timeseries
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import common
from grafana_foundation_sdk.models.dashboard import (
    DashboardCursorSync,
    DataSourceRef,
    DataTransformerConfig,
    DynamicConfigValue,
    Threshold,
    ThresholdsMode,
    ValueMap,
    ValueMappingResult,
    VariableRefresh,
    VariableSort,
)
from grafana_foundation_sdk.models.prometheus import PromQueryFormat

OUTPUT = Path(__file__).with_name("wndchrm-queue.json")
DS = DataSourceRef(type_val="prometheus", uid="${datasource}")
RATE = "$__rate_interval"
#: The window of dependencies' pace: minutes, so a parent's pace does not jump with each dependency.
PACE = "5m"
PARENTS = 'batch=~"$batch"'


def target(expr: str, legend: str = "", ref: str = "A", instant: bool = False) -> prometheus.Dataquery:
    query = prometheus.Dataquery().expr(expr).legend_format(legend or "__auto").ref_id(ref).datasource(DS)
    if instant:
        query = query.instant().format(PromQueryFormat.TABLE)
    return query


def graph(title: str, targets: list[prometheus.Dataquery], unit: str = "short", stack: bool = False,
          description: str = "") -> timeseries.Panel:
    panel = (timeseries.Panel().title(title).description(description).datasource(DS).targets(list(targets))
             .unit(unit).fill_opacity(20 if stack else 0).line_width(1).show_points(common.VisibilityMode.NEVER)
             .legend(cb.VizLegendOptions().display_mode(common.LegendDisplayMode.LIST)
                     .placement(common.LegendPlacement.BOTTOM).show_legend(True))
             .tooltip(cb.VizTooltipOptions().mode(common.TooltipDisplayMode.MULTI).sort(common.SortOrder.DESCENDING))
             .height(8).span(8))
    if stack:
        panel = panel.stacking(cb.StackingConfig().group("A").mode(common.StackingMode.NORMAL))
    return panel


def steps(*pairs: tuple[str, float | None]) -> db.ThresholdsConfig:
    return db.ThresholdsConfig().mode(ThresholdsMode.ABSOLUTE).steps(
        [Threshold(value=value, color=color) for color, value in pairs])


def single(title: str, expr: str, unit: str = "short", up_down: bool = False,
           thresholds: db.ThresholdsConfig | None = None) -> stat.Panel:
    panel = (stat.Panel().title(title).datasource(DS).targets([target(expr)]).unit(unit)
             .thresholds(thresholds or steps(("green", None)))
             .color_mode(common.BigValueColorMode.BACKGROUND).graph_mode(common.BigValueGraphMode.NONE)
             .reduce_options(cb.ReduceDataOptions().calcs(["lastNotNull"]).fields("").values(False))
             .height(4).span(8))
    if up_down:
        panel = panel.mappings([ValueMap({"0": ValueMappingResult(text="DOWN", color="red"),
                                          "1": ValueMappingResult(text="UP", color="green")})])
    return panel


def parent(suffix: str) -> str:
    """A per-parent series, filtered by the batch variable."""
    return f"wndchrm_queue_parent_{suffix}{{{PARENTS}}}"


def rate(metric: str, by: str = "", selector: str = "") -> str:
    grouping = f" by ({by})" if by else ""
    return f"sum{grouping} (rate({metric}{selector}[{RATE}]))"


def quantile(q: float) -> str:
    buckets = rate("wndchrm_worker_job_duration_seconds_bucket", "le, kind, job_type")
    return f"histogram_quantile({q}, {buckets})"


def done_per_second() -> str:
    """Per parent: dependencies done per second over 5 minutes (as the recording rule
    ``wndchrm_queue:parent_dependencies_done:deriv5m``: ``done`` is a gauge that only grows, hence deriv)."""
    return f'clamp_min(deriv(wndchrm_queue_parent_dependencies_done{{{PARENTS}, parent!="other"}}[{PACE}]), 0)'


def batch_sum(expr: str) -> str:
    """Summed per batch within each monitor, then the largest over monitors (several scrape one queue)."""
    return f"max by (batch) (sum by (instance, batch) ({expr}))"


def parent_table() -> table.Panel:
    """One row per active parent: a bar gauge of the share done, then the counts, pace, time left and age."""
    columns = [("progress", f"{parent('dependencies_done')} / ({parent('dependencies')} > 0)"),
               ("total", parent("dependencies")),
               ("done", parent("dependencies_done")),
               ("running", parent("dependencies_running")),
               ("failed", parent("dependencies_failed")),
               ("left", parent("dependencies_left")),
               ("per s", done_per_second()),
               ("time left", f"{parent('dependencies_left')} / {done_per_second()}"),
               ("age", parent("age_seconds"))]
    refs = "ABCDEFGHI"
    rename = {f"Value #{ref}": name for (name, _), ref in zip(columns, refs, strict=True)}
    order = {name: i for i, name in enumerate(["parent", "batch", *[c for c, _ in columns]])}
    hidden = {"Time": True, "__name__": True, "instance": True, "job": True}
    return (
        table.Panel().title("Parent progress").datasource(DS)
        .description("Active parents (oldest first); beyond the monitor's --max-parents they are summed in "
                     "parent=\"other\".")
        .targets([target(expr, name, ref, instant=True) for (name, expr), ref in zip(columns, refs, strict=True)])
        .transformations([
            DataTransformerConfig(id_val="merge", options={}),
            DataTransformerConfig(id_val="organize", options={
                "excludeByName": hidden, "includeByName": {}, "indexByName": order, "renameByName": rename}),
            DataTransformerConfig(id_val="filterFieldsByName", options={
                "include": {"names": ["parent", "batch", *[name for name, _ in columns]]}}),
            DataTransformerConfig(id_val="sortBy", options={"sort": [{"field": "age", "desc": True}]}),
        ])
        .override_by_name("progress", [
            DynamicConfigValue("unit", "percentunit"), DynamicConfigValue("min", 0), DynamicConfigValue("max", 1),
            DynamicConfigValue("custom.cellOptions", {"type": "gauge", "mode": "gradient"}),
            DynamicConfigValue("custom.width", 240)])
        .override_by_name("age", [DynamicConfigValue("unit", "s")])
        .override_by_name("time left", [DynamicConfigValue("unit", "s")])
        .override_by_name("per s", [DynamicConfigValue("decimals", 2)])
        .override_by_name("failed", [
            DynamicConfigValue("custom.cellOptions", {"type": "color-text"}),
            DynamicConfigValue("thresholds", steps(("green", None), ("red", 1)).build())])
        .show_header(True)
        .height(10).span(24)
    )


def queue_row() -> list[Any]:
    return [
        graph("Queue depth", [
            target("max(wndchrm_queue_depth)", "ready or running (autoscaling)", "A"),
            target("max(wndchrm_queue_jobs_left)", "left (incl. delayed)", "B"),
            target("max(wndchrm_queue_parents_waiting_dependencies)", "parents waiting on dependencies", "C"),
        ], description="Jobs ready or running in the main and dependency tubes; KEDA/HPA scale on it."),
        graph("Workers", [
            target("max(wndchrm_queue_workers_busy)", "busy", "A"),
            target("max(wndchrm_queue_workers_idle)", "idle", "B"),
        ], stack=True, description="Worker processes connected to beanstalkd (watching the main tube)."),
        graph("Throughput", [
            target(rate("wndchrm_worker_jobs_total", "job_type, outcome", '{outcome!="expanded"}'),
                   "{{job_type}} {{outcome}}", "A"),
            target(rate("wndchrm_queue_server_deletes_total"), "beanstalkd deletes", "B"),
        ], unit="ops", description="Jobs ended per second by type (job: parent, dep: dependency), outcome."),
    ]


def pace_row() -> list[Any]:
    left = f'{parent("dependencies_left")[:-1]}, parent!="other"}}'
    return [
        graph("Dependencies per second by batch", [target(batch_sum(done_per_second()), "{{batch}}", "A")],
              unit="ops", description="Dependencies (for wndchrm: images) done per second over 5 minutes, "
                                      "summed over each batch's active parents."),
        graph("Time left by batch", [
            target(f"{batch_sum(left)} / {batch_sum(done_per_second())}", "{{batch}}", "A"),
        ], unit="s", description="Dependencies left of each batch's active parents at the pace of the last 5 "
                                 "minutes (infinite while none end). Parents not yet expanded and the parents' "
                                 "own runs come on top."),
    ]


def jobs_row() -> list[Any]:
    return [
        graph("Job duration p50 / p95", [
            target(quantile(0.5), "p50 {{kind}} {{job_type}}", "A"),
            target(quantile(0.95), "p95 {{kind}} {{job_type}}", "B"),
        ], unit="s"),
        graph("Failures and retries", [
            target(rate("wndchrm_worker_jobs_total", "job_type", '{outcome="failed"}'), "failed {{job_type}}", "A"),
            target(rate("wndchrm_worker_retries_total", "job_type"), "retried {{job_type}}", "B"),
            target(f"sum({parent('dependencies_failed')})", "failed deps of active parents", "C"),
        ], unit="ops"),
        graph("Jobs in progress", [
            target("sum by (kind, job_type) (wndchrm_worker_jobs_in_progress)", "{{kind}} {{job_type}}", "A"),
        ]),
    ]


def beanstalkd_row() -> list[Any]:
    return [
        single("beanstalkd", "min(wndchrm_queue_beanstalkd_up)", up_down=True,
               thresholds=steps(("red", None), ("green", 1))),
        single("Uptime", "max(wndchrm_queue_server_uptime_seconds)", unit="s"),
        single("Buried beyond manifests",
               'max(sum by (instance) (wndchrm_queue_tube_jobs{state="buried"})'
               " - on (instance) wndchrm_queue_manifests)",
               thresholds=steps(("green", None), ("orange", 1))),
        graph("Tubes by state", [
            target('sum by (tube, state) (wndchrm_queue_tube_jobs{state!="urgent"})', "{{tube}} {{state}}"),
        ]),
        graph("beanstalkd commands", [
            target(rate("wndchrm_queue_server_puts_total"), "puts", "A"),
            target(rate("wndchrm_queue_server_reserves_total"), "reserves", "B"),
            target(rate("wndchrm_queue_server_timeouts_total"), "TTR timeouts", "C"),
            target(rate("wndchrm_queue_server_connections_total"), "new connections", "D"),
        ], unit="ops"),
        graph("Monitor scrape", [
            target("max(wndchrm_queue_scrape_duration_seconds)", "scrape duration", "A"),
            target(rate("wndchrm_queue_scrape_errors_total"), "errors/s", "B"),
        ], unit="s"),
    ]


def variables() -> list[Any]:
    batches = "label_values(wndchrm_queue_parent_dependencies, batch)"
    return [
        db.DatasourceVariable("datasource").label("Data source").type("prometheus"),
        db.QueryVariable("batch").label("Batch").datasource(DS).query(batches).include_all(True).multi(True)
        .all_value(".*").refresh(VariableRefresh.ON_TIME_RANGE_CHANGED).sort(VariableSort.ALPHABETICAL_ASC),
    ]


def builder() -> db.Dashboard:
    board = (db.Dashboard("wndchrm queue").uid("wndchrm-queue")
             .description("The wndchrm queue on beanstalkd: depth, workers, throughput, per-parent progress.")
             .tags(["wndchrm", "beanstalkd"]).editable().version(1).time("now-3h", "now").refresh("30s")
             .timezone("").tooltip(DashboardCursorSync.CROSSHAIR).variables(variables()))
    for title, panels in (("Queue", queue_row()), ("Parents", [parent_table()]),
                          ("Pace", pace_row()), ("Jobs", jobs_row()),
                          ("beanstalkd", beanstalkd_row())):
        board = board.with_row(db.Row(title))
        for panel in panels:
            board = board.with_panel(panel)
    return board


def dashboard() -> dict[str, Any]:
    """The dashboard as Grafana's JSON model (panels numbered in order)."""
    model: dict[str, Any] = json.loads(json.dumps(builder().build(), cls=JSONEncoder))
    for number, panel in enumerate(model["panels"], 1):
        panel["id"] = number
    return model


def render() -> str:
    """The dashboard as committed: stable key order so a rebuild without changes is byte-identical."""
    return json.dumps(dashboard(), indent=2, sort_keys=True) + "\n"


def expressions() -> list[str]:
    """Every PromQL expression in the dashboard (panels and variables), for tests."""
    board = dashboard()
    exprs = [t["expr"] for p in board["panels"] for t in p.get("targets", [])]
    # label_values(<selector>, <label>) is Grafana's; the selector inside is PromQL.
    variables = [re.fullmatch(r"label_values\((.*), \w+\)", str(v.get("query", "")))
                 for v in board["templating"]["list"] if v["type"] == "query"]
    return exprs + [m.group(1) for m in variables if m]


def main() -> None:
    OUTPUT.write_text(render(), encoding="utf-8")
    sys.stdout.write(f"wrote {OUTPUT}\n")


if __name__ == "__main__":
    main()
