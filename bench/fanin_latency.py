"""Fan-in latency: from a parent's last dependency finishing to the parent's own start, over many parents.

    python bench/fanin_latency.py [--parents 200] [--deps 5] [--processes 2] [--json FILE]

A QueueMain pool (its workers logging at INFO to a file) runs parents with a few dependencies each that
do nothing but note a time, as does each parent: a dependency's run callback notes the time it returns, a
parent's the time it is called (CLOCK_MONOTONIC, which every process of the machine shares), one line per
job in a file of the worker process's own. A parent's fan-in latency is its callback's start less the
latest end among its dependencies' callbacks. That span holds everything the queue does between the
two: the last dependency's delete (whose reply says the tube has drained), the claim of the parent
(``reserve-job``), reading its manifest and failed dependencies, and its start line in the log. It is
therefore a little longer than the time from the last delete: by the delete's own round trip and the end
of the dependency's attempt around it.

The times come from the jobs themselves, not from log lines, so no log level can take them away. A run
that leaves a parent without its figure (no outcome, no start time, a dependency's end missing), or in
which a parent starts before one of its dependencies ends, stops with an error that says so.

Goal: p50 under 10 ms, p99 under 100 ms.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._server import beanstalkd
from depqueue import Config, DepQueue, QueueMain

DEP, PARENT = "fanin-dep", "fanin-parent"
GOAL = "p50 < 10 ms, p99 < 100 ms"


class TimedJobs:
    """depqueue callbacks whose jobs do nothing but note when they ran, in ``folder/<pid>.times``.

    A dependency's argv carries its parent's id (``fanin-dep <parent> <i>``), since its callback is given
    only its own.
    """

    def __init__(self, deps: int, folder: Path) -> None:
        self.deps = deps
        self.folder = folder
        self._pid = 0
        self._fd = -1

    def add_deps(self, queue: DepQueue, dep_tube: str, job_id: int, params: list[str]) -> int:
        for i in range(self.deps):
            queue.add_dependent_job(dep_tube, [DEP, str(job_id), str(i)])
        return self.deps

    def run_job(self, queue: object, job_id: int, params: list[str]) -> None:
        if params[0] == DEP:
            self._note("end", int(params[1]), time.monotonic_ns())
        else:
            self._note("start", job_id, time.monotonic_ns())

    def _note(self, event: str, parent: int, nanoseconds: int) -> None:
        # One write on an O_APPEND file per worker process: a few microseconds, and nothing left in a buffer
        # when the pool stops its workers.
        if self._pid != os.getpid():  # first note in this (forked) worker process
            self._pid = os.getpid()
            self._fd = os.open(self.folder / f"{self._pid}.times", os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        os.write(self._fd, f"{event} {parent} {nanoseconds}\n".encode())


def fan_in_ms(lines: Iterable[str], parents: list[int], deps: int) -> tuple[dict[int, float], list[str]]:
    """Each parent's fan-in latency in milliseconds from the notes' lines, and what kept any parent from one.

    A dependency that ran twice (its worker died) counts by its latest end; a parent that started twice,
    by its first start.
    """
    ends: dict[int, list[int]] = {}
    starts: dict[int, int] = {}
    for line in lines:
        event, job, text = line.split()
        stamp = int(text)
        if event == "end":
            ends.setdefault(int(job), []).append(stamp)
        else:
            starts[int(job)] = min(stamp, starts.get(int(job), stamp))
    latencies: dict[int, float] = {}
    problems = []
    for parent in parents:
        if parent not in starts:
            problems.append(f"parent {parent}: no start noted")
        elif len(ends.get(parent, [])) < deps:
            problems.append(f"parent {parent}: {len(ends.get(parent, []))} of {deps} dependency ends noted")
        elif starts[parent] < max(ends[parent]):
            problems.append(f"parent {parent}: started {(max(ends[parent]) - starts[parent]) / 1e6:.3f} ms "
                            "before a dependency ended")
        else:
            latencies[parent] = (starts[parent] - max(ends[parent])) / 1e6
    return latencies, problems


def percentile(values: list[float], q: float) -> float:
    """The nearest-rank ``q`` quantile (0.99: the value 99 % of the others are at or below)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def run_pool(port: int, parents: int, deps: int, processes: int, folder: Path) -> tuple[list[int], list[str]]:
    """Submit ``parents`` parents, run them on a fresh pool, and return their ids and any that did not succeed."""
    jobs = TimedJobs(deps, folder)
    pool = QueueMain(jobs.run_job, jobs.add_deps, Config(beanstalkd_port=port, beanstalkd_tube="bench",
                                                         num_workers=processes))
    ids = [pool.queue.add_job([PARENT, str(i)], batch="lat") for i in range(parents)]
    outcomes: dict[int, str] = {}
    pool.launch_workers()
    try:
        waiter = DepQueue(port=port, tube="bench")
        deadline = time.monotonic() + 60 + parents * deps * 0.01
        while len(outcomes) < len(ids) and time.monotonic() < deadline:
            outcomes.update((int(r.body["parent"]), str(r.body["status"])) for r in waiter.collect_outcomes("lat"))
            time.sleep(0.05)
        waiter.close()
    finally:
        pool.stop()
    failed = [f"parent {p}: {outcomes[p]}" for p in ids if outcomes.get(p, "succeeded") != "succeeded"]
    failed += [f"parent {p}: no outcome" for p in ids if p not in outcomes]
    return ids, failed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--parents", type=int, default=200)
    parser.add_argument("--deps", type=int, default=5)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    if args.parents < 1 or args.deps < 1:
        parser.error("--parents and --deps must be at least 1")
    load_before = os.getloadavg()[0]
    with beanstalkd() as port, tempfile.TemporaryDirectory() as tmp:
        handler = logging.FileHandler(Path(tmp) / "worker.log")
        logging.getLogger().handlers[:] = [handler]
        logging.getLogger().setLevel(logging.INFO)
        notes = Path(tmp) / "times"
        notes.mkdir()
        parents, problems = run_pool(port, args.parents, args.deps, args.processes, notes)
        logging.getLogger().handlers.clear()
        handler.close()
        lines = [line for path in notes.glob("*.times") for line in path.read_text().splitlines()]
    latencies, missing = fan_in_ms(lines, parents, args.deps)
    problems += missing
    if problems or not latencies:
        sys.exit(f"fan-in latency: figures incomplete ({len(latencies)} of {len(parents)} parents have one):\n  "
                 + "\n  ".join(problems[:20]))
    values = list(latencies.values())
    figures = {"parents": len(values), "deps": args.deps, "processes": args.processes,
               "p50_ms": round(statistics.median(values), 3), "p99_ms": round(percentile(values, 0.99), 3),
               "max_ms": round(max(values), 3), "load_before": round(load_before, 2),
               "load_after": round(os.getloadavg()[0], 2),
               "measure": "last dependency's run callback returning -> its parent's run callback called"}
    print(f"fan-in latency over {len(values)} parents ({args.deps} dependencies each, {args.processes} worker "
          f"processes; load average {load_before:.2f} before, {figures['load_after']:.2f} after):")
    print(f"  p50 {figures['p50_ms']:.2f} ms   p99 {figures['p99_ms']:.2f} ms   max {figures['max_ms']:.2f} ms"
          f"   (goal: {GOAL})")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
