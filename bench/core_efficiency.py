"""Per-core efficiency of the queue on a 2-process pool, and where the rest of the time goes.

    python bench/core_efficiency.py [--deps 200] [--work-ms 50] [--processes 2] [--rounds 3] [--json FILE]

One parent with ``--deps`` CPU-bound dependencies, each a fixed amount of arithmetic calibrated to take
``--work-ms`` in one process alone, runs on a QueueMain pool of 1 process and then of ``--processes``
(already started and idle: forking is not the queue's per-job cost). T is the wall time from ``add_job``
to the end of the parent's run callback. Efficiency = T1 / (N x TN), the median over alternating rounds.

The same work items also run on a ``multiprocessing`` pool of 1 and of N processes (``map``, one item at
a time): the *peer*, which has no queue but shares the machine's load and its cores' contention. On a
machine others use too, compare the queue's efficiency with the peer's.

Where the rest goes, from each job's own notes (CLOCK_MONOTONIC, shared by every process):
- ``busy``: the workers' time inside dependency callbacks / (N x TN);
- ``slowdown``: the dependencies' summed time on N processes / on 1 (two running at once on two cores
  slow each other: caches, memory, a busy machine); efficiency = busy(N) / busy(1) / slowdown;
- the pool's idle core-seconds, split into the start (add_job to each worker's first dependency: the
  expansion, the wake), the gaps between a worker's dependencies (reserve and delete round trips,
  logging), the tail (a worker's last dependency's end to the last one's), and the end (the last
  dependency's end to the parent's: fan-in and the parent's run).

Goal: efficiency >= 0.95.
"""

from __future__ import annotations

import argparse
import itertools
import json
import multiprocessing
import os
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._server import beanstalkd
from depqueue import Config, DepQueue, QueueMain

DEP, PARENT = "spin-dep", "spin-parent"
GOAL = ">= 0.95"


def spin(iterations: int) -> float:
    """The dependency's work: plain arithmetic, no memory to speak of, no system calls."""
    x = 0.0
    for i in range(iterations):
        x += (i % 7) * 0.5
    return x


def calibrate(work_ms: float) -> int:
    """Iterations of ``spin`` taking ``work_ms`` in this process (the best of a few tries)."""
    n = 100_000
    best = min(_timed(n) for _ in range(3))
    return max(1000, int(n * work_ms / 1000 / best))


def _timed(iterations: int) -> float:
    started = time.perf_counter()
    spin(iterations)
    return time.perf_counter() - started


