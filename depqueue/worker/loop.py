"""The worker loop: reserve a job, route it to its runner, and keep the watch list and the sweep going.

The parts of a job's life live next door: ``attempts`` (one attempt at a callback, retries),
``watch`` (which dependency tubes to watch), ``parent`` (expand, park, run, finish a parent) and
``dependency`` (run a dependency, fan in). All state lives in beanstalkd, so any worker can pick up
where another died; a parked parent stranded by a finisher that crashed between its delete and its
claim is run by the sweep within ``sweep_interval`` seconds.
"""

from __future__ import annotations

import base64
import contextlib
import logging
import os
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass

from depqueue import defaults
from depqueue.config import Config
from depqueue.errors import BeanstalkdUnreachable, MalformedJob
from depqueue.wire import tubes
from depqueue.wire.connection import Connection, Job, StatsJob, pending
from depqueue.wire.envelope import decode_record, envelope_from_record, shorten
from depqueue.wire.records import RECORD_PRIORITY, FailedJob, purge, put_record
from depqueue.worker.ahead import AheadSlot
from depqueue.worker.attempts import Attempt, Attempts
from depqueue.worker.dependency import DependencyRunner
from depqueue.worker.heartbeat import EXIT_OK, Heartbeat
from depqueue.worker.hooks import JobGuard, NoGuard, ServedQueue, WorkerHooks
from depqueue.worker.known_bodies import KnownBodies
from depqueue.worker.logs import flush_held_lines
from depqueue.worker.parent import DepsCallback, Ending, HeldParent, ParentRunner, RunCallback, fan_in
from depqueue.worker.watch import DepTubeWatch

log = logging.getLogger("depqueue.worker")

__all__ = ["DepsCallback", "JobGuard", "NoGuard", "RunCallback", "Worker", "WorkerSettings"]


@dataclass(frozen=True)
class WorkerSettings:
    """How a worker paces itself; ``from_config`` takes them from the configuration's keys."""

    sweep_interval: int = defaults.SWEEP_INTERVAL
    max_watched_dep_tubes: int = defaults.MAX_WATCHED_DEP_TUBES
    watch_refresh: float = defaults.WATCH_REFRESH
    reserve_timeout: int = defaults.RESERVE_TIMEOUT
    grace_period: float = defaults.GRACE_PERIOD
    reconnect_wait: float = defaults.RECONNECT_WAIT
    max_reconnect_wait: float = defaults.MAX_RECONNECT_WAIT

    @classmethod
    def from_config(cls, config: Config) -> WorkerSettings:
        return cls(sweep_interval=config.sweep_interval, max_watched_dep_tubes=config.max_watched_dep_tubes,
                   grace_period=config.grace_period, reconnect_wait=config.beanstalkd_wait_retry or 0.1)


