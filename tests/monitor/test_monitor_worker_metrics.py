"""Worker metrics hooks, alone and in prometheus-client's multiprocess mode with real processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import urllib.request
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, values

from services.worker import metrics
from services.worker.metrics import WorkerMetrics
from testkit.beanstalkd import free_port

ROOT = Path(__file__).resolve().parents[2]


def test_hooks_count_time_and_track_jobs() -> None:
    registry = CollectorRegistry()
    hooks = WorkerMetrics(registry=registry)
    hooks.on_worker_start()
    hooks.on_job_start("/usr/bin/wndchrm", "dep")
    dep = {"kind": "wndchrm", "job_type": "dep"}
    assert registry.get_sample_value("wndchrm_worker_jobs_in_progress", dep) == 1
    hooks.on_job_end("/usr/bin/wndchrm", "dep", "succeeded", 3.0)
    hooks.on_job_start("wndchrm", "dep")
    hooks.on_retry("wndchrm", "dep")
    hooks.on_job_end("wndchrm", "dep", "retried", 0.7)
    hooks.on_job_start("wndchrm", "job")
    hooks.on_job_end("wndchrm", "job", "expanded", 0.1)

    def get(name: str, **labels: str) -> float | None:
        return registry.get_sample_value(name, labels)

    assert get("wndchrm_worker_jobs_in_progress", kind="wndchrm", job_type="dep") == 0
    assert get("wndchrm_worker_jobs_total", kind="wndchrm", job_type="dep", outcome="succeeded") == 1
    assert get("wndchrm_worker_jobs_total", kind="wndchrm", job_type="dep", outcome="retried") == 1
    assert get("wndchrm_worker_jobs_total", kind="wndchrm", job_type="job", outcome="expanded") == 1
    assert get("wndchrm_worker_retries_total", kind="wndchrm", job_type="dep") == 1
    assert get("wndchrm_worker_job_duration_seconds_count", kind="wndchrm", job_type="dep") == 2
    assert get("wndchrm_worker_job_duration_seconds_sum", kind="wndchrm", job_type="dep") == 3.7
    assert get("wndchrm_worker_job_duration_seconds_bucket", kind="wndchrm", job_type="dep", le="1.0") == 1
    # An expansion is bookkeeping, not a job's work: not timed.
    assert get("wndchrm_worker_job_duration_seconds_count", kind="wndchrm", job_type="job") is None
    assert get("wndchrm_worker_processes") == 1
    hooks.on_worker_exit()
    assert get("wndchrm_worker_processes") == 0


def test_kinds_are_bounded() -> None:
    registry = CollectorRegistry()
    hooks = WorkerMetrics(registry=registry, max_kinds=2)
    for kind in ("a", "b", "c", "d"):
        hooks.on_job_start(kind, "dep")
        hooks.on_job_end(kind, "dep", "failed", 1.0)
    assert registry.get_sample_value("wndchrm_worker_jobs_total",
                                     {"kind": "other", "job_type": "dep", "outcome": "failed"}) == 2


CHILD = textwrap.dedent("""
    import sys, time
    from services.worker.metrics import WorkerMetrics
    hooks = WorkerMetrics()
    hooks.on_worker_start()
    for _ in range(int(sys.argv[1])):
        hooks.on_job_start("wndchrm", "dep")
        hooks.on_job_end("wndchrm", "dep", "succeeded", 2.0)
    hooks.on_job_start("wndchrm", "dep")  # a job in progress when the process dies or waits
    print("ready", flush=True)
    time.sleep(60)
