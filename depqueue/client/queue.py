"""DepQueue: submit jobs and dependencies, read progress, serve the queue, cancel, list and retry failures.

The seed's API (``DepQueue()``, ``add_job``, ``add_dependent_job``, ``get_stats``, ``connect``) keeps its
names and meaning; the original's other public names come from ``depqueue.legacy.original``, mixed in,
so there is one DepQueue. Given its settings as arguments it reads no file; ``DepQueue()`` with none
reads the configuration as the seed did (depqueue.legacy.original).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from typing import Any, Protocol

from depqueue import defaults
from depqueue.client import admin
from depqueue.client.progress import ParentProgress, TubeReader
from depqueue.config import Config
from depqueue.errors import MalformedJob
from depqueue.legacy.cutover import LegacyGuard, notice_tube, ready_tube
from depqueue.legacy.original import OriginalQueueNames
from depqueue.wire import tubes
from depqueue.wire.connection import Connection
from depqueue.wire.envelope import Envelope, check_limits, encode_record
from depqueue.wire.records import FailedJob, Outcome, Record, read_all, reserve_all
from depqueue.wire.signing import SIGNATURE_BYTES, Signer, signer_from
from depqueue.worker import Worker, WorkerSettings

#: How many forks this process descends through: a queue made before a fork sees the count change in the
#: child. Counted by a fork hook, because asking for the pid on every command costs a system call.
_forks_seen = [0]
os.register_at_fork(after_in_child=lambda: _forks_seen.__setitem__(0, _forks_seen[0] + 1))


class DependencyBuffer(Protocol):
    """Where a worker collects the dependencies of the parent it expands (depqueue.worker.expansion)."""

    dep_tube: str

    def add(self, params: list[str]) -> None: ...


class DepQueue(OriginalQueueNames):
    """A dependency queue on one beanstalkd tube. Safe to use before and after ``fork``."""

    def __init__(self, host: str | None = None, port: int | None = None, tube: str | None = None, *,
                 connect_timeout: float = 5.0, signer: Signer | None = None) -> None:
        if host is None and port is None and tube is None:  # the seed's DepQueue(): its configuration
            config = self.read_config()
            host, port, tube = config.beanstalkd_host, config.beanstalkd_port, config.beanstalkd_tube
        self.host = host or defaults.BEANSTALKD_HOST
        self.port = port or defaults.BEANSTALKD_PORT
        self.tube = tubes.check_tube(tube or defaults.TUBE)
        self.connect_timeout = connect_timeout
        #: Signs every job body this queue puts (depqueue.wire.signing); None: unsigned.
        self.signer = signer
        #: The original's connection attribute: None until ``connect()``.
        self.beanstalk: Connection | None = None
        self._conn: Connection | None = None
        self._reader: Connection | None = None
        self._forks = _forks_seen[0]
        self._max_job_size: int | None = None
        self._expansion: DependencyBuffer | None = None

    @classmethod
    def from_config(cls, config: Config) -> DepQueue:
        """The queue a configuration names, signing (and, in a worker, checking) jobs when it has a secret."""
        return cls(config.beanstalkd_host, config.beanstalkd_port, config.beanstalkd_tube,
                   signer=signer_from(config.job_secret_file))

    # -- connections ----------------------------------------------------------------------------------
    def _fresh(self) -> None:
        """After fork a child must not speak on its parent's socket: drop inherited connections."""
        if self._forks != _forks_seen[0]:
            for conn in (self._conn, self._reader):
                if conn is not None:
                    conn.abandon()
            self._conn = self._reader = None
            self.beanstalk = None
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

    def connect(self) -> None:
        """Connect (BeanstalkdUnreachable when the server does not answer) and name the seed's tubes."""
        self.conn.stats()
        self.beanstalk = self.conn
        self.jobs_tube = self.tube
        self.deps_tube = notice_tube(self.tube)
        self.jobs_ready_tube = ready_tube(self.tube)
        self.standard_tubes = [self.jobs_tube, self.deps_tube, self.jobs_ready_tube]

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
        retry policy. While a worker expands that parent, dependencies go out in pipelined batches.
        """
        params = [str(p) for p in params]
        if not params:
            raise MalformedJob("a dependency's params must not be empty")
        if self._expansion is not None and dep_tube == self._expansion.dep_tube:
            self._expansion.add(params)
            return
        parent = tubes.parent_of(self.tube, dep_tube)
        if parent is None:
            raise ValueError(f"{dep_tube!r} is not a dependency tube of {self.tube!r}")
        envelope = Envelope(params=[]).for_dependency(params, parent, self.tube)
        self.conn.put(dep_tube, self.encode(envelope.to_dict()), priority=envelope.wire_priority,
                      ttr=envelope.ttr)

    @contextlib.contextmanager
    def expanding(self, buffer: DependencyBuffer) -> Iterator[DependencyBuffer]:
        """While the block runs, ``add_dependent_job`` for ``buffer``'s tube goes to ``buffer``."""
        self._expansion = buffer
        try:
            yield buffer
        finally:
            self._expansion = None

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

    @property
    def figures(self) -> TubeReader:
        """The reader of this queue's figures (depqueue.client.progress)."""
        return TubeReader(self.conn, self.tube)

    def parent_progress(self, parent: int) -> ParentProgress:
        return self.figures.parent_progress(parent)

    def get_stats(self) -> dict[str, Any]:
        """The seed's monitor view (returned): workers, parents with dependencies, jobs left, per-parent
        figures. It also sets the seed's attributes: ``total_workers``, ``busy_workers``, ``idle_workers``,
        ``jobs_with_deps``, ``jobs_left`` and ``job_stats`` (see depqueue.legacy.original)."""
        if self.beanstalk is None:
            self.connect()
        stats = self.figures.get_stats()
        self.set_original_stats(stats)
        return stats

    # -- serving --------------------------------------------------------------------------------------
    def run(self, run_job_callback: Callable[..., Any], add_job_deps_callback: Callable[..., Any],
            settings: WorkerSettings | None = None) -> int:
        """Serve the queue in this process with the two callbacks until SIGTERM (a worker of the pool)."""
        if not callable(run_job_callback) or not callable(add_job_deps_callback):
            raise ValueError("both run_job_callback and add_job_deps_callback must be functions")
        self.run_job_callback, self.add_job_deps_callback = run_job_callback, add_job_deps_callback
        settings = settings or WorkerSettings.from_config(getattr(self, "config", None) or Config())
        guard = LegacyGuard(self.conn, self.tube, converts=self.signer is None)
        return Worker(self, run_job_callback, add_job_deps_callback, settings, guard=guard).run()

    # -- records --------------------------------------------------------------------------------------
    def outcome_tube(self, batch: str) -> str:
        return tubes.outcomes(self.tube, batch)

    def collect_outcomes(self, batch: str) -> list[Record[Outcome]]:
        """Reserve the batch's outcome records that have arrived; they stay held until ``finish_outcomes``."""
        return [r for r in reserve_all(self.reader, self.outcome_tube(batch)) if isinstance(r.value, Outcome)]

    def finish_outcomes(self, records: list[Record[Outcome]], consume: bool = True) -> None:
        for record in records:
            if consume:
                self.reader.delete(record.id)
            else:
                self.reader.release(record.id, 0)

    def failed(self) -> list[Record[FailedJob]]:
        """Failed parents and jobs set aside, with their reasons, oldest first."""
        found = read_all(self.reader, tubes.failed(self.tube))
        return sorted((r for r in found if isinstance(r.value, FailedJob)), key=lambda r: r.id)

    def retry(self, record_id: int) -> int | None:
        """Retry one failed record (depqueue.client.admin); the id of the job that will run, or None."""
        return admin.retry(self, record_id)

    def cancel(self, parent: int, attempts: int = 20, wait: float = 0.25) -> bool:
        """Cancel a parent and its pending dependencies (depqueue.client.admin); False when it is gone."""
        return admin.cancel(self, parent, attempts, wait)
