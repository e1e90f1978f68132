"""Run every benchmark, each against its peer in the same run, and print one summary table.

    bench/run-all [--quick]

Each benchmark writes its figures to bench/results/<name>.json; --quick shrinks the sizes for a smoke run.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results"


def run(name: str, args: list[str]) -> tuple[dict[str, object], str]:
    out = RESULTS / f"{name}.json"
    cmd = [sys.executable, str(BENCH / args[0]), *args[1:]]
    if "monitor_scrape" not in args[0]:
        cmd += ["--json", str(out)]
    print(f"== {name}: {' '.join(cmd[1:])}", flush=True)
    started = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    print(proc.stdout.rstrip() or proc.stderr[-2000:], flush=True)
    if proc.returncode != 0:
        return {"error": f"exit {proc.returncode}"}, proc.stderr[-500:]
    figures = json.loads(out.read_text()) if out.exists() else {}
    figures["bench_seconds"] = round(time.perf_counter() - started, 1)
    return figures, proc.stdout


def monitor_figures(stdout: str) -> dict[str, object]:
    match = re.search(r"median ([\d.]+) s\s+max ([\d.]+) s", stdout)
    cold = re.search(r"cold scrape.*?: ([\d.]+) s", stdout)
    return {"median_s": float(match.group(1)) if match else None, "max_s": float(match.group(2)) if match else None,
            "cold_s": float(cold.group(1)) if cold else None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    RESULTS.mkdir(exist_ok=True)
    deps = "4000" if args.quick else "20000"
    rows: list[tuple[str, str, str, str]] = []
    for processes in ("1", "2"):
        for binlog in (True, False):
            name = f"throughput-{processes}p-{'binlog' if binlog else 'nobinlog'}"
            extra = [] if binlog else ["--no-binlog"]
            f, _ = run(name, ["throughput.py", "--deps", deps, "--processes", processes, "--rounds", "3", *extra])
            rows.append((f"queue overhead, {processes} process(es), binlog {'on' if binlog else 'off'}",
                         f"median ratio {f.get('median_ratio')}",
                         f"worker CPU {f.get('median_worker_cpu_us_per_dep')} us per dependency", ">= 0.7"))
    f, _ = run("seed-overhead", ["seed_overhead.py", "--deps", deps, "--rounds", "3"])
    rows.append(("seed API path (QueueMain), 2 processes, binlog on", f"median ratio {f.get('median_ratio')}",
                 "3 alternating rounds against raw", ">= 0.7"))
    f, _ = run("fanin", ["fanin_latency.py", "--parents", "100" if args.quick else "500"])
    rows.append(("fan-in latency", f"p50 {f.get('median_ms')} ms, p99 {f.get('p99_ms')} ms",
                 f"{f.get('parents')} parents", "p50 < 10 ms, p99 < 100 ms"))
    if (BENCH / "features_vs_charm.py").exists():
        f, _ = run("features", ["features_vs_charm.py", *(["--images", "6", "--size", "128"] if args.quick else [])])
        rows.append(("feature throughput", f"queue {f.get('queue_seconds')} s vs peer {f.get('peer_seconds')} s",
                     f"speed-up {f.get('speedup')}", ">= 1.2x"))
    quick_scale = ["--big", "10000", "--parents", "200", "--failed", "1000"] if args.quick else []
    f, _ = run("scale", ["scale.py", *quick_scale])
    big, many, failed = (f.get(k, {}) for k in ("big", "many", "failed"))
    rows.append(("1 parent x many deps", f"{big.get('deps')} deps in {big.get('completion_s')} s "  # type: ignore[union-attr]
                 f"(expansion {big.get('expansion_s')} s)",  # type: ignore[union-attr]
                 f"RSS worker {big.get('worker_peak_rss_mb')} MiB, "  # type: ignore[union-attr]
                 f"submitter {big.get('submitter_peak_rss_mb')} MiB",  # type: ignore[union-attr]
                 "bounded memory"))
    rows.append(("many parents x 10 deps", f"{many.get('parents')} parents, {many.get('deps_per_s')} deps/s",  # type: ignore[union-attr]
                 f"fairness tau {many.get('fairness_kendall_tau')}", "tau near 1"))  # type: ignore[union-attr]
    rows.append(("failed jobs", f"{failed.get('failed')} listed in {failed.get('list_s')} s",  # type: ignore[union-attr]
                 f"retried in {failed.get('retry_all_s')} s", ""))  # type: ignore[union-attr]
    _, stdout = run("monitor", ["monitor_scrape.py", *(["--scrapes", "5"] if args.quick else [])])
    m = monitor_figures(stdout)
    (RESULTS / "monitor.json").write_text(json.dumps(m, indent=2))
    rows.append(("monitor scrape, 1,000 parents", f"median {m['median_s']} s, max {m['max_s']} s",
                 f"cold {m['cold_s']} s", "< 1 s"))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    print()
    for row in [("benchmark", "figure", "detail", "goal"), *rows]:
        print("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)))
    (RESULTS / "summary.json").write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
