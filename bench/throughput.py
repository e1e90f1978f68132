"""Trivial dependencies through depqueue against a raw greenstalk put/reserve/delete loop, same server, same run.

    python bench/throughput.py [--deps 20000] [--processes 2] [--no-binlog]

Raw: one process puts N jobs, then P processes reserve and delete until the tube is empty.
depqueue: one parent whose add_job_deps_callback adds N dependencies that do nothing, run by a
QueueMain pool of P processes, from add_job to the parent's outcome record.
Goal: depqueue at least 0.7 of raw.
"""

from __future__ import annotations

import argparse
import json
import logging
import multiprocessing
import resource
import sys
import tempfile
import time
from pathlib import Path

import greenstalk

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._server import TrivialJobs, beanstalkd
from depqueue import Config, DepQueue, QueueMain
from depqueue.logs import setup_logging


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
    args = parser.parse_args()
    with beanstalkd(binlog=not args.no_binlog) as port, tempfile.TemporaryDirectory() as tmp:
        cpu0, cmds0 = server_usage(port)
        raw_s = raw(port, args.deps, args.processes)
        _, cmds1 = server_usage(port)
        workers_cpu = children_cpu()
        dq_s = through_depqueue(port, args.deps, args.processes, Path(tmp) / "worker.log", args.quiet_workers)
        workers_cpu = children_cpu() - workers_cpu
        cpu2, cmds2 = server_usage(port)
    figures = {"deps": args.deps, "processes": args.processes, "binlog": not args.no_binlog,
               "worker_logging": "warnings" if args.quiet_workers else "info",
               "raw_seconds": round(raw_s, 3), "raw_jobs_per_s": round(args.deps / raw_s),
               "depqueue_seconds": round(dq_s, 3), "depqueue_jobs_per_s": round(args.deps / dq_s),
               "ratio": round(raw_s / dq_s, 3),
               "raw_commands_per_job": round((cmds1 - cmds0) / args.deps, 2),
               "depqueue_commands_per_dep": round((cmds2 - cmds1 - 2) / args.deps, 2),
               "server_cpu_us_per_command": round(1e6 * (cpu2 - cpu0) / max(1, cmds2 - cmds0), 2),
               # The workers' own CPU per dependency: what the queue's code costs, and much steadier than
               # wall-clock rates on a shared machine.
               "worker_cpu_us_per_dep": round(1e6 * workers_cpu / args.deps, 1)}
    print(f"{'':12}{'seconds':>10}{'jobs/s':>10}")
    print(f"{'raw':12}{raw_s:10.2f}{args.deps / raw_s:10.0f}")
    print(f"{'depqueue':12}{dq_s:10.2f}{args.deps / dq_s:10.0f}")
    print(f"ratio depqueue/raw throughput: {raw_s / dq_s:.2f} (goal >= 0.7)")
    print(f"beanstalkd commands per job: raw {figures['raw_commands_per_job']}, depqueue "
          f"{figures['depqueue_commands_per_dep']}; server CPU {figures['server_cpu_us_per_command']} us/command")
    print(f"worker CPU per dependency: {figures['worker_cpu_us_per_dep']} us")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
