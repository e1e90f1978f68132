"""Full disks. The data root full while features and a model are written: RetryLater naming the file and
the cause, no file left half-written, and the job done once space comes back. beanstalkd's binlog volume
full: the submitter and the workers say so, and the jobs already queued are kept."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import greenstalk
import numpy as np
import pytest
import tifffile

from depqueue import DepQueue, RetryLater
from testkit.beanstalkd import Beanstalkd, free_port
from testkit.workers import BIN, WorkerPool, wait_outcomes, wait_until
from tests.hardening.mounts import fill, tmpfs
from wndchrm.formats.outputs import write_atomic


def _dataset(root: Path) -> None:
    rng = np.random.default_rng(3)
    for label, scale in (("a", 40), ("b", 200)):
        (root / "ds" / label).mkdir(parents=True)
        for i in range(2):
            image = (rng.random((48, 48)) * scale).astype(np.uint8)
            tifffile.imwrite(root / "ds" / label / f"{label}{i}.tif", image)


def _leftovers(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.name.endswith(".tmp")]


def test_write_atomic_on_a_full_disk_is_retry_later_naming_the_file(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "small", "1m") as root:
        fill(root)
        target = root / "reports" / "model.fit"
        target.parent.mkdir()
        with pytest.raises(RetryLater, match=f"cannot write {target}: No space left on device \\(ENOSPC\\)"):
            write_atomic(target, "x" * 200_000)
        assert not target.exists() and not _leftovers(root)


def test_a_job_on_a_full_data_root_waits_for_space(tmp_path: Path, beanstalkd: Beanstalkd) -> None:
    with tmpfs(tmp_path / "data", "6m") as root:
        _dataset(root)
        filler = fill(root, keep=4096)
        queue = DepQueue(port=beanstalkd.port)
        parent = queue.add_job(["wndchrm", "train", "ds", "ds.fit"], batch="full", attempts=2)
        with WorkerPool(beanstalkd.port, root, tmp_path / "w.log", processes=2) as pool:
            wait_until(lambda: "No space left on device (ENOSPC)" in pool.log_text(), 60, "a full-disk retry")
            assert not (root / "ds.fit").exists()
            filler.unlink()  # the disk frees up: the retried jobs finish
            outcome = wait_outcomes(queue, "full", [parent], timeout=90)[parent]
            log = pool.log_text()
        assert outcome["status"] == "succeeded", outcome
        assert "cannot write " + str(root) in log
        assert (root / "ds.fit").read_text().count("\n") > 4
        assert not _leftovers(root)


def test_a_full_binlog_is_said_clearly_and_keeps_what_was_queued(tmp_path: Path, data_root: Path) -> None:
    with tmpfs(tmp_path / "binlog", "12m") as binlog:  # beanstalkd's binlog files are 10 MB each
        server = Beanstalkd(port=free_port(), binlog=binlog)
        server.start()
        try:
            queue = DepQueue(port=server.port)
            kept = queue.add_job(["demo", "write", str(data_root / "kept.txt"), "kept"], batch="bl", attempts=10)
            filler = server.client(use="filler")
            fanout = queue.add_job(["demo", "fanout", "3", str(data_root / "f")], batch="bl", attempts=10)
            for size in (60_000, 6_000, 600, 60):  # until not even a small job fits
                with pytest.raises(greenstalk.OutOfMemoryError):
                    for _ in range(100_000):
                        filler.put(b"f" * size)
            env = {**os.environ, "BEANSTALKD_PORT": str(server.port), "DATA_ROOT": str(data_root),
                   "BEANSTALKD_RETRIES": "1"}
            refused = subprocess.run([str(BIN / "wndchrm-submit"), "--", "demo", "write",
                                      str(data_root / "more.txt"), "x"], env=env, capture_output=True,
                                     text=True, timeout=60)
            assert refused.returncode == 4, refused.stderr
            assert "OUT_OF_MEMORY (its binlog volume or its memory is full" in refused.stderr
            assert "0 of 1 jobs were submitted" in refused.stderr
            stats = queue.conn.stats_job(kept)
            assert stats is not None and stats["state"] == "ready"  # nothing queued was lost
            with WorkerPool(server.port, data_root, tmp_path / "w.log", processes=1) as pool:
                # its dependencies cannot be stored: the worker says why and hands the parent back
                wait_until(lambda: "OUT_OF_MEMORY (its binlog volume" in pool.log_text(), 30, "a refused put")
                for job in (kept, fanout):
                    assert queue.conn.stats_job(job) is not None  # handed back, not failed or lost
                # the operator's way out: the binlog moved to a bigger volume, beanstalkd restarted on it
                server.stop()
                server.binlog = tmp_path / "bigger"
                shutil.copytree(binlog, server.binlog)
                server.start()
                outcomes = wait_outcomes(queue, "bl", [kept, fanout], timeout=60)
            assert {o["status"] for o in outcomes.values()} == {"succeeded"}
        finally:
            server.stop()
