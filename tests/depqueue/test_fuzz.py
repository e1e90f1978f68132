"""Property-based fuzzing of job bodies: decoding never raises anything but MalformedJob, and a worker
pool given hundreds of generated bodies keeps serving and accounts for every one of them."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from depqueue import DepQueue
from depqueue.errors import MalformedJob
from depqueue.wire.envelope import Envelope, decode, decode_record
from testkit.beanstalkd import Beanstalkd
from testkit.workers import WorkerPool, wait_outcomes, wait_until

FIELDS = ["v", "type", "params", "batch", "priority", "attempts", "backoff", "ttr", "time_limit",
          "tolerate_failed_deps", "submitted", "parent", "parent_tube"]
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**40, 2**40) | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=10)
near_envelopes = st.fixed_dictionaries(
    {"v": st.sampled_from([1, 1, 1, 2, "1", None]), "type": st.sampled_from(["job", "dep", "manifest", "x", 3])},
    optional={name: json_values | st.lists(st.text(max_size=10), max_size=4) for name in FIELDS[2:]})
argvs = st.sampled_from([["demo", "noop"], ["demo", "sleep", "0"], ["demo", "sleep", "-1"], ["demo", "nope"],
                         ["sh", "-c", "touch /tmp/pwned"], ["demo", "write", "../../etc/x", "y"], ["demo"]])
valid_ish = st.builds(lambda params, priority, attempts, batch: Envelope(
    params=params, priority=priority, attempts=attempts, batch=batch, ttr=5).encode(),
    argvs, st.integers(0, 2**24 - 1), st.integers(1, 3), st.sampled_from(["fuzz", "fuzz-2"]))
bodies = (st.binary(max_size=200) | near_envelopes.map(lambda d: json.dumps(d).encode())
          | json_values.map(lambda v: json.dumps(v).encode()) | valid_ish)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bodies)
def test_decoding_any_body_is_an_envelope_or_a_malformed_job(body: bytes) -> None:
    try:
        record = decode_record(body)
    except MalformedJob as exc:
        assert str(exc)
        return
    assert record["v"] == 1
    try:
        envelope = decode(body)
    except MalformedJob as exc:
        assert str(exc)
        return
    assert isinstance(envelope, Envelope) and envelope.params and envelope.type in ("job", "dep")
    assert decode(envelope.encode()) == envelope


def test_a_pool_fed_generated_bodies_keeps_serving(beanstalkd: Beanstalkd, data_root: Path, tmp_path: Path) -> None:
    generated: list[bytes] = []

    @settings(max_examples=300, deadline=None, database=None)
    @given(bodies)
    def collect(body: bytes) -> None:
        generated.append(body)

    collect()
    queue = DepQueue(port=beanstalkd.port)
    raw = beanstalkd.client(use="wndchrm")
    ids = [raw.put(body, ttr=5) for body in generated]
    with WorkerPool(beanstalkd.port, data_root, tmp_path / "w.log", processes=2) as pool:
        def settled() -> bool:
            states = [queue.conn.stats_job(i) for i in ids]
            return all(s is None or s["state"] == "buried" for s in states)

        wait_until(settled, 120, "every generated job to be run, failed or set aside")
        good = queue.add_job(["demo", "noop"], batch="after-fuzz")
        assert wait_outcomes(queue, "after-fuzz", [good])[good]["status"] == "succeeded"
        assert len(pool.children()) == 2
        assert "Traceback" not in pool.log_text()
        assert not Path("/tmp/pwned").exists()
    set_aside = {r.body["job"] for r in queue.failed() if r.body.get("set_aside")}
    buried = {i for i in ids if (queue.conn.stats_job(i) or {}).get("state") == "buried"}
    assert buried == set_aside  # every body kept aside has a record with its reason
    print(f"{len(generated)} generated bodies: {len(set_aside)} set aside, {len(ids) - len(buried)} ran or failed")
