"""A dependency's life in a worker: run it, delete it, and fan in, or record its failure for its parent.

The finisher deletes the dependency and, in the same round trip, reads the stats of the job it holds
ahead and reserves the next (ahead.py); when that delete drained the dependency tube, it claims the
parent (``parent.claim_if_drained``) and hands it back to the worker's loop to run next.
"""

from __future__ import annotations

import logging
import time
from typing import NamedTuple

from depqueue import defaults
from depqueue.wire import tubes
from depqueue.wire.connection import Job, StatsJob, pending
from depqueue.wire.envelope import dependency_of, describe
from depqueue.wire.records import DepFailure, put_record
from depqueue.worker.ahead import AheadSlot
from depqueue.worker.attempts import Attempt, Attempts
from depqueue.worker.hooks import ServedQueue
from depqueue.worker.logs import info_line
from depqueue.worker.parent import RunCallback, claim_if_drained, fan_in
from depqueue.worker.watch import DepTubeWatch

log = logging.getLogger("depqueue.worker")


class NextJobs(NamedTuple):
    """What a dependency's end leaves the loop: the parent it claimed, or the next job (with its stats
    when they were read in the same round trip)."""

    claimed_parent: Job | None = None
    prefetched: Job | None = None
    prefetched_stats: StatsJob | None = None


class DependencyRunner:
    """Runs the dependencies one worker reserves."""

    def __init__(self, queue: ServedQueue, attempts: Attempts, watch: DepTubeWatch, run_job: RunCallback,
                 ahead: AheadSlot) -> None:
        self.queue = queue
        self.conn = queue.conn
        self.attempts = attempts
        self.watch = watch
        self.run_job = run_job
        self.ahead = ahead
        #: The last dependency ran for less than READ_AHEAD_BELOW: the worker reads ahead (ahead.py).
        self.short = False

    def handle(self, attempt: Attempt, prefetch: bool) -> NextJobs:
        """Run one dependency; with ``prefetch`` the next job is reserved in the round trip of its delete."""
        job, envelope = attempt.job, attempt.envelope
        dep_tube, parent = attempt.stats["tube"], envelope.parent or 0
        if attempt.number > envelope.attempts:  # exhausted
            reason = attempt.out_of_attempts("running it")
            return NextJobs(self.fail(job.id, envelope.params, parent, dep_tube, reason))
        # The start line is held back briefly while dependencies are short (logs.info_line).
        info_line(log, f"dep {job.id} of parent {parent} started, attempt {attempt.number}/{envelope.attempts}: "
                       f"{describe(envelope.params)}", hold=self.short)
        result = self.attempts.run(attempt, lambda: self.run_job(self.queue, job.id, envelope.params))
        # Read ahead after short dependencies only, and never for a job with one attempt: a held job whose
        # worker dies comes back counted as crashed (ahead.py), and its siblings share its attempts.
        self.short = result.seconds < defaults.READ_AHEAD_BELOW and envelope.attempts > 1
        if result.status == "ok":
            return self._finish(job.id, parent, dep_tube, prefetch)
        if self.attempts.release_for_retry(attempt, result, "dep"):
            return NextJobs()
        return NextJobs(self.fail(job.id, envelope.params, parent, dep_tube, result.reason))

    def _finish(self, job_id: int, parent: int, dep_tube: str, prefetch: bool) -> NextJobs:
        held = self.ahead.take()
        done = self.conn.finish(job_id, dep_tube, stats_of=held.id if held else None,
                                reserve=prefetch and (held is None or self.short),
                                same_tube=dependency_of(parent))
        # One INFO line per dependency (its start, with attempt and arguments); its end is a DEBUG line, as a
        # success needs no words of its own: failures and retries log theirs.
        log.debug("dep %d of parent %d done", job_id, parent)
        # The held job is next and the one just reserved is held; with nothing held (or its reservation
        # lapsed), the one just reserved is next.
        following, stats, ahead = (held, done.next_stats, done.reserved) if held and done.next_stats else (
            done.reserved, None, None)
        if pending(done.tube_stats) == 0:  # the parent comes first; hold nothing while it runs
            for job in (following, ahead):
                if job is not None:
                    self.conn.hand_back(job.id)
            following, stats, ahead = None, None, None
        if ahead is not None or done.rest is not None:
            self.ahead.put(ahead, deferred=done.rest is not None)
        if done.tube_stats is None or done.tube_stats["current-jobs-ready"] == 0:
            self.watch.tube_drained(dep_tube)
        return NextJobs(claim_if_drained(self.conn, parent, done.tube_stats), following, stats)

    def fail(self, job_id: int, params: list[str], parent: int, dep_tube: str, reason: str) -> Job | None:
        """Record a dependency's failure for its parent, delete it and fan in; returns a claimed parent."""
        # The record goes first: a crash before the delete only writes it twice, never zero times.
        put_record(self.conn, tubes.depfail(self.queue.tube, parent), DepFailure(
            parent=parent, dep=job_id, params=params[:50], reason=reason, failed=time.time()))
        self.conn.delete(job_id)
        log.error("dep %d of parent %d failed for good: %s", job_id, parent, reason)
        return fan_in(self.conn, parent, dep_tube)
