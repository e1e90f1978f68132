"""The roles' own keys: read from the shared file, the environment and the flags like the library's."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from services.common import load
from services.submitter.cli import main as submit_main


def test_role_keys_come_from_file_then_environment_then_flags(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    conf = tmp_path / "q.conf"
    conf.write_text("num_workers = 3\ndata_root = /srv/data\nmonitor_port = 9400\nwndchrm_binary = /opt/wndchrm\n")
    monkeypatch.setenv("DATA_ROOT", "/mnt")
    monkeypatch.setenv("METRICS_PORT", "9411")
    config = load(str(conf), data_root="/flags")
    assert (config.num_workers, config.data_root, config.monitor_port) == (3, "/flags", 9400)
    assert (config.metrics_port, config.wndchrm_binary) == (9411, "/opt/wndchrm")


def test_old_host_and_port_flags_still_work_with_a_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BEANSTALKD_RETRIES", "1")
    result = CliRunner().invoke(submit_main, ["status", "--host", "127.0.0.1", "--port", "1"])
    assert "warning: --host is deprecated, write --beanstalkd-host" in result.output
    assert "warning: --port is deprecated, write --beanstalkd-port" in result.output
    assert "cannot reach beanstalkd at 127.0.0.1:1" in result.output
