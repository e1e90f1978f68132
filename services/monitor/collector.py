"""The Prometheus collector: turns one beanstalkd snapshot into fresh metric families per scrape.

Series exist only while beanstalkd answers; when it does not, the scrape still succeeds with
``wndchrm_queue_beanstalkd_up 0`` so alerts see the outage instead of a vanished target.

Label cardinality is bounded: tubes of ours are grouped by pattern (``<tube>-deps-*``), other
applications' tubes are left out, and per-parent series are kept for the ``max_parents`` oldest active
parents (lowest job ids, the order the workers serve them); the rest are summed into ``parent="other"``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Iterator

import greenstalk
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector, CollectorRegistry

from depqueue import BeanstalkdUnreachable, ParentProgress
from services.monitor.snapshot import JOB_STATES, Reader, Snapshot

log = logging.getLogger(__name__)

PREFIX = "wndchrm_queue"
DEFAULT_MAX_PARENTS = 200
OTHER = "other"

#: beanstalkd's cumulative counters exported as Prometheus counters: (name, help, stats keys summed).
SERVER_COUNTERS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("puts", "Jobs put since beanstalkd started.", ("cmd-put",)),
    ("reserves", "Reserve commands since beanstalkd started (beanstalkd does not count reserve-job).",
     ("cmd-reserve", "cmd-reserve-with-timeout")),
    ("deletes", "Jobs deleted since beanstalkd started.", ("cmd-delete",)),
    ("timeouts", "Reservations that ran out of time-to-run since beanstalkd started.", ("job-timeouts",)),
    ("connections", "Connections opened since beanstalkd started.", ("total-connections",)),
)

#: Per-parent gauges: (metric suffix, help, value).
PARENT_GAUGES: tuple[tuple[str, str], ...] = (
    ("dependencies", "Dependencies of the parent (the manifest's count; the known count while expanding)."),
    ("dependencies_done", "Dependencies finished successfully."),
    ("dependencies_running", "Dependencies reserved by a worker."),
    ("dependencies_waiting", "Dependencies ready or delayed (retry backoff)."),
    ("dependencies_failed", "Dependencies out of attempts."),
    ("dependencies_left", "Dependencies still to finish (running plus waiting)."),
    ("age_seconds", "Seconds since the parent was submitted (the oldest, for parent=\"other\")."),
)


class QueueCollector(Collector):
    """Scrapes beanstalkd on every ``collect()``; register it on an injected registry."""

    def __init__(self, reader: Reader, max_parents: int = DEFAULT_MAX_PARENTS,
                 registry: CollectorRegistry | None = None) -> None:
        self.reader = reader
        self.max_parents = max_parents
        self.errors = 0
        self.last_success: float | None = None
        # prometheus-client may scrape from several HTTP threads; one reader connection serves them in turn.
        self._lock = threading.Lock()
        if registry is not None:
            registry.register(self)

    def describe(self) -> list[Metric]:
        # Returning nothing keeps registration from scraping beanstalkd (no auto-describe collect()).
        return []

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            started = time.perf_counter()
            snapshot: Snapshot | None = None
            try:
                snapshot = self.reader.read()
                self.last_success = time.time()
            except (BeanstalkdUnreachable, OSError, greenstalk.Error) as exc:
                self.errors += 1
                log.warning("scrape of beanstalkd at %s:%s failed: %s", *self.reader.address, exc)
            families = list(self._families(snapshot)) if snapshot is not None else []
            elapsed = time.perf_counter() - started
        yield _gauge("beanstalkd_up", "1 when the last scrape reached beanstalkd, else 0.",
                     1 if snapshot is not None else 0)
        yield _gauge("scrape_duration_seconds", "Seconds the last scrape of beanstalkd took.", elapsed)
        errors = CounterMetricFamily(f"{PREFIX}_scrape_errors", "Scrapes that failed to read beanstalkd.")
        errors.add_metric([], self.errors)
        yield errors
        yield from families

    def _families(self, snap: Snapshot) -> Iterable[Metric]:
        yield from _server_families(snap)
        yield from _tube_families(snap)
        main, deps = snap.main, snap.dep_tubes
        yield _gauge("workers", "Worker processes (connections watching the main tube).", main.watching)
        yield _gauge("workers_busy", "Worker processes not waiting in reserve.", main.watching - main.waiting)
        yield _gauge("workers_idle", "Worker processes waiting in reserve.", main.waiting)
        yield _gauge("depth", "Jobs ready or running in the main and dependency tubes (autoscaling signal).",
                     main.ready + main.reserved + deps.ready + deps.reserved)
        yield _gauge("jobs_left", "Jobs not finished: parents and dependencies ready, running or delayed.",
                     main.unfinished + deps.unfinished)
        expanded = [p for p in snap.parents if p.expanded]
        yield _gauge("parents_active", "Parents with a dependency tube.", len(snap.parents))
        yield _gauge("parents_expanding", "Parents whose dependency tube has no manifest yet.",
                     len(snap.parents) - len(expanded))
        yield _gauge("parents_waiting_dependencies", "Expanded parents with dependencies still to finish.",
                     sum(1 for p in expanded if p.deps.left))
        yield _gauge("manifests", "Manifests (one buried job per expanded parent's dependency tube).",
                     len(expanded))
        yield from self._parent_families(snap.parents)

    def _parent_families(self, parents: list[ParentProgress]) -> Iterable[Metric]:
        shown, rest = parents[: self.max_parents], parents[self.max_parents:]
        families = {suffix: GaugeMetricFamily(f"{PREFIX}_parent_{suffix}", help_text,
                                              labels=["parent", "batch"])
                    for suffix, help_text in PARENT_GAUGES}
        rows = [(str(p.parent), p.batch, _parent_values(p)) for p in shown]
        if rest:
            rows.append((OTHER, OTHER, _sum_parents(rest)))
        for parent, batch, values in rows:
            for (suffix, _), value in zip(PARENT_GAUGES, values, strict=True):
                if value is not None:
                    families[suffix].add_metric([parent, batch], value)
        yield from families.values()


def _parent_values(p: ParentProgress) -> tuple[float | None, ...]:
    d = p.deps
    return (d.total, d.done, d.running, d.waiting, d.failed, d.left, p.age)


def _sum_parents(parents: list[ParentProgress]) -> tuple[float | None, ...]:
    columns = list(zip(*(_parent_values(p) for p in parents), strict=True))
    sums: list[float | None] = [sum(v for v in column if v is not None) for column in columns[:-1]]
    ages = [a for a in columns[-1] if a is not None]
    return (*sums, max(ages) if ages else None)


def _server_families(snap: Snapshot) -> Iterable[Metric]:
    for name, help_text, keys in SERVER_COUNTERS:
        counter = CounterMetricFamily(f"{PREFIX}_server_{name}", help_text)
        counter.add_metric([], sum(int(snap.server.get(k, 0)) for k in keys))
        yield counter
    jobs = GaugeMetricFamily(f"{PREFIX}_server_jobs", "Jobs in beanstalkd by state (all tubes).",
                             labels=["state"])
    for state in JOB_STATES:
        jobs.add_metric([state], int(snap.server.get(f"current-jobs-{state}", 0)))
    yield jobs
    yield _gauge("server_current_connections", "Open connections to beanstalkd.",
                 int(snap.server.get("current-connections", 0)))
    yield _gauge("server_uptime_seconds", "Seconds since beanstalkd started.",
                 int(snap.server.get("uptime", 0)))


def _tube_families(snap: Snapshot) -> Iterable[Metric]:
    jobs = GaugeMetricFamily(f"{PREFIX}_tube_jobs", "Jobs in a tube (or tube group) by state.",
                             labels=["tube", "state"])
    watching = GaugeMetricFamily(f"{PREFIX}_tube_watching", "Connections watching the tube.", labels=["tube"])
    waiting = GaugeMetricFamily(f"{PREFIX}_tube_waiting", "Connections waiting in reserve on the tube.",
                                labels=["tube"])
    count = GaugeMetricFamily(f"{PREFIX}_tubes", "Tubes in the group (1 for a single tube).", labels=["tube"])
    for tube, counts in sorted(snap.tube_groups.items()):
        for state in JOB_STATES:
            jobs.add_metric([tube, state], counts.job_count(state))
        watching.add_metric([tube], counts.watching)
        waiting.add_metric([tube], counts.waiting)
        count.add_metric([tube], snap.tube_group_sizes.get(tube, 0))
    yield from (jobs, watching, waiting, count)


def _gauge(name: str, help_text: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(f"{PREFIX}_{name}", help_text, value=value)
