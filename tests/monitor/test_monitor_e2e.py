"""End to end: a real Prometheus scrapes the real monitor (a subprocess) and worker metrics while
beanstalkd holds a hand-built batch; every dashboard, recording-rule and autoscaling query returns data.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import CollectorRegistry, start_http_server

import testkit.queue_state as q
from services.worker.metrics import WorkerMetrics
from testkit.beanstalkd import Beanstalkd, free_port
from tests.monitor.monitor_promql import ROOT, RULES, autoscaling_queries, dashboard_expressions, rules

T = "wndchrm"


def http_get(url: str, timeout: float = 5.0) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return int(response.status), response.read()


def wait_http(url: str, timeout: float = 30.0) -> bytes:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return http_get(url)[1]
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


@pytest.fixture
def monitor(beanstalkd: Beanstalkd) -> Iterator[str]:
    """wndchrm-monitor as a subprocess, configured from the environment as in a container."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "BEANSTALKD_HOST": beanstalkd.host,
           "BEANSTALKD_PORT": str(beanstalkd.port), "BEANSTALKD_TUBE": T, "MONITOR_PORT": str(port)}
    process = subprocess.Popen([sys.executable, "-m", "services.monitor.cli", "--listen-host", "127.0.0.1"], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_http(f"http://127.0.0.1:{port}/healthz")
        yield f"127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(10)


@pytest.fixture
def worker_metrics() -> Iterator[str]:
    """A worker's hooks fed with jobs in a thread (as the pool would), served on their own port."""
    registry = CollectorRegistry()
    hooks = WorkerMetrics(registry=registry)
    server, _ = start_http_server(free_port(), "127.0.0.1", registry=registry)
    stop = threading.Event()

    def work() -> None:
        hooks.on_worker_start()
        n = 0
        while not stop.wait(0.05):
            n += 1
            for job_type, outcome in (("dep", "succeeded"), ("dep", "failed" if n % 3 == 0 else "succeeded"),
                                      ("job", "succeeded")):
                hooks.on_job_start("wndchrm", job_type)
                hooks.on_job_end("wndchrm", job_type, outcome, 0.1 * (n % 7) + 0.05)
            if n % 2 == 0:
                hooks.on_retry("wndchrm", "dep")
        hooks.on_worker_exit()

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_port}"
    finally:
        stop.set()
        thread.join(5)
        server.shutdown()
        server.server_close()


@pytest.fixture
def prometheus(tmp_path: Path, monitor: str, worker_metrics: str) -> Iterator[str]:
    exe = shutil.which("prometheus")
    if exe is None:
        pytest.fail("prometheus is not installed (apt-get install prometheus)")
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(path) for path in RULES],
        "scrape_configs": [
            {"job_name": "wndchrm-monitor", "static_configs": [{"targets": [monitor]}]},
            {"job_name": "wndchrm-worker", "static_configs": [{"targets": [worker_metrics]}]},
        ],
    }
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
    address = f"127.0.0.1:{free_port()}"
    args = [f"--config.file={tmp_path / 'prometheus.yml'}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
            f"--web.listen-address={address}"]
    process = subprocess.Popen([exe, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_http(f"http://{address}/-/ready")
        yield f"http://{address}"
    finally:
        process.terminate()
        process.wait(20)


def query(prometheus: str, expr: str) -> list[dict[str, Any]]:
    url = f"{prometheus}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    reply = json.loads(http_get(url)[1])
    assert reply["status"] == "success", reply
    return list(reply["data"]["result"])


def test_prometheus_scrapes_and_every_query_has_data(beanstalkd: Beanstalkd, prometheus: str) -> None:
    demo = q.build_demo_queue(beanstalkd.address, T)
    try:
        exprs = dashboard_expressions() + autoscaling_queries() + [r["expr"] for r in rules("record")] \
            + [r["record"] for r in rules("record")]
        deadline = time.monotonic() + 45
        empty = exprs
        while empty and time.monotonic() < deadline:
            time.sleep(1)
            empty = [e for e in empty if not query(prometheus, e)]
        assert not empty, f"queries without data: {empty}"

        targets = query(prometheus, "up")
        assert {(t["metric"]["job"], t["value"][1]) for t in targets} == {("wndchrm-monitor", "1"),
                                                                         ("wndchrm-worker", "1")}
        # Spot checks that the values survive the trip through Prometheus.
        [depth] = query(prometheus, "wndchrm_queue_depth")
        assert depth["value"][1] == "5"
        [total] = query(prometheus, f'wndchrm_queue_parent_dependencies{{parent="{demo.a}"}}')
        assert (total["metric"]["batch"], total["value"][1]) == ("b1", "5")
        [ratio] = query(prometheus, f'wndchrm_queue:parent_progress_ratio{{parent="{demo.a}"}}')
        assert float(ratio["value"][1]) == pytest.approx(0.2)
        # No alert is firing for this healthy queue.
        assert query(prometheus, 'ALERTS{alertstate="firing"}') == []
    finally:
        demo.close()


def test_healthz_stays_ok_while_beanstalkd_is_down(beanstalkd: Beanstalkd, monitor: str) -> None:
    beanstalkd.stop()
    status, body = http_get(f"http://{monitor}/healthz")
    assert status == 200 and body.startswith(b"ok")
    metrics = http_get(f"http://{monitor}/metrics")[1].decode()
    assert "wndchrm_queue_beanstalkd_up 0.0" in metrics.splitlines()
    assert "wndchrm_queue_scrape_errors_total 1.0" in metrics.splitlines()
    beanstalkd.start()
    metrics = http_get(f"http://{monitor}/metrics")[1].decode()
    assert "wndchrm_queue_beanstalkd_up 1.0" in metrics.splitlines()
    assert http_get(f"http://{monitor}/healthz")[1].startswith(b"ok (last successful beanstalkd scrape")
