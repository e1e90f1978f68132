"""A beanstalkd left by the original wndchrm-queue is served by today's workers; workers of both at once
are refused."""

from __future__ import annotations

import gzip
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from depqueue import DepQueue, Envelope
from services.submitter.cli import main as submit_main
from testkit.beanstalkd import Beanstalkd
from testkit.workers import WorkerPool, wait_until

STAND_IN = Path(__file__).with_name("original_worker.py")
TTR = 300  # every job the original put had this TTR, at beanstalkc's default priority
PRIORITY = 2**31


def put_original(server: Beanstalkd, tube: str, argv: list[str]) -> int:
    """A job as the original submitter put it: argv joined with tabs."""
    client = server.client(use=tube)
    try:
        return client.put("\t".join(argv).encode(), priority=PRIORITY, ttr=TTR)
    finally:
        client.close()


def leave_crashed_expansion(server: Beanstalkd, tube: str, argv: list[str], deps: list[list[str]]) -> int:
    """What an original worker left when it died after expanding a parent: the parent buried in ``T``,
    its tab-joined dependencies in ``T-deps-<id>`` and the notice ``<id>\\t<dep tube>`` in ``T-deps``."""
    parent = put_original(server, tube, argv)
    client = server.client(use=tube, watch=tube)
    try:
        job = client.reserve_job(parent)
        dep_tube = f"{tube}-deps-{parent}"
        client.use(dep_tube)
        for dep in deps:
            client.put("\t".join(dep).encode(), priority=PRIORITY, ttr=TTR)
        client.use(f"{tube}-deps")
        client.put(f"{parent}\t{dep_tube}".encode(), priority=PRIORITY, ttr=TTR)
        client.bury(job, priority=PRIORITY)
    finally:
        client.close()
    return parent


def outcomes(queue: DepQueue, batch: str, count: int) -> list[dict[str, object]]:
    found: list[dict[str, object]] = []

    def arrived() -> bool:
        records = queue.collect_outcomes(batch)
        found.extend(r.body for r in records)
        queue.finish_outcomes(records)
        return len(found) >= count

    wait_until(arrived, 60, f"{count} outcomes in batch {batch}")
    return found


def test_jobs_the_original_left_are_converted_and_run(beanstalkd: Beanstalkd, data_root: Path,
                                                      tmp_path: Path) -> None:
    tube = "wndchrm"
    put_original(beanstalkd, tube, ["demo", "write", str(data_root / "queued.txt"), "from T"])
    client = beanstalkd.client(use=f"{tube}-ready")
    client.put("\t".join(["/usr/local/bin/demo", "write", str(data_root / "ready.txt"), "from T-ready"]).encode(),
               priority=PRIORITY, ttr=TTR)
    # a parent of today's that an original worker took from T and moved to T-ready before it was stopped
    client.put(Envelope(["demo", "write", str(data_root / "moved.txt"), "back"], batch="today").encode(), ttr=60)
    client.close()
    parent = leave_crashed_expansion(beanstalkd, tube, ["demo", "fanout", "2", str(data_root / "fan")],
                                     [["demo", "write", str(data_root / "fan" / "old-part.txt"), "x"]] * 2)
    queue = DepQueue(port=beanstalkd.port)
    with WorkerPool(beanstalkd.port, data_root, tmp_path / "w.log") as pool:
        ended = outcomes(queue, "original", 3)
        assert [str(o["status"]) for o in outcomes(queue, "today", 1)] == ["succeeded"]
        log = pool.log_text()
    assert sorted(str(o["status"]) for o in ended) == ["succeeded"] * 3, ended
    assert (data_root / "queued.txt").read_text() == "from T"
    assert (data_root / "ready.txt").read_text() == "from T-ready"
    assert (data_root / "fan" / "result.txt").exists()  # the converted parent expanded afresh and ran
    assert not (data_root / "fan" / "old-part.txt").exists()  # the old dependency jobs were dropped
    assert log.count("in the original's format") == 3, log
    assert "a parent of today's, was moved to wndchrm-ready by an original worker: back in wndchrm" in log
    assert (data_root / "moved.txt").read_text() == "back"
    retired = re.findall(rf"old-format dependency tube {tube}-deps-{parent} retired: (\d+) old dependency", log)
    assert sum(map(int, retired)) == 2, log  # both workers may take a share
    conn = queue.conn
    for name in (f"{tube}-ready", f"{tube}-deps", f"{tube}-deps-{parent}"):
        info = conn.stats_tube(name)
        assert info is None or info["total-jobs"] == 0 or sum(
            info[k] for k in ("current-jobs-ready", "current-jobs-buried", "current-jobs-delayed",
                              "current-jobs-reserved")) == 0, name
    assert conn.stats_job(parent) is None
    assert queue.failed() == []


