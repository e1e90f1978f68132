"""A private beanstalkd on a free loopback port, for tests and benchmarks alike."""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import greenstalk

from services.worker.server import free_port, stop_process


@dataclass
class Beanstalkd:
    """A beanstalkd process its caller owns; restartable on the same port and binlog (None: no binlog)."""

    port: int
    binlog: Path | None
    process: subprocess.Popen[bytes] | None = None
    host: str = "127.0.0.1"

    @property
    def address(self) -> tuple[str, int]:
        return (self.host, self.port)

    def start(self) -> None:
        exe = shutil.which("beanstalkd")
        if exe is None:
            raise RuntimeError("beanstalkd is not installed (apt-get install beanstalkd); .ci/run installs it")
        args = [exe, "-l", self.host, "-p", str(self.port)]
        if self.binlog is not None:
            self.binlog.mkdir(parents=True, exist_ok=True)
            args += ["-b", str(self.binlog)]
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(self.address, timeout=0.5):
                    return
            except OSError:
                time.sleep(0.02)
        raise RuntimeError("beanstalkd did not start")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        stop_process(self.process, sig)
        self.process = None

    def restart(self) -> None:
        self.stop(signal.SIGKILL)
        self.start()

    def client(self, use: str = "default", watch: str | list[str] = "default") -> greenstalk.Client[bytes]:
        return greenstalk.Client(self.address, encoding=None, use=use, watch=watch)


@contextmanager
def running_beanstalkd(binlog: bool = True) -> Iterator[Beanstalkd]:
    """A fresh beanstalkd for the duration of the block; its binlog (if any) in a temporary folder."""
    with tempfile.TemporaryDirectory(prefix="beanstalkd-binlog-") as folder:
        server = Beanstalkd(port=free_port(), binlog=Path(folder) if binlog else None)
        server.start()
        try:
            yield server
        finally:
            server.stop()
