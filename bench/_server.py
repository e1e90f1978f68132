"""A private beanstalkd for a benchmark run: free loopback port, binlog in a temporary folder."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager


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
