"""Run every benchmark, each against its peer in the same run, and print one summary table.

    bench/run-all [--quick | --smoke] [--results DIR]

Each benchmark writes its figures to DIR/<name>.json (default bench/results/); --quick shrinks the sizes
for a first look, --smoke to the smallest that still runs every benchmark's code (its figures mean
nothing; the test suite runs it). The exit code is 1, after the table, when a benchmark failed or a
figure the table shows is missing (absent, None, NaN or empty), and the message names each one.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import string
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "results"
MISSING = "MISSING"
GOAL_EFFICIENCY = ">= 0.95"


@dataclass(frozen=True)
class Row:
    """One line of the summary table; ``figure`` and ``detail`` are format strings over the benchmark's
    figures (``{p50_ms}``, ``{big[deps]}``)."""

    benchmark: str
    figure: str
    detail: str
    goal: str


@dataclass(frozen=True)
class Bench:
    """One benchmark run: ``script`` in bench/ with ``args`` (and ``--json``), tabled as ``rows``."""

    name: str
    script: str
    args: list[str]
    rows: list[Row]


def benches(size: str) -> list[Bench]:
    """Every benchmark run-all runs, at ``size`` (full, quick or smoke)."""

    def pick(full: list[str], quick: list[str], smoke: list[str]) -> list[str]:
        return {"full": full, "quick": quick, "smoke": smoke}[size]

    deps = pick(["--deps", "20000", "--rounds", "3"], ["--deps", "4000", "--rounds", "3"],
                ["--deps", "300", "--rounds", "1"])
    found = []
    for processes in ("1", "2"):
        for binlog in (True, False):
            found.append(Bench(
                f"throughput-{processes}p-{'binlog' if binlog else 'nobinlog'}", "throughput.py",
                [*deps, "--processes", processes, *([] if binlog else ["--no-binlog"])],
                [Row(f"queue overhead, {processes} process(es), binlog {'on' if binlog else 'off'}",
                     "median ratio {median_ratio}", "worker CPU {median_worker_cpu_us_per_dep} us per dependency",
                     ">= 0.7")]))
    found.append(Bench("seed-overhead", "seed_overhead.py", deps, [
        Row("seed API path (QueueMain), 2 processes, binlog on", "median ratio {median_ratio}",
            "alternating rounds against raw: {rounds_count}", ">= 0.7")]))
    found.append(Bench("fanin", "fanin_latency.py", ["--parents", *pick(["500"], ["100"], ["20"])], [
        Row("fan-in latency", "p50 {p50_ms} ms, p99 {p99_ms} ms", "{parents} parents, max {max_ms} ms",
            "p50 < 10 ms, p99 < 100 ms")]))
    found.append(Bench("features", "features_vs_charm.py",
                       pick([], ["--images", "6", "--size", "128"], ["--images", "2", "--size", "64"]), [
        Row("feature throughput", "queue {queue_seconds} s vs peer {peer_seconds} s", "speed-up {speedup}",
            ">= 1.2x")]))
    found.append(Bench("mcc", "mcc_cost.py", pick(["--images", "6", "--size", "96"], ["--images", "2", "--size", "96"],
                                                ["--images", "1", "--size", "12"]), [
        Row("Haralick MCC, 12 chains (48 Q matrices)", "{cpu_s_per_image} s CPU per image",
            "CharmFeatures' long vector {charm_cpu_s_per_image} s; {images} image(s) of {size}x{size}, Q up to "
            "{max_tones}x{max_tones}", "< 1.2 s (10x)")]))
    found.append(Bench("scale", "scale.py", pick([], ["--big", "10000", "--parents", "200", "--failed", "1000"],
                                                 ["--big", "500", "--parents", "20", "--failed", "50"]), [
        Row("1 parent x many deps", "{big[deps]} deps in {big[completion_s]} s (expansion {big[expansion_s]} s)",
            "RSS worker {big[worker_peak_rss_mb]} MiB, submitter {big[submitter_peak_rss_mb]} MiB", "bounded memory"),
        Row("many parents x 10 deps", "{many[parents]} parents, {many[deps_per_s]} deps/s",
            "fairness tau {many[fairness_kendall_tau]}", "tau near 1"),
        Row("failed jobs", "{failed[failed]} listed in {failed[list_s]} s", "retried in {failed[retry_all_s]} s", "")]))
    found.append(Bench("core-efficiency", "core_efficiency.py",
                       pick([], ["--deps", "60", "--rounds", "1"],
                            ["--deps", "20", "--work-ms", "20", "--rounds", "1"]), [
        Row("per-core efficiency, 2 processes", "{efficiency} (peer {peer_efficiency})",
            "busy {busy}, dependencies {slowdown}x slower two at once; load {load_before}", GOAL_EFFICIENCY)]))
    found.append(Bench("monitor", "monitor_scrape.py",
                       pick([], ["--scrapes", "5"], ["--parents", "50", "--workers", "2", "--scrapes", "2"]), [
        Row("monitor scrape", "median {median_s} s, max {max_s} s", "cold {cold_s} s, {parents} active parents",
            "< 1 s")]))
    return found


class _Cells(string.Formatter):
    """Fills a row's cells from figures, writing MISSING for (and remembering) any figure that is not there."""

    def __init__(self) -> None:
        self.missing: list[str] = []

    def get_field(self, field_name: str, args: Sequence[Any], kwargs: Mapping[str, Any]) -> Any:
        try:
            value, key = super().get_field(field_name, args, kwargs)
        except (KeyError, IndexError, TypeError, AttributeError):
            value, key = None, field_name
        if value is None or value == "" or value == [] or value == {} or (isinstance(value, float)
                                                                           and math.isnan(value)):
            self.missing.append(field_name)
            return MISSING, key
        return value, key


