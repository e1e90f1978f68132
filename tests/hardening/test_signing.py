"""Signed jobs: a pool with a secret runs signed jobs (and signs the dependencies it puts) and sets aside
unsigned, altered or wrongly signed ones with the reason; two secrets at once for a rotation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from depqueue import DepQueue
from depqueue.errors import ConfigError, MalformedJob
from depqueue.wire.records import Record
from depqueue.wire.signing import Signer, read_secrets
from testkit.beanstalkd import Beanstalkd
from testkit.workers import WorkerPool, wait_outcomes, wait_until

OLD = b"old-secret-0123456789abcdef"
NEW = b"new-secret-0123456789abcdef"


def test_a_signature_binds_the_body_and_the_secret() -> None:
    body = json.dumps({"v": 1, "type": "job", "params": ["demo", "noop"]}).encode()
    signed = Signer([OLD]).sign(body)
    Signer([OLD]).verify(signed)
    Signer([NEW, OLD]).verify(signed)  # rotation: the old secret still accepted
    with pytest.raises(MalformedJob, match="wrongly signed"):
        Signer([NEW]).verify(signed)
    with pytest.raises(MalformedJob, match="wrongly signed"):
        Signer([OLD]).verify(signed.replace(b"noop", b"nope"))
    with pytest.raises(MalformedJob, match="unsigned job"):
        Signer([OLD]).verify(body)
    assert json.loads(signed)["params"] == ["demo", "noop"]


def test_secret_files_are_checked(tmp_path: Path) -> None:
    path = tmp_path / "secrets"
    path.write_text(f"# rotation in progress\n{NEW.decode()}\n\n{OLD.decode()}\n")
    assert read_secrets(path) == [NEW, OLD]
    path.write_text("short\n")
    with pytest.raises(ConfigError, match="secret 1 is 5 bytes"):
        read_secrets(path)
    with pytest.raises(ConfigError, match="cannot read job secret file"):
        read_secrets(tmp_path / "missing")


def _set_aside(queue: DepQueue, jobs: set[int]) -> list[Record[Any]] | None:
    """The set-aside records of ``jobs``, once there is one for each."""
    records = [r for r in queue.failed() if r.body.get("job") in jobs]
    return records if len(records) == len(jobs) else None


def test_a_pool_with_secrets_runs_only_signed_jobs(beanstalkd: Beanstalkd, data_root: Path, tmp_path: Path) -> None:
    secrets = tmp_path / "job-secrets"
    secrets.write_text(f"{NEW.decode()}\n{OLD.decode()}\n")
    signed_new = DepQueue(port=beanstalkd.port, signer=Signer([NEW]))
    signed_old = DepQueue(port=beanstalkd.port, signer=Signer([OLD]))
    unsigned = DepQueue(port=beanstalkd.port)
    forged = DepQueue(port=beanstalkd.port, signer=Signer([b"an-attackers-guess-0123456789"]))
    good = [signed_new.add_job(["demo", "fanout", "3", str(data_root / "new")], batch="s"),
            signed_old.add_job(["demo", "write", str(data_root / "old.txt"), "old"], batch="s")]
    bad = {unsigned.add_job(["demo", "write", str(data_root / "unsigned.txt"), "x"], batch="s"): "unsigned job",
           forged.add_job(["demo", "write", str(data_root / "forged.txt"), "x"], batch="s"): "wrongly signed job"}
    with WorkerPool(beanstalkd.port, data_root, tmp_path / "w.log", processes=2, JOB_SECRET_FILE=str(secrets)):
        outcomes = wait_outcomes(signed_new, "s", good, timeout=60)
        records = wait_until(lambda: _set_aside(signed_new, set(bad)), 30, "the unsigned and forged jobs set aside")
    assert {o["status"] for o in outcomes.values()} == {"succeeded"}  # the fanout's dependencies were signed too
    for record in records:
        assert record.body["set_aside"] is True
        assert record.body["reason"].startswith(bad[record.body["job"]])
        assert (signed_new.conn.stats_job(record.body["job"]) or {"state": None})["state"] == "buried"
    assert not (data_root / "unsigned.txt").exists() and not (data_root / "forged.txt").exists()
