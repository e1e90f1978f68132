"""End to end: ``wndchrm test`` submitted to a real beanstalkd and run by a real worker pool.

Skipped until the worker registers the wndchrm kind (services/kinds/builtin.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from services.kinds import builtin
from services.worker.server import stop_process
from testkit.example_data import build_textures
from tests.conftest import Beanstalkd

BIN = Path(sys.executable).parent

pytestmark = pytest.mark.skipif(
    "wndchrm" not in builtin.register_kinds() or not (BIN / "wndchrm-worker").exists(),
    reason="the wndchrm kind is not registered with wndchrm-worker yet",
)


def test_wndchrm_test_through_the_queue(beanstalkd: Beanstalkd, tmp_path: Path) -> None:
    root = tmp_path / "data"
    build_textures(root / "ex", per_class=6, size=48)
    env = {**os.environ, "BEANSTALKD_PORT": str(beanstalkd.port), "DATA_ROOT": str(root), "NUM_WORKERS": "2"}
    log = tmp_path / "worker.log"
    worker = subprocess.Popen([str(BIN / "wndchrm-worker"), "--log", str(log)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        submit = subprocess.run(
            [str(BIN / "wndchrm-submit"), "submit", "--wait", "--timeout", "180", "--no-progress", "--",
             "wndchrm", "test", "-n3", "ex/textures", "reports/textures.html"],
            env=env, capture_output=True, text=True, timeout=240,
        )
    finally:
        stop_process(worker, timeout=60)
    assert submit.returncode == 0, f"{submit.stdout}\n{submit.stderr}\n{log.read_text() if log.exists() else ''}"
    body = json.loads((root / "reports/textures.json").read_text())
    assert len(body["splits"]) == 3 and body["average_accuracy"] >= 0.8
    # the summary says how it went and where the report is, whatever the working folder
    assert f"accuracy {body['average_accuracy']:.3f} (average of 3 splits)" in submit.stdout
    assert f"report {root / 'reports/textures.html'}" in submit.stdout
    assert f"wrote {root / 'reports/textures.html'}" in submit.stdout  # every file written, absolute
    assert len(list((root / ".wndchrm-cache").rglob("*.npz"))) == 18
