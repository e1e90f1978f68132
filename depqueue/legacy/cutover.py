"""Cutting a queue over from the original wndchrm-queue in place, on the wire.

The original put each job's argv joined with tabs (no JSON, TTR 300) and used four kinds of tube, with
main tube ``T``:

- ``T``: new parents; a parent with dependencies stayed there *buried* while they ran;
- ``T-deps``: one notice ``<parent id>\\t<dependency tube>`` per parent with dependencies pending;
- ``T-deps-<parent id>``: the parent's dependencies (tab-joined, no manifest);
- ``T-ready``: parents whose dependencies were done (or that had none), waiting to run.

A worker here takes such a queue over as follows (``LegacyGuard``, which the pool gives every worker):

- an old-format body in ``T`` or ``T-ready`` is converted to today's envelope (its argv, batch
  ``original``, TTR 300) put in ``T``, and the old job deleted; logged once per job. The converted
  parent is expanded afresh, so the dependencies it still needs are queued again; work its old
  dependencies finished is not redone when the job kind reuses it (the wndchrm kind reuses ``.sig``
  files and its feature cache);
- an old-format dependency tube ``T-deps-<id>`` (its parent buried in ``T`` with a tab-joined body,
  perhaps a notice in ``T-deps``) left by a crashed original worker is retired: its parent is kicked and
  converted as above, its remaining old dependency jobs and its notice are deleted;
- a parent of today's found in ``T-ready`` (an original worker took it from ``T`` before it was stopped)
  is put back in ``T``;
- while any original worker is connected (it always watches ``T-ready``, and ``T-deps`` when not busy
  with a dependency tube; nothing of this project watches either), workers here stop reserving and say
  so in their log every minute, and the submitter refuses to submit: an original worker would take a
  JSON parent for an argv and move it to ``T-ready``, silently losing it.

A converted parent can run twice only if a worker dies between its put and the old job's delete (two
consecutive commands), the same at-least-once window as elsewhere in the queue.
"""

from __future__ import annotations

import logging
import time

from depqueue.errors import MalformedJob
from depqueue.wire.connection import Connection, Job
from depqueue.wire.envelope import Envelope, decode_record, describe, envelope_from_record

log = logging.getLogger("depqueue.compat")

#: The original's TTR for every job it put.
ORIGINAL_TTR = 300
#: The batch of parents converted from the original's bodies (their outcomes: ``T-outcomes-original``).
ORIGINAL_BATCH = "original"
#: Seconds between looks for original workers and leftover old-format tubes.
CHECK_EVERY = 5.0
#: Seconds between repeated warnings while original workers block this one.
WARN_EVERY = 60.0


def ready_tube(tube: str) -> str:
    """The original's tube of parents ready to run."""
    return f"{tube}-ready"


def notice_tube(tube: str) -> str:
    """The original's tube of ``<parent id>\\t<dependency tube>`` notices."""
    return f"{tube}-deps"


def legacy_params(body: bytes) -> list[str] | None:
    """The argv of a body the original put (tab-joined printable UTF-8 text), or None for anything else.

    Today's bodies are JSON objects, so they start with ``{``; an argv's first word never does. The
    original submitter never put a job of one word (a program with no arguments), so a body without a
    tab is not taken for one: it stays a malformed body, set aside.
    """
    if not body or b"\t" not in body or body[:1] in (b"{", b"[", b" ", b"\t"):
        return None
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return None
    params = text.split("\t")
    return params if all(word.isprintable() for word in params) else None


def original_workers(conn: Connection, tube: str) -> int:
    """How many connections watch the original's own tubes: original workers, since nothing here does."""
    counts = [info["current-watching"] for name in (ready_tube(tube), notice_tube(tube))
              if (info := conn.stats_tube(name)) is not None]
    return max(counts, default=0)


def convert(conn: Connection, tube: str, job_id: int, params: list[str], where: str) -> int:
    """Put an original parent's argv in ``tube`` as today's envelope, then delete the old job (reserved by
    the caller); returns the new job's id."""
    envelope = Envelope(params=params, batch=ORIGINAL_BATCH, ttr=ORIGINAL_TTR)
    new_id = conn.put(tube, envelope.encode(), priority=envelope.wire_priority, ttr=envelope.ttr)
    conn.delete(job_id)
    log.warning("job %d in %s was in the original's format (tab-joined argv): converted to job %d in %s, "
                "batch %s: %s", job_id, where, new_id, tube, ORIGINAL_BATCH, describe(params))
    return new_id


