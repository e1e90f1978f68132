"""wndchrm-monitor's settings: file, then environment, then flags."""

from __future__ import annotations

from pathlib import Path

import click
import pytest

from services.monitor.cli import resolve


def test_defaults() -> None:
    config = resolve(None)
    assert (config.monitor_port, config.beanstalkd_port, config.beanstalkd_tube) == (9310, 11300, "wndchrm")


def test_file_then_environment_then_flags(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    conf = tmp_path / "wndchrm-queue.conf"
    conf.write_text("beanstalkd_host = queue.example\nbeanstalkd_port = 11301\nmonitor_port = 9400\n"
                    "beanstalkd_tube = fromfile\n")
    config = resolve(str(conf))
    assert (config.beanstalkd_host, config.beanstalkd_port, config.monitor_port, config.beanstalkd_tube) == \
        ("queue.example", 11301, 9400, "fromfile")
    monkeypatch.setenv("MONITOR_PORT", "9500")
    monkeypatch.setenv("BEANSTALKD_TUBE", "fromenv")
    config = resolve(str(conf))
    assert (config.monitor_port, config.beanstalkd_tube) == (9500, "fromenv")
    config = resolve(str(conf), port=9600, tube="fromflag", beanstalkd_host="h", beanstalkd_port=1)
    assert (config.monitor_port, config.beanstalkd_tube, config.beanstalkd_host, config.beanstalkd_port) == \
        (9600, "fromflag", "h", 1)


def test_bad_configuration_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(click.UsageError, match="does not exist"):
        resolve(str(tmp_path / "missing.conf"))
