"""Fan-in latency: from the last dependency's delete to its parent's start, over many parents.

    python bench/fanin_latency.py [--parents 200] [--deps 5] [--processes 2]

A QueueMain pool runs parents with a few trivial dependencies each. The workers' own log lines, stamped
to the microsecond, give for each parent the time its last dependency was deleted ("dep .. done", logged
just after the delete) and the time it started ("parent .. started", logged just before its callback).
Goal (issue): median under 20 ms.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._server import TrivialJobs, beanstalkd
from depqueue import Config, DepQueue, QueueMain


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--parents", type=int, default=200)
    parser.add_argument("--deps", type=int, default=5)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    with beanstalkd() as port, tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "worker.log"
        handler = logging.FileHandler(log)
        handler.setFormatter(logging.Formatter("%(created).6f %(message)s"))
        logging.getLogger().handlers[:] = [handler]
        logging.getLogger().setLevel(logging.INFO)
        jobs = TrivialJobs(args.deps)
        pool = QueueMain(jobs.run_job, jobs.add_deps, Config(beanstalkd_port=port, beanstalkd_tube="bench",
                                                   num_workers=args.processes))
        parents = [pool.queue.add_job(["noop", str(i)], batch="lat") for i in range(args.parents)]
        pool.launch_workers()
        waiter = DepQueue(port=port, tube="bench")
        seen: set[int] = set()
        deadline = time.monotonic() + 600
        while len(seen) < len(parents) and time.monotonic() < deadline:
            seen.update(int(r.body["parent"]) for r in waiter.collect_outcomes("lat"))
            time.sleep(0.05)
        pool.stop()
        text = log.read_text()
    last_done: dict[int, float] = {}
    started: dict[int, float] = {}
    for stamp, parent in re.findall(r"^(\S+) dep \d+ of parent (\d+) done$", text, re.M):
        last_done[int(parent)] = max(last_done.get(int(parent), 0.0), float(stamp))
    for stamp, parent in re.findall(r"^(\S+) parent (\d+) started", text, re.M):
        started.setdefault(int(parent), float(stamp))
    latencies = [1000 * (started[p] - last_done[p]) for p in parents if p in started and p in last_done]
    figures = {"parents": len(latencies), "deps": args.deps, "processes": args.processes,
               "median_ms": round(statistics.median(latencies), 3), "p99_ms": round(percentile(latencies, 0.99), 3),
               "max_ms": round(max(latencies), 3)}
    print(f"fan-in latency over {len(latencies)} parents ({args.deps} dependencies each, "
          f"{args.processes} worker processes):")
    print(f"  median {figures['median_ms']:.2f} ms   p99 {figures['p99_ms']:.2f} ms   max {figures['max_ms']:.2f} ms"
          f"   (goal: median < 20 ms)")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
