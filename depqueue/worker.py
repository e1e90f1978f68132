"""The worker loop: reserve, expand parents, run dependencies, fan in, run parents once.

How a parent moves (all state lives in beanstalkd, so any worker can pick up where another died):

1. A new parent is reserved from the main tube and expanded: ``add_job_deps_callback`` puts its
   dependencies into ``<tube>-deps-<id>``; then a manifest is buried there (expansion complete) and the
   parent is *parked*: released with a delay of ``sweep_interval`` seconds.
2. A worker that deletes a dependency and sees the tube drained (nothing ready, reserved or delayed)
   claims the parent with ``reserve-job``: atomic, so of two workers finishing the last two
   dependencies together at most one wins. The expander checks the same after parking, closing the
   race where every dependency finished while it still held the parent.
3. A parked parent whose delay expires comes back to some worker, which runs it if its tube is
   drained and parks it again otherwise. That is the sweep: a parent stranded by a finisher that
   crashed between its delete and its claim runs within ``sweep_interval`` seconds.
4. The parent runs; an outcome record goes to ``<tube>-outcomes-<batch>``, then the parent is deleted.
   Only a crash between those two commands, or while the parent runs, starts it again (at-least-once).

Attempts are counted from beanstalkd's own job stats, so they survive crashes and restarts: failed
attempts are added to the low bits of the job's priority when it is released for a retry, and crashes
are reservations that ended in neither a release nor a bury (``reserves - releases - buries - 1``).
"""

from __future__ import annotations

import base64
import contextlib
import logging
import os
import signal
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from depqueue import defaults, tubes
from depqueue.connection import Connection, Job, pending
from depqueue.envelope import Envelope, decode_record, describe, envelope_from_record, shorten
from depqueue.errors import BadJob, BeanstalkdUnreachable, MalformedJob, RetryLater, TimeLimitExceeded
from depqueue.heartbeat import EXIT_OK, Heartbeat
from depqueue.hooks import WorkerHooks
from depqueue.queue import DepQueue
from depqueue.records import (
    RECORD_PRIORITY,
    Record,
    failed_dep_summary,
    purge,
    put_record,
    read_depfails,
    read_manifest,
    write_manifest,
)

log = logging.getLogger("depqueue.worker")

RunCallback = Callable[[DepQueue, int, list[str]], Any]
DepsCallback = Callable[[DepQueue, str, int, list[str]], int]


@dataclass(frozen=True)
class WorkerSettings:
    sweep_interval: int = defaults.SWEEP_INTERVAL
    max_watched_dep_tubes: int = defaults.MAX_WATCHED_DEP_TUBES
    watch_refresh: float = defaults.WATCH_REFRESH
    reserve_timeout: int = defaults.RESERVE_TIMEOUT
    grace_period: float = defaults.GRACE_PERIOD
    reconnect_wait: float = defaults.RECONNECT_WAIT
    max_reconnect_wait: float = defaults.MAX_RECONNECT_WAIT


@dataclass(frozen=True)
class Result:
    status: str  # ok, later, bad, error
    value: Any = None
    reason: str = ""
    delay: int = 0


@contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    """Raise TimeLimitExceeded in the main thread after ``seconds`` (SIGALRM); the heartbeat ends C code."""
    if not seconds:
        yield
        return

    def _alarm(signum: int, frame: object) -> None:
        raise TimeLimitExceeded(f"time limit of {seconds:g}s exceeded")

    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def backoff_delay(envelope: Envelope, attempt: int) -> int:
    return int(min(defaults.MAX_BACKOFF, envelope.backoff * (2 ** (attempt - 1))))


