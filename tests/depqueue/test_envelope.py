"""The wire envelope: round trip, strict checks, size limit."""

from __future__ import annotations

import json

import pytest

from depqueue import DepQueue
from depqueue.errors import JobTooBig, MalformedJob
from depqueue.wire.envelope import Envelope, decode, encode_record
from depqueue.wire.signing import Signer
from depqueue.worker.expansion import Expansion
from depqueue.worker.known_bodies import KnownBodies
from testkit.beanstalkd import Beanstalkd


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


@pytest.mark.parametrize("signed", [False, True])
def test_an_expansion_writes_each_dependency_as_the_whole_record_would_encode(
        beanstalkd: Beanstalkd, signed: bool) -> None:
    """The expander splices each dependency's params into its parent's encoded template (for speed): the
    bytes must be those of encoding the whole record, for any argv, and the size limit must still hold."""
    signer = Signer([b"s" * 32]) if signed else None
    queue = DepQueue(port=beanstalkd.port, tube="t", signer=signer)
    parent = Envelope(params=["demo"], batch="b", priority=7, attempts=4, ttr=9, time_limit=3.5)
    expanding = Expansion(queue, 12, parent, "t-deps-12")
    argvs = [["demo", "write", "x"], ["é", "\"quoted\"", "back\\slash", "tab\t", "\u2028"], ["params", "-"]]
    with queue.expanding(expanding):  # what a worker does while the parent's callback runs
        for argv in argvs:
            queue.add_dependent_job("t-deps-12", argv)
    for argv, body in zip(argvs, expanding.buffer, strict=True):
        record = json.loads(body)
        record.pop("sig", None)
        assert body == queue.encode(record)  # the bytes of encoding the whole record (signature included)
        expected = parent.for_dependency(argv, 12, "t").to_dict()
        assert list(record) == list(expected)
        assert {**record, "submitted": 0} == {**expected, "submitted": 0}
        assert decode(body).params == argv
    with pytest.raises(JobTooBig, match="max job size"), queue.expanding(expanding):
        queue.add_dependent_job("t-deps-12", ["x" * 70000])
    queue.close()


@pytest.mark.parametrize("signed", [False, True])
def test_a_body_shaped_like_one_checked_before_gets_the_same_envelope(signed: bool) -> None:
    """KnownBodies parses only the params of a sibling dependency: what it returns must be what the full
    decode returns, and anything it cannot vouch for must go to the full decode (None)."""
    signer = Signer([b"s" * 32]) if signed else None
    parent = Envelope(params=["demo"], batch="b", priority=7, attempts=4, ttr=9, time_limit=3.5)

    def body(argv: list[str]) -> bytes:
        data = encode_record(parent.for_dependency(argv, 12, "t").to_dict() | {"submitted": 5.0})
        return signer.sign(data) if signer else data

    known = KnownBodies()
    first = body(["demo", "write", "a"])
    assert known.envelope(first) is None  # nothing known yet
    known.remember(first, decode(first))
    for argv in (["demo", "write", "b"], ["é", "[\"]", "a,\"sig\":x", "\u2028"], ["x"] * 300):
        sibling = body(argv)
        assert known.envelope(sibling) == decode(sibling)
    other_parent = encode_record(parent.for_dependency(["demo"], 13, "t").to_dict() | {"submitted": 5.0})
    assert known.envelope(other_parent) is None
    text = body(["demo"]).decode()
    for bad in (text.replace('["demo"]', '[]', 1), text.replace('["demo"]', '["demo",1]', 1),
                text.replace('["demo"]', '"demo"', 1), text.replace('["demo"]', '["demo"', 1)):
        assert known.envelope(bad.encode()) is None, bad
    assert known.envelope(b'{"v":1,"params":["\xff"]' + first[len('{"v":1,"params":["demo","write","a"]'):]) is None


def test_a_body_whose_params_appear_twice_is_never_taken_as_a_known_shape() -> None:
    known = KnownBodies()
    body = b'{"v":1,"params":["a"],"type":"job","params":["b"]}'
    envelope = decode(body)
    assert envelope.params == ["b"]  # JSON's last one wins
    known.remember(body, envelope)
    assert known.envelope(body) is None
    assert known.envelope(b'{"v":1,"params":["c"],"type":"job","params":["b"]}') is None
