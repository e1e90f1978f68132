"""Scale: where one beanstalkd and the queue's own round trips start to show.

    python bench/scale.py [--big 100000] [--parents 1000] [--failed 10000] [--processes 2] [--json FILE]

- big: one parent with --big trivial dependencies, through real ``wndchrm-worker`` processes and a real
  ``wndchrm-submit --wait``: expansion time, completion time, peak memory of worker and submitter.
- many: --parents parents x 10 dependencies at once: dependency throughput, and fairness as the rank
  correlation (Kendall's tau) between submission order and completion order (1.0 = strictly in order).
- failed: --failed parents that fail, then the time to list them (``wndchrm-submit failed``' call) and
  to retry them all.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scipy.stats import kendalltau

from bench._server import beanstalkd
from depqueue import DepQueue
from testkit.workers import BIN, WorkerPool, children_of


def peak_rss_mb(pids: list[int]) -> float:
    """Largest VmHWM (peak resident set) among ``pids``, in MiB."""
    peak = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak = max(peak, int(line.split()[1]))
        except OSError:
            continue
    return peak / 1024


class PeakWatcher(threading.Thread):
    """Samples peak RSS of some processes until stopped (VmHWM vanishes with the process)."""

    def __init__(self, pids: callable) -> None:  # type: ignore[valid-type]
        super().__init__(daemon=True)
        self.pids, self.peak, self.done = pids, 0.0, threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.2):
            self.peak = max(self.peak, peak_rss_mb(self.pids()))


def log_time(line: str) -> float:
    return datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f").timestamp()


def big(port: int, n: int, processes: int, tmp: Path) -> dict[str, float]:
    data = tmp / "data-big"
    data.mkdir()
    env = {**os.environ, "BEANSTALKD_PORT": str(port), "DATA_ROOT": str(data)}
    with WorkerPool(port, data, tmp / "big.log", processes=processes) as pool:
        workers = PeakWatcher(lambda: children_of(pool.process.pid))
        workers.start()
        start = time.perf_counter()
        submitter = subprocess.Popen([str(BIN / "wndchrm-submit"), "--wait", "--no-progress", "--batch", "big", "--",
                                      "demo", "fanout", str(n), str(data / "big"), "--noop"], env=env,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        watcher = PeakWatcher(lambda: [submitter.pid])
        watcher.start()
        output, _ = submitter.communicate()
        elapsed = time.perf_counter() - start
        workers.done.set()
        watcher.done.set()
        log = pool.log_text()
    if submitter.returncode != 0:
        raise SystemExit(f"big batch failed:\n{output[-2000:]}")
    began = log_time(re.search(r"^.*parent \d+ expanding.*$", log, re.M).group(0))  # type: ignore[union-attr]
    ended = log_time(re.search(r"^.*expanded into \d+ dependencies.*$", log, re.M).group(0))  # type: ignore[union-attr]
    return {"deps": n, "expansion_s": round(ended - began, 2), "completion_s": round(elapsed, 2),
            "deps_per_s": round(n / elapsed), "worker_peak_rss_mb": round(workers.peak, 1),
            "submitter_peak_rss_mb": round(watcher.peak, 1)}


def kendall_tau(order: list[int]) -> float:
    """Rank correlation of ``order`` (values' positions) against sorted order (scipy's Kendall tau)."""
    return float(kendalltau(range(len(order)), order).statistic)


def many(port: int, parents: int, processes: int, tmp: Path) -> dict[str, float]:
    data = tmp / "data-many"
    data.mkdir()
    queue = DepQueue(port=port)
    with WorkerPool(port, data, tmp / "many.log", processes=processes):
        start = time.perf_counter()
        ids = [queue.add_job(["demo", "fanout", "10", str(data / f"m{i}"), "--noop"], batch="many")
               for i in range(parents)]
        finished: dict[int, float] = {}
        while len(finished) < parents:
            records = queue.collect_outcomes("many")
            finished.update({int(r.body["parent"]): float(r.body["finished"]) for r in records})
            queue.finish_outcomes(records)
            time.sleep(0.05)
        elapsed = time.perf_counter() - start
    completion_order = sorted(ids, key=lambda p: finished[p])
    rank = {p: i for i, p in enumerate(ids)}
    return {"parents": parents, "deps": parents * 10, "seconds": round(elapsed, 2),
            "deps_per_s": round(parents * 10 / elapsed),
            "fairness_kendall_tau": round(kendall_tau([rank[p] for p in completion_order]), 3)}


def failed(port: int, n: int, processes: int, tmp: Path) -> dict[str, float]:
    data = tmp / "data-failed"
    data.mkdir()
    queue = DepQueue(port=port, tube="failing")
    with WorkerPool(port, data, tmp / "failed.log", processes=processes, BEANSTALKD_TUBE="failing"):
        ids = [queue.add_job(["demo", "fail", "on purpose"], batch="failing", attempts=1) for _ in range(n)]
        got = 0
        while got < n:
            records = queue.collect_outcomes("failing")
            got += len(records)
            queue.finish_outcomes(records)
            time.sleep(0.1)
    start = time.perf_counter()
    records = queue.failed()
    listing = time.perf_counter() - start
    start = time.perf_counter()
    for record in records:
        queue.retry(record.id)
    retrying = time.perf_counter() - start
    return {"failed": len(records), "submitted": len(ids), "list_s": round(listing, 2),
            "retry_all_s": round(retrying, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--big", type=int, default=100_000)
    parser.add_argument("--parents", type=int, default=1000)
    parser.add_argument("--failed", type=int, default=10_000)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--only", choices=["big", "many", "failed"])
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    figures: dict[str, dict[str, float]] = {}
    with beanstalkd() as port, tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        for name, fn, size in (("big", big, args.big), ("many", many, args.parents), ("failed", failed, args.failed)):
            if args.only in (None, name):
                figures[name] = fn(port, size, args.processes, Path(tmp))
                print(f"{name:8}" + "  ".join(f"{k} {v}" for k, v in figures[name].items()), flush=True)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
