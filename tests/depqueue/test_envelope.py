"""The wire envelope: round trip, strict checks, size limit."""

from __future__ import annotations

import json

import pytest

from depqueue.envelope import Envelope, decode, encode_record
from depqueue.errors import JobTooBig, MalformedJob


def test_round_trip_and_dependency_inherits_policy() -> None:
    parent = Envelope(params=["demo", "noop"], batch="b", priority=7, attempts=4, ttr=9, time_limit=3.5)
    assert decode(parent.encode()) == parent
    dep = parent.for_dependency(["demo", "write", "x", "y"], parent=12, parent_tube="t")
    assert (dep.type, dep.parent, dep.batch, dep.priority, dep.attempts) == ("dep", 12, "b", 7, 4)
    assert parent.wire_priority == 7 << 8


@pytest.mark.parametrize(("body", "reason"), [
    ({"v": 1, "type": "job", "params": []}, "non-empty list"),
    ({"v": 1, "type": "job", "params": ["a", 1]}, "non-empty list of strings"),
    ({"v": 1, "type": "job", "params": ["a"], "attempts": 0}, "attempts must be between"),
    ({"v": 1, "type": "job", "params": ["a"], "attempts": True}, "attempts must be int"),
    ({"v": 1, "type": "job", "params": ["a"], "ttr": 0}, "ttr must be between"),
    ({"v": 1, "type": "dep", "params": ["a"]}, "must name its parent"),
    ({"v": 1, "type": "outcome"}, "is a record, not a job"),
    ({"v": 1, "type": "shell", "params": ["a"]}, "unknown body type"),
    ({"type": "job", "params": ["a"]}, "unknown envelope version"),
])
def test_malformed_envelopes_name_the_problem(body: dict[str, object], reason: str) -> None:
    with pytest.raises(MalformedJob, match=reason):
        decode(json.dumps(body).encode())


def test_size_is_checked_against_the_server_limit() -> None:
    with pytest.raises(JobTooBig, match="max job size of 100 bytes"):
        encode_record({"v": 1, "params": ["x" * 200]}, max_size=100)
