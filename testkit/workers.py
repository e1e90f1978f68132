"""Running real worker pools and waiting for outcomes, for the integration tests and benchmarks."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from depqueue import DepQueue

BIN = Path(sys.executable).parent


class WorkerPool:
    """``wndchrm-worker`` as a subprocess: a real pool of forked worker processes."""

    def __init__(self, port: int, data_root: Path, log: Path, processes: int = 2, **env: str) -> None:
        self.log = log
        full_env = {**os.environ, "BEANSTALKD_PORT": str(port), "DATA_ROOT": str(data_root),
                    "NUM_WORKERS": str(processes), "SWEEP_INTERVAL": env.pop("SWEEP_INTERVAL", "3"),
                    "BEANSTALKD_WAIT_RETRY": "0.2", **env}
        self.process = subprocess.Popen([str(BIN / "wndchrm-worker"), "--log", str(log)], env=full_env,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.processes = processes
        wait_until(lambda: len(self.children()) == processes, 15, "worker processes to start")

    def children(self) -> list[int]:
        return children_of(self.process.pid)

    def signal(self, sig: int) -> None:
        self.process.send_signal(sig)

    def stop(self, timeout: float = 40) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return int(self.process.returncode)

    def log_text(self) -> str:
        return self.log.read_text() if self.log.exists() else ""

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def children_of(pid: int) -> list[int]:
    """Child processes of ``pid``, forked from any of its threads (a restarted worker comes from one)."""
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(p) for p in (task / "children").read_text().split()]
        except OSError:
            continue
    return sorted(found)


def wait_until(predicate: Callable[[], Any], timeout: float, what: str, poll: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(poll)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def wait_outcomes(queue: DepQueue, batch: str, parents: list[int], timeout: float = 60) -> dict[int, dict[str, Any]]:
    """Collect the outcome record of every parent (consumed), failing the test on timeout."""
    found: dict[int, dict[str, Any]] = {}
    records = []
    deadline = time.monotonic() + timeout
    try:
        while set(parents) - set(found):
            if time.monotonic() > deadline:
                missing = sorted(set(parents) - set(found))
                raise AssertionError(f"no outcome within {timeout}s for parents {missing[:20]}")
            for record in queue.collect_outcomes(batch):
                records.append(record)
                found.setdefault(int(record.body["parent"]), record.body)
            time.sleep(0.05)
    finally:
        queue.finish_outcomes(records)
    return found


def starts(path: Path) -> list[str]:
    """Lines of a demo fanout parent's start log: one per time the parent started."""
    return path.read_text().splitlines() if path.exists() else []