class SpinJobs:
    """depqueue callbacks: the parent gets ``deps`` spinning dependencies; every job notes its start and
    end in ``folder/<pid>.times`` (one O_APPEND write per job)."""

    def __init__(self, deps: int, iterations: int, folder: Path) -> None:
        self.deps, self.iterations, self.folder = deps, iterations, folder
        self._pid, self._fd = 0, -1

    def add_deps(self, queue: DepQueue, dep_tube: str, job_id: int, params: list[str]) -> int:
        for i in range(self.deps):
            queue.add_dependent_job(dep_tube, [DEP, str(i)])
        return self.deps

    def run_job(self, queue: object, job_id: int, params: list[str]) -> None:
        start, cpu_start = time.monotonic_ns(), time.process_time_ns()
        if params[0] == DEP:
            spin(self.iterations)
        self._note("dep" if params[0] == DEP else "parent", start, time.monotonic_ns(), cpu_start,
                   time.process_time_ns())

    def _note(self, kind: str, *stamps: int) -> None:
        if self._pid != os.getpid():
            self._pid = os.getpid()
            self._fd = os.open(self.folder / f"{self._pid}.times", os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        os.write(self._fd, f"{kind} {' '.join(map(str, stamps))}\n".encode())


def queue_round(port: int, deps: int, iterations: int, processes: int, folder: Path, tube: str) -> dict[str, Any]:
    """One run on a started, idle pool; the figures of its notes."""
    folder.mkdir()
    jobs = SpinJobs(deps, iterations, folder)
    pool = QueueMain(jobs.run_job, jobs.add_deps, Config(beanstalkd_port=port, beanstalkd_tube=tube,
                                                         num_workers=processes))
    pool.launch_workers()
    try:
        queue = DepQueue(port=port, tube=tube)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # every worker waiting in a reserve: started and idle
            stats = queue.conn.stats_tube(tube)
            if stats and stats["current-waiting"] >= processes:
                break
            time.sleep(0.02)
        submitted = time.monotonic_ns()
        queue.add_job([PARENT], batch="eff")
        outcomes: list[Any] = []
        deadline = time.monotonic() + 120 + deps * iterations * 1e-6
        while not outcomes and time.monotonic() < deadline:
            outcomes = queue.collect_outcomes("eff")
            time.sleep(0.01)
        queue.finish_outcomes(outcomes, consume=True)
        queue.close()
    finally:
        pool.stop()
    if not outcomes or outcomes[0].body["status"] != "succeeded":
        sys.exit(f"core efficiency: the parent on {processes} process(es) did not succeed: {outcomes}")
    return breakdown(folder, submitted, processes)


def breakdown(folder: Path, submitted: int, processes: int) -> dict[str, Any]:
    """T, the dependencies' summed time, and the pool's idle core-seconds by where they fall."""
    per_worker: dict[str, list[tuple[int, ...]]] = {}
    parent_end = 0
    for path in folder.glob("*.times"):
        for line in path.read_text().splitlines():
            kind, *stamps = line.split()
            if kind == "dep":
                per_worker.setdefault(path.stem, []).append(tuple(int(s) for s in stamps))
            else:
                parent_end = int(stamps[1])
    spans = [sorted(v) for v in per_worker.values()]
    last_dep = max(s[-1][1] for s in spans)
    wall = (parent_end - submitted) / 1e9
    work = sum(span_[1] - span_[0] for span in spans for span_ in span) / 1e9
    start = sum(span[0][0] - submitted for span in spans) / 1e9 + (processes - len(spans)) * wall
    gaps = sum(b[0] - a[1] for span in spans for a, b in itertools.pairwise(span)) / 1e9
    # The workers' own CPU between two dependencies (the queue's Python: round trips' parsing, logging);
    # the rest of a gap is waiting: for beanstalkd's replies, or for a core.
    gaps_cpu = sum(b[2] - a[3] for span in spans for a, b in itertools.pairwise(span)) / 1e9
    tail = sum(last_dep - span[-1][1] for span in spans) / 1e9
    end = len(spans) * (parent_end - last_dep) / 1e9
    return {"wall_s": wall, "work_s": work, "busy": work / (processes * wall),
            "idle_core_s": {"start": start, "gaps": gaps, "tail": tail, "end": end},
            "gap_cpu_ms_per_dep": 1000 * gaps_cpu / max(1, sum(len(s) - 1 for s in spans)),
            "gap_ms_per_dep": 1000 * gaps / max(1, sum(len(s) - 1 for s in spans)),
            "deps_per_worker": sorted(len(s) for s in spans)}


def _default_signals() -> None:
    """A peer process must not inherit QueueMain's SIGTERM handler (the pool's exit sends SIGTERM)."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def peer_round(deps: int, iterations: int, processes: int) -> float:
    """The same items on a started multiprocessing pool: the wall time of ``map``, one item at a time."""
    with multiprocessing.get_context("fork").Pool(processes, initializer=_default_signals) as pool:
        pool.map(spin, [1000] * processes)  # started and warm
        started = time.perf_counter()
        pool.map(spin, [iterations] * deps, chunksize=1)
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--deps", type=int, default=200)
    parser.add_argument("--work-ms", type=float, default=50.0, help="one dependency's time in one process")
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    if args.deps < 1 or args.rounds < 1 or args.processes < 2:
        parser.error("--deps and --rounds at least 1, --processes at least 2")
    load_before = os.getloadavg()[0]
    iterations = calibrate(args.work_ms)
    rounds: list[dict[str, Any]] = []
    with beanstalkd() as port, tempfile.TemporaryDirectory() as tmp:
        for number in range(args.rounds):  # alternating, so a change of the machine's load hits both
            one = queue_round(port, args.deps, iterations, 1, Path(tmp) / f"{number}-1", f"eff{number}a")
            many = queue_round(port, args.deps, iterations, args.processes, Path(tmp) / f"{number}-n",
                               f"eff{number}b")
            peer_one = peer_round(args.deps, iterations, 1)
            peer_many = peer_round(args.deps, iterations, args.processes)
            rounds.append({"one": one, "many": many, "efficiency": one["wall_s"] / (args.processes * many["wall_s"]),
                           "slowdown": many["work_s"] / one["work_s"],
                           "peer_efficiency": peer_one / (args.processes * peer_many)})
    middle = sorted(rounds, key=lambda r: r["efficiency"])[len(rounds) // 2]
    one, many = middle["one"], middle["many"]
    idle = {k: round(v, 3) for k, v in many["idle_core_s"].items()}
    figures = {
        "deps": args.deps, "work_ms": args.work_ms, "processes": args.processes, "rounds": len(rounds),
        "efficiency": round(middle["efficiency"], 3),
        "efficiencies": [round(r["efficiency"], 3) for r in rounds],
        "peer_efficiency": round(statistics.median(r["peer_efficiency"] for r in rounds), 3),
        "busy": round(many["busy"], 3), "busy_one": round(one["busy"], 3),
        "slowdown": round(middle["slowdown"], 3),
        "wall_one_s": round(one["wall_s"], 3), "wall_many_s": round(many["wall_s"], 3),
        "idle_core_s": idle, "deps_per_worker": many["deps_per_worker"],
        "gap_ms_per_dep": round(many["gap_ms_per_dep"], 3), "gap_cpu_ms_per_dep": round(many["gap_cpu_ms_per_dep"], 3),
        "gap_ms_per_dep_one": round(one["gap_ms_per_dep"], 3),
        "load_before": round(load_before, 2), "load_after": round(os.getloadavg()[0], 2),
    }
    print(f"per-core efficiency, {args.deps} dependencies of {args.work_ms:g} ms on 1 and {args.processes} "
          f"processes ({len(rounds)} round(s); load average {figures['load_before']} before, "
          f"{figures['load_after']} after, {os.cpu_count()} CPUs):")
    print(f"  queue: T1 {figures['wall_one_s']} s, T{args.processes} {figures['wall_many_s']} s, efficiency "
          f"{figures['efficiency']} (rounds {figures['efficiencies']}; goal {GOAL}); peer (multiprocessing) "
          f"{figures['peer_efficiency']}")
    print(f"  busy {figures['busy']} on {args.processes} processes, {figures['busy_one']} on 1; dependencies "
          f"{figures['slowdown']}x slower when {args.processes} run at once")
    print(f"  idle core-seconds on {args.processes} processes: start {idle['start']}, gaps {idle['gaps']}, "
          f"tail {idle['tail']}, end {idle['end']} (of {round(args.processes * many['wall_s'], 3)}); "
          f"dependencies per worker {many['deps_per_worker']}")
    print(f"  between two dependencies a worker spends {figures['gap_ms_per_dep']} ms "
          f"({figures['gap_ms_per_dep_one']} ms on 1 process), of which its own CPU {figures['gap_cpu_ms_per_dep']} ms;"
          " the rest waits for beanstalkd's replies or for a core")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
