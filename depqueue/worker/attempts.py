"""One attempt at a job's callback, and what happens after a failed one: a retry or the end.

Attempts are counted from beanstalkd's own job stats, so they survive crashes and restarts: failed
attempts are added to the low bits of the job's priority when it is released for a retry, and crashes
are reservations that ended in neither a release nor a bury (``reserves - releases - buries - 1``).
"""

from __future__ import annotations

import logging
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from depqueue import defaults
from depqueue.errors import BadJob, BeanstalkdUnreachable, RetryLater, TimeLimitExceeded
from depqueue.wire.connection import Connection, Job, StatsJob
from depqueue.wire.envelope import Envelope, shorten
from depqueue.worker.heartbeat import Heartbeat
from depqueue.worker.hooks import WorkerHooks

log = logging.getLogger("depqueue.worker")


@dataclass
class Result:
    """How a callback ended: ``ok`` (with its return value), ``later`` (RetryLater), ``bad`` (BadJob) or
    ``error`` (anything else), and how long it ran."""

    status: str
    value: Any = None
    reason: str = ""
    delay: int = 0
    seconds: float = 0.0


class Attempt:
    """A reserved job with its stats: which attempt this is, and how many earlier ones crashed.

    Both are read once from beanstalkd's counters (a plain class: this is made for every job).
    """

    __slots__ = ("crashes", "envelope", "job", "number", "stats")

    def __init__(self, job: Job, envelope: Envelope, stats: StatsJob) -> None:
        self.job = job
        self.envelope = envelope
        self.stats = stats
        self.crashes = max(0, stats["reserves"] - stats["releases"] - stats["buries"] - 1)
        self.number = max(0, stats["pri"] - envelope.wire_priority) + self.crashes + 1

    @property
    def exhausted(self) -> bool:
        return self.number > self.envelope.attempts

    @property
    def first_reservation(self) -> bool:
        return self.stats["reserves"] == 1 and self.stats["releases"] == 0

    def out_of_attempts(self, doing: str) -> str:
        return f"out of attempts: the worker died or timed out {self.crashes} times {doing}"


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


class Attempts:
    """Runs callbacks under the heartbeat, time limit and hooks, and releases failed attempts for a retry."""

    def __init__(self, conn: Connection, heartbeat: Heartbeat, hooks: WorkerHooks) -> None:
        self.conn = conn
        self.heartbeat = heartbeat
        self.hooks = hooks

    def run(self, attempt: Attempt, fn: Callable[[], Any], *, expanding: bool = False) -> Result:
        """Call ``fn`` for this attempt; every exception but a lost server becomes a Result."""
        envelope = attempt.envelope
        kind, job_type = envelope.params[0][:40], envelope.type
        self.hooks.on_job_start(kind, job_type)
        self.heartbeat.hold(attempt.job.id, envelope.ttr, attempt.stats["pri"], envelope.time_limit)
        started = time.monotonic()
        try:
            if envelope.time_limit:
                with time_limit(envelope.time_limit):
                    result = Result("ok", value=fn())
            else:
                result = Result("ok", value=fn())
        except BeanstalkdUnreachable:
            raise
        except RetryLater as exc:
            result = Result("later", reason=shorten(str(exc), 300), delay=exc.delay)
        except BadJob as exc:
            result = Result("bad", reason=shorten(str(exc)))
        except Exception as exc:
            log.debug("job %d raised", attempt.job.id, exc_info=True)
            result = Result("error", reason=shorten(f"{type(exc).__name__}: {exc}"))
        finally:
            self.heartbeat.drop()
        result.seconds = time.monotonic() - started
        if result.status == "ok":
            outcome = "expanded" if expanding else "succeeded"
        elif result.status == "error" and attempt.number < envelope.attempts:
            outcome = "retried"
        else:
            outcome = {"later": "handed_back", "bad": "failed", "error": "failed"}[result.status]
        self.hooks.on_job_end(kind, job_type, outcome, result.seconds)
        return result

    def release_for_retry(self, attempt: Attempt, result: Result, what: str) -> bool:
        """Release for another attempt when that can help; False when the job has failed for good."""
        job_id, envelope, priority = attempt.job.id, attempt.envelope, attempt.stats["pri"]
        if result.status == "later":
            self.conn.release(job_id, priority, result.delay)
            log.info("%s %d handed back for %ds: %s", what, job_id, result.delay, result.reason)
            return True
        if result.status == "error" and attempt.number < envelope.attempts:
            delay = backoff_delay(envelope, attempt.number)
            self.conn.release(job_id, priority + 1, delay)
            self.hooks.on_retry(envelope.params[0][:40], envelope.type)
            log.warning("%s %d failed attempt %d/%d, retry in %ds: %s", what, job_id, attempt.number,
                        envelope.attempts, delay, result.reason)
            return True
        return False
