"""Invariants 2, 5 and 6: kill -9 anywhere, SIGTERM drains, server restarts, the sweep recovers."""

from __future__ import annotations

import os
import random
import signal
import time
from pathlib import Path

from depqueue import DepQueue
from depqueue.wire.envelope import decode
from depqueue.wire.records import write_manifest
from testkit.beanstalkd import Beanstalkd
from testkit.workers import WorkerPool, starts, wait_outcomes, wait_until


def _kill_one(pool: WorkerPool, rng: random.Random) -> None:
    children = pool.children()
    if children:
        os.kill(rng.choice(children), signal.SIGKILL)


def test_kill_9_while_workers_hold_dependencies(beanstalkd: Beanstalkd, data_root: Path, tmp_path: Path) -> None:
    queue = DepQueue(port=beanstalkd.port)
    parents = [queue.add_job(["demo", "fanout", "15", str(data_root / f"k{i}"), "--sleep", "0.1"], batch="k",
                             attempts=10) for i in range(4)]
    rng = random.Random(1)
    with WorkerPool(beanstalkd.port, data_root, tmp_path / "w.log", processes=3) as pool:
        for _ in range(8):
            time.sleep(0.4)
            _kill_one(pool, rng)
        outcomes = wait_outcomes(queue, "k", parents, timeout=90)
    assert {o["status"] for o in outcomes.values()} == {"succeeded"}
    for i in range(4):
        assert len(list((data_root / f"k{i}").glob("part-*.txt"))) == 15


def test_kill_9_while_expanding(beanstalkd: Beanstalkd, data_root: Path, tmp_path: Path) -> None:
    queue = DepQueue(port=beanstalkd.port)
    out = data_root / "e"
    parent = queue.add_job(["demo", "fanout", "40", str(out), "--expand-sleep", "2"], batch="e", attempts=5)
    with WorkerPool(beanstalkd.port, data_root, tmp_path / "w.log", processes=2) as pool:
        wait_until(lambda: "expanding" in pool.log_text(), 15, "expansion to start")
        time.sleep(0.6)  # some dependencies are in, the manifest is not
        expander = int(pool.log_text().split(f"parent {parent} expanding")[0].rsplit("[", 1)[1].split("]")[0])
        os.kill(expander, signal.SIGKILL)
        outcome = wait_outcomes(queue, "e", [parent], timeout=90)[parent]
        log = pool.log_text()
    assert outcome["status"] == "succeeded"
    assert outcome["deps"] == 40
    assert "dependencies of an interrupted expansion" in log or log.count(f"parent {parent} expanding") == 2
    assert len(starts(out / "parent-starts.log")) == 1


def test_kill_9_while_running_the_parent(beanstalkd: Beanstalkd, data_root: Path, tmp_path: Path) -> None:
    queue = DepQueue(port=beanstalkd.port)
    out = data_root / "r"
    parent = queue.add_job(["demo", "fanout", "3", str(out), "--run-sleep", "3"], batch="r", attempts=3)
    with WorkerPool(beanstalkd.port, data_root, tmp_path / "w.log", processes=2):
        wait_until(lambda: starts(out / "parent-starts.log"), 20, "the parent to start")
        runner = int(starts(out / "parent-starts.log")[0].split()[1])
        os.kill(runner, signal.SIGKILL)
        outcome = wait_outcomes(queue, "r", [parent], timeout=60)[parent]
    assert outcome["status"] == "succeeded"
    # started twice: the crash inside the parent's run is the documented at-least-once window
    assert len(starts(out / "parent-starts.log")) == 2


def test_a_parent_that_keeps_killing_its_worker_fails_after_its_attempts(beanstalkd: Beanstalkd, data_root: Path,
                                                                         tmp_path: Path) -> None:
    queue = DepQueue(port=beanstalkd.port)
    out = data_root / "poison"
    parent = queue.add_job(["demo", "fanout", "1", str(out), "--run-sleep", "30"], batch="p", attempts=2)
    with WorkerPool(beanstalkd.port, data_root, tmp_path / "w.log", processes=2):
        for n in (1, 2):
            wait_until(lambda n=n: len(starts(out / "parent-starts.log")) == n, 30, f"start {n}")
            os.kill(int(starts(out / "parent-starts.log")[-1].split()[1]), signal.SIGKILL)
        outcome = wait_outcomes(queue, "p", [parent], timeout=30)[parent]
    assert outcome["status"] == "failed"
    assert "out of attempts: the worker died or timed out 2 times" in outcome["reason"]


def test_sigterm_drains_a_running_job(beanstalkd: Beanstalkd, data_root: Path, tmp_path: Path) -> None:
    queue = DepQueue(port=beanstalkd.port)
    parent = queue.add_job(["demo", "write", str(data_root / "slow.txt"), "done", "--sleep", "2"], batch="d")
    pool = WorkerPool(beanstalkd.port, data_root, tmp_path / "w.log", processes=1)
    wait_until(lambda: f"parent {parent} started" in pool.log_text(), 15, "the job to start")
    pool.signal(signal.SIGTERM)
    assert pool.process.wait(30) == 0
    assert (data_root / "slow.txt").read_text() == "done"
    assert wait_outcomes(queue, "d", [parent], timeout=5)[parent]["status"] == "succeeded"


