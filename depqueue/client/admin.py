"""A user's hands on parents already queued: cancel one (its pending dependencies go too), retry a failure.

``DepQueue.cancel`` and ``DepQueue.retry`` are these functions; they live apart so the queue's module
holds submitting and reading only.
"""

from __future__ import annotations

import dataclasses
import os
import socket
import time
from typing import Protocol

from depqueue.errors import MalformedJob, NotCancellable
from depqueue.wire import tubes
from depqueue.wire.connection import Connection, pending
from depqueue.wire.envelope import Envelope, decode_record, describe, envelope_from_record
from depqueue.wire.records import FailedJob, Outcome, parse_record, purge, put_record, read_depfails, read_manifest


class AdministeredQueue(Protocol):
    """What these functions use of a DepQueue."""

    tube: str

    @property
    def conn(self) -> Connection: ...

    @property
    def reader(self) -> Connection: ...

    def dep_tube(self, parent: int) -> str: ...

    def outcome_tube(self, batch: str) -> str: ...

    def submit(self, envelope: Envelope, delay: int = 0) -> int: ...


def retry(queue: AdministeredQueue, record_id: int) -> int | None:
    """Retry one failed record: a failed parent is submitted afresh; a job set aside is kicked.

    Returns the id of the job that will run, or None when the record is gone.
    """
    conn = queue.conn
    if conn.reserve_job(record_id) is None:
        return None
    job = conn.peek(record_id)
    try:
        record = parse_record(decode_record(job.body)) if job else None
        if not isinstance(record, FailedJob):
            raise MalformedJob(f"record {record_id} is not a failed job")
        if record.set_aside:
            if not conn.kick_job(record.job):
                raise MalformedJob(f"job {record.job} set aside is no longer buried")
            new_id = record.job
        else:
            envelope = envelope_from_record(record.envelope or {})
            new_id = queue.submit(dataclasses.replace(envelope, submitted=time.time()))
    except (MalformedJob, KeyError, TypeError, ValueError):
        conn.release(record_id, 0)
        raise
    conn.delete(record_id)
    return new_id


def cancel(queue: AdministeredQueue, parent: int, attempts: int = 20, wait: float = 0.25) -> bool:
    """Cancel a parent and its pending dependencies; False when it no longer exists.

    A parent held by a worker (expanding or running) cannot be taken; NotCancellable after a few tries.
    """
    conn = queue.conn
    for _ in range(attempts):
        job = conn.reserve_job(parent)
        if job is not None:
            break
        if conn.stats_job(parent) is None:
            return False
        time.sleep(wait)
    else:
        raise NotCancellable(f"parent {parent} is held by a worker (expanding or running); try again")
    envelope = envelope_from_record(decode_record(job.body))
    dep_tube = queue.dep_tube(parent)
    left = pending(conn.stats_tube(dep_tube))
    stored = read_manifest(conn, dep_tube)
    failures = len(read_depfails(queue.reader, queue.tube, parent))
    put_record(conn, queue.outcome_tube(envelope.batch), Outcome(
        parent=parent, batch=envelope.batch, command=describe(envelope.params, 2000), status="cancelled",
        reason=f"cancelled by a user with {left} dependencies pending", deps=stored.manifest.deps if stored else 0,
        failed_count=failures, failed_deps=[], submitted=envelope.submitted,
        expanded=stored.manifest.expanded if stored else None, started=None, finished=time.time(),
        worker=f"{socket.gethostname()}:{os.getpid()} (cancel)"))
    conn.delete(parent)
    purge(conn, dep_tube)
    purge(conn, tubes.depfail(queue.tube, parent), ("ready",))
    return True