class LegacyGuard:
    """One worker's watch over the original's tubes: pauses it while original workers are connected,
    converts what they left behind when they are gone."""

    def __init__(self, conn: Connection, tube: str, converts: bool = True) -> None:
        self.conn = conn
        self.tube = tube
        #: False on a queue that requires signed jobs: the original's unsigned bodies are then set aside.
        self.converts = converts
        self.next_check = 0.0
        self.next_warning = 0.0
        self.blocking = 0
        self.scanned = False

    def blocked(self) -> bool:
        """True while original workers are connected (the caller must not reserve); checked every few
        seconds, and leftovers of the original are converted when none is."""
        now = time.monotonic()
        if now < self.next_check:
            return self.blocking > 0
        self.next_check = now + CHECK_EVERY
        count = original_workers(self.conn, self.tube)
        if count and now >= self.next_warning:
            self.next_warning = now + WARN_EVERY
            log.error("%d original wndchrm-queue worker(s) watch %s and %s: not reserving until they stop "
                      "(old and new workers on one tube would corrupt each other's jobs)", count,
                      ready_tube(self.tube), notice_tube(self.tube))
        elif not count and self.blocking:
            log.warning("original workers gone from %s: reserving again", self.tube)
        self.blocking = count
        if not count and self.converts:
            self.take_over_tubes()
        return count > 0

    def take_over(self, job: Job, tube: str) -> bool:
        """A reserved job in the original's format: a parent is converted; a dependency retires its whole
        tube when its parent is the original's too (or gone). False, leaving the job to the worker (which
        sets it aside), for anything else or when this guard does not convert."""
        params = legacy_params(job.body) if self.converts else None
        if params is None:
            return False
        if tube == self.tube:
            convert(self.conn, self.tube, job.id, params, tube)
            return True
        parent = tube.rsplit("-", 1)[-1]
        if not parent.isdigit() or not self._is_legacy_dep_tube(tube, int(parent), job):
            return False
        self.conn.delete(job.id)
        self.retire_dep_tube(tube, int(parent))
        return True

    def take_over_tubes(self) -> None:
        """Convert parents in ``T-ready``; retire old dependency tubes (all of them on the first call,
        afterwards those named by notices in ``T-deps``)."""
        names = set(self.conn.tubes())
        ready = ready_tube(self.tube)
        while ready in names and (job := self.conn.peek_in(ready, "ready")) is not None:
            params = legacy_params(job.body)
            if self.conn.reserve_job(job.id) is None:
                break  # another worker took it
            if params is None:
                self._move_back(job, ready)
            else:
                convert(self.conn, self.tube, job.id, params, ready)
        notices = notice_tube(self.tube)
        while notices in names and (job := self.conn.peek_in(notices, "ready")) is not None:
            if self.conn.reserve_job(job.id) is None:
                break
            parent, _, dep_tube = job.body.decode("utf-8", "replace").partition("\t")
            if parent.isdigit() and dep_tube == f"{self.tube}-deps-{parent}":
                self.retire_dep_tube(dep_tube, int(parent))
            self.conn.delete(job.id)
        if not self.scanned:
            self.scanned = True
            for name in names:
                rest = name.removeprefix(f"{self.tube}-deps-")
                if rest != name and rest.isdigit() and self._is_legacy_dep_tube(name, int(rest)):
                    self.retire_dep_tube(name, int(rest))
            # A parent buried by an original worker that crashed after its dependencies were done.
            while (job := self.conn.peek_in(self.tube, "buried")) is not None:
                if not self._convert_buried(job.id, f"{self.tube} (buried)"):
                    break

    def _convert_buried(self, job_id: int, where: str) -> bool:
        """Convert an original parent buried in ``T``; False when ``job_id`` is no such job."""
        info = self.conn.stats_job(job_id)
        if info is None or info["tube"] != self.tube or info["state"] != "buried":
            return False
        peeked = self.conn.peek(job_id)
        params = legacy_params(peeked.body) if peeked is not None else None
        if params is None or not self.conn.kick_job(job_id):
            return False
        job = self.conn.reserve_job(job_id)
        if job is None:
            return False
        convert(self.conn, self.tube, job.id, params, where)
        return True

    def _move_back(self, job: Job, ready: str) -> None:
        """A parent of today's that an original worker moved to ``T-ready`` goes back to ``T``."""
        try:
            envelope = envelope_from_record(decode_record(job.body))
        except MalformedJob as exc:
            log.error("job %d in %s is in neither the original's format nor today's (%s); deleted: %r", job.id,
                      ready, exc, job.body[:200])
            self.conn.delete(job.id)
            return
        new_id = self.conn.put(self.tube, job.body, priority=envelope.wire_priority, ttr=envelope.ttr)
        self.conn.delete(job.id)
        log.warning("job %d, a parent of today's, was moved to %s by an original worker: back in %s as job %d",
                    job.id, ready, self.tube, new_id)

    def _is_legacy_dep_tube(self, dep_tube: str, parent: int, first: Job | None = None) -> bool:
        """The parent is an original job, or is gone and the tube's first job is in the original's format."""
        job = self.conn.peek(parent)
        if job is not None:
            return legacy_params(job.body) is not None
        first = first or self.conn.peek_in(dep_tube, "ready")
        return first is not None and legacy_params(first.body) is not None

    def retire_dep_tube(self, dep_tube: str, parent: int | None) -> None:
        """An original parent's dependency tube: convert the parent (buried in ``T``), drop its old
        dependencies (the converted parent queues what is still needed)."""
        if parent is not None:
            self._convert_buried(parent, f"{self.tube} (buried, dependencies in {dep_tube})")
        dropped = 0
        while (job := self.conn.peek_in(dep_tube, "ready")) is not None and legacy_params(job.body) is not None:
            if self.conn.reserve_job(job.id) is None:
                break
            self.conn.delete(job.id)
            dropped += 1
        if dropped:
            log.warning("old-format dependency tube %s retired: %d old dependency job(s) deleted; the converted "
                        "parent queues again what it still needs", dep_tube, dropped)
