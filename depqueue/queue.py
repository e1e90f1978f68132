"""DepQueue: submit jobs and dependencies, read progress, cancel, list and retry failures.

The seed's API (``add_job``, ``add_dependent_job``, ``get_stats``) keeps its names and meaning; the
rest is new. A DepQueue takes its settings as arguments; entry points read configuration files.
"""

from __future__ import annotations

import dataclasses
import os
import socket
import time
from typing import Any

from depqueue import defaults, tubes
from depqueue.connection import Connection, StatsTube, pending
from depqueue.envelope import (
    Envelope,
    check_limits,
    decode_record,
    describe,
    encode_record,
    envelope_from_record,
)
from depqueue.errors import MalformedJob, NotCancellable
from depqueue.progress import DepCounts, ParentProgress
from depqueue.records import (
    Outcome,
    Record,
    purge,
    put_record,
    read_all,
    read_depfails,
    read_manifest,
    reserve_all,
)
from depqueue.signing import SIGNATURE_BYTES, Signer

#: How many forks this process descends through: a queue made before a fork sees the count change in the
#: child. Counted by a fork hook, because asking for the pid on every command costs a system call.
_forks_seen = [0]
os.register_at_fork(after_in_child=lambda: _forks_seen.__setitem__(0, _forks_seen[0] + 1))


