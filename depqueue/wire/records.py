"""Records the queue keeps in beanstalkd itself: manifests, dependency failures, outcomes, failed jobs.

Records are jobs that no worker reserves (they live in tubes workers do not watch, or are buried), so
they are as durable as the jobs (binlog) and need no second store. Each kind has one dataclass below,
whoever writes it; its body on the wire is the dataclass's fields plus ``"v"`` (envelope.VERSION) and
``"type"``. Reading gives them back typed: ``Record`` holds the job's id and the dataclass
(``parse_record`` turns a decoded body into its dataclass).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, fields
from typing import Any, ClassVar, Generic, TypeVar

from depqueue import defaults
from depqueue.errors import JobTooBig, MalformedJob
from depqueue.wire import tubes
from depqueue.wire.connection import Connection
from depqueue.wire.envelope import VERSION, Envelope, decode_record, describe, encode_record, shorten

#: Records go ahead of any job in their tube; the value does not matter to workers, who never see them.
RECORD_PRIORITY = 0
#: A record is never reserved by a worker, so TTR only matters to readers that briefly hold it.
RECORD_TTR = 120


class RecordBody:
    """What every record kind shares: its ``type`` on the wire, its encoding and its decoding."""

    TYPE: ClassVar[str]
    #: Fields emptied one by one, in this order, when the record would not fit in one job.
    SHRINK: ClassVar[tuple[str, ...]] = ()

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"v": VERSION, "type": self.TYPE}
        for item in fields(self):  # type: ignore[arg-type]
            body[item.name] = getattr(self, item.name)
        return body

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> Any:
        """The record of a decoded body of this kind; MalformedJob when a field it needs is missing."""
        known = {item.name for item in fields(cls)}  # type: ignore[arg-type]
        try:
            return cls(**{key: value for key, value in body.items() if key in known})
        except TypeError as exc:
            raise MalformedJob(f"a {cls.TYPE} record without its fields: {exc}") from None


@dataclass(frozen=True)
class Manifest(RecordBody):
    """Buried in a parent's dependency tube once its expansion is complete."""

    TYPE: ClassVar[str] = "manifest"
    parent: int
    deps: int
    expanded: float
    batch: str
    priority: int

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> Manifest:
        return cls(parent=int(body.get("parent", 0)), deps=int(body.get("deps", 0)),
                   expanded=float(body.get("expanded") or 0.0), batch=str(body.get("batch", "")),
                   priority=int(body.get("priority", defaults.PRIORITY)))


@dataclass(frozen=True)
class DepFailure(RecordBody):
    """A dependency that failed for good (or was set aside), kept for its parent in ``<tube>-depfail-<id>``."""

    TYPE: ClassVar[str] = "depfail"
    parent: int
    dep: int
    params: list[str]
    reason: str
    failed: float

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> DepFailure:
        """Read leniently: a record without its dependency's id (set aside before it was known) gets 0."""
        dep = body.get("dep")
        return cls(parent=int(body.get("parent", 0)), dep=dep if isinstance(dep, int) else 0,
                   params=[str(p) for p in body.get("params") or []], reason=str(body.get("reason", "")),
                   failed=float(body.get("failed") or 0.0))


@dataclass(frozen=True)
class Outcome(RecordBody):
    """How a parent ended (succeeded, failed or cancelled), in ``<tube>-outcomes-<batch>``."""

    TYPE: ClassVar[str] = "outcome"
    SHRINK: ClassVar[tuple[str, ...]] = ("failed_deps", "outputs")
    parent: int
    batch: str
    command: str
    status: str  # succeeded, failed, cancelled
    reason: str
    deps: int
    failed_count: int
    failed_deps: list[dict[str, Any]]
    submitted: float
    expanded: float | None
    started: float | None
    finished: float
    worker: str
    #: What the job's run callback returned when it is a dict (e.g. the files it wrote), else None.
    outputs: dict[str, Any] | None = None


@dataclass(frozen=True)
class FailedJob(RecordBody):
    """A failed parent (retried by submitting its envelope again) or a job set aside (retried by a kick).

    A failed parent has ``envelope``, ``batch`` and ``failed_deps``; a job set aside has ``tube`` and a
    ``preview`` of its body, and in a dependency tube the whole body as ``body_base64``.
    """

    TYPE: ClassVar[str] = "failed"
    SHRINK: ClassVar[tuple[str, ...]] = ("failed_deps", "body_base64")
    job: int
    reason: str
    failed: float
    set_aside: bool
    parent: int | None = None
    batch: str | None = None
    envelope: dict[str, Any] | None = None
    failed_deps: list[dict[str, Any]] | None = None
    tube: str | None = None
    preview: str | None = None
    body_base64: str | None = None


