"""The seed README's example runs as written, with only its import changed to depqueue."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from testkit.beanstalkd import Beanstalkd
from testkit.workers import wait_until

EXAMPLE = Path(__file__).parent.parent / "examples" / "seed_example.py"


def test_seed_example_runs_dependencies_then_the_job(beanstalkd: Beanstalkd, tmp_path: Path) -> None:
    assert "from depqueue import DepQueue, QueueMain" in EXAMPLE.read_text()
    out = tmp_path / "out"
    env = {**os.environ, "BEANSTALKD_PORT": str(beanstalkd.port), "NUM_WORKERS": "2"}
    proc = subprocess.Popen([sys.executable, str(EXAMPLE), "touch", str(out)], env=env)
    try:
        wait_until(out.exists, 30, "the parent job to run")
        deps = [Path(f"{out}.dep{i}") for i in range(3)]
        assert all(d.exists() for d in deps)
        assert all(d.stat().st_mtime_ns <= out.stat().st_mtime_ns for d in deps)
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(30)
    assert code == 0  # QueueMain cleaned up its children and exited on SIGTERM
