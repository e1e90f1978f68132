"""The versioned JSON bodies that travel through beanstalkd.

Every body is a JSON object with ``"v": 1`` and a ``"type"``:

- ``job``: a parent, as submitted (``params`` is its argv);
- ``dep``: a dependency, naming its ``parent`` job id and the parent's tube;
- ``manifest``: buried in a parent's dependency tube once expansion is complete (its dependency count);
- ``depfail``: a dependency that ran out of attempts, kept for its parent in ``<tube>-depfail-<id>``;
- ``outcome``: the end of a parent, in ``<tube>-outcomes-<batch>`` for the submitter to collect;
- ``failed``: a failed parent or a job set aside, in ``<tube>-failed`` for listing and retry;
- ``wake``: put in ``<tube>-wake`` by an expander for each idle worker, to look at its new dependency tube.

Image data never travels here, only argv strings.

This module owns the bodies' byte layout too, for the code that reads a body without decoding it all:
every job body starts with ``BODY_PREFIX`` and its params (``split_params``), a dependency names its
parent as ``"parent":<id>,`` (``dependency_of``), and a signed body ends in ``SIGNATURE``.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any

from depqueue import defaults
from depqueue.errors import JobTooBig, MalformedJob
from depqueue.wire import tubes

VERSION = 1
JOB_TYPES = ("job", "dep")
RECORD_TYPES = ("manifest", "depfail", "outcome", "failed", "wake")


@dataclass(slots=True)
class Envelope:
    """A parent or dependency job: argv plus the metadata the queue needs. Treat it as a value: it is not
    frozen only because a frozen dataclass costs four times as much to make, once per job a worker runs."""

    params: list[str]
    type: str = "job"
    batch: str = "default"
    priority: int = defaults.PRIORITY
    attempts: int = defaults.ATTEMPTS
    backoff: float = defaults.BACKOFF
    ttr: int = defaults.TTR
    time_limit: float | None = None
    tolerate_failed_deps: bool = False
    submitted: float = field(default_factory=time.time)
    parent: int | None = None
    parent_tube: str | None = None

    @property
    def wire_priority(self) -> int:
        """The beanstalkd priority of a first attempt; failed attempts add one each."""
        return self.priority << defaults.PRIORITY_SHIFT

    def for_dependency(self, params: list[str], parent: int, parent_tube: str) -> Envelope:
        """A dependency of this parent: same batch, priority and retry policy."""
        return Envelope(
            params=list(params), type="dep", batch=self.batch, priority=self.priority,
            attempts=self.attempts, backoff=self.backoff, ttr=self.ttr, time_limit=self.time_limit,
            parent=parent, parent_tube=parent_tube,
        )

    def with_params(self, params: list[str]) -> Envelope:
        """The same job with another argv (a sibling dependency)."""
        return Envelope(params, self.type, self.batch, self.priority, self.attempts, self.backoff, self.ttr,
                        self.time_limit, self.tolerate_failed_deps, self.submitted, self.parent, self.parent_tube)

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"v": VERSION}
        for name in _FIELDS:  # not dataclasses.asdict: its deep copy is most of the cost of a put
            value = getattr(self, name)
            if value is not None:
                body[name] = list(value) if name == "params" else value
        return body

    def encode(self, max_size: int | None = None) -> bytes:
        return encode_record(self.to_dict(), max_size)


_FIELDS = tuple(f.name for f in fields(Envelope))


#: How every job body starts: ``to_dict`` puts ``v`` first and ``params`` next.
BODY_PREFIX = f'{{"v":{VERSION},"params":'
#: A signature (depqueue.wire.signing), always the last field of a signed body; group 1 is its hex.
SIGNATURE = re.compile(rb',"sig":"([0-9a-f]{64})"}\Z')
_SIGNATURE_TEXT = re.compile(SIGNATURE.pattern.decode())
_DECODER = json.JSONDecoder()


def split_params(body: bytes) -> tuple[object, str] | None:
    """The params of a job body and the rest of its text after them (its signature left out), or None for
    a body that does not start as ours."""
    try:
        text = body.decode("utf-8")
        if not text.startswith(BODY_PREFIX):
            return None
        params, end = _DECODER.raw_decode(text, len(BODY_PREFIX))
    except ValueError:  # UnicodeDecodeError and JSONDecodeError both
        return None
    rest = text[end:]
    signature = _SIGNATURE_TEXT.search(rest)
    return params, rest if signature is None else rest[:signature.start()] + "}"


def dependency_of(parent: int) -> Callable[[bytes], bool]:
    """A test of a body's bytes: is it a dependency of ``parent``? (As ``to_dict`` writes one; a false
    answer costs only an extra round trip to the caller.)"""
    marker = b'"parent":%d,' % parent
    return lambda body: marker in body and b'"type":"dep"' in body


def encode_record(record: dict[str, Any], max_size: int | None = None) -> bytes:
    """JSON-encode a body, refusing one that beanstalkd would reject as too big."""
    data = json.dumps(record, separators=(",", ":"), ensure_ascii=False).encode()
    if max_size is not None and len(data) > max_size:
        raise JobTooBig(
            f"job body is {len(data)} bytes, over beanstalkd's max job size of {max_size} bytes "
            "(start beanstalkd with a larger -z, or pass fewer or shorter arguments)"
        )
    return data


def encode_params(params: list[str]) -> bytes:
    """The JSON of an argv as encode_record writes it inside a body."""
    return json.dumps(params, separators=(",", ":"), ensure_ascii=False).encode()


def encoded_around_params(envelope: Envelope) -> tuple[bytes, bytes]:
    """The encoding of ``envelope``'s body before and after its params: for bodies that differ only there."""
    data = encode_record(envelope.to_dict())
    params = encode_params(envelope.params)
    at = data.index(b'"params":' + params) + len(b'"params":')
    return data[:at], data[at + len(params):]


