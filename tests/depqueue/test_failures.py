"""Invariant 3 (failure never hangs the fan-in) and bad bodies set aside, on a real beanstalkd."""

from __future__ import annotations

import json
from pathlib import Path

from depqueue import DepQueue
from depqueue.wire.envelope import Envelope
from testkit.beanstalkd import Beanstalkd
from testkit.workers import WorkerPool, starts, wait_outcomes, wait_until


def test_failing_dependency_is_retried_then_the_parent_fails_naming_it(beanstalkd: Beanstalkd, data_root: Path,
                                                                       tmp_path: Path) -> None:
    queue = DepQueue(port=beanstalkd.port)
    out = data_root / "out"
    parent = queue.add_job(["demo", "fanout", "4", str(out), "--fail", "2"], batch="f", attempts=3, backoff=0.2)
    with WorkerPool(beanstalkd.port, data_root, tmp_path / "w.log") as pool:
        outcome = wait_outcomes(queue, "f", [parent], timeout=60)[parent]
        log = pool.log_text()
    assert outcome["status"] == "failed"
    assert outcome["reason"] == "1 of 4 dependencies failed"
    [failed] = outcome["failed_deps"]
    assert failed["command"] == "demo fail part 2 fails on purpose"
    assert "part 2 fails on purpose" in failed["reason"]
    # three attempts, two of them retries, then failed for good; the parent itself never ran
    assert log.count(f"dep {failed['dep']} of parent {parent} started, attempt") == 3
    assert f"dep {failed['dep']} of parent {parent} failed for good" in log
    assert starts(out / "parent-starts.log") == []
    # the failed parent is listed with its reason, and retry submits it afresh
    [record] = queue.failed()
    assert record.body["job"] == parent and record.body["reason"] == "1 of 4 dependencies failed"


def test_tolerant_parent_runs_without_failed_dependencies_and_says_so(beanstalkd: Beanstalkd, data_root: Path,
                                                                      tmp_path: Path) -> None:
    queue = DepQueue(port=beanstalkd.port)
    parent = queue.add_job(["demo", "fanout", "3", str(data_root / "o"), "--fail", "0"], batch="t", attempts=1,
                           tolerate_failed_deps=True)
    with WorkerPool(beanstalkd.port, data_root, tmp_path / "w.log"):
        outcome = wait_outcomes(queue, "t", [parent])[parent]
    assert outcome["status"] == "succeeded"
    assert outcome["reason"] == "ran without 1 failed dependencies"
    assert outcome["failed_count"] == 1
    assert (data_root / "o" / "result.txt").read_text() == "2 parts\n"


def test_unknown_kind_and_bad_arguments_fail_at_once_with_a_clear_reason(beanstalkd: Beanstalkd, data_root: Path,
                                                                         tmp_path: Path) -> None:
    queue = DepQueue(port=beanstalkd.port)
    unknown = queue.add_job(["rm", "-rf", "/"], batch="u")
    outside = queue.add_job(["demo", "write", "/etc/owned", "x"], batch="u")
    with WorkerPool(beanstalkd.port, data_root, tmp_path / "w.log"):
        outcomes = wait_outcomes(queue, "u", [unknown, outside])
    assert outcomes[unknown]["status"] == "failed"
    assert "unknown job kind 'rm'" in outcomes[unknown]["reason"]
    assert outcomes[outside]["status"] == "failed"
    assert "outside the data root" in outcomes[outside]["reason"]
    assert not Path("/etc/owned").exists()


def test_malformed_bodies_are_set_aside_and_the_worker_keeps_serving(beanstalkd: Beanstalkd, data_root: Path,
                                                                     tmp_path: Path) -> None:
    queue = DepQueue(port=beanstalkd.port)
    raw = beanstalkd.client(use="wndchrm")
    bodies = {
        b"not json at all": "not JSON",
        b"\xff\xfe\x00binary": "not UTF-8",
        b"[1, 2, 3]": "not an object",
        json.dumps({"v": 1, "type": "job", "params": "demo noop"}).encode(): "params must be a non-empty list",
        json.dumps({"v": 1, "type": "job", "params": ["demo", "noop"], "priority": "high"}).encode():
            "priority must be int",
        json.dumps({"v": 99, "type": "job", "params": ["demo", "noop"]}).encode(): "unknown envelope version",
        json.dumps({"v": 1, "type": "job", "params": ["demo", "noop"], "batch": "a b"}).encode():
            "invalid batch id",
        b"x" * 60000: "not JSON",
    }
    ids = {raw.put(body): reason for body, reason in bodies.items()}
    # a dependency tube gets garbage too: its parent hears of it as a failed dependency
    parent = queue.add_job(["demo", "fanout", "2", str(data_root / "p")], batch="m", attempts=1)
    with WorkerPool(beanstalkd.port, data_root, tmp_path / "w.log") as pool:
        wait_until(lambda: len(queue.failed()) >= len(ids), 30, "malformed jobs to be set aside")
        raw.use(queue.dep_tube(parent))
        outcome = wait_outcomes(queue, "m", [parent])[parent]
        good = queue.add_job(["demo", "noop"], batch="after")
        assert wait_outcomes(queue, "after", [good])[good]["status"] == "succeeded"
        assert len(pool.children()) == 2
    assert outcome["status"] == "succeeded"
    records = {r.body["job"]: r.body for r in queue.failed()}
    for job_id, reason in ids.items():
        assert records[job_id]["set_aside"] is True
        assert reason in records[job_id]["reason"], records[job_id]
        assert (queue.conn.stats_job(job_id) or {})["state"] == "buried"


def test_garbage_in_a_dependency_tube_fails_that_dependency_not_the_worker(beanstalkd: Beanstalkd, data_root: Path,
                                                                           tmp_path: Path) -> None:
    queue = DepQueue(port=beanstalkd.port)
    parent = queue.add_job(["demo", "fanout", "1", str(data_root / "g"), "--sleep", "1"], batch="g", attempts=1)
    with WorkerPool(beanstalkd.port, data_root, tmp_path / "w.log"):
        wait_until(lambda: queue.parent_progress(parent).expanded, 20, "expansion")
        raw = beanstalkd.client(use=queue.dep_tube(parent))
        raw.put(b"{broken")
        outcome = wait_outcomes(queue, "g", [parent])[parent]
    assert outcome["status"] == "failed"
    assert outcome["failed_deps"][0]["reason"].startswith("set aside: body is not JSON")


def test_oversized_job_is_refused_at_submit_time(beanstalkd: Beanstalkd) -> None:
    queue = DepQueue(port=beanstalkd.port)
    try:
        queue.submit(Envelope(params=["demo", "write", "x", "y" * 70000]))
    except Exception as exc:
        assert "over beanstalkd's max job size of 65535 bytes" in str(exc)
    else:
        raise AssertionError("a 70 kB job was accepted")
