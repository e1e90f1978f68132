"""The security rules of docs/security.md, one test each (beanstalkd has no authentication)."""

from __future__ import annotations

from pathlib import Path

import pytest

from depqueue import DepQueue
from depqueue.errors import BadJob
from services.kinds import (
    JobContext,
    builtin,  # noqa: F401
)
from services.kinds.builtin import register_kinds
from testkit.beanstalkd import Beanstalkd
from testkit.workers import WorkerPool, wait_outcomes


def test_only_registered_kinds_run_never_a_program(beanstalkd: Beanstalkd, data_root: Path, tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    queue = DepQueue(port=beanstalkd.port)
    jobs = [queue.add_job(argv, batch="sec", attempts=1) for argv in (
        ["touch", str(marker)], ["/usr/bin/touch", str(marker)], ["sh", "-c", f"touch {marker}"],
        ["demo; touch", str(marker)], ["python3", "-c", "open('/tmp/x','w')"])]
    with WorkerPool(beanstalkd.port, data_root, tmp_path / "w.log"):
        outcomes = wait_outcomes(queue, "sec", jobs)
    assert all(o["status"] == "failed" and "unknown job kind" in o["reason"] for o in outcomes.values())
    assert not marker.exists()


def test_paths_are_confined_to_the_data_root_symlinks_resolved(data_root: Path, tmp_path: Path) -> None:
    ctx = JobContext(data_root)
    (data_root / "inside").mkdir()
    (data_root / "link-out").symlink_to(tmp_path)
    assert ctx.confine("inside/a.tif") == (data_root / "inside" / "a.tif").resolve()
    for path in ("/etc/passwd", "../outside", "inside/../../x", "link-out/x", str(data_root / "link-out"), "a\0b"):
        with pytest.raises(BadJob):
            ctx.confine(path)
    with pytest.raises(BadJob, match="outside the data root"):
        register_kinds()["demo"].validate(["demo", "write", str(data_root / "link-out" / "f"), "x"], ctx)


def test_logs_and_records_never_echo_unbounded_input(beanstalkd: Beanstalkd, data_root: Path,
                                                     tmp_path: Path) -> None:
    queue = DepQueue(port=beanstalkd.port)
    huge = "A" * 50_000
    parent = queue.add_job(["demo", "fail", huge], batch="big", attempts=1)
    with WorkerPool(beanstalkd.port, data_root, tmp_path / "w.log") as pool:
        outcome = wait_outcomes(queue, "big", [parent])[parent]
        log = pool.log_text()
    assert max(len(line) for line in log.splitlines()) < 3000
    assert len(outcome["reason"]) <= 2000 and len(outcome["command"]) <= 2000


def test_job_bodies_are_size_limited_at_submit(beanstalkd: Beanstalkd) -> None:
    queue = DepQueue(port=beanstalkd.port)
    with pytest.raises(Exception, match="max job size"):
        queue.add_job(["demo", "write", "x", "y" * 70_000])


def test_no_code_path_runs_a_shell_or_evaluates_input() -> None:
    sources = {p: p.read_text() for root in ("services", "depqueue", "wndchrm") for p in Path(root).rglob("*.py")}
    for path, text in sources.items():
        for forbidden in ("shell=True", "os.system(", "os.popen(", "eval(", "exec(", "pickle.loads(", "yaml.load("):
            assert forbidden not in text, f"{path}: {forbidden}"
