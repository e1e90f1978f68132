"""Keeps the current job's reservation alive and enforces the hard ends of a job.

It touches the job from the connection that reserved it every TTR/3 seconds, so TTR only bounds how
long a hung or partitioned worker can hold a job. It also carries out what the main thread may be
unable to do while job code runs in C: the hard time limit and the end of a drain's grace period.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from dataclasses import dataclass

from depqueue import defaults
from depqueue.errors import BeanstalkdUnreachable
from depqueue.wire.connection import Connection
from depqueue.worker.ahead import AheadSlot
from depqueue.worker.logs import flush_held_lines

log = logging.getLogger("depqueue.worker")

#: Exit codes of a worker process, so the pool's log says why a child ended.
EXIT_OK = 0
EXIT_TIME_LIMIT = 75
EXIT_HANDED_BACK = 76


@dataclass
class Held:
    job_id: int
    ttr: int
    priority: int
    started: float
    hard_deadline: float | None


class Heartbeat:
    """One daemon thread per worker process."""

    def __init__(self, conn: Connection, grace_period: float = defaults.GRACE_PERIOD, tick: float = 0.2,
                 ahead: AheadSlot | None = None) -> None:
        self.conn = conn
        #: The job held ahead of the current one (ahead.py): handed back when the current one runs long.
        self.ahead = ahead or AheadSlot(conn)
        self.grace_period = grace_period
        self.tick = tick
        self._held: Held | None = None
        self._lock = threading.Lock()
        self._stop_requested_at: float | None = None
        self._cold = False
        self._thread = threading.Thread(target=self._run, name="heartbeat", daemon=True)
        self._thread.start()

    def hold(self, job_id: int, ttr: int, priority: int, time_limit: float | None) -> None:
        now = time.monotonic()
        hard = now + time_limit + defaults.TIME_LIMIT_GRACE if time_limit else None
        with self._lock:
            self._held = Held(job_id, ttr, priority, now, hard)

    def drop(self) -> None:
        with self._lock:
            self._held = None

    def request_stop(self, cold: bool) -> None:
        if self._stop_requested_at is None:
            self._stop_requested_at = time.monotonic()
        self._cold = self._cold or cold

    def _run(self) -> None:
        last_touch = time.monotonic()
        while True:
            time.sleep(self.tick)
            flush_held_lines(if_due=True)
            with self._lock:
                held = self._held
            if held is None:
                continue
            now = time.monotonic()
            if self._stop_requested_at is not None and (
                    self._cold or now - self._stop_requested_at > self.grace_period):
                with self._lock:
                    if self._held is held:  # the main thread has not finished with it meanwhile
                        self._hand_back(held)
            if now - held.started > defaults.READ_AHEAD_HOLD and self.ahead.holding:
                self.ahead.give_back()
            if held.hard_deadline is not None and now > held.hard_deadline:
                log.error("job %d ignored its time limit; exiting so it is handed on", held.job_id)
                self.ahead.give_back()
                flush_held_lines()
                os._exit(EXIT_TIME_LIMIT)
            if now - max(last_touch, held.started) >= max(held.ttr / 3.0, 0.5):
                # If the connection is gone the main thread finds out and reconnects; the job comes back.
                with contextlib.suppress(BeanstalkdUnreachable):
                    self.conn.touch(held.job_id)
                last_touch = now

    def _hand_back(self, held: Held) -> None:
        """Release the job unchanged (no failed attempt) and end the process: nothing half-done is lost."""
        self.ahead.give_back()
        try:
            self.conn.release(held.job_id, held.priority, 0)
            log.warning("job %d handed back on shutdown", held.job_id)
        except BeanstalkdUnreachable:
            log.warning("job %d returns to the queue as the connection closes", held.job_id)
        flush_held_lines()
        os._exit(EXIT_HANDED_BACK)
