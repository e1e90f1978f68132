"""What the benchmarks share: a private beanstalkd (free loopback port, binlog in a temporary folder)
and job callbacks whose work is nothing, so that only the queue's own cost is measured."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager

from depqueue import DepQueue


@contextmanager
def beanstalkd(binlog: bool = True) -> Iterator[int]:
    exe = shutil.which("beanstalkd")
    if exe is None:
        raise SystemExit("beanstalkd is not installed (apt-get install beanstalkd)")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    with tempfile.TemporaryDirectory(prefix="bench-binlog-") as folder:
        args = [exe, "-l", "127.0.0.1", "-p", str(port)] + (["-b", folder] if binlog else [])
        process = subprocess.Popen(args)
        try:
            for _ in range(200):
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    time.sleep(0.02)
            yield port
        finally:
            process.terminate()
            process.wait()


class TrivialJobs:
    """depqueue callbacks: each parent gets ``deps`` dependencies, and no job does any work."""

    def __init__(self, deps: int) -> None:
        self.deps = deps

    def run_job(self, queue: object, job_id: int, params: list[str]) -> None:
        """Nothing to do."""

    def add_deps(self, queue: DepQueue, dep_tube: str, job_id: int, params: list[str]) -> int:
        for i in range(self.deps):
            queue.add_dependent_job(dep_tube, ["noop", str(i)])
        return self.deps