class Worker:
    """One worker process's loop. ``run()`` returns when a stop is requested (SIGTERM drains)."""

    def __init__(self, queue: ServedQueue, run_job_callback: RunCallback, add_job_deps_callback: DepsCallback,
                 settings: WorkerSettings | None = None, hooks: WorkerHooks | None = None, *,
                 guard: JobGuard | None = None) -> None:
        self.queue = queue
        self.tube = queue.tube
        self.settings = settings or WorkerSettings()
        self.hooks = hooks or WorkerHooks()
        #: The job held reserved ahead of the one running, while jobs are short (ahead.py).
        self.ahead = AheadSlot(queue.conn)
        self.heartbeat = Heartbeat(queue.conn, self.settings.grace_period, ahead=self.ahead)
        self.stopping = False
        self.next_sweep = 0.0
        #: The next job, reserved in the same round trip as the last dependency's delete, with its stats
        #: when they came in that round trip too.
        self.prefetched: tuple[Job, StatsJob | None] | None = None
        self.name = f"{socket.gethostname()}:{os.getpid()}"
        self.watch = DepTubeWatch(queue.conn, self.tube, self.settings.max_watched_dep_tubes,
                                  self.settings.watch_refresh)
        attempts = Attempts(queue.conn, self.heartbeat, self.hooks)
        self.parents = ParentRunner(queue, attempts, self.watch, run_job_callback, add_job_deps_callback,
                                    self.settings.sweep_interval, self.name)
        self.dependencies = DependencyRunner(queue, attempts, self.watch, run_job_callback, self.ahead)
        #: Bodies checked in full, by shape: a sibling dependency's is checked by its params (known_bodies.py).
        self.known = KnownBodies()
        #: Pauses this worker while other programs' workers share the tube, and takes over their bodies.
        self.guard = guard or NoGuard()

    @property
    def conn(self) -> Connection:
        return self.queue.conn

    def request_stop(self, cold: bool = False) -> None:
        """First SIGTERM: finish the current job (within the grace period). Second: hand it back now."""
        self.stopping = True
        self.heartbeat.request_stop(cold)

    def run(self) -> int:
        """Reserve and handle jobs until a stop is requested; reconnect with backoff when beanstalkd is lost."""
        self.hooks.on_worker_start()
        wait = self.settings.reconnect_wait
        while not self.stopping:
            try:
                if time.monotonic() >= self.watch.next_refresh:
                    self.watch.refresh()
                job, stats = self.prefetched or (self.ahead.take(), None)
                self.prefetched = None
                if job is None and self.guard.blocked():
                    self._sleep(1.0)
                    continue
                if job is None:
                    job = self.conn.reserve(self.settings.reserve_timeout)
                wait = self.settings.reconnect_wait
                if job is None:
                    self._idle()
                elif self.stopping:
                    self.conn.hand_back(job.id)
                else:
                    self._handle_with_claims(job, stats)
            except BeanstalkdUnreachable as exc:
                self.heartbeat.drop()
                self.prefetched = None  # they went back to the queue with the connection
                self.ahead.forget()
                log.warning("%s; reconnecting in %.1fs", exc, wait)
                self._sleep(wait)
                wait = min(wait * 2, self.settings.max_reconnect_wait)
                self.watch.refresh_soon()
        self._hand_back_held()
        flush_held_lines()
        self.hooks.on_worker_exit()
        self.queue.close()
        return EXIT_OK

    def _hand_back_held(self) -> None:
        """On the way out: jobs reserved but not started go back unspent (a closing connection would
        return them counted as crashed). A stop may come while a job runs, after its successor was read."""
        held, self.prefetched = self.prefetched, None
        try:
            if held is not None:
                self.conn.hand_back(held[0].id)
            self.ahead.give_back()
        except BeanstalkdUnreachable:
            pass  # they went back with the connection

    def _sleep(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while not self.stopping and time.monotonic() < end:
            time.sleep(min(0.1, seconds))

    def _idle(self) -> None:
        self.watch.refresh_all_soon()
        now = time.monotonic()
        if now >= self.next_sweep:
            self.next_sweep = now + self.settings.sweep_interval
            for parent in self._sweep():
                self._handle_with_claims(parent)

    def _sweep(self) -> Iterator[Job]:
        """While idle: claim parents whose dependencies are done before their park delay ends, and remove
        manifests and failure records of parents that no longer exist."""
        conn = self.conn
        for name in conn.tubes():
            parent = tubes.parent_of(self.tube, name)
            if parent is None and name.startswith(f"{self.tube}-depfail-"):
                rest = name.rsplit("-", 1)[-1]
                if rest.isdigit() and conn.stats_job(int(rest)) is None:
                    purge(conn, name, ("ready",))
                continue
            if parent is None or pending(conn.stats_tube(name)) > 0:
                continue
            info = conn.stats_job(parent)
            if info is None:
                purge(conn, name)
            elif info["state"] == "delayed" and (job := conn.reserve_job(parent)) is not None:
                log.info("parent %d: dependencies done, nobody promoted it; the sweep runs it", parent)
                yield job

    # -- dispatch -------------------------------------------------------------------------------------
    def _handle_with_claims(self, job: Job, stats: StatsJob | None = None) -> None:
        """Handle ``job`` (``stats``: its stats, when read already), then each parent its end claimed (a
        fan-in), in turn."""
        next_job: Job | None = job
        while next_job is not None:
            next_job, stats = self._handle_safely(next_job, stats), None

    def _handle_safely(self, job: Job, stats: StatsJob | None) -> Job | None:
        """A failure of the queue's own code on one job sets that job aside instead of killing the worker,
        which would bring the job straight back to the next worker in a loop."""
        try:
            return self._handle(job, stats)
        except BeanstalkdUnreachable:
            raise
        except Exception as exc:
            log.exception("internal error on job %d", job.id)
            self.heartbeat.drop()
            self._end_after_internal_error(job, shorten(f"internal error: {type(exc).__name__}: {exc}"))
            return None

    def _end_after_internal_error(self, job: Job, reason: str) -> None:
        info = self.conn.stats_job(job.id)
        if info is None or info["state"] != "reserved":
            return
        try:  # a parent still owes its batch an outcome
            envelope = envelope_from_record(decode_record(job.body))
            if envelope.type != "job":
                raise MalformedJob(reason)
            held = HeldParent(Attempt(job, envelope, info), tubes.deps(self.tube, job.id))
            self.parents.finish(held, Ending("failed", reason))
        except Exception:
            with contextlib.suppress(Exception):
                self._set_aside(job, info, reason)

    def _handle(self, job: Job, stats: StatsJob | None) -> Job | None:
        """Route one reserved job; returns a parent claimed on the way, for the loop to handle next."""
        if stats is None:  # its stats, and the next job reserved ahead when jobs are short (ahead.py)
            read_ahead = self.dependencies.short and not self.stopping and not self.ahead.holding
            stats, ahead = self.conn.stats_and_reserve(job.id, reserve=read_ahead)
            if ahead is not None:
                self.ahead.put(ahead)
        if stats is None:
            return None
        tube = stats["tube"]
        if job.body[:1] != b"{" and self.guard.take_over(job, tube):  # not ours: the guard's (a cut-over)
            return None
        try:
            envelope = self.known.envelope(job.body)  # a sibling of a body checked in full: params only
            if envelope is None:
                record = decode_record(job.body)
                if record["type"] == "wake":  # an expander's new dependency tube (expansion.py)
                    self.conn.delete(job.id)
                    self.watch.refresh_soon()
                    return None
                if record["type"] == "manifest" and tube.startswith(f"{self.tube}-deps-"):
                    # Caught between its put and its bury: finish the expander's work for it.
                    self.conn.bury(job.id, RECORD_PRIORITY)
                    return fan_in(self.conn, tubes.parent_of(self.tube, tube) or 0, tube)
                if self.queue.signer is not None:
                    self.queue.signer.verify(job.body)
                envelope = envelope_from_record(record)
                self.known.remember(job.body, envelope)
            elif self.queue.signer is not None:
                self.queue.signer.verify(job.body)
            if envelope.type == "job" and tube != self.tube:
                raise MalformedJob(f"a parent job does not belong in tube {tube}")
            if envelope.type == "dep" and tube != tubes.deps(self.tube, envelope.parent or 0):
                raise MalformedJob(f"a dependency of parent {envelope.parent} does not belong in tube {tube}")
        except MalformedJob as exc:
            return self._set_aside(job, stats, str(exc))
        attempt = Attempt(job, envelope, stats)
        if attempt.crashes and self.ahead.holding:  # it may crash again: let it cost no other job an attempt
            self.ahead.give_back()
        if envelope.type == "job":
            return self.parents.handle(attempt)
        claimed, following, following_stats = self.dependencies.handle(attempt, prefetch=not self.stopping)
        self.prefetched = (following, following_stats) if following is not None else None
        return claimed

    def _set_aside(self, job: Job, stats: StatsJob, reason: str) -> Job | None:
        """Keep a job we cannot use, with the reason, out of everyone's way. Never retried by itself.

        In the main tube it is buried in place. In a dependency tube a buried job would hide the
        manifest, so its body goes into the record (base64) and its parent is told it failed.
        """
        tube = stats["tube"]
        parent = tubes.parent_of(self.tube, tube)
        record = FailedJob(job=job.id, reason=shorten(reason, 500), failed=time.time(), set_aside=parent is None,
                           tube=tube, preview=shorten(repr(job.body[:200]), 300),
                           body_base64=None if parent is None else base64.b64encode(job.body).decode())
        put_record(self.conn, tubes.failed(self.tube), record)
        log.error("job %d in tube %s set aside: %s", job.id, tube, shorten(reason, 300))
        if parent is None:
            self.conn.bury(job.id, stats["pri"])
            return None
        return self.dependencies.fail(job.id, [], parent, tube, f"set aside: {shorten(reason, 300)}")