class DepQueue:
    """A dependency queue on one beanstalkd tube. Safe to use before and after ``fork``."""

    def __init__(self, host: str = defaults.BEANSTALKD_HOST, port: int = defaults.BEANSTALKD_PORT,
                 tube: str = defaults.TUBE, *, connect_timeout: float = 5.0, signer: Signer | None = None) -> None:
        self.host, self.port, self.tube = host, port, tubes.check_tube(tube)
        self.connect_timeout = connect_timeout
        #: Signs every job body this queue puts (depqueue.signing); None: unsigned.
        self.signer = signer
        self._conn: Connection | None = None
        self._reader: Connection | None = None
        self._forks = _forks_seen[0]
        self._max_job_size: int | None = None

    # -- connections ----------------------------------------------------------------------------------
    def _fresh(self) -> None:
        """After fork a child must not speak on its parent's socket: drop inherited connections."""
        if self._forks != _forks_seen[0]:
            for conn in (self._conn, self._reader):
                if conn is not None:
                    conn.abandon()
            self._conn = self._reader = None
            self._forks = _forks_seen[0]

    @property
    def conn(self) -> Connection:
        """The connection for commands; a worker reserves on it too."""
        self._fresh()
        if self._conn is None:
            self._conn = Connection(self.host, self.port, connect_timeout=self.connect_timeout)
        return self._conn

    @property
    def reader(self) -> Connection:
        """A second connection for reading records, so the main one keeps its watch list."""
        self._fresh()
        if self._reader is None:
            self._reader = Connection(self.host, self.port, connect_timeout=self.connect_timeout)
        return self._reader

    def close(self) -> None:
        for conn in (self._conn, self._reader):
            if conn is not None:
                conn.close()

    @property
    def max_job_size(self) -> int:
        if self._max_job_size is None:
            self._max_job_size = self.conn.stats()["max-job-size"]
        return self._max_job_size

    # -- submitting -----------------------------------------------------------------------------------
    def add_job(self, params: list[str], *, batch: str = "default", priority: int = defaults.PRIORITY,
                attempts: int = defaults.ATTEMPTS, backoff: float = defaults.BACKOFF, ttr: int = defaults.TTR,
                time_limit: float | None = None, tolerate_failed_deps: bool = False, delay: int = 0) -> int:
        """Submit a parent job (argv-style ``params``); returns its job id."""
        envelope = Envelope(params=[str(p) for p in params], batch=tubes.check_batch(batch), priority=priority,
                            attempts=attempts, backoff=backoff, ttr=ttr, time_limit=time_limit,
                            tolerate_failed_deps=tolerate_failed_deps)
        return self.submit(envelope, delay=delay)

    def submit(self, envelope: Envelope, delay: int = 0) -> int:
        if not envelope.params:
            raise MalformedJob("params must not be empty")
        check_limits(envelope)
        body = self.encode(envelope.to_dict())
        return self.conn.put(self.tube, body, priority=envelope.wire_priority, delay=delay, ttr=envelope.ttr)

    def add_dependent_job(self, dep_tube: str, params: list[str]) -> None:
        """Add one dependency to the parent whose ``dep_tube`` this is.

        Called from ``add_job_deps_callback``; the dependency inherits the parent's batch, priority and
        retry policy. During a worker's expansion the callback gets an ExpandingQueue, whose puts are
        sent in pipelined batches.
        """
        params = [str(p) for p in params]
        if not params:
            raise MalformedJob("a dependency's params must not be empty")
        parent = tubes.parent_of(self.tube, dep_tube)
        if parent is None:
            raise ValueError(f"{dep_tube!r} is not a dependency tube of {self.tube!r}")
        envelope = Envelope(params=[]).for_dependency(params, parent, self.tube)
        self.conn.put(dep_tube, self.encode(envelope.to_dict()), priority=envelope.wire_priority,
                      ttr=envelope.ttr)

    def encode(self, body: dict[str, Any]) -> bytes:
        """A job body's bytes as put: within beanstalkd's size limit, signed when this queue signs."""
        if self.signer is None:
            return encode_record(body, self.max_job_size)
        return self.signer.sign(encode_record(body, self.max_job_size - SIGNATURE_BYTES))

    # -- reading --------------------------------------------------------------------------------------
    def dep_tube(self, parent: int) -> str:
        return tubes.deps(self.tube, parent)

    def dep_tubes(self) -> dict[int, str]:
        """Every dependency tube of this queue, by parent id."""
        found = {}
        for name in self.conn.tubes():
            parent = tubes.parent_of(self.tube, name)
            if parent is not None:
                found[parent] = name
        return found

    def parent_progress(self, parent: int) -> ParentProgress:
        conn = self.conn
        job = conn.stats_job(parent)
        dep_tube = self.dep_tube(parent)
        dep_stats = conn.stats_tube(dep_tube)
        stored = read_manifest(conn, dep_tube) if dep_stats else None
        counts = self._dep_counts(parent, dep_stats, stored.manifest.deps if stored else None)
        if job is None:
            state = "finished"
        elif job["state"] == "delayed":
            state = "waiting"
        elif job["state"] == "reserved":
            state = "running" if stored is not None and counts.left == 0 else "expanding"
        else:
            state = "waiting" if stored is not None else "queued"
        return ParentProgress(parent, state, counts, job["age"] if job else 0, stored is not None,
                              stored.manifest.batch if stored else "")

    def _dep_counts(self, parent: int, dep_stats: StatsTube | None, total: int | None) -> DepCounts:
        """Before the manifest exists, the tube's ``total-jobs`` stands for the total."""
        failed = pending(self.conn.stats_tube(tubes.depfail(self.tube, parent)))
        estimate = dep_stats["total-jobs"] if dep_stats else 0
        return DepCounts.of(estimate if total is None else total, dep_stats, failed)

    def get_stats(self) -> dict[str, Any]:
        """The seed's monitor view: workers, parents with dependencies, jobs left, per-parent figures."""
        conn = self.conn
        main = conn.stats_tube(self.tube)
        watching = main["current-watching"] if main else 0
        waiting = main["current-waiting"] if main else 0
        parents: dict[int, dict[str, int]] = {}
        for parent, name in sorted(self.dep_tubes().items()):
            dep_stats = conn.stats_tube(name)
            if dep_stats is None or pending(dep_stats) + dep_stats["current-jobs-buried"] == 0:
                continue  # a drained tube kept alive by a connection that still uses or watches it
            stored = read_manifest(conn, name)
            counts = self._dep_counts(parent, dep_stats, stored.manifest.deps if stored else None)
            parents[parent] = {"working": counts.running, "idle": counts.waiting, "deps": counts.total,
                               "done": counts.done, "failed": counts.failed, "left": counts.left}
        return {
            "workers": {"total": watching, "busy": max(0, watching - waiting), "idle": waiting},
            "jobs_with_deps": len(parents),
            "jobs_left": pending(main) + sum(p["left"] for p in parents.values()),
            "parents_queued": main["current-jobs-ready"] if main else 0,
            "parents": parents,
        }

    # -- records --------------------------------------------------------------------------------------
    def outcome_tube(self, batch: str) -> str:
        return tubes.outcomes(self.tube, batch)

    def collect_outcomes(self, batch: str) -> list[Record]:
        """Reserve the batch's outcome records that have arrived; they stay held until ``finish_outcomes``."""
        return reserve_all(self.reader, self.outcome_tube(batch))

    def finish_outcomes(self, records: list[Record], consume: bool = True) -> None:
        for record in records:
            if consume:
                self.reader.delete(record.id)
            else:
                self.reader.release(record.id, 0)

    def failed(self) -> list[Record]:
        """Failed parents and jobs set aside, with their reasons, oldest first."""
        return sorted(read_all(self.reader, tubes.failed(self.tube)), key=lambda r: r.id)

    def retry(self, record_id: int) -> int | None:
        """Retry one failed record: a failed parent is submitted afresh; a job set aside is kicked.

        Returns the id of the job that will run, or None when the record is gone.
        """
        conn = self.conn
        if conn.reserve_job(record_id) is None:
            return None
        job = conn.peek(record_id)
        body = decode_record(job.body) if job else {}
        try:
            if body.get("set_aside"):
                new_id = int(body["job"])
                if not conn.kick_job(new_id):
                    raise MalformedJob(f"job {new_id} set aside is no longer buried")
            else:
                envelope = envelope_from_record(body.get("envelope") or {})
                new_id = self.submit(dataclasses.replace(envelope, submitted=time.time()))
        except (MalformedJob, KeyError, TypeError, ValueError):
            conn.release(record_id, 0)
            raise
        conn.delete(record_id)
        return new_id

    def cancel(self, parent: int, attempts: int = 20, wait: float = 0.25) -> bool:
        """Cancel a parent and its pending dependencies; False when it no longer exists.

        A parent held by a worker (expanding or running) cannot be taken; NotCancellable after a few tries.
        """
        conn = self.conn
        for _ in range(attempts):
            job = conn.reserve_job(parent)
            if job is not None:
                break
            info = conn.stats_job(parent)
            if info is None:
                return False
            time.sleep(wait)
        else:
            raise NotCancellable(f"parent {parent} is held by a worker (expanding or running); try again")
        envelope = envelope_from_record(decode_record(job.body))
        dep_tube = self.dep_tube(parent)
        left = pending(conn.stats_tube(dep_tube))
        stored = read_manifest(conn, dep_tube)
        failures = len(read_depfails(self.reader, self.tube, parent))
        put_record(conn, self.outcome_tube(envelope.batch), Outcome(
            parent=parent, batch=envelope.batch, command=describe(envelope.params, 2000), status="cancelled",
            reason=f"cancelled by a user with {left} dependencies pending", deps=stored.manifest.deps if stored else 0,
            failed_count=failures, failed_deps=[], submitted=envelope.submitted,
            expanded=stored.manifest.expanded if stored else None, started=None, finished=time.time(),
            worker=f"{socket.gethostname()}:{os.getpid()} (cancel)"))
        conn.delete(parent)
        purge(conn, dep_tube)
        purge(conn, tubes.depfail(self.tube, parent), ("ready",))
        return True
