"""Would the splits of ``test -nN`` pay as dependencies? One parent against the same work spread over a pool.

    python bench/lab_data.py ROOT && python bench/lab_scale.py ROOT --sizes 10 --only train
    python bench/spread_parent.py ROOT [--size 10] [--splits 5] [--processes 2]

One process: ``test -nN`` on the .fit of SIZE thousand images (what the parent does today). Spread: N
processes of ``test -n1`` on the same file, PROCESSES at a time, each loading the features and running one
split: the work N split dependencies would do (without the parent that would merge their results, so
the spread side is measured at its best). Same machine, one run after the other, load printed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.lab_scale import measured, ours


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("root", type=Path)
    parser.add_argument("--size", type=int, default=10, help="thousands of images")
    parser.add_argument("--splits", type=int, default=5)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    root = args.root.resolve()
    fit = f"fits/ds{args.size}k.fit"
    one = measured(ours(root, "test", f"-n{args.splits}", fit, "reports/spread-one.html"), root)
    print(f"one parent, test -n{args.splits}: {json.dumps(one)}", flush=True)
    load = os.getloadavg()[0]
    started = time.perf_counter()
    commands = [ours(root, "test", "-n1", fit, f"reports/spread-{i}.html") for i in range(args.splits)]
    with ThreadPoolExecutor(args.processes) as pool:
        parts = list(pool.map(lambda cmd: measured(cmd, root), commands))
    spread_s = time.perf_counter() - started
    spread = {"seconds": round(spread_s, 2), "cpu_s": round(sum(float(str(p["cpu_s"])) for p in parts), 2),
              "peak_mib_each": max(float(str(p["peak_mib"])) for p in parts), "load": round(load, 2)}
    print(f"{args.splits} x test -n1 on {args.processes} processes: {json.dumps(spread)}")
    print(f"spread / one parent: {spread_s / float(str(one['seconds'])):.2f} of the time "
          f"(below 1 would favour split dependencies)")
    if args.json:
        args.json.write_text(json.dumps({"one": one, "spread": spread, "parts": parts}, indent=2))
    failed = [run for run in [one, *parts] if "error" in run]
    if failed:
        sys.exit(f"spread_parent: {len(failed)} run(s) failed: {failed[0]['error']}")


if __name__ == "__main__":
    main()
