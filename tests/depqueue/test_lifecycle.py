"""Invariants 4, 7 and 8: long jobs stay alive, time limits, cancel and retry, fairness and priority."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

from depqueue import DepQueue
from depqueue.wire.records import Outcome
from testkit.beanstalkd import Beanstalkd
from testkit.workers import WorkerPool, wait_outcomes, wait_until

#: An outcome's fields, the same whoever writes it (a worker finishing the parent, or a user cancelling it).
OUTCOME_KEYS = {"v", "type", *(f.name for f in fields(Outcome))}


def test_heartbeat_keeps_a_job_longer_than_its_ttr(beanstalkd: Beanstalkd, data_root: Path, tmp_path: Path) -> None:
    queue = DepQueue(port=beanstalkd.port)
    parent = queue.add_job(["demo", "write", str(data_root / "long.txt"), "x", "--sleep", "5"], batch="l", ttr=2,
                           attempts=1)
    with WorkerPool(beanstalkd.port, data_root, tmp_path / "w.log", processes=2) as pool:
        outcome = wait_outcomes(queue, "l", [parent], timeout=30)[parent]
        log = pool.log_text()
    assert outcome["status"] == "succeeded"
    assert log.count(f"parent {parent} started") == 1  # never re-delivered to the second worker
    assert (queue.conn.stats_job(parent)) is None


def test_time_limit_fails_the_job(beanstalkd: Beanstalkd, data_root: Path, tmp_path: Path) -> None:
    queue = DepQueue(port=beanstalkd.port)
    parent = queue.add_job(["demo", "sleep", "30"], batch="tl", time_limit=1, attempts=1)
    with WorkerPool(beanstalkd.port, data_root, tmp_path / "w.log", processes=1):
        outcome = wait_outcomes(queue, "tl", [parent], timeout=20)[parent]
    assert outcome["status"] == "failed"
    assert "time limit of 1s exceeded" in outcome["reason"]
    assert set(outcome) == OUTCOME_KEYS


def test_cancel_removes_the_parent_and_its_pending_dependencies(beanstalkd: Beanstalkd, data_root: Path,
                                                                tmp_path: Path) -> None:
    queue = DepQueue(port=beanstalkd.port)
    out = data_root / "c"
    parent = queue.add_job(["demo", "fanout", "50", str(out), "--sleep", "0.3"], batch="c")
    with WorkerPool(beanstalkd.port, data_root, tmp_path / "w.log", processes=1):
        wait_until(lambda: queue.parent_progress(parent).expanded, 20, "expansion")
        assert queue.cancel(parent) is True
        outcome = wait_outcomes(queue, "c", [parent], timeout=10)[parent]
        wait_until(lambda: not queue.get_stats()["parents"], 10, "the dependency tube to empty")
    assert outcome["status"] == "cancelled"
    assert set(outcome) == OUTCOME_KEYS and outcome["deps"] == 50 and outcome["command"].startswith("demo fanout")
    assert len(list(out.glob("part-*.txt"))) < 10  # the rest never ran
    assert queue.conn.stats_job(parent) is None
    assert queue.cancel(parent) is False


def test_failed_parent_can_be_retried(beanstalkd: Beanstalkd, data_root: Path, tmp_path: Path) -> None:
    queue = DepQueue(port=beanstalkd.port)
    flag = data_root / "flag"
    parent = queue.add_job(["demo", "require", str(flag)], batch="rt", attempts=1)
    with WorkerPool(beanstalkd.port, data_root, tmp_path / "w.log", processes=1):
        assert wait_outcomes(queue, "rt", [parent])[parent]["status"] == "failed"
        [record] = queue.failed()
        assert "does not exist yet" in record.body["reason"]
        flag.write_text("now it does")
        new_parent = queue.retry(record.id)
        assert new_parent is not None and new_parent != parent
        assert wait_outcomes(queue, "rt", [new_parent])[new_parent]["status"] == "succeeded"
    assert queue.failed() == []
    assert queue.retry(record.id) is None


def test_earlier_parents_first_and_a_more_urgent_batch_overtakes(beanstalkd: Beanstalkd, data_root: Path,
                                                                 tmp_path: Path) -> None:
    queue = DepQueue(port=beanstalkd.port)
    a = queue.add_job(["demo", "fanout", "10", str(data_root / "a"), "--sleep", "0.1"], batch="o")
    b = queue.add_job(["demo", "fanout", "10", str(data_root / "b"), "--sleep", "0.1"], batch="o")
    with WorkerPool(beanstalkd.port, data_root, tmp_path / "w.log", processes=1):
        wait_until(lambda: len(list((data_root / "b").glob("part-*.txt"))) >= 2, 30, "b to be under way")
        urgent = queue.add_job(["demo", "fanout", "10", str(data_root / "u"), "--sleep", "0.1"], batch="o",
                               priority=10)
        wait_outcomes(queue, "o", [a, b, urgent], timeout=60)

    def times(name: str) -> list[float]:
        return sorted(p.stat().st_mtime for p in (data_root / name).glob("part-*.txt"))

    assert max(times("a")) <= min(times("b"))  # all of a's dependencies before any of b's
    assert max(times("u")) < max(times("b"))  # the urgent parent's dependencies overtook b's
    b_after_urgent = [t for t in times("b") if t > max(times("u"))]
    assert len(b_after_urgent) >= 5
