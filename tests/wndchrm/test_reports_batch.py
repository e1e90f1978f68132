"""A batch through the queue: ``wndchrm-submit --wait`` prints where each report is; the JUnit file links them."""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from services.kinds import builtin
from testkit.example_data import build_textures
from testkit.workers import WorkerPool
from tests.conftest import Beanstalkd

BIN = Path(sys.executable).parent

pytestmark = pytest.mark.skipif("wndchrm" not in builtin.register_kinds() or not (BIN / "wndchrm-worker").exists(),
                                reason="the wndchrm kind is not registered with wndchrm-worker")


def test_submit_wait_prints_and_links_each_report(beanstalkd: Beanstalkd, tmp_path: Path) -> None:
    root = tmp_path / "data"
    build_textures(root / "ex", per_class=3, size=48)
    batch = tmp_path / "batch.txt"
    batch.write_text("wndchrm test -n1 ex/textures reports/one.html\n"
                     "wndchrm test -n2 -p+ ex/textures reports/two/two.html\n")
    env = {**os.environ, "BEANSTALKD_PORT": str(beanstalkd.port), "DATA_ROOT": str(root)}
    with WorkerPool(beanstalkd.port, root, tmp_path / "worker.log"):
        submit = subprocess.run([str(BIN / "wndchrm-submit"), "submit", "--batch-file", str(batch), "--wait",
                                 "--timeout", "180", "--no-progress", "--junit", str(tmp_path / "junit.xml")],
                                env=env, capture_output=True, text=True, timeout=240)
    assert submit.returncode == 0, f"{submit.stdout}\n{submit.stderr}"
    for report in ("reports/one.html", "reports/two/two.html"):
        assert f"report {root / report}" in submit.stdout  # absolute: the data root is not the working folder
        assert (root / report).exists()
    assert (root / "reports/two/tsv/avg_confusion.tsv").exists()
    cases = ET.parse(tmp_path / "junit.xml").getroot().iter("testcase")
    linked = sorted(p.get("value") or "" for case in cases for p in case.iter("property") if p.get("name") == "report")
    assert linked == ["reports/one.html", "reports/two/two.html"]