class Worker:
    """One worker process's loop. ``run()`` returns when a stop is requested (SIGTERM drains)."""

    def __init__(self, queue: DepQueue, run_job_callback: RunCallback, add_job_deps_callback: DepsCallback,
                 settings: WorkerSettings | None = None, hooks: WorkerHooks | None = None) -> None:
        self.queue = queue
        self.tube = queue.tube
        self.run_job_callback = run_job_callback
        self.add_job_deps_callback = add_job_deps_callback
        self.settings = settings or WorkerSettings()
        self.hooks = hooks or WorkerHooks()
        self.heartbeat = Heartbeat(queue.conn, self.settings.grace_period)
        self.stopping = False
        self.next_refresh = 0.0
        self.next_full_refresh = 0.0
        self.next_sweep = 0.0
        #: Watched dependency tubes seen with nothing ready since the last refresh.
        self.drained: set[str] = set()
        self.tube_priority: dict[str, int] = {}
        #: The next job, reserved in the same round trip as the last dependency's delete.
        self.prefetched: Job | None = None
        self.name = f"{socket.gethostname()}:{os.getpid()}"

    @property
    def conn(self) -> Connection:
        return self.queue.conn

    # -- the loop -------------------------------------------------------------------------------------
    def request_stop(self, cold: bool = False) -> None:
        """First SIGTERM: finish the current job (within the grace period). Second: hand it back now."""
        self.stopping = True
        self.heartbeat.request_stop(cold)

    def run(self) -> int:
        self.hooks.on_worker_start()
        wait = self.settings.reconnect_wait
        while not self.stopping:
            try:
                if time.monotonic() >= self.next_refresh:
                    self._refresh_watch()
                job, self.prefetched = self.prefetched, None
                if job is None:
                    job = self.conn.reserve(self.settings.reserve_timeout)
                wait = self.settings.reconnect_wait
                if job is None:
                    self._idle()
                elif self.stopping:
                    self._hand_back(job.id)
                else:
                    self._handle_safely(job)
            except BeanstalkdUnreachable as exc:
                self.heartbeat.drop()
                self.prefetched = None  # it went back to the queue with the connection
                self.queue.expansion = None
                log.warning("%s; reconnecting in %.1fs", exc, wait)
                self._sleep(wait)
                wait = min(wait * 2, self.settings.max_reconnect_wait)
                self.next_refresh = 0.0
        self.hooks.on_worker_exit()
        self.queue.close()
        return EXIT_OK

    def _sleep(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while not self.stopping and time.monotonic() < end:
            time.sleep(min(0.1, seconds))

    def _hand_back(self, job_id: int) -> None:
        info = self.conn.stats_job(job_id)
        if info is not None:
            self.conn.release(job_id, int(info["pri"]), 0)

    # -- watching -------------------------------------------------------------------------------------
    def _refresh_watch(self) -> None:
        """Watch the main tube and the dependency tubes of the most urgent, oldest parents with work ready.

        beanstalkd then serves the best priority first and, at equal priority, the lowest job id: the
        earlier parent's dependencies. The watch list stays bounded however many parents are active.
        A quick refresh (after an expansion, or when a watched tube drains) trusts the tubes still
        watched and asks ``stats-tube`` only of the others; every ``watch_refresh`` seconds all are checked.
        """
        conn = self.conn
        now = time.monotonic()
        full = now >= self.next_full_refresh
        if full:
            self.next_full_refresh = now + self.settings.watch_refresh
        self.next_refresh = self.next_full_refresh
        candidates = []
        names = set()
        for name in conn.tubes():
            parent = tubes.parent_of(self.tube, name)
            if parent is None:
                continue
            names.add(name)
            if name not in self.tube_priority:
                peeked = conn.peek_in(name, "ready")
                if peeked is None:
                    continue
                try:
                    self.tube_priority[name] = int(decode_record(peeked.body).get("priority", defaults.PRIORITY))
                except (MalformedJob, TypeError, ValueError):
                    self.tube_priority[name] = defaults.PRIORITY
            candidates.append((self.tube_priority[name], parent, name))
        for gone in set(self.tube_priority) - names:
            del self.tube_priority[gone]
        watched = conn.watching - self.drained
        chosen: list[str] = []
        for _, _, name in sorted(candidates):
            if len(chosen) >= self.settings.max_watched_dep_tubes:
                break
            if name in watched and not full:
                chosen.append(name)
                continue
            info = conn.stats_tube(name)
            if info is not None and info["current-jobs-ready"] > 0:
                chosen.append(name)
        self.drained.clear()
        conn.watch_only([self.tube, *chosen])

    def _idle(self) -> None:
        self.next_refresh = self.next_full_refresh = 0.0
        now = time.monotonic()
        if now >= self.next_sweep:
            self.next_sweep = now + self.settings.sweep_interval
            self._sweep()

    def _sweep(self) -> None:
        """While idle: run parents whose dependencies are done before their park delay ends, and remove
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
                self._handle(job)

    # -- dispatch -------------------------------------------------------------------------------------
    def _handle_safely(self, job: Job) -> None:
        """A failure of the queue's own code on one job sets that job aside instead of killing the worker,
        which would bring the job straight back to the next worker in a loop."""
        try:
            self._handle(job)
        except BeanstalkdUnreachable:
            raise
        except Exception as exc:
            log.exception("internal error on job %d", job.id)
            self.heartbeat.drop()
            self.queue.expansion = None
            reason = shorten(f"internal error: {type(exc).__name__}: {exc}")
            info = self.conn.stats_job(job.id)
            if info is None or info["state"] != "reserved":
                return
            try:  # a parent still owes its batch an outcome
                envelope = envelope_from_record(decode_record(job.body))
                if envelope.type != "job":
                    raise MalformedJob(reason)
                self._finish(job, envelope, tubes.deps(self.tube, job.id), "failed", reason, None, [])
            except Exception:
                with contextlib.suppress(Exception):
                    self._set_aside(job, info, reason)

    def _handle(self, job: Job) -> None:
        stats = self.conn.stats_job(job.id)
        if stats is None:
            return
        tube = str(stats["tube"])
        try:
            record = decode_record(job.body)
            if record["type"] == "manifest" and tube.startswith(f"{self.tube}-deps-"):
                # Caught between its put and its bury: finish the expander's work for it.
                self.conn.bury(job.id, RECORD_PRIORITY)
                self._fan_in(tubes.parent_of(self.tube, tube) or 0, tube)
                return
            envelope = envelope_from_record(record)
            if envelope.type == "job" and tube != self.tube:
                raise MalformedJob(f"a parent job does not belong in tube {tube}")
            if envelope.type == "dep" and tube != tubes.deps(self.tube, envelope.parent or 0):
                raise MalformedJob(f"a dependency of parent {envelope.parent} does not belong in tube {tube}")
        except MalformedJob as exc:
            self._set_aside(job, stats, str(exc))
            return
        if envelope.type == "job":
            self._parent(job, envelope, stats)
        else:
            self._dep(job, envelope, stats)

    def _attempt(self, envelope: Envelope, stats: dict[str, Any]) -> tuple[int, int]:
        """(this attempt's number, crashes so far), from beanstalkd's counters."""
        failures = max(0, int(stats["pri"]) - envelope.wire_priority)
        crashes = max(0, int(stats["reserves"]) - int(stats["releases"]) - int(stats["buries"]) - 1)
        return failures + crashes + 1, crashes

    def _call(self, job: Job, envelope: Envelope, stats: dict[str, Any], job_type: str,
              fn: Callable[[], Any], *, attempt: int, expanding: bool = False) -> Result:
        kind = envelope.params[0][:40]
        self.hooks.on_job_start(kind, job_type)
        self.heartbeat.hold(job.id, envelope.ttr, int(stats["pri"]), envelope.time_limit)
        started = time.monotonic()
        try:
            with time_limit(envelope.time_limit):
                result = Result("ok", value=fn())
        except BeanstalkdUnreachable:
            raise
        except RetryLater as exc:
            result = Result("later", reason=shorten(str(exc), 300), delay=exc.delay)
        except BadJob as exc:
            result = Result("bad", reason=shorten(str(exc)))
        except Exception as exc:
            log.debug("job %d raised", job.id, exc_info=True)
            result = Result("error", reason=shorten(f"{type(exc).__name__}: {exc}"))
        finally:
            self.heartbeat.drop()
        outcome = {"ok": "expanded" if expanding else "succeeded", "later": "handed_back", "bad": "failed",
                   "error": "retried" if attempt < envelope.attempts else "failed"}[result.status]
        self.hooks.on_job_end(kind, job_type, outcome, time.monotonic() - started)
        return result

    def _retry_or(self, job: Job, envelope: Envelope, stats: dict[str, Any], result: Result, attempt: int,
                  what: str) -> bool:
        """Release for another attempt when that can help; False when the job has failed for good."""
        if result.status == "later":
            self.conn.release(job.id, int(stats["pri"]), result.delay)
            log.info("%s %d handed back for %ds: %s", what, job.id, result.delay, result.reason)
            return True
        if result.status == "error" and attempt < envelope.attempts:
            delay = backoff_delay(envelope, attempt)
            self.conn.release(job.id, int(stats["pri"]) + 1, delay)
            self.hooks.on_retry(envelope.params[0][:40], envelope.type)
            log.warning("%s %d failed attempt %d/%d, retry in %ds: %s", what, job.id, attempt,
                        envelope.attempts, delay, result.reason)
            return True
        return False

    # -- dependencies ---------------------------------------------------------------------------------
    def _dep(self, job: Job, envelope: Envelope, stats: dict[str, Any]) -> None:
        dep_tube = str(stats["tube"])
        parent = envelope.parent or 0
        attempt, crashes = self._attempt(envelope, stats)
        if attempt > envelope.attempts:
            self._dep_failed(job, envelope, parent, dep_tube,
                             f"out of attempts: the worker died or timed out {crashes} times running it")
            return
        log.info("dep %d of parent %d started, attempt %d/%d: %s", job.id, parent, attempt, envelope.attempts,
                 describe(envelope.params))
        result = self._call(job, envelope, stats, "dep",
                            lambda: self.run_job_callback(self.queue, job.id, envelope.params), attempt=attempt)
        if result.status == "ok":
            marker = b'"parent":%d,' % parent  # how our encoder writes a dependency of this parent
            dep_stats, following = self.conn.finish_and_reserve(
                job.id, dep_tube, prefetch=not self.stopping,
                same_tube=lambda body: marker in body and b'"type":"dep"' in body)
            log.info("dep %d of parent %d done", job.id, parent)
            if following is not None and pending(dep_stats) == 0:
                self._hand_back(following.id)  # the parent comes first; hold one job at a time
                following = None
            self.prefetched = following
            if dep_stats is None or dep_stats["current-jobs-ready"] == 0:
                self.drained.add(dep_tube)  # nothing left to hand out here: look for other tubes now
                self.next_refresh = 0.0
            self._claim_if_drained(parent, dep_stats)
        elif not self._retry_or(job, envelope, stats, result, attempt, "dep"):
            self._dep_failed(job, envelope, parent, dep_tube, result.reason)

    def _dep_failed(self, job: Job, envelope: Envelope, parent: int, dep_tube: str, reason: str) -> None:
        # The record goes first: a crash before the delete only writes it twice, never zero times.
        put_record(self.conn, tubes.depfail(self.tube, parent), {
            "v": 1, "type": "depfail", "parent": parent, "dep": job.id, "params": envelope.params[:50],
            "reason": reason, "failed": time.time()})
        self.conn.delete(job.id)
        log.error("dep %d of parent %d failed for good: %s", job.id, parent, reason)
        self._fan_in(parent, dep_tube)

    def _fan_in(self, parent: int, dep_tube: str) -> None:
        """If the dependency tube has drained, claim the parent and run it."""
        self._claim_if_drained(parent, self.conn.stats_tube(dep_tube))

    def _claim_if_drained(self, parent: int, dep_stats: dict[str, Any] | None) -> None:
        """``dep_stats`` taken after our own delete: if nothing is left, claim the parent (losing is normal)."""
        if pending(dep_stats) > 0:
            return
        job = self.conn.reserve_job(parent)
        if job is not None:
            log.info("parent %d claimed after its last dependency", parent)
            self._handle(job)

    # -- parents --------------------------------------------------------------------------------------
    def _parent(self, job: Job, envelope: Envelope, stats: dict[str, Any]) -> None:
        dep_tube = tubes.deps(self.tube, job.id)
        # A parent reserved for the first time cannot have been expanded yet: skip the look.
        fresh = int(stats["reserves"]) == 1 and int(stats["releases"]) == 0
        manifest = None if fresh else read_manifest(self.conn, dep_tube)
        if manifest is None:
            self._expand(job, envelope, stats, dep_tube)
        elif pending(self.conn.stats_tube(dep_tube)) > 0:
            self.conn.release(job.id, int(stats["pri"]), self.settings.sweep_interval)
        else:
            self._run_parent(job, envelope, stats, dep_tube, manifest)

    def _expand(self, job: Job, envelope: Envelope, stats: dict[str, Any], dep_tube: str) -> None:
        attempt, crashes = self._attempt(envelope, stats)
        if attempt > envelope.attempts:
            self._finish(job, envelope, dep_tube, "failed", f"out of attempts: the worker died or timed out "
                         f"{crashes} times expanding or running it", None, [])
            return
        if int(stats["reserves"]) > 1:
            removed = purge(self.conn, dep_tube, ("ready", "delayed"))
            if removed:
                log.warning("parent %d: removed %d dependencies of an interrupted expansion", job.id, removed)
        log.info("parent %d expanding, attempt %d/%d: %s", job.id, attempt, envelope.attempts,
                 describe(envelope.params))
        expansion = self.queue.begin_expansion(job.id, envelope, dep_tube)

        def expand() -> Any:
            count = self.add_job_deps_callback(self.queue, dep_tube, job.id, envelope.params)
            self.queue.flush()
            return count

        try:
            result = self._call(job, envelope, stats, "job", expand, attempt=attempt, expanding=True)
        finally:
            self.queue.expansion = None
        if result.status != "ok":
            if not self._retry_or(job, envelope, stats, result, attempt, "parent"):
                self._finish(job, envelope, dep_tube, "failed", f"expansion failed: {result.reason}", None, [])
            return
        if isinstance(result.value, int) and result.value != expansion.count:
            log.warning("parent %d: callback said %s dependencies but added %d; counting %d", job.id,
                        result.value, expansion.count, expansion.count)
        if expansion.count == 0:
            self._run_parent(job, envelope, stats, dep_tube, None)
            return
        write_manifest(self.conn, dep_tube, job.id, envelope, expansion.count)
        self.conn.release(job.id, int(stats["pri"]), self.settings.sweep_interval)
        log.info("parent %d expanded into %d dependencies, waiting", job.id, expansion.count)
        self.next_refresh = 0.0
        self._fan_in(job.id, dep_tube)

    def _run_parent(self, job: Job, envelope: Envelope, stats: dict[str, Any], dep_tube: str,
                    manifest: Record | None) -> None:
        attempt, crashes = self._attempt(envelope, stats)
        depfails = read_depfails(self.queue.reader, self.tube, job.id) if manifest else []
        if attempt > envelope.attempts:
            reason = f"out of attempts: the worker died or timed out {crashes} times running it"
            self._finish(job, envelope, dep_tube, "failed", reason, manifest, depfails)
            return
        total = int(manifest.body.get("deps", 0)) if manifest else 0
        if depfails and not envelope.tolerate_failed_deps:
            reason = f"{len(depfails)} of {total} dependencies failed"
            self._finish(job, envelope, dep_tube, "failed", reason, manifest, depfails)
            return
        log.info("parent %d started, attempt %d/%d", job.id, attempt, envelope.attempts)
        started = time.time()
        self.queue.failed_deps = failed_dep_summary(depfails)
        try:
            result = self._call(job, envelope, stats, "job",
                                lambda: self.run_job_callback(self.queue, job.id, envelope.params), attempt=attempt)
        finally:
            self.queue.failed_deps = []
        if result.status == "ok":
            note = f"ran without {len(depfails)} failed dependencies" if depfails else ""
            self._finish(job, envelope, dep_tube, "succeeded", note, manifest, depfails, started)
        elif not self._retry_or(job, envelope, stats, result, attempt, "parent"):
            self._finish(job, envelope, dep_tube, "failed", result.reason, manifest, depfails, started)

    def _finish(self, job: Job, envelope: Envelope, dep_tube: str, status: str, reason: str,
                manifest: Record | None, depfails: list[Record], started: float | None = None) -> None:
        """Record the outcome, then delete the parent, then clean up its records, in that order."""
        now = time.time()
        failed = failed_dep_summary(depfails)
        outcome = {
            "v": 1, "type": "outcome", "parent": job.id, "batch": envelope.batch,
            "command": describe(envelope.params, 2000), "status": status, "reason": reason,
            "deps": int(manifest.body.get("deps", 0)) if manifest else 0, "failed_count": len(depfails),
            "failed_deps": failed, "submitted": envelope.submitted,
            "expanded": manifest.body.get("expanded") if manifest else None, "started": started,
            "finished": now, "worker": self.name,
        }
        put_record(self.conn, tubes.outcomes(self.tube, envelope.batch), outcome, shrink=("failed_deps",))
        if status == "failed":
            put_record(self.conn, tubes.failed(self.tube), {
                "v": 1, "type": "failed", "job": job.id, "parent": job.id, "batch": envelope.batch,
                "reason": reason, "failed_deps": failed[:10], "envelope": envelope.to_dict(),
                "set_aside": False, "failed": now}, shrink=("failed_deps",))
        self.conn.delete(job.id)
        if status == "failed":
            purge(self.conn, dep_tube)
        elif manifest is not None:
            self.conn.delete(manifest.id)  # the tube is drained; anything else left in it is for the sweep
        for record in depfails:
            self.conn.delete(record.id)
        level = logging.INFO if status == "succeeded" else logging.ERROR
        log.log(level, "parent %d %s%s", job.id, status, f": {reason}" if reason else "")

    # -- bad bodies -----------------------------------------------------------------------------------
    def _set_aside(self, job: Job, stats: dict[str, Any], reason: str) -> None:
        """Keep a job we cannot use, with the reason, out of everyone's way. Never retried by itself.

        In the main tube it is buried in place. In a dependency tube a buried job would hide the
        manifest, so its body goes into the record (base64) and its parent is told it failed.
        """
        tube = str(stats["tube"])
        record: dict[str, Any] = {"v": 1, "type": "failed", "job": job.id, "tube": tube,
                                  "reason": shorten(reason, 500), "failed": time.time(),
                                  "preview": shorten(repr(job.body[:200]), 300)}
        parent = tubes.parent_of(self.tube, tube)
        if parent is None:
            record["set_aside"] = True
            put_record(self.conn, tubes.failed(self.tube), record)
            self.conn.bury(job.id, int(stats["pri"]))
        else:
            record["set_aside"] = False
            record["body_base64"] = base64.b64encode(job.body).decode()
            put_record(self.conn, tubes.failed(self.tube), record, shrink=("body_base64",))
            put_record(self.conn, tubes.depfail(self.tube, parent), {
                "v": 1, "type": "depfail", "parent": parent, "dep": job.id, "params": [],
                "reason": f"set aside: {shorten(reason, 300)}", "failed": time.time()})
            self.conn.delete(job.id)
            self._fan_in(parent, tube)
        log.error("job %d in tube %s set aside: %s", job.id, tube, shorten(reason, 300))
