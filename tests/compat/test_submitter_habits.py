"""The original submitter's habits: a program's path as argv[0], ``-c`` before the job, no job at all."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import tifffile
from click.testing import CliRunner

from services.submitter.cli import main as submit_main
from testkit.beanstalkd import Beanstalkd


def test_a_wndchrm_path_names_the_wndchrm_kind(beanstalkd: Beanstalkd, data_root: Path) -> None:
    for name in ("a/1.tif", "b/2.tif"):
        (data_root / "set" / name).parent.mkdir(parents=True, exist_ok=True)
        tifffile.imwrite(data_root / "set" / name, np.zeros((16, 16), np.uint8))
    env = {"BEANSTALKD_PORT": str(beanstalkd.port), "DATA_ROOT": str(data_root)}
    result = CliRunner().invoke(submit_main, ["--batch", "lab", "-c", "/usr/local/bin/wndchrm", "check", "-l",
                                              "set"], env=env)
    assert result.exit_code == 0, result.output
    assert "/usr/local/bin/wndchrm names the 'wndchrm' job kind; workers run it with the built-in engine" in \
        result.output
    client = beanstalkd.client(use="wndchrm", watch="wndchrm")
    job = client.reserve(timeout=2)
    assert json.loads(job.body)["params"] == ["wndchrm", "check", "-l", "set"]  # the path itself never runs
    refused = CliRunner().invoke(submit_main, ["--", "/usr/local/bin/sh", "-c", "true"], env=env)
    assert refused.exit_code == 2 and "unknown job kind '/usr/local/bin/sh'" in refused.output


def test_no_job_reports_the_queue_once(beanstalkd: Beanstalkd) -> None:
    env = {"BEANSTALKD_PORT": str(beanstalkd.port)}
    for args in ([], ["--beanstalkd-port", str(beanstalkd.port)]):
        result = CliRunner().invoke(submit_main, args, env=env)
        assert result.exit_code == 0, result.output
        assert "No jobs specified: the queue's status follows" in result.output
        assert "workers 0 (0 busy, 0 idle); parents queued 0, with dependencies 0; jobs left 0" in result.output