#: Every record kind by its ``type`` on the wire (wake records carry nothing and are never read back).
RECORD_KINDS: dict[str, type[RecordBody]] = {kind.TYPE: kind for kind in (Manifest, DepFailure, Outcome, FailedJob)}
R = TypeVar("R", bound=RecordBody)


def parse_record(body: dict[str, Any]) -> RecordBody:
    """The typed record of a decoded body (envelope.decode_record); MalformedJob for a job or a wake."""
    kind = RECORD_KINDS.get(str(body.get("type")))
    if kind is None:
        raise MalformedJob(f"body type {body.get('type')!r} is not a record that is read back")
    record: RecordBody = kind.from_body(body)
    return record


@dataclass(frozen=True)
class Record(Generic[R]):
    """A record as read back: the id of the job that holds it, and the record."""

    id: int
    value: R

    @property
    def body(self) -> dict[str, Any]:
        """The record as it is on the wire (for printing it whole, as JSON)."""
        return self.value.to_dict()


@dataclass(frozen=True)
class StoredManifest:
    """A manifest as read back, with the id of the buried job that holds it."""

    id: int
    manifest: Manifest


def put_record(conn: Connection, tube: str, record: RecordBody) -> int:
    """Put a record; if it is too big, empty its ``SHRINK`` fields one by one until it fits."""
    body = record.to_dict()
    for key in (None, *record.SHRINK):
        if key is not None:
            if body.get(key) is None:
                continue  # nothing to drop
            body = {**body, key: None, f"{key}_dropped": "too large for one job"}
        try:
            data = encode_record(body, defaults.MAX_RECORD)
        except JobTooBig:
            continue
        return conn.put(tube, data, priority=RECORD_PRIORITY, ttr=RECORD_TTR)
    raise JobTooBig(f"a {record.TYPE} record does not fit in {defaults.MAX_RECORD} bytes")


def write_manifest(conn: Connection, dep_tube: str, parent: int, envelope: Envelope, count: int) -> None:
    """Bury the manifest in the dependency tube: from here on the parent counts as expanded.

    A worker that reserves the manifest in the instant between put and bury buries it itself.
    """
    manifest = Manifest(parent=parent, deps=count, expanded=time.time(), batch=envelope.batch,
                        priority=envelope.priority)
    manifest_id = put_record(conn, dep_tube, manifest)
    if conn.reserve_job(manifest_id) is not None:
        conn.bury(manifest_id, RECORD_PRIORITY)


def read_manifest(conn: Connection, dep_tube: str) -> StoredManifest | None:
    job = conn.peek_in(dep_tube, "buried")
    if job is None:
        return None
    try:
        body = decode_record(job.body)
        return StoredManifest(job.id, Manifest.from_body(body)) if body.get("type") == "manifest" else None
    except (MalformedJob, TypeError, ValueError):
        return None


def reserve_all(conn: Connection, tube: str) -> list[Record[Any]]:
    """Reserve every ready record of ``tube`` on a connection that watches only that tube."""
    conn.watch_only([tube])
    found: list[Record[Any]] = []
    while (job := conn.reserve(0)) is not None:
        try:
            found.append(Record(job.id, parse_record(decode_record(job.body))))
        except MalformedJob:
            conn.release(job.id, RECORD_PRIORITY)
    return found


def read_all(conn: Connection, tube: str) -> list[Record[Any]]:
    """Every ready record of ``tube``, left in place. Readers running at the same instant may miss some."""
    found = reserve_all(conn, tube)
    for record in found:
        conn.release(record.id, RECORD_PRIORITY)
    return found


def read_depfails(conn: Connection, tube: str, parent: int) -> list[Record[DepFailure]]:
    """A parent's failed dependencies, one record per dependency (a crash can write one twice)."""
    name = tubes.depfail(tube, parent)
    if conn.stats_tube(name) is None:
        return []  # the usual case, in one round trip
    seen: dict[int, Record[DepFailure]] = {}
    for record in read_all(conn, name):
        if isinstance(record.value, DepFailure):
            seen.setdefault(record.value.dep or -record.id, record)
    return sorted(seen.values(), key=lambda r: r.id)


def purge(conn: Connection, tube: str, states: tuple[str, ...] = ("ready", "delayed", "buried")) -> int:
    """Delete every job of ``tube`` in ``states``; jobs reserved by someone are left to finish."""
    deleted = 0
    for state in states:
        while (job := conn.peek_in(tube, state)) is not None:
            if conn.delete(job.id):
                deleted += 1
    return deleted


def failed_dep_summary(depfails: list[Record[DepFailure]]) -> list[dict[str, Any]]:
    """The failing dependencies as an outcome names them, bounded to keep the record small."""
    return [{"dep": r.value.dep, "command": describe(r.value.params, 300), "reason": shorten(r.value.reason, 300)}
            for r in depfails[: defaults.MAX_NAMED_FAILURES]]