""")


def test_multiprocess_sum_and_dead_processes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    directory = tmp_path / "prom"
    directory.mkdir()
    (directory / "counter_999999.db").write_bytes(b"stale from a previous run")
    # prepare switches this process's prometheus-client; monkeypatch puts it back after the test.
    monkeypatch.setattr(values, "ValueClass", values.ValueClass)
    monkeypatch.delenv(metrics.ENV, raising=False)
    metrics.prepare_multiprocess_dir(directory)
    assert os.environ[metrics.ENV] == str(directory)
    assert list(directory.iterdir()) == []
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    children = [subprocess.Popen([sys.executable, "-c", CHILD, str(n)], env=env, stdout=subprocess.PIPE)
                for n in (2, 3)]
    try:
        for child in children:
            assert child.stdout is not None and child.stdout.readline() == b"ready\n"
        registry = metrics.metrics_registry(directory)
        labels = {"kind": "wndchrm", "job_type": "dep"}
        assert registry.get_sample_value("wndchrm_worker_jobs_total", {**labels, "outcome": "succeeded"}) == 5
        assert registry.get_sample_value("wndchrm_worker_jobs_in_progress", labels) == 2
        assert registry.get_sample_value("wndchrm_worker_processes") == 2
        # kill -9: nobody calls mark_process_dead, the server notices at the next scrape.
        children[0].send_signal(signal.SIGKILL)
        children[0].wait()
        assert registry.get_sample_value("wndchrm_worker_jobs_in_progress", labels) == 1
        assert registry.get_sample_value("wndchrm_worker_processes") == 1
        assert registry.get_sample_value("wndchrm_worker_jobs_total", {**labels, "outcome": "succeeded"}) == 5
        # The pool's own bookkeeping when it reaps a child.
        children[1].terminate()
        children[1].wait()
        metrics.mark_process_dead(children[1].pid, directory)
        assert registry.get_sample_value("wndchrm_worker_jobs_in_progress", labels) is None
        assert registry.get_sample_value("wndchrm_worker_job_duration_seconds_count", labels) == 5

        server, _ = metrics.start_metrics_server(free_port(), "127.0.0.1", directory)
        try:
            url = f"http://127.0.0.1:{server.server_port}/metrics"
            with urllib.request.urlopen(url, timeout=5) as response:
                text = response.read().decode()
        finally:
            server.shutdown()
            server.server_close()
        assert 'wndchrm_worker_jobs_total{job_type="dep",kind="wndchrm",outcome="succeeded"} 5.0' in text
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
                child.wait()


def test_registry_needs_a_directory(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(metrics.ENV, raising=False)
    with pytest.raises(ValueError, match="PROMETHEUS_MULTIPROC_DIR"):
        metrics.metrics_registry()


POOL = textwrap.dedent("""
    import multiprocessing, os, sys
    import prometheus_client  # imported before the directory is known, as in a real worker CLI
    from services.worker import metrics

    def child():
        hooks = metrics.WorkerMetrics()
        hooks.on_worker_start()
        for _ in range(3):
            hooks.on_job_start("wndchrm", "dep")
            hooks.on_job_end("wndchrm", "dep", "succeeded", 1.5)

    metrics.prepare_multiprocess_dir(sys.argv[1])
    context = multiprocessing.get_context("fork")
    pids = []
    for _ in range(2):
        process = context.Process(target=child)
        process.start()
        process.join()
        pids.append(process.pid)
        metrics.mark_process_dead(process.pid)
    registry = metrics.metrics_registry()
    labels = {"kind": "wndchrm", "job_type": "dep", "outcome": "succeeded"}
    print(registry.get_sample_value("wndchrm_worker_jobs_total", labels),
          registry.get_sample_value("wndchrm_worker_processes"))
""")


def test_forked_pool_after_a_late_prepare(tmp_path: Path) -> None:
    """The pool's order: prometheus_client already imported, then prepare, then fork, then mark dead."""
    env = {k: v for k, v in os.environ.items() if k != metrics.ENV}
    env["PYTHONPATH"] = str(ROOT)
    result = subprocess.run([sys.executable, "-c", POOL, str(tmp_path / "prom")], env=env, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    # Both children's jobs counted; no process left alive in the livesum gauge.
    assert result.stdout.split() == ["6.0", "None"]
