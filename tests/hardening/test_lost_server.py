"""beanstalkd comes back empty (no binlog, or its volume lost) while a submitter waits: the submitter exits
at once with ExitCode.SERVER_LOST, names the lost parents and writes a batch file that resubmits them."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

from depqueue import DepQueue
from services.common import ExitCode
from testkit.beanstalkd import Beanstalkd, free_port
from testkit.workers import BIN, WorkerPool, wait_until


def test_a_submitter_notices_an_empty_server_and_says_how_to_resubmit(data_root: Path, tmp_path: Path) -> None:
    server = Beanstalkd(port=free_port(), binlog=None)
    server.start()
    env = {**os.environ, "BEANSTALKD_PORT": str(server.port), "DATA_ROOT": str(data_root),
           "BEANSTALKD_WAIT_RETRY": "0.1"}
    batch = tmp_path / "batch.txt"
    batch.write_text(f"demo fanout 20 {data_root / 'a'} --sleep 0.3\ndemo sleep 30\n")
    try:
        with WorkerPool(server.port, data_root, tmp_path / "w.log", GRACE_PERIOD="1") as pool:
            proc = subprocess.Popen([str(BIN / "wndchrm-submit"), "--wait", "--no-progress", "--timeout", "120",
                                     "--batch", "lost1", "--batch-file", str(batch)], env=env, cwd=tmp_path,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            wait_until(lambda: len(list((data_root / "a").glob("part-*.txt"))) > 2, 30, "work under way")
            server.restart()  # no binlog: it comes back empty
            restarted = time.monotonic()
            out, err = proc.communicate(timeout=60)
            noticed_after = time.monotonic() - restarted
            print(f"lost server noticed after {noticed_after:.1f}s")
            # the pool's workers reconnect to the new server and keep serving it
            wait_until(lambda: "reconnecting" in pool.log_text(), 10, "the workers to notice")
    finally:
        server.stop()
    assert proc.returncode == ExitCode.SERVER_LOST, out + err
    assert noticed_after < 15, noticed_after  # not the 120 s timeout
    assert "without the jobs of batch lost1" in err and "2 parent(s) are gone" in err
    resubmit = tmp_path / "lost-lost1.json"
    assert f"wndchrm-submit --batch-file {resubmit} --wait" in err
    assert json.loads(resubmit.read_text()) == [["demo", "fanout", "20", str(data_root / "a"), "--sleep", "0.3"],
                                                ["demo", "sleep", "30"]]
    assert "lost" in out  # the summary table marks them


def test_a_worker_never_deletes_a_job_of_the_new_server_that_reuses_its_jobs_id(data_root: Path,
                                                                                 tmp_path: Path) -> None:
    """Job ids start from 1 again on an empty server: a dependency finished after the restart must not
    delete the new job that now has its id."""
    server = Beanstalkd(port=free_port(), binlog=None)
    server.start()
    try:
        queue = DepQueue(port=server.port)
        # ttr 3: the heartbeat touches every second, so it opens a new connection soon after the restart
        parent = queue.add_job(["demo", "fanout", "1", str(data_root / "r"), "--sleep", "4"], batch="reuse", ttr=3)
        with WorkerPool(server.port, data_root, tmp_path / "w.log", processes=1, GRACE_PERIOD="1") as pool:
            wait_until(lambda: f"of parent {parent} started" in pool.log_text(), 15, "the dependency to run")
            server.restart()  # empty: the next ids are 1, 2, 3 again
            victim = server.client(use="other")
            new_ids = [victim.put(b"someone else's job") for _ in range(4)]
            wait_until(lambda: (data_root / "r" / "part-0.txt").exists(), 15, "the dependency to finish")
            time.sleep(1.5)
            log = pool.log_text()
        assert new_ids == [1, 2, 3, 4]
        for job_id in new_ids:
            assert victim.stats_job(job_id)["state"] == "ready", job_id
        assert "was reserved on a connection since lost" in log
    finally:
        server.stop()
