"""Read the queue's state from beanstalkd into plain data, one pass per scrape.

A scrape costs one ``stats``, one ``list-tubes`` and one ``stats-tube`` per tube of ours. Two things are
cached across scrapes because they never change while a parent is active: its manifest (the dependency
total, read with ``use`` + ``peek-buried``) and its creation time (from ``stats-job`` age). So a steady
queue with 1,000 parents costs about 1,000 round trips per scrape, not 4,000. Both caches are dropped when
beanstalkd's server id changes (a restart) and pruned to the parents still active.

Dependency totals come from the manifest, never from ``total-jobs``: that counter restarts at zero with
beanstalkd, while the manifest is a buried job and survives in the binlog.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import greenstalk

from depqueue import tubes

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
    def from_stats(cls, stats: greenstalk.StatsTube) -> TubeCounts:
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


@dataclass(frozen=True)
class ParentProgress:
    """One parent's dependencies, as counted from its dependency tubes and its manifest."""

    parent: int
    batch: str
    total: int
    running: int
    waiting: int
    failed: int
    expanded: bool
    age: float | None

    @property
    def left(self) -> int:
        return self.running + self.waiting

    @property
    def done(self) -> int:
        # Clamped: while expansion is still putting dependencies the known total can trail the counts.
        return max(self.total - self.running - self.waiting - self.failed, 0)


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


class Reader:
    """A persistent beanstalkd connection that reopens after any failure, plus the scrape caches.

    ``read()`` holds a lock: concurrent scrapes take turns on the one connection.
    """

    def __init__(self, host: str, port: int, tube: str, timeout: float = 5.0) -> None:
        self.address = (host, port)
        self.tube = tubes.check_tube(tube)
        self.timeout = timeout
        self._client: greenstalk.Client[bytes] | None = None
        self._server_id: str | None = None
        self._manifests: dict[int, dict[str, Any]] = {}
        self._created: dict[int, float] = {}
        self._using_dep_tube = False
        self._lock = threading.Lock()

    def close(self) -> None:
        if self._client is not None:
            with contextlib.suppress(OSError):
                self._client.close()
            self._client = None

    def read(self) -> Snapshot:
        """One consistent-enough pass over the server; any I/O failure closes the connection and raises."""
        with self._lock:
            reused = self._client is not None
            try:
                return self._read(self._connect())
            except (OSError, EOFError, greenstalk.UnknownResponseError):
                self.close()
                if not reused:
                    raise
            # A kept connection can be dead from a beanstalkd restart since the last scrape: one fresh try,
            # so a restart does not cost a scrape with up=0.
            try:
                return self._read(self._connect())
            except (OSError, EOFError, greenstalk.UnknownResponseError):
                self.close()
                raise

    def _connect(self) -> greenstalk.Client[bytes]:
        if self._client is None:
            self._using_dep_tube = False
            sock = socket.create_connection(self.address, timeout=self.timeout)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
            self._client = greenstalk.Client(sock, encoding=None)
        return self._client

    def _read(self, client: greenstalk.Client[bytes]) -> Snapshot:
        server = dict(client.stats())
        if server.get("id") != self._server_id:
            # A restarted server: ids survive in the binlog, but nothing cached is worth the risk.
            self._server_id = str(server.get("id"))
            self._manifests.clear()
            self._created.clear()
        main = _stats_tube(client, self.tube) or TubeCounts()
        snapshot = Snapshot(tube=self.tube, server=server, main=main)
        snapshot.tube_groups[self.tube] = main
        snapshot.tube_group_sizes[self.tube] = 1
        dep_counts: dict[int, TubeCounts] = {}
        fail_counts: dict[int, int] = {}
        for name in client.tubes():
            group = self._group_of(name)
            if group is None or name == self.tube:
                continue
            counts = _stats_tube(client, name)
            if counts is None:  # the tube vanished between list-tubes and stats-tube
                continue
            snapshot.tube_groups[group] = snapshot.tube_groups.get(group, TubeCounts()) + counts
            snapshot.tube_group_sizes[group] = snapshot.tube_group_sizes.get(group, 0) + 1
            parent = tubes.parent_of(self.tube, name)
            if parent is not None:
                # An empty dependency tube outlives its parent while workers still watch it.
                if counts.unfinished or counts.buried:
                    dep_counts[parent] = counts
            elif (failed_parent := self._depfail_parent(name)) is not None:
                fail_counts[failed_parent] = counts.ready + counts.reserved
        try:
            snapshot.parents = [self._progress(client, parent, counts, fail_counts.get(parent, 0))
                                for parent, counts in sorted(dep_counts.items())]
        finally:
            if self._using_dep_tube:
                # beanstalkd keeps a used tube alive: never keep a finished parent's tube listed.
                client.use("default")
                self._using_dep_tube = False
        self._prune(set(dep_counts))
        return snapshot

    def _group_of(self, name: str) -> str | None:
        """Collapse per-parent and per-batch tubes into one pattern each; other applications' tubes: None."""
        if name == self.tube or name == tubes.failed(self.tube):
            return name
        for infix in ("deps", "depfail", "outcomes"):
            if name.startswith(f"{self.tube}-{infix}-"):
                return f"{self.tube}-{infix}-*"
        return None

    def _depfail_parent(self, name: str) -> int | None:
        rest = name.removeprefix(f"{self.tube}-depfail-")
        return int(rest) if rest != name and rest.isdigit() else None

    def _progress(self, client: greenstalk.Client[bytes], parent: int, counts: TubeCounts,
                  failed: int) -> ParentProgress:
        manifest = self._manifest(client, parent) if counts.buried else None
        if manifest is not None:
            total = int(manifest.get("deps", 0))
            batch = str(manifest.get("batch", ""))
        else:
            # Still expanding: every dependency put so far is in the tube or has failed; those that
            # already finished are not visible, so done reads 0 until the manifest lands.
            total = counts.unfinished + failed
            batch = ""
        return ParentProgress(parent=parent, batch=batch, total=total, running=counts.reserved,
                              waiting=counts.ready + counts.delayed, failed=failed,
                              expanded=manifest is not None, age=self._age(client, parent))

    def _manifest(self, client: greenstalk.Client[bytes], parent: int) -> dict[str, Any] | None:
        if parent in self._manifests:
            return self._manifests[parent]
        client.use(tubes.deps(self.tube, parent))
        self._using_dep_tube = True
        try:
            job = client.peek_buried()
        except greenstalk.NotFoundError:
            return None
        try:
            body = json.loads(job.body)
        except (UnicodeDecodeError, json.JSONDecodeError):
            return None
        if not isinstance(body, dict) or body.get("type") != "manifest":
            return None
        self._manifests[parent] = body
        return body

    def _age(self, client: greenstalk.Client[bytes], parent: int) -> float | None:
        now = time.time()
        if parent not in self._created:
            try:
                age = client.stats_job(parent)["age"]
            except greenstalk.NotFoundError:  # the parent is being finished right now
                return None
            self._created[parent] = now - age
        return now - self._created[parent]

    def _prune(self, active: set[int]) -> None:
        for cache in (self._manifests, self._created):
            for parent in [p for p in cache if p not in active]:
                del cache[parent]


def _stats_tube(client: greenstalk.Client[bytes], name: str) -> TubeCounts | None:
    try:
        return TubeCounts.from_stats(client.stats_tube(name))
    except greenstalk.NotFoundError:
        return None
