"""Read-ahead: while a worker runs short jobs, it holds the next one reserved, so that one round trip
ends a job, reads the held job's stats and reserves the one after (``pipelined.finish``).

A job ends in one round trip instead of two, which halves the wake-ups of worker and server per job
and is most of the queue's own cost on jobs that take a millisecond. The held job waits, reserved,
while the current one runs, so read-ahead is kept to short jobs and bounded:

- A worker reads ahead only after a dependency whose run took under ``defaults.READ_AHEAD_BELOW``
  and that has more than one attempt. A held job whose worker is killed comes back counted as if it
  had crashed (beanstalkd's counters cannot tell the two apart), which costs it one attempt; the held
  job is nearly always a sibling with the same attempts, so a job of one attempt is never held.
- If the current job runs longer than ``defaults.READ_AHEAD_HOLD``, the heartbeat hands the held job
  back (priority unchanged, no attempt spent), so no job waits behind a long one and no held job
  nears its TTR (at least a second).
- A job that has crashed a worker before runs with nothing held: were it to crash again, the held
  job would come back counted as crashed too (see attempts.py), so a job that keeps killing workers
  costs each neighbour one attempt at most.
- Stopping, cold or warm, and the time limit's hard exit hand the held job back first.
"""

from __future__ import annotations

import contextlib
import threading

from depqueue.errors import BeanstalkdUnreachable
from depqueue.wire.connection import Connection, Job


class AheadSlot:
    """The one job a worker holds reserved ahead of the one it runs; shared with the heartbeat thread.

    Lock order: this slot's lock, then the connection's. The main thread never calls in here while it
    holds the connection.
    """

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._job: Job | None = None
        #: The held job's reservation is still a reply on the wire (Connection.take_deferred).
        self._deferred = False
        self._lock = threading.Lock()

    def put(self, job: Job | None, deferred: bool = False) -> None:
        with self._lock:
            self._job, self._deferred = job, deferred

    def take(self) -> Job | None:
        """The held job, now the caller's to run; None when there is none (or it was handed back)."""
        with self._lock:
            return self._take()

    def _take(self) -> Job | None:
        job, self._job = self._job, None
        if self._deferred:
            self._deferred = False
            with contextlib.suppress(BeanstalkdUnreachable):  # then it went back with the connection
                job = self.conn.take_deferred()
        return job

    @property
    def holding(self) -> bool:
        """Holding a job, or maybe (a reservation whose reply is unread may have found nothing)."""
        return self._job is not None or self._deferred

    def give_back(self) -> None:
        """Hand the held job back (for others to run), if there is one."""
        with self._lock:
            job = self._take()
            if job is not None:
                with contextlib.suppress(BeanstalkdUnreachable):  # then it goes back with the connection
                    self.conn.hand_back(job.id)

    def forget(self) -> None:
        """The connection was lost, and the held job went back to the queue with it."""
        with self._lock:
            self._job, self._deferred = None, False