def decode_record(data: bytes) -> dict[str, Any]:
    """Parse any body; raise MalformedJob with a specific reason when it is not one of ours."""
    try:
        record = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise MalformedJob(f"body is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise MalformedJob(f"body is not JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from None
    if not isinstance(record, dict):
        raise MalformedJob(f"body is JSON {type(record).__name__}, not an object")
    if record.get("v") != VERSION:
        raise MalformedJob(f"unknown envelope version {shorten(repr(record.get('v')), 40)} (expected {VERSION})")
    kind = record.get("type")
    if kind not in JOB_TYPES + RECORD_TYPES:
        raise MalformedJob(f"unknown body type {shorten(repr(kind), 40)}")
    return record


def decode(data: bytes) -> Envelope:
    """Parse and check a job body (parent or dependency)."""
    return envelope_from_record(decode_record(data))


#: The optional fields of a job body: their JSON types, and whether null is allowed. Types are matched
#: exactly, as json.loads makes them, so true is no int; only tolerate_failed_deps may be a bool.
_CHECKS: tuple[tuple[str, tuple[type, ...], bool], ...] = (
    ("batch", (str,), False),
    ("priority", (int,), False),
    ("attempts", (int,), False),
    ("backoff", (int, float), False),
    ("ttr", (int,), False),
    ("time_limit", (int, float), True),
    ("tolerate_failed_deps", (bool,), False),
    ("submitted", (int, float), False),
    ("parent", (int,), True),
    ("parent_tube", (str,), True),
)


def envelope_from_record(record: dict[str, Any]) -> Envelope:
    if record.get("type") not in JOB_TYPES:
        raise MalformedJob(f"body type {record.get('type')!r} is a record, not a job")
    params = record.get("params")
    if type(params) is not list or not params or any(type(p) is not str for p in params):
        raise MalformedJob("params must be a non-empty list of strings")
    values: dict[str, Any] = {}
    for name, types, nullable in _CHECKS:
        value = record.get(name, record)  # the record itself stands for "absent"
        if value is record or (value is None and nullable):
            continue
        if type(value) not in types:
            raise MalformedJob(f"{name} must be {' or '.join(t.__name__ for t in types)}, "
                               f"not {type(value).__name__}")
        values[name] = value
    envelope = Envelope(params=params, type=record["type"], **values)
    check_limits(envelope)
    try:  # names become tube names: a bad one must be refused here, not when a record is written
        tubes.check_batch(envelope.batch)
        if envelope.parent_tube is not None:
            tubes.check_tube(envelope.parent_tube)
    except ValueError as exc:
        raise MalformedJob(str(exc)) from None
    if envelope.type == "dep" and (envelope.parent is None or envelope.parent_tube is None):
        raise MalformedJob("a dependency must name its parent and parent_tube")
    return envelope


def check_limits(envelope: Envelope) -> None:
    """Range checks shared by submit time and reserve time."""
    if not 0 <= envelope.priority <= defaults.MAX_PRIORITY:
        raise MalformedJob(f"priority must be between 0 and {defaults.MAX_PRIORITY}")
    if not 1 <= envelope.attempts <= defaults.MAX_ATTEMPTS:
        raise MalformedJob(f"attempts must be between 1 and {defaults.MAX_ATTEMPTS}")
    if not 1 <= envelope.ttr <= 86400:
        raise MalformedJob("ttr must be between 1 and 86400 seconds")
    if envelope.backoff < 0:
        raise MalformedJob("backoff must not be negative")
    if envelope.time_limit is not None and envelope.time_limit <= 0:
        raise MalformedJob("time_limit must be positive")


def shorten(text: str, limit: int = defaults.MAX_REASON) -> str:
    """Bound text taken from jobs before it goes into records or logs."""
    if len(text) <= limit:
        return text
    suffix = f"... ({len(text)} chars)"
    return text[: max(0, limit - len(suffix))] + suffix


def describe(params: list[str], limit: int = 200) -> str:
    """A short printable form of an argv, for logs and tables."""
    return shorten(" ".join(params), limit)
