"""Records the queue keeps in beanstalkd itself: manifests, dependency failures, outcomes, failed jobs.

Records are jobs that no worker reserves (they live in tubes workers do not watch, or are buried), so
they are as durable as the jobs (binlog) and need no second store.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from depqueue import defaults, tubes
from depqueue.connection import Connection, pending
from depqueue.envelope import Envelope, decode_record, describe, encode_record, shorten
from depqueue.errors import JobTooBig, MalformedJob

#: Records go ahead of any job in their tube; the value does not matter to workers, who never see them.
RECORD_PRIORITY = 0
#: A record is never reserved by a worker, so TTR only matters to readers that briefly hold it.
RECORD_TTR = 120


@dataclass(frozen=True)
class Record:
    """A record job: its id and its decoded body."""

    id: int
    body: dict[str, Any]


def put_record(conn: Connection, tube: str, body: dict[str, Any], shrink: tuple[str, ...] = ()) -> int:
    """Put a record; if it is too big, empty the ``shrink`` fields one by one until it fits."""
    for key in (None, *shrink):
        if key is not None:
            body = {**body, key: None, f"{key}_dropped": "too large for one job"}
        try:
            data = encode_record(body, defaults.MAX_RECORD)
        except JobTooBig:
            continue
        return conn.put(tube, data, priority=RECORD_PRIORITY, ttr=RECORD_TTR)
    raise JobTooBig(f"a {body.get('type')} record does not fit in {defaults.MAX_RECORD} bytes")


def write_manifest(conn: Connection, dep_tube: str, parent: int, envelope: Envelope, count: int) -> None:
    """Bury the manifest in the dependency tube: from here on the parent counts as expanded.

    A worker that reserves the manifest in the instant between put and bury buries it itself.
    """
    body = {"v": 1, "type": "manifest", "parent": parent, "deps": count, "expanded": time.time(),
            "batch": envelope.batch, "priority": envelope.priority}
    manifest_id = put_record(conn, dep_tube, body)
    if conn.reserve_job(manifest_id) is not None:
        conn.bury(manifest_id, RECORD_PRIORITY)


def read_manifest(conn: Connection, dep_tube: str) -> Record | None:
    job = conn.peek_in(dep_tube, "buried")
    if job is None:
        return None
    try:
        body = decode_record(job.body)
    except MalformedJob:
        return None
    return Record(job.id, body) if body.get("type") == "manifest" else None


def reserve_all(conn: Connection, tube: str) -> list[Record]:
    """Reserve every ready record of ``tube`` on a connection that watches only that tube."""
    conn.watch_only([tube])
    found: list[Record] = []
    while (job := conn.reserve(0)) is not None:
        try:
            found.append(Record(job.id, decode_record(job.body)))
        except MalformedJob:
            conn.release(job.id, RECORD_PRIORITY)
    return found


def read_all(conn: Connection, tube: str) -> list[Record]:
    """Every ready record of ``tube``, left in place. Readers running at the same instant may miss some."""
    found = reserve_all(conn, tube)
    for record in found:
        conn.release(record.id, RECORD_PRIORITY)
    return found


def read_depfails(conn: Connection, tube: str, parent: int) -> list[Record]:
    """A parent's failed dependencies, one record per dependency (a crash can write one twice)."""
    name = tubes.depfail(tube, parent)
    if conn.stats_tube(name) is None:
        return []  # the usual case, in one round trip
    seen: dict[int, Record] = {}
    for record in read_all(conn, name):
        seen.setdefault(int(record.body.get("dep", -record.id)), record)
    return sorted(seen.values(), key=lambda r: r.id)


def purge(conn: Connection, tube: str, states: tuple[str, ...] = ("ready", "delayed", "buried")) -> int:
    """Delete every job of ``tube`` in ``states``; jobs reserved by someone are left to finish."""
    deleted = 0
    for state in states:
        while (job := conn.peek_in(tube, state)) is not None:
            if conn.delete(job.id):
                deleted += 1
    return deleted


def failed_dep_summary(depfails: list[Record]) -> list[dict[str, Any]]:
    """The failing dependencies as an outcome names them, bounded to keep the record small."""
    named = depfails[: defaults.MAX_NAMED_FAILURES]
    return [{"dep": r.body.get("dep"), "command": describe([str(p) for p in r.body.get("params", [])], 300),
             "reason": shorten(str(r.body.get("reason", "")), 300)} for r in named]


def dep_counts(manifest: Record | None, dep_stats: dict[str, Any] | None, failed: int) -> dict[str, int]:
    """Per-parent figures: total, done, running, waiting, failed, left."""
    running = int(dep_stats["current-jobs-reserved"]) if dep_stats else 0
    left = pending(dep_stats)
    total = int(manifest.body.get("deps", 0)) if manifest else (int(dep_stats["total-jobs"]) if dep_stats else 0)
    done = max(0, total - left - failed)
    return {"total": total, "done": done, "running": running, "waiting": left - running,
            "failed": failed, "left": left}
