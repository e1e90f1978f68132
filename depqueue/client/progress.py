"""The one reader of a queue's figures: per-parent progress from a dependency tube's ``stats-tube``, its
manifest and its failure records, and one pass over every tube of the queue.

``DepQueue.get_stats``, ``DepQueue.parent_progress`` and the monitor all read through ``TubeReader``; the
monitor's subclass only caches what never changes while a parent is active (its manifest and its age).
The worker's fan-in counts with ``pending`` and ``DepCounts`` too, so all of them agree.

Before a parent's manifest exists (it is still expanding) its total is an estimate: the larger of the
dependency tube's ``total-jobs`` (every dependency put so far, finished ones included, but counted only
since beanstalkd last started) and what is visible now (pending plus failed for good). After the
manifest, the manifest's count, which survives restarts in the binlog.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from depqueue.wire import tubes
from depqueue.wire.connection import Connection, StatsTube, pending
from depqueue.wire.records import Manifest, read_manifest


@dataclass(frozen=True)
class DepCounts:
    """A parent's dependencies: how many in all, running, waiting (ready or delayed) and failed for good."""

    total: int = 0
    running: int = 0
    waiting: int = 0
    failed: int = 0

    @classmethod
    def of(cls, total: int, dep_stats: StatsTube | None, failed: int) -> DepCounts:
        """``total`` from the manifest (or an estimate before it exists); the rest from the tube's stats."""
        running = dep_stats["current-jobs-reserved"] if dep_stats else 0
        return cls(total=total, running=running, waiting=pending(dep_stats) - running, failed=failed)

    @property
    def left(self) -> int:
        """Still to run or running."""
        return self.running + self.waiting

    @property
    def done(self) -> int:
        # Clamped: while expansion is still putting dependencies the known total can trail the counts.
        return max(self.total - self.left - self.failed, 0)


@dataclass(frozen=True)
class ParentProgress:
    """Where one parent stands: its state (queued, expanding, waiting, running, finished, or "" when not
    asked), its dependency counts, its age in seconds and whether its expansion is complete."""

    parent: int
    state: str
    deps: DepCounts
    age: float | None
    expanded: bool
    batch: str = ""


@dataclass
class TubeScan:
    """One pass over the queue's tubes: the main tube's stats, every tube of ours by name, and the active
    parents (a dependency tube with jobs left or a manifest) with their dependency tube's stats and how many
    of their dependencies failed for good."""

    main: StatsTube | None
    tubes: dict[str, StatsTube] = field(default_factory=dict)
    dep_stats: dict[int, StatsTube] = field(default_factory=dict)
    failed: dict[int, int] = field(default_factory=dict)


