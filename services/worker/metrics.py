"""Worker metrics: a WorkerHooks subclass feeding prometheus-client in multiprocess mode.

A worker container runs one worker process per core; Prometheus scrapes the container once. So every
process writes its samples to files in ``PROMETHEUS_MULTIPROC_DIR`` and one HTTP server (in the pool's
parent process, or a supervisor program) sums them with ``MultiProcessCollector``:

1. ``prepare_multiprocess_dir(path)`` in the parent, before any worker process starts: wipes files of a
   previous run (a restarted container would otherwise resurrect old counts and dead processes' gauges);
2. ``start_metrics_server(port)`` in the parent (or ``python -m services.worker.metrics``): serves the sum;
   it also drops the live gauges of processes that died without ``mark_process_dead``, at every scrape;
3. ``WorkerMetrics()`` as the hooks of each worker process;
4. ``mark_process_dead(pid)`` in the parent when it reaps a worker process.

Counters and histograms of dead processes stay (their jobs happened); only live gauges go.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from wsgiref.simple_server import WSGIServer

import click
from prometheus_client import Counter, Gauge, Histogram, multiprocess, start_http_server, values
from prometheus_client.core import Metric
from prometheus_client.registry import Collector, CollectorRegistry

from depqueue import WorkerHooks
from services.common import renamed

log = logging.getLogger(__name__)

ENV = "PROMETHEUS_MULTIPROC_DIR"
DEFAULT_PORT = 9311
#: Job durations run from a second (a feature of a small image) to hours (training on a big set).
DURATION_BUCKETS = (0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200, 14400, float("inf"))
#: argv[0] comes from submitters; past this many distinct kinds per process they count as "other".
MAX_KINDS = 50
#: Outcomes whose duration is a job's real work: an expansion is bookkeeping, a handed-back job was cut short.
TIMED_OUTCOMES = frozenset({"succeeded", "failed", "retried"})

_LIVE_FILE = re.compile(r"^gauge_live\w*_(\d+)\.db$")


class WorkerMetrics(WorkerHooks):
    """Counts jobs by kind, job type and outcome; times them; tracks jobs in progress and retries.

    ``registry=None`` registers nowhere, as multiprocess mode wants (the server reads the files);
    tests pass a fresh CollectorRegistry and read it with ``get_sample_value``.
    """

    def __init__(self, registry: CollectorRegistry | None = None, max_kinds: int = MAX_KINDS) -> None:
        self.max_kinds = max_kinds
        self._kinds: set[str] = set()
        self.jobs = Counter("wndchrm_worker_jobs", "Job callbacks ended, by kind, job type and outcome.",
                            ["kind", "job_type", "outcome"], registry=registry)
        self.duration = Histogram("wndchrm_worker_job_duration_seconds",
                                  "Seconds a job callback ran (succeeded, failed or retried attempts).",
                                  ["kind", "job_type"], buckets=DURATION_BUCKETS, registry=registry)
        self.in_progress = Gauge("wndchrm_worker_jobs_in_progress", "Job callbacks running now.",
                                 ["kind", "job_type"], multiprocess_mode="livesum", registry=registry)
        self.retries = Counter("wndchrm_worker_retries", "Failed attempts released for another try.",
                               ["kind", "job_type"], registry=registry)
        self.processes = Gauge("wndchrm_worker_processes", "Worker processes running.",
                               multiprocess_mode="livesum", registry=registry)

    def _kind(self, kind: str) -> str:
        name = os.path.basename(kind) or "unknown"
        if name not in self._kinds and len(self._kinds) >= self.max_kinds:
            return "other"
        self._kinds.add(name)
        return name

    def on_worker_start(self) -> None:
        with _never_raise():
            self.processes.set(1)

    def on_job_start(self, kind: str, job_type: str) -> None:
        with _never_raise():
            self.in_progress.labels(self._kind(kind), job_type).inc()

    def on_job_end(self, kind: str, job_type: str, outcome: str, seconds: float) -> None:
        with _never_raise():
            name = self._kind(kind)
            self.in_progress.labels(name, job_type).dec()
            self.jobs.labels(name, job_type, outcome).inc()
            if outcome in TIMED_OUTCOMES:
                self.duration.labels(name, job_type).observe(seconds)

    def on_retry(self, kind: str, job_type: str) -> None:
        with _never_raise():
            self.retries.labels(self._kind(kind), job_type).inc()

    def on_worker_exit(self) -> None:
        with _never_raise():
            self.processes.set(0)


@contextlib.contextmanager
def _never_raise() -> Iterator[None]:
    # Metrics must not fail a job: a full disk under the multiprocess directory is logged, not raised.
    try:
        yield
    except (OSError, ValueError) as exc:
        log.warning("worker metrics update failed: %s", exc)


def prepare_multiprocess_dir(path: str | os.PathLike[str]) -> Path:
    """Empty (or create) the multiprocess directory and switch this process to multiprocess mode.

    Call once in the pool's parent before any worker starts and before any metric is created. It sets
    PROMETHEUS_MULTIPROC_DIR for the children, and also switches prometheus-client if it was imported
    before the variable was set (it picks its value class at import time).
    """
    directory = Path(path)
    directory.mkdir(parents=True, exist_ok=True)
    # Only our *.db files: the directory may be a mounted emptyDir that must itself stay.
    for stale in directory.glob("*.db"):
        stale.unlink(missing_ok=True)
    os.environ[ENV] = str(directory)
    if not getattr(values.ValueClass, "_multiprocess", False):
        values.ValueClass = values.MultiProcessValue()  # type: ignore[no-untyped-call]
    return directory


def mark_process_dead(pid: int, path: str | os.PathLike[str] | None = None) -> None:
    """Drop a dead worker process's live gauges (jobs in progress), keeping its counters."""
    # prometheus_client.multiprocess is untyped.
    multiprocess.mark_process_dead(pid, str(path) if path is not None else None)  # type: ignore[no-untyped-call]


