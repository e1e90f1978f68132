"""wndchrm-submit as CI runs it: exit codes, batch files, JUnit, status, failed, retry, cancel."""

from __future__ import annotations

import json
import os
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from testkit.beanstalkd import Beanstalkd, free_port
from testkit.workers import BIN, WorkerPool, wait_until


def submit(port: int, data_root: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "BEANSTALKD_PORT": str(port), "DATA_ROOT": str(data_root), "BEANSTALKD_RETRIES": "2",
           "BEANSTALKD_WAIT_RETRY": "0.1"}
    return subprocess.run([str(BIN / "wndchrm-submit"), *args], env=env, capture_output=True, text=True,
                          timeout=timeout)


def test_wait_succeeds_with_exit_0_and_junit(beanstalkd: Beanstalkd, data_root: Path, tmp_path: Path) -> None:
    with WorkerPool(beanstalkd.port, data_root, tmp_path / "w.log"):
        result = submit(beanstalkd.port, data_root, "--wait", "--junit", str(tmp_path / "j.xml"), "--",
                        "demo", "fanout", "5", str(data_root / "o"))
    assert result.returncode == 0, result.stderr
    assert "1 succeeded" in result.stdout
    suite = ET.parse(tmp_path / "j.xml").getroot().find("testsuite")
    assert suite is not None and suite.get("tests") == "1" and suite.get("failures") == "0"


def test_failed_dependency_exits_1_and_junit_says_why(beanstalkd: Beanstalkd, data_root: Path,
                                                      tmp_path: Path) -> None:
    batch = tmp_path / "batch.txt"
    batch.write_text(f"# two jobs\ndemo fanout 3 {data_root / 'ok'}\ndemo fanout 3 {data_root / 'bad'} --fail 1\n")
    with WorkerPool(beanstalkd.port, data_root, tmp_path / "w.log"):
        result = submit(beanstalkd.port, data_root, "--wait", "--attempts", "2", "--batch-file", str(batch),
                        "--junit", str(tmp_path / "j.xml"), "--batch", "ci-42")
    assert result.returncode == 1, result.stdout + result.stderr
    cases = ET.parse(tmp_path / "j.xml").getroot().iter("testcase")
    failures = {c.get("name", "").split(": ", 1)[1]: c.find("failure") for c in cases}
    assert failures[f"demo fanout 3 {data_root / 'ok'}"] is None
    failure = failures[f"demo fanout 3 {data_root / 'bad'} --fail 1"]
    assert failure is not None and failure.get("message") == "1 of 3 dependencies failed"
    assert "demo fail part 1 fails on purpose" in (failure.text or "")
    listed = submit(beanstalkd.port, data_root, "failed", "--json")
    [record] = [json.loads(line) for line in listed.stdout.splitlines()]
    assert record["batch"] == "ci-42" and record["reason"] == "1 of 3 dependencies failed"


def test_timeout_exits_3(beanstalkd: Beanstalkd, data_root: Path) -> None:
    result = submit(beanstalkd.port, data_root, "--wait", "--timeout", "1", "--", "demo", "noop")
    assert result.returncode == 3
    assert "timed out" in result.stdout


def test_unreachable_beanstalkd_exits_4(data_root: Path) -> None:
    result = submit(free_port(), data_root, "--", "demo", "noop")
    assert result.returncode == 4
    assert "cannot reach beanstalkd" in result.stderr


@pytest.mark.parametrize(("args", "message"), [
    (["--", "bash", "-c", "id"], "unknown job kind 'bash'"),
    (["--", "demo", "write", "/etc/passwd", "x"], "outside the data root"),
    (["--", "demo", "fanout", "many", "d"], "invalid int value"),
    (["--batch-file", "/etc/passwd", "--", "demo", "noop"], "give either a job after -- or --batch-file FILE"),
    (["-f", "/nonexistent.conf", "--", "demo", "noop"], "configuration file /nonexistent.conf does not exist"),
    (["--timeout", "5", "--", "demo", "noop"], "--timeout and --junit need --wait"),
])
def test_usage_errors_exit_2_before_anything_is_queued(beanstalkd: Beanstalkd, data_root: Path, args: list[str],
                                                       message: str) -> None:
    result = submit(beanstalkd.port, data_root, *args)
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stderr
    assert beanstalkd.client().stats()["total-jobs"] == 0


