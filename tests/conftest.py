"""Fixtures shared by every test: a real beanstalkd (with binlog) on a free loopback port."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import greenstalk
import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Beanstalkd:
    """A beanstalkd process the test owns; restartable on the same port and binlog."""

    port: int
    binlog: Path
    process: subprocess.Popen[bytes] | None = None
    host: str = "127.0.0.1"

    @property
    def address(self) -> tuple[str, int]:
        return (self.host, self.port)

    def start(self) -> None:
        exe = shutil.which("beanstalkd")
        if exe is None:
            pytest.fail("beanstalkd is not installed (apt-get install beanstalkd); .ci/run installs it")
        self.binlog.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen([exe, "-l", self.host, "-p", str(self.port), "-b", str(self.binlog)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(self.address, timeout=0.5):
                    return
            except OSError:
                time.sleep(0.02)
        raise RuntimeError("beanstalkd did not start")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def restart(self) -> None:
        self.stop(signal.SIGKILL)
        self.start()

    def client(self, **kwargs: object) -> greenstalk.Client[bytes]:
        return greenstalk.Client(self.address, encoding=None, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def beanstalkd(tmp_path: Path) -> Iterator[Beanstalkd]:
    server = Beanstalkd(port=free_port(), binlog=tmp_path / "binlog")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def data_root(tmp_path: Path) -> Path:
    root = tmp_path / "data"
    root.mkdir()
    return root


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never read this machine's configuration."""
    for key in list(os.environ):
        if key.startswith(("BEANSTALKD_", "WNDCHRM_")) or key in ("NUM_WORKERS", "DATA_ROOT", "MONITOR_PORT"):
            monkeypatch.delenv(key, raising=False)
