"""Trivial dependencies through depqueue against a raw greenstalk put/reserve/delete loop, same server, same run.

    python bench/throughput.py [--deps 20000] [--processes 2] [--rounds 5] [--no-binlog]

Raw: one process puts N jobs, then P processes reserve and delete until the tube is empty.
depqueue: one parent whose add_job_deps_callback adds N dependencies that do nothing, run by a
QueueMain pool of P processes, from add_job to the parent's outcome record.
Rounds alternate which side goes first, and the figures are medians: on a shared machine one round's
ratio swings by a fifth either way. Goal: depqueue at least 0.7 of raw.
"""

from __future__ import annotations

import argparse
import json
import logging
import multiprocessing
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import greenstalk

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._server import TrivialJobs, beanstalkd
from depqueue import Config, DepQueue, QueueMain, setup_logging


def raw_consumer(port: int, tube: str) -> None:
    client = greenstalk.Client(("127.0.0.1", port), watch=tube)
    while True:
        try:
            job = client.reserve(timeout=1)
        except greenstalk.TimedOutError:
            return
        client.delete(job)


def raw(port: int, n: int, processes: int) -> float:
    tube = "raw"
    start = time.perf_counter()
    producer = greenstalk.Client(("127.0.0.1", port), use=tube)
    body = json.dumps({"v": 1, "type": "dep", "params": ["noop"], "parent": 1, "parent_tube": "x"})
    consumers = [multiprocessing.Process(target=raw_consumer, args=(port, tube)) for _ in range(processes)]
    for c in consumers:
        c.start()
    for _ in range(n):
        producer.put(body)
    while producer.stats_tube(tube)["current-jobs-ready"] + producer.stats_tube(tube)["current-jobs-reserved"]:
        time.sleep(0.05)
    elapsed = time.perf_counter() - start
    for c in consumers:
        c.join()
    producer.close()
    return elapsed


def server_usage(port: int) -> tuple[float, int]:
    """beanstalkd's CPU seconds so far and the commands it has served."""
    stats = greenstalk.Client(("127.0.0.1", port)).stats()
    cpu = float(stats["rusage-utime"]) + float(stats["rusage-stime"])
    return cpu, sum(int(v) for k, v in stats.items() if k.startswith("cmd-"))


def children_cpu() -> float:
    """CPU seconds (user and system) of this process's children that have ended and been waited for."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def through_depqueue(port: int, n: int, processes: int, log: Path, quiet: bool = False) -> float:
    setup_logging(str(log))
    if quiet:
        logging.getLogger().setLevel(logging.WARNING)
    config = Config(beanstalkd_port=port, beanstalkd_tube="bench", num_workers=processes)
    jobs = TrivialJobs(n)
    pool = QueueMain(jobs.run_job, jobs.add_deps, config)
    start = time.perf_counter()
    parent = pool.queue.add_job(["noop"], batch="bench")
    pool.launch_workers()
    waiter = DepQueue(port=port, tube="bench")
    while not [r for r in waiter.collect_outcomes("bench") if r.body["parent"] == parent]:
        time.sleep(0.05)
    elapsed = time.perf_counter() - start
    pool.stop()
    logging.getLogger().handlers.clear()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--deps", type=int, default=20000)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--no-binlog", action="store_true")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--quiet-workers", action="store_true",
                        help="workers log warnings only (default: one line per job state change, as deployed)")
    parser.add_argument("--rounds", type=int, default=5,
                        help="alternating rounds (raw first, then depqueue first); figures are medians")
    args = parser.parse_args()
    rounds = []
    with beanstalkd(binlog=not args.no_binlog) as port, tempfile.TemporaryDirectory() as tmp:
        for i in range(args.rounds):
            rounds.append(one_round(port, args, Path(tmp) / f"worker{i}.log", raw_first=i % 2 == 0))
            r = rounds[-1]
            server = r["server_cpu_us_per_job"]
            print(f"round {i + 1}: raw {r['raw_seconds']:.2f} s, depqueue {r['depqueue_seconds']:.2f} s, ratio "
                  f"{r['ratio']:.2f}; worker CPU {r['worker_cpu_us_per_dep']} us/dep; beanstalkd CPU raw "
                  f"{server['raw']} us/job, depqueue {server['depqueue']} us/dep", flush=True)

    def median(key: str, side: str | None = None) -> float:
        return float(statistics.median(r[key][side] if side else r[key] for r in rounds))

    figures = {"deps": args.deps, "processes": args.processes, "binlog": not args.no_binlog,
               "worker_logging": "warnings" if args.quiet_workers else "info", "rounds": rounds,
               "median_ratio": median("ratio"), "median_worker_cpu_us_per_dep": median("worker_cpu_us_per_dep"),
               "median_server_cpu_us": {"raw": median("server_cpu_us_per_job", "raw"),
                                        "depqueue": median("server_cpu_us_per_job", "depqueue")}}
    print(f"median of {args.rounds} rounds: ratio depqueue/raw throughput {figures['median_ratio']:.2f} (goal >= 0.7); "
          f"beanstalkd commands per job: raw {rounds[0]['raw_commands_per_job']}, depqueue "
          f"{rounds[0]['depqueue_commands_per_dep']}")
    print(f"median worker CPU per dependency: {figures['median_worker_cpu_us_per_dep']:.1f} us (raw consumers "
          f"{median('raw_cpu_us_per_job'):.1f} us per job); beanstalkd CPU: raw "
          f"{figures['median_server_cpu_us']['raw']:.1f} us per job, depqueue "
          f"{figures['median_server_cpu_us']['depqueue']:.1f} us per dependency")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


def one_round(port: int, args: argparse.Namespace, log: Path, raw_first: bool) -> dict[str, Any]:
    """One raw run and one depqueue run on the same server, in the given order."""
    figures: dict[str, Any] = {}

    def run_raw() -> None:
        cpu0, cmds0 = server_usage(port)
        consumers0 = children_cpu()
        figures["raw_seconds"] = raw(port, args.deps, args.processes)
        figures["raw_cpu_us_per_job"] = round(1e6 * (children_cpu() - consumers0) / args.deps, 1)
        cpu1, cmds1 = server_usage(port)
        figures["raw_commands_per_job"] = round((cmds1 - cmds0 - 1) / args.deps, 2)
        figures.setdefault("server_cpu_us_per_job", {})["raw"] = round(1e6 * (cpu1 - cpu0) / args.deps, 1)

    def run_depqueue() -> None:
        cpu0, cmds0 = server_usage(port)
        workers0 = children_cpu()
        figures["depqueue_seconds"] = through_depqueue(port, args.deps, args.processes, log, args.quiet_workers)
        # The workers' own CPU per dependency: what the queue's code costs, and much steadier than
        # wall-clock rates on a shared machine.
        figures["worker_cpu_us_per_dep"] = round(1e6 * (children_cpu() - workers0) / args.deps, 1)
        cpu1, cmds1 = server_usage(port)
        figures["depqueue_commands_per_dep"] = round((cmds1 - cmds0 - 3) / args.deps, 2)
        figures.setdefault("server_cpu_us_per_job", {})["depqueue"] = round(1e6 * (cpu1 - cpu0) / args.deps, 1)

    for run in (run_raw, run_depqueue) if raw_first else (run_depqueue, run_raw):
        run()
    figures["ratio"] = round(figures["raw_seconds"] / figures["depqueue_seconds"], 3)
    return figures


if __name__ == "__main__":
    main()
