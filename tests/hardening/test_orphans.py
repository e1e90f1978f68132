"""kill -9 of the pool's parent: its workers hand back their jobs at once and exit, leaving no orphans."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from depqueue import DepQueue
from testkit.beanstalkd import Beanstalkd
from testkit.workers import WorkerPool, wait_outcomes, wait_until


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _state(queue: DepQueue, job: int) -> str | None:
    stats = queue.conn.stats_job(job)
    return None if stats is None else stats["state"]


def test_kill_9_of_the_pool_parent_hands_jobs_back_and_leaves_no_orphan(beanstalkd: Beanstalkd, data_root: Path,
                                                                        tmp_path: Path) -> None:
    queue = DepQueue(port=beanstalkd.port)
    marker = data_root / "long.txt"
    # ttr 60: were the job not handed back, it would stay reserved for a minute
    parent = queue.add_job(["demo", "write", str(marker), "done", "--sleep", "8"], batch="o", ttr=60)
    first = WorkerPool(beanstalkd.port, data_root, tmp_path / "first.log", processes=2)
    try:
        wait_until(lambda: _state(queue, parent) == "reserved",
                   15, "a worker to hold the job")
        time.sleep(1.5)  # past the parent's expansion and park: it runs its 8 s
        before = queue.conn.stats_job(parent)
        assert before is not None and before["state"] == "reserved"
        orphans = first.children()
        first.process.send_signal(signal.SIGKILL)
        first.process.wait()
        killed_at = time.monotonic()
        info = wait_until(lambda: _state(queue, parent) == "ready", 5,
                          "the job to come back")
        back_after = time.monotonic() - killed_at
        wait_until(lambda: not any(_alive(pid) for pid in orphans), 5, "the orphaned workers to exit")
        assert info
        stats = queue.conn.stats_job(parent)
        # handed back (every reservation ended in a release at the same priority: no attempt spent, no
        # crash counted; the other orphan may have reserved it once more and handed it back too), not timed out
        assert stats is not None and stats["releases"] == stats["reserves"] and stats["timeouts"] == 0
        assert stats["pri"] == before["pri"]
        print(f"kill -9 of the pool parent: job back in the queue after {back_after:.2f}s (ttr 60 s)")
        assert back_after < 5
        assert "supervisor" in first.log_text() and "handed back" in first.log_text()
        with WorkerPool(beanstalkd.port, data_root, tmp_path / "second.log", processes=1):
            outcome = wait_outcomes(queue, "o", [parent], timeout=30)[parent]
        assert outcome["status"] == "succeeded"
        assert marker.read_text() == "done"
    finally:
        for pid in first.children():
            os.kill(pid, signal.SIGKILL)