class _LiveMultiProcessCollector(Collector):
    """MultiProcessCollector that first forgets processes that died without mark_process_dead (kill -9)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._inner = multiprocess.MultiProcessCollector(None, path)  # type: ignore[no-untyped-call]

    def collect(self) -> Iterable[Metric]:
        for pid in _dead_pids(Path(self.path)):
            mark_process_dead(pid, self.path)
        metrics: Iterable[Metric] = self._inner.collect()  # type: ignore[no-untyped-call]
        return metrics


def _dead_pids(directory: Path) -> set[int]:
    dead = set()
    for entry in directory.iterdir():
        match = _LIVE_FILE.match(entry.name)
        if match and not _alive(int(match.group(1))):
            dead.add(int(match.group(1)))
    return dead


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def metrics_registry(path: str | os.PathLike[str] | None = None) -> CollectorRegistry:
    """A registry summing every worker process's files in ``path`` (default: PROMETHEUS_MULTIPROC_DIR)."""
    directory = str(path) if path is not None else os.environ.get(ENV)
    if not directory:
        raise ValueError(f"multiprocess metrics need a directory: set {ENV} or call prepare_multiprocess_dir")
    registry = CollectorRegistry()
    registry.register(_LiveMultiProcessCollector(directory))
    return registry


def start_metrics_server(port: int = DEFAULT_PORT, host: str = "0.0.0.0",
                         path: str | os.PathLike[str] | None = None) -> tuple[WSGIServer, threading.Thread]:
    """Serve the whole container's worker metrics on ``/metrics`` from a daemon thread."""
    return start_http_server(port, host, registry=metrics_registry(path))


@click.command()
@click.option("--listen-port", type=int, envvar="METRICS_PORT",
              help=f"Port to serve on [METRICS_PORT; {DEFAULT_PORT}].")
@click.option("--listen-host", default="0.0.0.0", show_default=True, help="Address to serve on.")
@click.option("--port", "old_port", type=int, hidden=True, callback=renamed("--port", "--listen-port"))
@click.option("--host", "old_host", hidden=True, callback=renamed("--host", "--listen-host"))
@click.option("--prepare", is_flag=True, help=f"Empty {ENV} first (only before any worker starts).")
def main(listen_port: int | None, listen_host: str, old_port: int | None, old_host: str | None, prepare: bool) -> None:
    """Serve the worker processes' metrics, for containers whose workers supervisor starts."""
    port = listen_port or old_port or DEFAULT_PORT
    host = old_host or listen_host
    directory = os.environ.get(ENV)
    if not directory:
        raise click.UsageError(f"{ENV} must be set")
    if prepare:
        prepare_multiprocess_dir(directory)
    _server, thread = start_metrics_server(port, host, directory)
    thread.join()


if __name__ == "__main__":
    main()
