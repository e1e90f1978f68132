"""A parent's life in a worker: expand it, park it until its dependencies are done, run it, finish it.

1. A new parent is expanded: ``add_job_deps_callback`` puts its dependencies into ``<tube>-deps-<id>``;
   then a manifest is buried there (expansion complete) and the parent is *parked*: released with a
   delay of ``sweep_interval`` seconds.
2. Whoever sees the dependency tube drained (nothing ready, reserved or delayed) claims the parent with
   ``reserve-job`` (``claim_if_drained``): atomic, so of two workers finishing the last two
   dependencies together at most one wins. The expander checks the same after parking, closing the
   race where every dependency finished while it still held the parent.
3. A parked parent whose delay expires comes back to some worker, which runs it if its tube is drained
   and parks it again otherwise.
4. The parent runs; an outcome record goes to ``<tube>-outcomes-<batch>``, then the parent is deleted.
   Only a crash between those two commands, or while the parent runs, starts it again (at-least-once).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from depqueue.wire import tubes
from depqueue.wire.connection import Connection, Job, StatsTube, pending
from depqueue.wire.envelope import describe
from depqueue.wire.records import (
    DepFailure,
    FailedJob,
    Outcome,
    Record,
    StoredManifest,
    failed_dep_summary,
    purge,
    put_record,
    read_depfails,
    read_manifest,
    write_manifest,
)
from depqueue.worker.attempts import Attempt, Attempts
from depqueue.worker.expansion import Expansion
from depqueue.worker.hooks import ServedQueue
from depqueue.worker.watch import DepTubeWatch

log = logging.getLogger("depqueue.worker")

#: The callbacks, as the worker calls them: their first argument is the queue it serves, a DepQueue (the
#: pool types them exactly; the worker needs no more of it than ServedQueue).
RunCallback = Callable[[Any, int, list[str]], Any]
DepsCallback = Callable[[Any, str, int, list[str]], int]


@dataclass(frozen=True)
class HeldParent:
    """A parent this worker has reserved, with what it has read of its dependencies."""

    attempt: Attempt
    dep_tube: str
    manifest: StoredManifest | None = None
    depfails: list[Record[DepFailure]] = field(default_factory=list)

    @property
    def id(self) -> int:
        return self.attempt.job.id

    @property
    def deps(self) -> int:
        return self.manifest.manifest.deps if self.manifest else 0


@dataclass(frozen=True)
class Ending:
    """How a parent ends: ``succeeded`` or ``failed``, why, and when its own run started (if it did)."""

    status: str
    reason: str = ""
    started: float | None = None
    #: What the run callback returned, if a dict: it lands in the outcome record.
    outputs: dict[str, Any] | None = None


def claim_if_drained(conn: Connection, parent: int, dep_stats: StatsTube | None) -> Job | None:
    """``dep_stats`` taken after a dependency left the tube: if nothing is left, claim the parent.

    Losing the claim to another worker is normal. The claimed parent goes back to the worker's loop.
    """
    if pending(dep_stats) > 0:
        return None
    job = conn.reserve_job(parent)
    if job is not None:
        log.info("parent %d claimed after its last dependency", parent)
    return job


def fan_in(conn: Connection, parent: int, dep_tube: str) -> Job | None:
    """Claim the parent if its dependency tube has drained."""
    return claim_if_drained(conn, parent, conn.stats_tube(dep_tube))


class ParentRunner:
    """Expands, parks, runs and finishes the parents one worker reserves."""

    def __init__(self, queue: ServedQueue, attempts: Attempts, watch: DepTubeWatch, run_job: RunCallback,
                 add_deps: DepsCallback, sweep_interval: int, worker_name: str) -> None:
        self.queue = queue
        self.conn = queue.conn
        self.attempts = attempts
        self.watch = watch
        self.run_job = run_job
        self.add_deps = add_deps
        self.sweep_interval = sweep_interval
        self.worker_name = worker_name

    def handle(self, attempt: Attempt) -> Job | None:
        """Expand a new parent, park one still waiting, run one whose dependencies are done.

        Returns the parent itself when its expansion finds every dependency already done.
        """
        parent = HeldParent(attempt, tubes.deps(self.queue.tube, attempt.job.id))
        # A parent reserved for the first time cannot have been expanded yet: skip the look.
        manifest = None if attempt.first_reservation else read_manifest(self.conn, parent.dep_tube)
        if manifest is None:
            return self._expand(parent)
        if pending(self.conn.stats_tube(parent.dep_tube)) > 0:
            self._park(parent)
        else:
            self._run(replace(parent, manifest=manifest))
        return None

    def _park(self, parent: HeldParent) -> None:
        self.conn.release(parent.id, parent.attempt.stats["pri"], self.sweep_interval)

    def _expand(self, parent: HeldParent) -> Job | None:
        attempt = parent.attempt
        if attempt.exhausted:
            self.finish(parent, Ending("failed", attempt.out_of_attempts("expanding or running it")))
            return None
        if attempt.stats["reserves"] > 1:
            removed = purge(self.conn, parent.dep_tube, ("ready", "delayed"))
            if removed:
                log.warning("parent %d: removed %d dependencies of an interrupted expansion", parent.id, removed)
        envelope = attempt.envelope
        log.info("parent %d expanding, attempt %d/%d: %s", parent.id, attempt.number, envelope.attempts,
                 describe(envelope.params))
        expanding = Expansion(self.queue, parent.id, envelope, parent.dep_tube)

        def expand() -> Any:
            with self.queue.expanding(expanding):
                # A copy: callbacks edit their argv (the original's wndchrm-worker.py turns it into `check`).
                count = self.add_deps(self.queue, parent.dep_tube, parent.id, list(envelope.params))
            expanding.flush()
            return count

        result = self.attempts.run(attempt, expand, expanding=True)
        if result.status != "ok":
            if not self.attempts.release_for_retry(attempt, result, "parent"):
                self.finish(parent, Ending("failed", f"expansion failed: {result.reason}"))
            return None
        if isinstance(result.value, int) and result.value != expanding.count:
            log.warning("parent %d: callback said %s dependencies but added %d; counting %d", parent.id,
                        result.value, expanding.count, expanding.count)
        if expanding.count == 0:
            self._run(parent)
            return None
        write_manifest(self.conn, parent.dep_tube, parent.id, envelope, expanding.count)
        self._park(parent)
        log.info("parent %d expanded into %d dependencies, waiting", parent.id, expanding.count)
        self.watch.refresh_soon()
        return fan_in(self.conn, parent.id, parent.dep_tube)

    def _run(self, parent: HeldParent) -> None:
        attempt = parent.attempt
        if parent.manifest:
            parent = replace(parent, depfails=read_depfails(self.queue.reader, self.queue.tube, parent.id))
        if attempt.exhausted:
            self.finish(parent, Ending("failed", attempt.out_of_attempts("running it")))
            return
        failures = len(parent.depfails)
        if failures and not attempt.envelope.tolerate_failed_deps:
            self.finish(parent, Ending("failed", f"{failures} of {parent.deps} dependencies failed"))
            return
        log.info("parent %d started, attempt %d/%d", parent.id, attempt.number, attempt.envelope.attempts)
        started = time.time()
        result = self.attempts.run(attempt, lambda: self.run_job(self.queue, parent.id, attempt.envelope.params))
        if result.status == "ok":
            note = f"ran without {failures} failed dependencies" if failures else ""
            outputs = result.value if isinstance(result.value, dict) else None
            self.finish(parent, Ending("succeeded", note, started, outputs))
        elif not self.attempts.release_for_retry(attempt, result, "parent"):
            self.finish(parent, Ending("failed", result.reason, started))

    def finish(self, parent: HeldParent, ending: Ending) -> None:
        """Record the outcome, then delete the parent, then clean up its records, in that order.

        First a touch: it fails when this worker no longer holds the parent (cut off from beanstalkd past
        the TTR, the parent went back to the queue and another worker took it over). That worker records
        the outcome; a second one here would be a duplicate.
        """
        if not self.conn.touch(parent.id):
            log.warning("parent %d: no longer held by this worker (reservation ran out); its outcome is left "
                        "to the worker that took it over", parent.id)
            return
        envelope, manifest = parent.attempt.envelope, parent.manifest
        now = time.time()
        failed_deps = failed_dep_summary(parent.depfails)
        put_record(self.conn, tubes.outcomes(self.queue.tube, envelope.batch), Outcome(
            parent=parent.id, batch=envelope.batch, command=describe(envelope.params, 2000), status=ending.status,
            reason=ending.reason, deps=parent.deps, failed_count=len(parent.depfails), failed_deps=failed_deps,
            submitted=envelope.submitted, expanded=manifest.manifest.expanded if manifest else None,
            started=ending.started, finished=now, worker=self.worker_name, outputs=ending.outputs))
        if ending.status == "failed":
            put_record(self.conn, tubes.failed(self.queue.tube), FailedJob(
                job=parent.id, reason=ending.reason, failed=now, set_aside=False, parent=parent.id,
                batch=envelope.batch, envelope=envelope.to_dict(), failed_deps=failed_deps[:10]))
        self.conn.delete(parent.id)
        if ending.status == "failed":
            purge(self.conn, parent.dep_tube)
        elif manifest is not None:
            self.conn.delete(manifest.id)  # the tube is drained; anything else left in it is for the sweep
        for record in parent.depfails:
            self.conn.delete(record.id)
        level = logging.INFO if ending.status == "succeeded" else logging.ERROR
        log.log(level, "parent %d %s%s", parent.id, ending.status, f": {ending.reason}" if ending.reason else "")
