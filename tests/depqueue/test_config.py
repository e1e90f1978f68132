"""Configuration: seed file, environment, flags, and clear errors."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from depqueue.config import Config, load_config, load_settings
from depqueue.cpus import allowed_cpus, cgroup_cpu_limit
from depqueue.errors import ConfigError


def test_file_then_environment_then_flags(tmp_path: Path) -> None:
    conf = tmp_path / "q.conf"
    conf.write_text("# seed keys\nnum_workers = 3\nbeanstalkd_host: queue.lab\nbeanstalkd_port = 11301\n"
                    "beanstalkd_tube = images\nworker_log = /var/log/w.log\n")
    config = load_config(str(conf), environ={"BEANSTALKD_PORT": "11302", "WORKER_LOG": "/mnt/w.log"},
                         overrides={"worker_log": "/flags/w.log"})
    assert (config.num_workers, config.beanstalkd_host, config.beanstalkd_tube) == (3, "queue.lab", "images")
    assert config.beanstalkd_port == 11302
    assert config.worker_log == "/flags/w.log"


SEED_FILE = """[wndchrm-queue]
num_workers = 4
beanstalkd_host = 127.0.0.1
beanstalkd_port = 11300
beanstalkd_tube = wndchrm
beanstalkd_wait_retry = 2
beanstalkd_retries = 5
worker_log = /var/log/wndchrm-queue.log
worker_host = node1
worker_PID_dir = /var/run/wndchrm
"""


def test_the_seed_installers_file_loads_unchanged(tmp_path: Path) -> None:
    conf = tmp_path / "wndchrm-queue.conf"
    conf.write_text(SEED_FILE)
    config = load_config(str(conf), environ={})
    assert (config.num_workers, config.beanstalkd_wait_retry, config.beanstalkd_retries) == (4, 2.0, 5)
    assert (config.worker_host, config.worker_pid_dir) == ("node1", "/var/run/wndchrm")


def test_an_application_adds_its_own_keys(tmp_path: Path) -> None:
    @dataclass(frozen=True)
    class SiteConfig(Config):
        scratch: str = "/tmp"
        port_offset: int = 0

    conf = tmp_path / "q.conf"
    conf.write_text(SEED_FILE + "scratch = /fast\n")
    config = load_settings(SiteConfig, str(conf), environ={"PORT_OFFSET": "7"})
    assert (config.scratch, config.port_offset, config.num_workers) == ("/fast", 7, 4)
    with pytest.raises(ConfigError, match="unknown key 'scratch'"):
        load_config(str(conf), environ={})


def test_no_file_at_the_default_path_is_fine() -> None:
    config = load_config(None, environ={"NUM_WORKERS": "2"})
    assert config.num_workers == 2 and config.beanstalkd_port == 11300


@pytest.mark.parametrize(("text", "message"), [
    ("just words\n", ":1: expected 'key = value'"),
    ("beanstalk_port = 1\n", ":1: unknown key 'beanstalk_port'"),
    ("\nnum_workers = -1\n", ":2: num_workers must be a non-negative int"),
    ("beanstalkd_port = 70000\n", "beanstalkd_port must be a port number"),
    ("beanstalkd_tube = -bad\n", "invalid tube name"),
])
def test_malformed_files_are_clear_errors(tmp_path: Path, text: str, message: str) -> None:
    conf = tmp_path / "q.conf"
    conf.write_text(text)
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        load_config(str(conf), environ={})


def test_named_file_must_exist(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(str(tmp_path / "missing.conf"), environ={})


def test_bad_environment_value_is_named() -> None:
    with pytest.raises(ConfigError, match="environment variable NUM_WORKERS"):
        load_config(None, environ={"NUM_WORKERS": "lots"})


def test_cpu_count_follows_the_cgroup_quota(tmp_path: Path) -> None:
    (tmp_path / "cpu.max").write_text("150000 100000\n")
    assert cgroup_cpu_limit(tmp_path) == 1.5
    assert allowed_cpus(tmp_path) == min(2, len(__import__("os").sched_getaffinity(0)))
    (tmp_path / "cpu.max").write_text("max 100000\n")
    assert cgroup_cpu_limit(tmp_path) is None
    (tmp_path / "cpu.max").write_text("50000 100000\n")
    assert allowed_cpus(tmp_path) == 1
