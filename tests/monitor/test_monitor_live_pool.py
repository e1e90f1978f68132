"""End to end with everything real: Prometheus scrapes wndchrm-monitor and a wndchrm-worker pool (its
multiprocess metrics port) while a batch runs through the queue; every dashboard and recording-rule
expression returns data at some point of the run, and both targets are up."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from depqueue import DepQueue
from testkit.beanstalkd import Beanstalkd, free_port
from testkit.workers import WorkerPool, wait_outcomes
from tests.monitor.monitor_promql import ROOT, RULES, dashboard_expressions, rules
from tests.monitor.test_monitor_e2e import query, wait_http


@pytest.fixture
def live(beanstalkd: Beanstalkd, tmp_path: Path) -> Iterator[tuple[str, WorkerPool]]:
    exe = shutil.which("prometheus")
    if exe is None:
        pytest.fail("prometheus is not installed (apt-get install prometheus)")
    data = tmp_path / "data"
    data.mkdir()
    monitor_port, metrics_port = free_port(), free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "BEANSTALKD_PORT": str(beanstalkd.port),
           "MONITOR_PORT": str(monitor_port)}
    monitor = subprocess.Popen([sys.executable, "-m", "services.monitor.cli", "--listen-host", "127.0.0.1"], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    pool = WorkerPool(beanstalkd.port, data, tmp_path / "w.log", processes=2, METRICS_PORT=str(metrics_port),
                      PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "metrics"))
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(path) for path in RULES],
        "scrape_configs": [
            {"job_name": "wndchrm-monitor", "static_configs": [{"targets": [f"127.0.0.1:{monitor_port}"]}]},
            {"job_name": "wndchrm-worker", "static_configs": [{"targets": [f"127.0.0.1:{metrics_port}"]}]},
        ],
    }
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
    address = f"127.0.0.1:{free_port()}"
    prometheus = subprocess.Popen([exe, f"--config.file={tmp_path / 'prometheus.yml'}",
                                   f"--storage.tsdb.path={tmp_path / 'tsdb'}", f"--web.listen-address={address}"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_http(f"http://{address}/-/ready")
        wait_http(f"http://127.0.0.1:{monitor_port}/healthz")
        yield f"http://{address}", pool
    finally:
        prometheus.terminate()
        prometheus.wait(20)
        pool.stop()
        monitor.terminate()
        monitor.wait(10)


def test_prometheus_sees_a_live_pool_run_a_batch(beanstalkd: Beanstalkd, live: tuple[str, WorkerPool]) -> None:
    prometheus, pool = live
    queue = DepQueue(port=beanstalkd.port)
    data = Path(pool.log).parent / "data"
    parents = [queue.add_job(["demo", "fanout", "40", str(data / f"p{i}"), "--sleep", "0.25",
                              *(["--fail", "3"] if i == 0 else [])], batch="live", backoff=0.5)
               for i in range(3)]
    exprs = set(dashboard_expressions() + [r["expr"] for r in rules("record")] + [r["record"] for r in rules("record")])
    seen: set[str] = set()
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and seen != exprs:
        time.sleep(1)
        seen |= {e for e in exprs - seen if query(prometheus, e)}
    outcomes = wait_outcomes(queue, "live", parents, timeout=60)
    assert not exprs - seen, f"never returned data while the batch ran: {sorted(exprs - seen)}"
    up = {(t["metric"]["job"], t["value"][1]) for t in query(prometheus, "up")}
    assert up == {("wndchrm-monitor", "1"), ("wndchrm-worker", "1")}
    assert outcomes[parents[0]]["status"] == "failed" and outcomes[parents[1]]["status"] == "succeeded"
    [jobs] = query(prometheus, 'sum(wndchrm_worker_jobs_total{job_type="dep",outcome="succeeded"})')
    assert float(jobs["value"][1]) > 0