def table(bench: Bench, figures: dict[str, Any] | None) -> tuple[list[tuple[str, str, str, str]], list[str]]:
    """The bench's rows filled from its figures (None: it failed), and the figures each row lacks."""
    rows, missing = [], []
    for row in bench.rows:
        if figures is None:
            rows.append((row.benchmark, "ERROR", "see its output above", row.goal))
            continue
        cells = _Cells()
        rows.append((row.benchmark, cells.format(row.figure, **figures), cells.format(row.detail, **figures),
                     row.goal))
        missing += [f"{row.benchmark}: {name} missing" for name in cells.missing]
    return rows, missing


def run(bench: Bench, results: Path) -> tuple[dict[str, Any] | None, str | None]:
    """Run one benchmark; its figures, or None and why it failed."""
    out = results / f"{bench.name}.json"
    out.unlink(missing_ok=True)  # a figure left from an earlier run must not stand in for a missing one
    cmd = [sys.executable, str(BENCH / bench.script), *bench.args, "--json", str(out)]
    print(f"== {bench.name}: {' '.join(cmd[1:])}", flush=True)
    started = time.perf_counter()
    # This checkout's code, in the benchmarks and in the worker and submitter programs they start, whatever
    # checkout the interpreter's environment was installed from.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.stdout.strip():
        print(proc.stdout.rstrip(), flush=True)
    if proc.returncode != 0:
        print(proc.stderr[-2000:].rstrip(), flush=True)
        lines = proc.stderr.strip().splitlines() or ["no message"]
        # A traceback ends with the exception; a message of the benchmark's own (sys.exit) starts with its gist.
        reason = lines[-1] if "Traceback (most recent call last)" in proc.stderr else lines[0]
        return None, f"{bench.name} ({bench.script}) exited {proc.returncode}: {reason}"
    if not out.exists():
        return None, f"{bench.name} ({bench.script}) wrote no figures to {out}"
    figures: dict[str, Any] = json.loads(out.read_text())
    figures["bench_seconds"] = round(time.perf_counter() - started, 1)
    if isinstance(figures.get("rounds"), list):
        figures["rounds_count"] = len(figures["rounds"])
    return figures, None


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sizes = parser.add_mutually_exclusive_group()
    sizes.add_argument("--quick", action="store_true", help="smaller sizes, for a first look")
    sizes.add_argument("--smoke", action="store_true", help="the smallest sizes: runs the code, figures mean nothing")
    parser.add_argument("--results", type=Path, default=RESULTS, help="folder for the figures (default: %(default)s)")
    args = parser.parse_args(argv)
    args.results.mkdir(parents=True, exist_ok=True)
    rows: list[tuple[str, str, str, str]] = []
    problems: list[str] = []
    for bench in benches("quick" if args.quick else "smoke" if args.smoke else "full"):
        figures, error = run(bench, args.results)
        bench_rows, missing = table(bench, figures)
        rows += bench_rows
        problems += [error] if error else missing
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    print()
    for row in [("benchmark", "figure", "detail", "goal"), *rows]:
        print("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
    (args.results / "summary.json").write_text(json.dumps(rows, indent=2))
    if problems:
        sys.exit(f"\nrun-all: {len(problems)} problem(s):\n  " + "\n  ".join(problems))


if __name__ == "__main__":
    main()
