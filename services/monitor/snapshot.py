"""Read the queue's state from beanstalkd into plain data, one pass per scrape.

A scrape costs one ``stats``, one ``list-tubes`` and one ``stats-tube`` per tube of ours. Two things are
cached across scrapes because they never change while a parent is active: its manifest (the dependency
total, read with ``use`` + ``peek-buried``) and its creation time (from ``stats-job`` age). So a steady
queue with 1,000 parents costs about 1,000 round trips per scrape, not 4,000. Both caches are dropped when
beanstalkd's server id changes (a restart) and pruned to the parents still active.

Dependency totals come from the manifest, never from ``total-jobs``: that counter restarts at zero with
beanstalkd, while the manifest is a buried job and survives in the binlog.

Everything is read through depqueue's ``TubeReader`` (the reader ``DepQueue.get_stats`` and
``parent_progress`` use too), which this module's ``Reader`` extends only with those two caches and the
grouping of tubes, so the monitor, the submitter and the workers agree.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from depqueue import BeanstalkdUnreachable, Connection, Manifest, ParentProgress, StatsTube, TubeReader, tubes

JOB_STATES = ("ready", "reserved", "delayed", "buried", "urgent")


@dataclass(frozen=True)
class TubeCounts:
    """The part of ``stats-tube`` the monitor uses; addable so tube groups can be summed."""

    ready: int = 0
    reserved: int = 0
    delayed: int = 0
    buried: int = 0
    urgent: int = 0
    watching: int = 0
    waiting: int = 0

    @classmethod
    def from_stats(cls, stats: StatsTube) -> TubeCounts:
        return cls(ready=stats["current-jobs-ready"], reserved=stats["current-jobs-reserved"],
                   delayed=stats["current-jobs-delayed"], buried=stats["current-jobs-buried"],
                   urgent=stats["current-jobs-urgent"], watching=stats["current-watching"],
                   waiting=stats["current-waiting"])

    def __add__(self, other: TubeCounts) -> TubeCounts:
        return TubeCounts(*(a + b for a, b in zip(self.as_tuple(), other.as_tuple(), strict=True)))

    def as_tuple(self) -> tuple[int, ...]:
        return (self.ready, self.reserved, self.delayed, self.buried, self.urgent,
                self.watching, self.waiting)

    def job_count(self, state: str) -> int:
        return int(getattr(self, state))

    @property
    def unfinished(self) -> int:
        """Jobs still to be done: waiting (ready or delayed) or running."""
        return self.ready + self.reserved + self.delayed


@dataclass
class Snapshot:
    """Everything one scrape learned; tube groups are keyed by name or by a ``<tube>-deps-*`` pattern."""

    tube: str
    server: dict[str, Any]
    main: TubeCounts
    tube_groups: dict[str, TubeCounts] = field(default_factory=dict)
    tube_group_sizes: dict[str, int] = field(default_factory=dict)
    parents: list[ParentProgress] = field(default_factory=list)

    @property
    def dep_tubes(self) -> TubeCounts:
        return self.tube_groups.get(f"{self.tube}-deps-*", TubeCounts())


class Reader(TubeReader):
    """A depqueue connection to beanstalkd (reopened after any failure), plus the scrape caches.

    ``read()`` holds a lock: concurrent scrapes take turns on the one connection.
    """

    def __init__(self, host: str, port: int, tube: str, timeout: float = 5.0) -> None:
        super().__init__(Connection(host, port, connect_timeout=timeout, io_timeout=timeout), tubes.check_tube(tube))
        self.address = (host, port)
        self._server_id: str | None = None
        self._manifests: dict[int, Manifest] = {}
        self._created: dict[int, float] = {}
        #: True after a successful read, until a failure: the connection may be a stale one to retry.
        self._connected = False
        self._lock = threading.Lock()

    def close(self) -> None:
        self.conn.close()
        self._connected = False

    def read(self) -> Snapshot:
        """One consistent-enough pass over the server; a failure closes the connection and raises
        BeanstalkdUnreachable."""
        with self._lock:
            try:
                return self._read_and_mark()
            except BeanstalkdUnreachable:
                if not self._connected:
                    raise
                self._connected = False
            # A kept connection can be dead from a beanstalkd restart since the last scrape: one fresh try,
            # so a restart does not cost a scrape with up=0.
            return self._read_and_mark()

    def _read_and_mark(self) -> Snapshot:
        snapshot = self._read()
        self._connected = True
        return snapshot

    def _read(self) -> Snapshot:
        conn = self.conn
        server: dict[str, Any] = dict(conn.stats())
        if server.get("id") != self._server_id:
            # A restarted server: ids survive in the binlog, but nothing cached is worth the risk.
            self._server_id = str(server.get("id"))
            self._manifests.clear()
            self._created.clear()
        scan = self.scan()
        main = TubeCounts.from_stats(scan.main) if scan.main else TubeCounts()
        snapshot = Snapshot(tube=self.tube, server=server, main=main)
        snapshot.tube_groups[self.tube] = main
        snapshot.tube_group_sizes[self.tube] = 1
        for name, stats in scan.tubes.items():
            group = tubes.group_of(self.tube, name) or name
            snapshot.tube_groups[group] = snapshot.tube_groups.get(group, TubeCounts()) + TubeCounts.from_stats(stats)
            snapshot.tube_group_sizes[group] = snapshot.tube_group_sizes.get(group, 0) + 1
        try:
            snapshot.parents = self.active_parents(scan)
        finally:
            if conn.using != "default":
                # beanstalkd keeps a used tube alive: never keep a finished parent's tube listed.
                conn.use("default")
        self._prune(set(scan.dep_stats))
        return snapshot

    # -- the caches: what never changes while a parent is active ------------------------------------------
    def manifest(self, parent: int) -> Manifest | None:
        if parent not in self._manifests:
            manifest = super().manifest(parent)
            if manifest is None:
                return None
            self._manifests[parent] = manifest
        return self._manifests[parent]

    def age(self, parent: int) -> float | None:
        now = time.time()
        if parent not in self._created:
            age = super().age(parent)
            if age is None:  # the parent is being finished right now
                return None
            self._created[parent] = now - age
        return now - self._created[parent]

    def _prune(self, active: set[int]) -> None:
        for cache in (self._manifests, self._created):
            for parent in [p for p in cache if p not in active]:
                del cache[parent]
