"""The seed's API path against the raw greenstalk loop, in alternating rounds on one server.

    python bench/seed_overhead.py [--deps 20000] [--processes 2] [--rounds 3]

Each round runs the raw put/reserve/delete loop (bench/throughput.py's) and then QueueMain with
callbacks written as the seed README writes them (``add_job_deps_callback`` adds one no-op dependency at a
time with ``queue.add_dependent_job``; ``run_job_callback`` does nothing), binlog on, the workers logging to
a file as deployed (one line per job state change). Rounds alternate so both sides see the same load; the
figure is the median ratio, and the CPU each side's processes spent per job (steadier than wall clock on a
shared machine). Goal: at least 0.7 of raw.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._server import beanstalkd
from bench.throughput import children_cpu, raw
from depqueue import Config, DepQueue, QueueMain, setup_logging

DEPS = 20000


def run_job_callback(queue: object, job_id: int, job_params: list[str]) -> None:
    """The seed's run callback, doing nothing."""


def add_job_deps_callback(queue: DepQueue, dep_tube: str, job_id: int, job_params: list[str]) -> int:
    """The seed's expansion callback: one ``add_dependent_job`` per dependency, the count returned."""
    ndeps = 0
    for i in range(DEPS):
        queue.add_dependent_job(dep_tube, ["noop", str(i)])
        ndeps += 1
    return ndeps


def seed_path(port: int, processes: int, log: Path, batch: str) -> float:
    """Seconds from ``add_job`` to the parent's outcome through QueueMain."""
    setup_logging(str(log))
    pool = QueueMain(run_job_callback, add_job_deps_callback,
                     Config(beanstalkd_port=port, beanstalkd_tube="seed", num_workers=processes))
    start = time.perf_counter()
    parent = pool.queue.add_job(["noop"], batch=batch)
    pool.launch_workers()
    waiter = DepQueue(port=port, tube="seed")
    while not [r for r in waiter.collect_outcomes(batch) if r.body["parent"] == parent]:
        time.sleep(0.02)
    elapsed = time.perf_counter() - start
    pool.stop()
    waiter.close()
    return elapsed


def main() -> None:
    global DEPS
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--deps", type=int, default=DEPS)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    DEPS = args.deps
    rounds = []
    with beanstalkd(binlog=True) as port, tempfile.TemporaryDirectory() as tmp:
        for i in range(args.rounds):
            cpu0 = children_cpu()
            raw_s = raw(port, args.deps, args.processes)
            cpu1 = children_cpu()
            seed_s = seed_path(port, args.processes, Path(tmp) / f"worker{i}.log", f"seed{i}")
            cpu2 = children_cpu()
            rounds.append({"raw_s": round(raw_s, 3), "seed_s": round(seed_s, 3), "ratio": round(raw_s / seed_s, 3),
                           "raw_cpu_us_per_job": round(1e6 * (cpu1 - cpu0) / args.deps, 1),
                           "seed_cpu_us_per_dep": round(1e6 * (cpu2 - cpu1) / args.deps, 1),
                           "load": round(os.getloadavg()[0], 2)})
            print(f"round {i + 1}: raw {raw_s:.2f} s ({args.deps / raw_s:.0f}/s), seed path {seed_s:.2f} s "
                  f"({args.deps / seed_s:.0f}/s), ratio {raw_s / seed_s:.2f}; CPU per job raw consumers "
                  f"{rounds[-1]['raw_cpu_us_per_job']} us, workers {rounds[-1]['seed_cpu_us_per_dep']} us; "
                  f"load {rounds[-1]['load']}", flush=True)
    ratio = statistics.median(r["ratio"] for r in rounds)
    print(f"median ratio seed path / raw: {ratio:.2f} (goal >= 0.7)")
    if args.json:
        args.json.write_text(json.dumps({"deps": args.deps, "processes": args.processes, "binlog": True,
                                         "median_ratio": ratio, "rounds": rounds}, indent=2))


if __name__ == "__main__":
    main()
