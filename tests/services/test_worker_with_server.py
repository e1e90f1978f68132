"""``wndchrm-worker --with-server``: one machine's queue in one command, and the line to submit with."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
from pathlib import Path

from testkit.workers import BIN


def test_with_server_starts_beanstalkd_with_binlog_and_says_how_to_submit(data_root: Path, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("BEANSTALKD_PORT", "DATA_ROOT")}
    worker = subprocess.Popen([str(BIN / "wndchrm-worker"), "--with-server", "-p", "1", "--data-root",
                               str(data_root), "--log", str(tmp_path / "w.log")],
                              env=env, stderr=subprocess.PIPE, text=True)
    try:
        assert worker.stderr is not None
        said = "".join(worker.stderr.readline() for _ in range(4))
        found = re.search(r"export BEANSTALKD_PORT=(\d+) DATA_ROOT=(\S+)\n", said)
        assert found, said
        assert found.group(2) == str(data_root) and "wndchrm-submit --wait -- wndchrm test -l" in said
        port = int(found.group(1))
        submit = subprocess.run([str(BIN / "wndchrm-submit"), "--wait", "--timeout", "60", "--", "demo",
                                 "fanout", "3", "out"], env={**env, "BEANSTALKD_PORT": str(port),
                                                             "DATA_ROOT": found.group(2)},
                                capture_output=True, text=True, timeout=90)
        assert submit.returncode == 0, submit.stdout + submit.stderr
        assert (data_root / "out" / "part-2.txt").exists()
        assert any((data_root / ".wndchrm-queue-binlog").glob("binlog.*"))
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(40)
    assert worker.returncode == 0
    with socket.socket() as s:  # the server went with the pool
        assert s.connect_ex(("127.0.0.1", port)) != 0


def test_with_server_refuses_a_missing_data_root(tmp_path: Path) -> None:
    result = subprocess.run([str(BIN / "wndchrm-worker"), "--with-server", "--data-root", str(tmp_path / "none")],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 2 and "is not a folder" in result.stderr
