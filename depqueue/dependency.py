"""A dependency's life in a worker: run it, delete it, and fan in, or record its failure for its parent.

The finisher deletes the dependency and reserves its next job in one round trip; when that delete
drained the dependency tube, it claims the parent (``parent.claim_if_drained``) and hands it back to
the worker's loop to run next.
"""

from __future__ import annotations

import logging
import time
from typing import NamedTuple

from depqueue import tubes
from depqueue.attempts import Attempt, Attempts
from depqueue.connection import Job, pending
from depqueue.envelope import describe
from depqueue.parent import RunCallback, claim_if_drained, fan_in
from depqueue.queue import DepQueue
from depqueue.records import DepFailure, put_record
from depqueue.watch import DepTubeWatch

log = logging.getLogger("depqueue.worker")


class NextJobs(NamedTuple):
    """What a dependency's end leaves the loop: the parent it claimed, or the next job it reserved."""

    claimed_parent: Job | None = None
    prefetched: Job | None = None


class DependencyRunner:
    """Runs the dependencies one worker reserves."""

    def __init__(self, queue: DepQueue, attempts: Attempts, watch: DepTubeWatch, run_job: RunCallback) -> None:
        self.queue = queue
        self.conn = queue.conn
        self.attempts = attempts
        self.watch = watch
        self.run_job = run_job

    def handle(self, attempt: Attempt, prefetch: bool) -> NextJobs:
        """Run one dependency; with ``prefetch`` the next job is reserved in the round trip of its delete."""
        job, envelope = attempt.job, attempt.envelope
        dep_tube, parent = attempt.stats["tube"], envelope.parent or 0
        if attempt.number > envelope.attempts:  # exhausted
            reason = attempt.out_of_attempts("running it")
            return NextJobs(self.fail(job.id, envelope.params, parent, dep_tube, reason))
        log.info("dep %d of parent %d started, attempt %d/%d: %s", job.id, parent, attempt.number,
                 envelope.attempts, describe(envelope.params))
        result = self.attempts.run(attempt, lambda: self.run_job(self.queue, job.id, envelope.params))
        if result.status == "ok":
            return self._finish(job.id, parent, dep_tube, prefetch)
        if self.attempts.release_for_retry(attempt, result, "dep"):
            return NextJobs()
        return NextJobs(self.fail(job.id, envelope.params, parent, dep_tube, result.reason))

    def _finish(self, job_id: int, parent: int, dep_tube: str, prefetch: bool) -> NextJobs:
        marker = b'"parent":%d,' % parent  # how our encoder writes a dependency of this parent
        dep_stats, following = self.conn.finish_and_reserve(
            job_id, dep_tube, prefetch=prefetch,
            same_tube=lambda body: marker in body and b'"type":"dep"' in body)
        # One INFO line per dependency (its start, with attempt and arguments); its end is a DEBUG line, as a
        # success needs no words of its own: failures and retries log theirs. Two lines cost a trivial
        # dependency 40 % of the worker's CPU.
        log.debug("dep %d of parent %d done", job_id, parent)
        if following is not None and pending(dep_stats) == 0:
            self._hand_back(following)  # the parent comes first; hold one job at a time
            following = None
        if dep_stats is None or dep_stats["current-jobs-ready"] == 0:
            self.watch.tube_drained(dep_tube)
        return NextJobs(claim_if_drained(self.conn, parent, dep_stats), following)

    def _hand_back(self, job: Job) -> None:
        info = self.conn.stats_job(job.id)
        if info is not None:
            self.conn.release(job.id, info["pri"], 0)

    def fail(self, job_id: int, params: list[str], parent: int, dep_tube: str, reason: str) -> Job | None:
        """Record a dependency's failure for its parent, delete it and fan in; returns a claimed parent."""
        # The record goes first: a crash before the delete only writes it twice, never zero times.
        put_record(self.conn, tubes.depfail(self.queue.tube, parent), DepFailure(
            parent=parent, dep=job_id, params=params[:50], reason=reason, failed=time.time()))
        self.conn.delete(job_id)
        log.error("dep %d of parent %d failed for good: %s", job_id, parent, reason)
        return fan_in(self.conn, parent, dep_tube)
