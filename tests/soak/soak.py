"""Soak test with fault injection: a batch of real jobs runs while a chaos loop breaks things.

    python -m tests.soak.soak [--parents 40] [--deps 25] [--faults 200] [--max-seconds 900] [--work wndchrm]

P parents x D dependencies run on two worker pools: ``demo fanout`` (every dependency writes its part
file atomically, every parent checks its parts and writes a result) or, with ``--work wndchrm``, WND-CHARM
training on a set of D images per parent (every dependency computes one image's features with
CharmFeatures and writes its cache atomically; corrupt files are caches that do not load as valid).
Meanwhile the chaos loop, bounded in count and time and touching only processes it started on loopback,
injects:

- ``kill9``: SIGKILL of a random worker process (its pool restarts it);
- ``pool_restart``: SIGTERM of a whole pool (drain) and a fresh pool in its place (scale down and up);
- ``server_restart``: SIGKILL of beanstalkd and a restart on the same binlog;
- ``server_pause``: SIGSTOP of beanstalkd for longer than the jobs' TTR, then SIGCONT (a partition).

At the end it prints parents submitted, completed, failed, lost (must be 0), duplicate parent starts
(from the parents' own start logs), dependencies re-run (from the workers' logs), corrupt output files
(must be 0), wall time and the faults injected by kind.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import signal
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

from depqueue import DepQueue
from depqueue.errors import BeanstalkdUnreachable
from testkit.beanstalkd import Beanstalkd, free_port
from testkit.workers import WorkerPool

TTR = 3
PAUSE = TTR + 2


@dataclass
class SoakReport:
    parents: int = 0
    completed: int = 0
    failed: int = 0
    lost: int = 0
    duplicate_parent_starts: int = 0
    dependencies_rerun: int = 0
    corrupt_files: int = 0
    wall_seconds: float = 0.0
    faults: dict[str, int] = field(default_factory=dict)

    @property
    def fault_total(self) -> int:
        return sum(self.faults.values())

    def line(self) -> str:
        faults = ", ".join(f"{k} {v}" for k, v in sorted(self.faults.items()))
        return (f"soak: parents {self.parents} completed {self.completed} failed {self.failed} lost {self.lost}; "
                f"duplicate parent starts {self.duplicate_parent_starts}; dependencies re-run "
                f"{self.dependencies_rerun}; corrupt files {self.corrupt_files}; wall {self.wall_seconds:.0f}s; "
                f"faults {self.fault_total} ({faults})")


class Chaos:
    """The fault loop: bounded by ``max_faults`` and by the batch finishing."""

    def __init__(self, server: Beanstalkd, pools: list[WorkerPool], make_pool: object, rng: random.Random) -> None:
        self.server, self.pools, self.make_pool, self.rng = server, pools, make_pool, rng
        self.faults: Counter[str] = Counter()

    def inject(self) -> None:
        kind = self.rng.choices(["kill9", "pool_restart", "server_restart", "server_pause"], [6, 2, 1, 1])[0]
        if kind == "kill9":
            children = [pid for pool in self.pools for pid in pool.children()]
            if not children:
                return
            os.kill(self.rng.choice(children), signal.SIGKILL)
        elif kind == "pool_restart":
            index = self.rng.randrange(len(self.pools))
            old = self.pools[index]
            old.signal(signal.SIGTERM)
            self.pools[index] = self.make_pool()  # type: ignore[operator]
            old.process.wait(60)
        elif kind == "server_restart":
            self.server.restart()
        else:
            assert self.server.process is not None
            self.server.process.send_signal(signal.SIGSTOP)
            time.sleep(PAUSE)
            self.server.process.send_signal(signal.SIGCONT)
        self.faults[kind] += 1


def collect(queue: DepQueue, batch: str, outcomes: dict[int, dict[str, object]]) -> None:
    try:
        records = queue.collect_outcomes(batch)
        for record in records:
            outcomes.setdefault(int(record.body["parent"]), record.body)
        queue.finish_outcomes(records)
    except BeanstalkdUnreachable:
        queue.close()


def corrupt_wndchrm_outputs(data: Path, ids: list[int], outcomes: dict[int, dict[str, object]]) -> int:
    """Feature caches that do not load as valid, and missing models of succeeded parents."""
    from wndchrm.features import cache
    from wndchrm.features.featureset import feature_set
    from wndchrm.options import parse

    options = parse(["wndchrm", "check", "-l", "x"]).options
    wanted = feature_set(options)
    bad = 0
    for image in sorted(data.glob("set*/**/*.tif")):
        path = cache.cache_path(data, image.resolve(), options)
        if path.exists() and cache.load(path, image.resolve(), options, wanted) is None:
            bad += 1
    for i, parent in enumerate(ids):
        if outcomes.get(parent, {}).get("status") == "succeeded" and not (data / "out" / f"set{i}.fit").exists():
            bad += 1
    return bad


def run_soak(workdir: Path, parents: int, deps: int, max_faults: int, max_seconds: float,
             processes: int = 2, seed: int = 1, dep_seconds: float = 0.3, work: str = "demo") -> SoakReport:
    """``work`` is ``demo`` (dependencies write part files) or ``wndchrm`` (each parent trains a WND-CHARM
    model on its own set of ``deps`` images; dependencies compute features with CharmFeatures)."""
    rng = random.Random(seed)
    server = Beanstalkd(port=free_port(), binlog=workdir / "binlog")
    server.start()
    data = workdir / "data"
    data.mkdir()
    logs = workdir / "logs"
    logs.mkdir()
    counter = iter(range(10_000))

    def make_pool() -> WorkerPool:
        return WorkerPool(server.port, data, logs / f"pool-{next(counter)}.log", processes=processes,
                          SWEEP_INTERVAL="3", GRACE_PERIOD="5")

    started = time.monotonic()
    queue = DepQueue(port=server.port)
    if work == "wndchrm":
        from testkit.example_data import build_textures
        for i in range(parents):
            build_textures(data / f"set{i}", per_class=max(2, deps // 3), size=48)
        argvs = [["wndchrm", "train", "-l", f"set{i}/textures", f"out/set{i}.fit"] for i in range(parents)]
    else:
        argvs = [["demo", "fanout", str(deps), str(data / f"p{i}"), "--sleep", str(dep_seconds)]
                 for i in range(parents)]
    ids = [queue.add_job(argv, batch="soak", ttr=TTR, attempts=20, backoff=0.5) for argv in argvs]
    pools = [make_pool(), make_pool()]
    chaos = Chaos(server, pools, make_pool, rng)
    outcomes: dict[int, dict[str, object]] = {}
    deadline = started + max_seconds
    try:
        while len(outcomes) < parents and time.monotonic() < deadline:
            if sum(chaos.faults.values()) < max_faults:
                chaos.inject()
            time.sleep(rng.uniform(0.3, 1.2))
            collect(queue, "soak", outcomes)
        while len(outcomes) < parents and time.monotonic() < deadline:
            time.sleep(0.5)
            collect(queue, "soak", outcomes)
    finally:
        for pool in pools:
            pool.stop()
        server.stop()
    report = SoakReport(parents=parents, wall_seconds=time.monotonic() - started, faults=dict(chaos.faults))
    report.completed = sum(o.get("status") == "succeeded" for o in outcomes.values())
    report.failed = sum(o.get("status") != "succeeded" for o in outcomes.values())
    report.lost = parents - len(outcomes)
    if work == "wndchrm":
        report.corrupt_files = corrupt_wndchrm_outputs(data, ids, outcomes)
    for i, parent in enumerate(ids if work == "demo" else []):
        out = data / f"p{i}"
        starts_log = out / "parent-starts.log"
        starts = starts_log.read_text().splitlines() if starts_log.exists() else []
        report.duplicate_parent_starts += max(0, len(starts) - 1)
        for n in range(deps):
            part = out / f"part-{n}.txt"
            if part.exists() and part.read_text() != str(n):
                report.corrupt_files += 1
        result = out / "result.txt"
        if parent in outcomes and outcomes[parent].get("status") == "succeeded" and (
                not result.exists() or result.read_text() != f"{deps} parts\n"):
            report.corrupt_files += 1
    log_text = "".join(p.read_text(errors="replace") for p in logs.glob("*.log"))
    runs = Counter(re.findall(r"dep (\d+) of parent \d+ started", log_text))
    report.dependencies_rerun = sum(n - 1 for n in runs.values())
    if work == "wndchrm":  # the workers' own log lines are the markers
        parent_runs = Counter(re.findall(r": parent (\d+) started", log_text))
        report.duplicate_parent_starts = sum(n - 1 for n in parent_runs.values())
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--parents", type=int, default=40)
    parser.add_argument("--deps", type=int, default=25)
    parser.add_argument("--faults", type=int, default=200)
    parser.add_argument("--max-seconds", type=float, default=900)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--dep-seconds", type=float, default=0.3, help="work per demo dependency")
    parser.add_argument("--work", choices=["demo", "wndchrm"], default="demo",
                        help="demo jobs, or WND-CHARM training whose dependencies compute real features")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="soak-") as tmp:
        report = run_soak(Path(tmp), args.parents, args.deps, args.faults, args.max_seconds, seed=args.seed,
                          dep_seconds=args.dep_seconds, work=args.work)
    print(report.line())
    if args.json:
        args.json.write_text(json.dumps(asdict(report), indent=2))
    raise SystemExit(0 if report.lost == 0 and report.corrupt_files == 0 else 1)


if __name__ == "__main__":
    main()