def test_a_model_of_the_long_set_without_l_is_refused_at_submission(beanstalkd: Beanstalkd,
                                                                     data_root: Path) -> None:
    (data_root / "models").mkdir()
    (data_root / "models" / "digits.fit").write_text("2\t4.2\n2919\n0\n")  # the header is all it reads
    (data_root / "new").mkdir()
    result = submit(beanstalkd.port, data_root, "--", "wndchrm", "classify", "models/digits.fit", "new")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "model 'models/digits.fit' has 2919 features (the long set): add -l" in result.stderr
    assert beanstalkd.client().stats()["total-jobs"] == 0


def test_malformed_config_file_exits_2(beanstalkd: Beanstalkd, data_root: Path, tmp_path: Path) -> None:
    conf = tmp_path / "q.conf"
    conf.write_text("beanstalkd_port = many\n")
    result = submit(beanstalkd.port, data_root, "-f", str(conf), "--", "demo", "noop")
    assert result.returncode == 2
    assert f"{conf}:1: beanstalkd_port must be a port number" in result.stderr


def test_yaml_and_json_batch_files(beanstalkd: Beanstalkd, data_root: Path, tmp_path: Path) -> None:
    (tmp_path / "b.yaml").write_text("- [demo, noop]\n- demo sleep 0\n")
    (tmp_path / "b.json").write_text(json.dumps([["demo", "noop"], {"argv": ["demo", "noop"]}]))
    with WorkerPool(beanstalkd.port, data_root, tmp_path / "w.log"):
        for name in ("b.yaml", "b.json"):
            result = submit(beanstalkd.port, data_root, "--wait", "--batch-file", str(tmp_path / name))
            assert result.returncode == 0, result.stdout + result.stderr
            assert "2 succeeded" in result.stdout


def test_status_cancel_and_retry_commands(beanstalkd: Beanstalkd, data_root: Path, tmp_path: Path) -> None:
    with WorkerPool(beanstalkd.port, data_root, tmp_path / "w.log", processes=1):
        out = submit(beanstalkd.port, data_root, "--batch", "slow", "--", "demo", "fanout", "40",
                     str(data_root / "s"), "--sleep", "0.2")
        parent = out.stdout.split("submitted 1 job(s): ")[1].split()[0]
        status = {}
        for _ in range(50):
            status = json.loads(submit(beanstalkd.port, data_root, "status", "--json").stdout)
            if status["parents"] and status["parents"][parent]["batch"] and status["parents"][parent]["done"] > 5:
                break
        assert status["workers"] == {"total": 1, "busy": 1, "idle": 0}
        assert status["parents"][parent]["deps"] == 40
        # 0.2 s a dependency on one process: about 5 a second (the mean since submission: expansion too)
        figures = status["batches"]["slow"]
        assert figures["deps"] == 40 and 0 < figures["per_second"] <= 10 and figures["seconds_left"] > 0
        assert status["parents"][parent]["seconds_left"] == pytest.approx(figures["seconds_left"])
        table = submit(beanstalkd.port, data_root, "status").stdout
        assert "batch slow: dependencies " in table and "/s, about " in table
        assert submit(beanstalkd.port, data_root, "cancel", parent).returncode == 0
        assert submit(beanstalkd.port, data_root, "cancel", parent).returncode == 1
        failing = submit(beanstalkd.port, data_root, "--wait", "--attempts", "1", "--", "demo", "require",
                         str(data_root / "flag"))
        assert failing.returncode == 1
        (data_root / "flag").write_text("")
        retried = submit(beanstalkd.port, data_root, "retry", "--all")
        assert retried.returncode == 0 and "retrying as job" in retried.stdout
        assert submit(beanstalkd.port, data_root, "failed", "--json").stdout == ""


def test_wait_survives_a_beanstalkd_restart(beanstalkd: Beanstalkd, data_root: Path, tmp_path: Path) -> None:
    env = {**os.environ, "BEANSTALKD_PORT": str(beanstalkd.port), "DATA_ROOT": str(data_root)}
    with WorkerPool(beanstalkd.port, data_root, tmp_path / "w.log"):
        proc = subprocess.Popen([str(BIN / "wndchrm-submit"), "--wait", "--", "demo", "fanout", "30",
                                 str(data_root / "r"), "--sleep", "0.1"], env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        wait_until(lambda: len(list((data_root / "r").glob("part-*.txt"))) > 5, 30, "work under way")
        beanstalkd.restart()
        out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, out + err
    assert "1 succeeded" in out
