"""Invariant 1 (fan-in exactly once) and the basic job model, on a real beanstalkd and worker pool."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from depqueue import DepQueue
from depqueue.wire.connection import Connection
from testkit.beanstalkd import Beanstalkd
from testkit.workers import WorkerPool, starts, wait_outcomes


@pytest.mark.parametrize("ndeps", [0, 1, 500])
def test_parent_runs_once_after_all_its_dependencies(beanstalkd: Beanstalkd, data_root: Path, tmp_path: Path,
                                                     ndeps: int) -> None:
    queue = DepQueue(port=beanstalkd.port)
    out = data_root / "out"
    parent = queue.add_job(["demo", "fanout", str(ndeps), str(out)], batch="b1")
    with WorkerPool(beanstalkd.port, data_root, tmp_path / "w.log", processes=2):
        outcome = wait_outcomes(queue, "b1", [parent], timeout=120)[parent]
    assert outcome["status"] == "succeeded", outcome
    assert outcome["deps"] == ndeps
    assert len(starts(out / "parent-starts.log")) == 1
    assert (out / "result.txt").read_text() == f"{ndeps} parts\n"
    parts = sorted(out.glob("part-*.txt"))
    assert len(parts) == ndeps
    started = float(starts(out / "parent-starts.log")[0].split()[2])
    assert all(p.stat().st_mtime <= started + 0.01 for p in parts)
    # nothing is left behind: no dependency tube, no records but the consumed outcome
    assert not [t for t in queue.conn.tubes() if "-deps-" in t and (queue.conn.stats_tube(t) or {}).get(
        "current-jobs-buried")]


def test_many_parents_many_dependencies_over_four_workers(beanstalkd: Beanstalkd, data_root: Path,
                                                          tmp_path: Path) -> None:
    queue = DepQueue(port=beanstalkd.port)
    parents = {queue.add_job(["demo", "fanout", "20", str(data_root / f"p{i}")], batch="many"): i
               for i in range(20)}
    with WorkerPool(beanstalkd.port, data_root, tmp_path / "w.log", processes=4):
        outcomes = wait_outcomes(queue, "many", list(parents), timeout=120)
    assert {o["status"] for o in outcomes.values()} == {"succeeded"}
    for parent, i in parents.items():
        out = data_root / f"p{i}"
        assert len(starts(out / "parent-starts.log")) == 1, f"parent {parent} started more than once"
        assert len(list(out.glob("part-*.txt"))) == 20
        assert outcomes[parent]["deps"] == 20


def test_two_finishers_racing_for_the_last_dependencies_start_the_parent_once(
        beanstalkd: Beanstalkd, data_root: Path, tmp_path: Path) -> None:
    # 60 parents of 2 dependencies each over 4 workers: the two dependencies of a parent are reserved
    # together and finish within a millisecond of each other, so both finishers see the tube drain.
    queue = DepQueue(port=beanstalkd.port)
    parents = [queue.add_job(["demo", "fanout", "2", str(data_root / f"r{i}"), "--sleep", "0.05"], batch="race")
               for i in range(60)]
    with WorkerPool(beanstalkd.port, data_root, tmp_path / "w.log", processes=4):
        outcomes = wait_outcomes(queue, "race", parents, timeout=120)
    assert len(outcomes) == 60
    for i in range(60):
        assert len(starts(data_root / f"r{i}" / "parent-starts.log")) == 1


def test_reserve_job_claim_has_exactly_one_winner(beanstalkd: Beanstalkd) -> None:
    """The mechanism itself: many claimants of a parked parent at the same instant, one winner each time."""
    setup = Connection(*beanstalkd.address)
    claimants = [Connection(*beanstalkd.address) for _ in range(8)]
    for _ in range(50):
        job_id = setup.put("wndchrm", b"{}", priority=0, delay=3600)
        barrier = threading.Barrier(len(claimants))
        wins: list[int] = []

        def claim(conn: Connection, barrier: threading.Barrier, job_id: int, wins: list[int]) -> None:
            barrier.wait()
            if conn.reserve_job(job_id) is not None:
                wins.append(1)

        threads = [threading.Thread(target=claim, args=(c, barrier, job_id, wins)) for c in claimants]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(wins) == 1
        setup.delete(job_id) or next(c for c in claimants if c.delete(job_id))
