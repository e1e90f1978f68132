"""wndchrm-worker as a process supervisor: restarts, SIGHUP reload, CPU count."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

from testkit.beanstalkd import Beanstalkd
from testkit.workers import BIN, WorkerPool, children_of, wait_until


def replaced(children: list[int], count: int, gone: list[int]) -> bool:
    """``count`` children, none of them in ``gone``, in one reading of the list.

    Two readings would race the supervisor: between them it may reap a killed worker (before logging
    the restart and starting its successor), and the first reading's length would still count it.
    """
    return len(children) == count and not set(gone) & set(children)


def test_dead_workers_are_restarted(beanstalkd: Beanstalkd, data_root: Path, tmp_path: Path) -> None:
    with WorkerPool(beanstalkd.port, data_root, tmp_path / "w.log", processes=2) as pool:
        first = pool.children()
        os.kill(first[0], signal.SIGKILL)
        wait_until(lambda: replaced(pool.children(), 2, first[:1]), 15, "a restart")
        assert "exited with code -9; restarting it" in pool.log_text()


def test_sighup_rereads_the_configuration_and_replaces_the_workers(beanstalkd: Beanstalkd, data_root: Path,
                                                                   tmp_path: Path) -> None:
    conf = tmp_path / "q.conf"
    conf.write_text(f"num_workers = 1\nbeanstalkd_port = {beanstalkd.port}\ndata_root = {data_root}\n")
    env = {k: v for k, v in os.environ.items() if k not in ("NUM_WORKERS", "BEANSTALKD_PORT")}
    proc = subprocess.Popen([str(BIN / "wndchrm-worker"), "-f", str(conf), "--log", str(tmp_path / "w.log")],
                            env=env)

    def children() -> list[int]:
        return children_of(proc.pid)

    try:
        wait_until(lambda: len(children()) == 1, 15, "one worker")
        old = children()
        conf.write_text(f"num_workers = 3\nbeanstalkd_port = {beanstalkd.port}\ndata_root = {data_root}\n")
        proc.send_signal(signal.SIGHUP)
        wait_until(lambda: replaced(children(), 3, old), 20, "three new workers")
        assert "SIGHUP: configuration reloaded" in (tmp_path / "w.log").read_text()
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