class TubeReader:
    """Reads the figures of the queue on main tube ``tube`` through ``conn``."""

    def __init__(self, conn: Connection, tube: str) -> None:
        self.conn = conn
        self.tube = tube

    # -- what a subclass may cache ----------------------------------------------------------------------
    def manifest(self, parent: int) -> Manifest | None:
        stored = read_manifest(self.conn, tubes.deps(self.tube, parent))
        return stored.manifest if stored else None

    def age(self, parent: int) -> float | None:
        stats = self.conn.stats_job(parent)
        return stats["age"] if stats else None

    # -- counting ---------------------------------------------------------------------------------------
    def counts(self, dep_stats: StatsTube | None, failed: int, manifest: Manifest | None) -> DepCounts:
        """A parent's dependency counts (the module's docstring says how the total is estimated)."""
        if manifest is not None:
            total = manifest.deps
        else:
            total = max(dep_stats["total-jobs"] if dep_stats else 0, pending(dep_stats) + failed)
        return DepCounts.of(total, dep_stats, failed)

    def progress(self, parent: int, dep_stats: StatsTube | None, failed: int) -> ParentProgress:
        """An active parent's progress, as the monitor shows it (its state left unasked)."""
        manifest = self.manifest(parent) if dep_stats and dep_stats["current-jobs-buried"] else None
        return ParentProgress(parent=parent, state="", deps=self.counts(dep_stats, failed, manifest),
                              age=self.age(parent), expanded=manifest is not None,
                              batch=manifest.batch if manifest else "")

    def parent_progress(self, parent: int) -> ParentProgress:
        """One parent's progress and state, whether active or not."""
        conn = self.conn
        job = conn.stats_job(parent)
        dep_stats = conn.stats_tube(tubes.deps(self.tube, parent))
        manifest = self.manifest(parent) if dep_stats else None
        counts = self.counts(dep_stats, pending(conn.stats_tube(tubes.depfail(self.tube, parent))), manifest)
        if job is None:
            state = "finished"
        elif job["state"] == "delayed":
            state = "waiting"
        elif job["state"] == "reserved":
            state = "running" if manifest is not None and counts.left == 0 else "expanding"
        else:
            state = "waiting" if manifest is not None else "queued"
        return ParentProgress(parent, state, counts, job["age"] if job else 0, manifest is not None,
                              manifest.batch if manifest else "")

    def scan(self) -> TubeScan:
        """One ``list-tubes`` and one ``stats-tube`` per tube of ours."""
        conn = self.conn
        found = TubeScan(main=conn.stats_tube(self.tube))
        for name in conn.tubes():
            if name == self.tube or tubes.group_of(self.tube, name) is None:
                continue
            stats = conn.stats_tube(name)
            if stats is None:  # the tube vanished between list-tubes and stats-tube
                continue
            found.tubes[name] = stats
            parent = tubes.parent_of(self.tube, name)
            if parent is not None:
                # A drained dependency tube outlives its parent while workers still use or watch it.
                if pending(stats) or stats["current-jobs-buried"]:
                    found.dep_stats[parent] = stats
            elif (failed_parent := tubes.depfail_parent(self.tube, name)) is not None:
                found.failed[failed_parent] = pending(stats)
        return found

    def active_parents(self, scan: TubeScan) -> list[ParentProgress]:
        """The progress of every active parent of ``scan``, by id."""
        return [self.progress(parent, stats, scan.failed.get(parent, 0))
                for parent, stats in sorted(scan.dep_stats.items())]

    def get_stats(self) -> dict[str, object]:
        """The seed's monitor view: workers, parents with dependencies, jobs left, per-parent figures."""
        scan = self.scan()
        main = scan.main
        watching = main["current-watching"] if main else 0
        waiting = main["current-waiting"] if main else 0
        parents: dict[int, dict[str, Any]] = {}
        for parent, stats in sorted(scan.dep_stats.items()):
            manifest = self.manifest(parent) if stats["current-jobs-buried"] else None
            counts = self.counts(stats, scan.failed.get(parent, 0), manifest)
            parents[parent] = {"working": counts.running, "idle": counts.waiting, "deps": counts.total,
                               "done": counts.done, "failed": counts.failed, "left": counts.left,
                               "batch": manifest.batch if manifest else "", "age": self.age(parent)}
        return {
            "workers": {"total": watching, "busy": max(0, watching - waiting), "idle": waiting},
            "jobs_with_deps": len(parents),
            "jobs_left": pending(main) + sum(p["left"] for p in parents.values()),
            "parents_queued": main["current-jobs-ready"] if main else 0,
            "parents": parents,
        }


class Throughput:
    """Dependencies ended per second over the last ``window`` seconds, and the time left at that pace.

    ``add(ended)`` takes a running count that only grows (dependencies done or failed for good, of a
    parent or of a whole batch); the rate is the growth between the newest reading and the newest one
    at least ``window`` seconds older (or the oldest kept), so it follows changes of pace within a window
    yet does not jump with every poll. ``seed`` adds a reading from before the first one seen here (a
    parent's submission: ``seed(0, now - age)``), so a single look already has a rate: the mean since.
    """

    def __init__(self, window: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.window = window
        self.clock = clock
        self.readings: deque[tuple[float, int]] = deque()

    def seed(self, ended: int, at: float) -> None:
        if not self.readings or at < self.readings[0][0]:
            self.readings.appendleft((at, ended))

    def add(self, ended: int, at: float | None = None) -> None:
        now = self.clock() if at is None else at
        self.readings.append((now, ended))
        while len(self.readings) > 2 and now - self.readings[1][0] >= self.window:
            self.readings.popleft()

    @property
    def rate(self) -> float | None:
        """Per second; None before two readings some time apart."""
        if len(self.readings) < 2:
            return None
        (t0, n0), (t1, n1) = self.readings[0], self.readings[-1]
        return max(n1 - n0, 0) / (t1 - t0) if t1 - t0 > 0.5 else None

    def seconds_left(self, left: int) -> float | None:
        """At the current pace; 0 when nothing is left, None while nothing has ended (no pace yet)."""
        if left <= 0:
            return 0.0
        rate = self.rate
        return left / rate if rate else None
