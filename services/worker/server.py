"""``wndchrm-worker --with-server``: a private beanstalkd for one machine, started and stopped with the pool.

It listens on loopback only (beanstalkd has no authentication: docs/security.md) and keeps a binlog, by
default in the data root, so a restart of the pair loses no job. It runs in a session of its own, so a
Ctrl-C at the terminal reaches the pool, which drains its workers, before the server stops; the kernel
ends it if the pool dies without stopping it.
"""

from __future__ import annotations

import contextlib
import ctypes
import shlex
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

#: The binlog's folder in the data root unless ``--binlog`` names another.
BINLOG_FOLDER = ".wndchrm-queue-binlog"
HOST = "127.0.0.1"
_PR_SET_PDEATHSIG = 1


class ServerError(Exception):
    """beanstalkd is not installed, or did not start."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def stop_process(process: subprocess.Popen[bytes] | None, sig: int = signal.SIGTERM, timeout: float = 10) -> None:
    """Send ``sig`` to a running process and wait for it; kill it if it is still there after ``timeout`` s."""
    if process is not None and process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _end_with_parent() -> None:
    with contextlib.suppress(OSError, AttributeError):  # not Linux: the pool's own stop() ends it
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)


class PrivateServer:
    """A beanstalkd on ``HOST:port`` with its binlog in ``binlog``."""

    def __init__(self, port: int, binlog: Path) -> None:
        self.port, self.binlog = port, binlog
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 10.0) -> None:
        exe = shutil.which("beanstalkd")
        if exe is None:
            raise ServerError("beanstalkd is not installed (Debian/Ubuntu: apt-get install beanstalkd)")
        self.binlog.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen([exe, "-l", HOST, "-p", str(self.port), "-b", str(self.binlog)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                        start_new_session=True, preexec_fn=_end_with_parent)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                error = (self.process.stderr.read() if self.process.stderr else b"").decode(errors="replace")
                raise ServerError(f"beanstalkd did not start on {HOST}:{self.port}: {error.strip()}")
            try:
                with socket.create_connection((HOST, self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise ServerError(f"beanstalkd did not answer on {HOST}:{self.port} within {timeout:.0f} s")

    def stop(self) -> None:
        stop_process(self.process)
        self.process = None


def submit_hint(port: int, data_root: Path) -> str:
    """What to type in another terminal to submit to this machine's queue."""
    env = f"BEANSTALKD_PORT={port} DATA_ROOT={shlex.quote(str(data_root))}"
    return (f"beanstalkd listens on {HOST}:{port}; submit from another terminal with:\n"
            f"    export {env}\n"
            f"    wndchrm-submit --wait -- wndchrm test -l DATASET reports/DATASET.html\n"
            f"(DATASET: a folder of class folders of images, relative to {data_root})")