def test_sigterm_past_the_grace_period_hands_the_job_back(beanstalkd: Beanstalkd, data_root: Path,
                                                          tmp_path: Path) -> None:
    queue = DepQueue(port=beanstalkd.port)
    parent = queue.add_job(["demo", "write", str(data_root / "long.txt"), "done", "--sleep", "60"], batch="h",
                           attempts=1)
    pool = WorkerPool(beanstalkd.port, data_root, tmp_path / "w.log", processes=1, GRACE_PERIOD="1")
    wait_until(lambda: f"parent {parent} started" in pool.log_text(), 15, "the job to start")
    began = time.monotonic()
    pool.signal(signal.SIGTERM)
    pool.process.wait(30)
    assert time.monotonic() - began < 10
    assert "handed back on shutdown" in pool.log_text()
    info = queue.conn.stats_job(parent)
    assert info is not None and info["state"] == "ready"  # back in the queue, not lost, no attempt spent
    with WorkerPool(beanstalkd.port, data_root, tmp_path / "w2.log", processes=1, GRACE_PERIOD="1"):
        wait_until(lambda: f"parent {parent} started" in (tmp_path / "w2.log").read_text(), 15,
                   "another worker to take it")
    # attempts=1 and it was handed back once: a hand-back is not a failed attempt
    assert "out of attempts" not in (tmp_path / "w2.log").read_text()


def test_beanstalkd_restart_mid_batch_loses_nothing(beanstalkd: Beanstalkd, data_root: Path, tmp_path: Path) -> None:
    queue = DepQueue(port=beanstalkd.port)
    parents = [queue.add_job(["demo", "fanout", "30", str(data_root / f"s{i}"), "--sleep", "0.05"], batch="s",
                             attempts=5) for i in range(3)]
    with WorkerPool(beanstalkd.port, data_root, tmp_path / "w.log", processes=2) as pool:
        wait_until(lambda: len(list(data_root.glob("s*/part-*.txt"))) > 10, 30, "work to be under way")
        beanstalkd.restart()
        queue.close()
        outcomes = wait_outcomes(queue, "s", parents, timeout=120)
        assert "reconnecting" in pool.log_text()
    assert {o["status"] for o in outcomes.values()} == {"succeeded"}
    for i in range(3):
        assert len(starts(data_root / f"s{i}" / "parent-starts.log")) >= 1


def strand(queue: DepQueue, out: Path, parts: int, park: int) -> int:
    """Leave a parent in the crash window: expanded and parked for ``park`` seconds, its dependencies done
    and deleted, and nobody claiming it (as when the last finisher died between its delete and its claim)."""
    parent = queue.add_job(["demo", "fanout", str(parts), str(out)], batch="stranded")
    conn = queue.conn
    conn.watch_only([queue.tube])
    job = conn.reserve(1)
    assert job is not None and job.id == parent
    envelope = decode(job.body)
    dep_tube = queue.dep_tube(parent)
    out.mkdir(parents=True)
    for i in range(parts):  # what the expander would do, then what the crashed finishers left
        (out / f"part-{i}.txt").write_text(str(i))
        conn.put(dep_tube, b"{}", priority=0)
    write_manifest(conn, dep_tube, parent, envelope, parts)
    conn.release(parent, envelope.wire_priority, delay=park)
    conn.watch_only([dep_tube])
    while (dep := conn.reserve(0)) is not None:
        conn.delete(dep.id)
    return parent


def test_sweep_runs_a_stranded_parent(beanstalkd: Beanstalkd, data_root: Path, tmp_path: Path) -> None:
    """Parked far longer than the test: the idle workers' sweep finds it."""
    queue = DepQueue(port=beanstalkd.port)
    parent = strand(queue, data_root / "stranded", parts=2, park=3600)
    began = time.monotonic()
    with WorkerPool(beanstalkd.port, data_root, tmp_path / "w.log", processes=1, SWEEP_INTERVAL="2") as pool:
        outcome = wait_outcomes(queue, "stranded", [parent], timeout=30)[parent]
        assert "the sweep runs it" in pool.log_text()
    assert outcome["status"] == "succeeded"
    assert time.monotonic() - began < 15


def test_parked_parent_is_recovered_by_its_park_delay_when_workers_are_busy(beanstalkd: Beanstalkd,
                                                                             data_root: Path, tmp_path: Path) -> None:
    """Same crash window, but the parent's park delay is short: it comes back and runs by itself."""
    queue = DepQueue(port=beanstalkd.port)
    parent = strand(queue, data_root / "parked", parts=1, park=2)
    with WorkerPool(beanstalkd.port, data_root, tmp_path / "w.log", processes=1, SWEEP_INTERVAL="600"):
        outcome = wait_outcomes(queue, "stranded", [parent], timeout=20)[parent]
    assert outcome["status"] == "succeeded"