def test_original_workers_on_the_tube_stop_new_workers_and_submissions(beanstalkd: Beanstalkd, data_root: Path,
                                                                       tmp_path: Path) -> None:
    ran = tmp_path / "original-ran.txt"
    stand_in = subprocess.Popen([sys.executable, str(STAND_IN), str(beanstalkd.port), "wndchrm", str(ran)],
                                stdout=subprocess.PIPE, text=True)
    env = {"BEANSTALKD_PORT": str(beanstalkd.port), "DATA_ROOT": str(data_root)}
    queue = DepQueue(port=beanstalkd.port)
    try:
        assert stand_in.stdout is not None and stand_in.stdout.readline().strip() == "watching"
        refused = CliRunner().invoke(submit_main, ["--", "demo", "noop"], env=env)
        assert refused.exit_code == 1
        assert "1 worker(s) of the original wndchrm-queue watch this queue" in refused.output
        status = CliRunner().invoke(submit_main, ["status", "--json"], env=env)
        assert json.loads(status.output)["original_workers"] == 1
        with WorkerPool(beanstalkd.port, data_root, tmp_path / "w.log") as pool:
            wait_until(lambda: "not reserving until they stop" in pool.log_text(), 20, "new workers to refuse")
            # the original's own job is still the original worker's: it runs it, ours do not touch it
            put_original(beanstalkd, "wndchrm", ["/usr/local/bin/wndchrm", "test", "images", "report.html"])
            wait_until(lambda: ran.exists(), 20, "the original worker to run its job")
            stand_in.terminate()
            stand_in.wait(10)
            wait_until(lambda: "original workers gone from wndchrm: reserving again" in pool.log_text(), 20,
                       "new workers to resume")
            accepted = CliRunner().invoke(submit_main, ["--batch", "after", "--", "demo", "noop"], env=env)
            assert accepted.exit_code == 0, accepted.output
            assert [str(o["status"]) for o in outcomes(queue, "after", 1)] == ["succeeded"]
        assert "in the original's format" not in pool.log_text()
        assert "['/usr/local/bin/wndchrm', 'test', 'images', 'report.html']" in ran.read_text()
    finally:
        stand_in.kill()
        stand_in.wait()


def test_a_converted_wndchrm_job_reuses_the_sig_files_already_there(beanstalkd: Beanstalkd, data_root: Path,
                                                                    tmp_path: Path) -> None:
    """The original computed features as `wndchrm train ... IMAGE /dev/null`, leaving the C++ program's
    .sig files: after the cut-over its parent needs no dependency for them."""
    cpp = Path(__file__).parent.parent / "wndchrm" / "fixtures" / "cpp" / "features"
    for image, label in (("crop_120x75_u16_lzw", "a"), ("crop_97x61", "a"), ("crop_75x120_deflate", "b")):
        (data_root / "set" / label).mkdir(parents=True, exist_ok=True)
        shutil.copy(cpp / f"{image}.tif", data_root / "set" / label)
        with gzip.open(cpp / f"{image}-l.sig.gz") as sig:
            (data_root / "set" / label / f"{image}-l.sig").write_bytes(sig.read())
    fit = data_root / "set.fit"
    put_original(beanstalkd, "wndchrm", ["/usr/local/bin/wndchrm", "train", "-l", str(data_root / "set"), str(fit)])
    queue = DepQueue(port=beanstalkd.port)
    with WorkerPool(beanstalkd.port, data_root, tmp_path / "w.log"):
        [ended] = outcomes(queue, "original", 1)
    assert (ended["status"], ended["deps"]) == ("succeeded", 0), ended
    assert str(ended["command"]).startswith("/usr/local/bin/wndchrm train -l")
    assert fit.read_text().count("\n") > 3
