"""Every console script refuses malformed arguments and configuration with exit 2 and a specific message."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from services.worker.server import stop_process
from testkit.workers import BIN, wait_until


def run(*argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / argv[0]), *argv[1:]], capture_output=True, text=True, timeout=60, env=env)


@pytest.mark.parametrize(("argv", "message"), [
    (["wndchrm-worker", "--processes", "0"], "0 is not in the range 1<=x<=512"),
    (["wndchrm-worker", "--port", "http"], "'http' is not a valid integer"),
    (["wndchrm-worker", "-f", "/nonexistent/q.conf"], "configuration file /nonexistent/q.conf does not exist"),
    (["wndchrm-worker", "--bogus"], "No such option '--bogus'"),
    (["wndchrm-monitor", "--port", "99999"], "99999"),
    (["wndchrm-monitor", "-f", "/nonexistent/q.conf"], "does not exist"),
    (["wndchrm-submit", "retry"], "give record ids or --all"),
    (["wndchrm-submit", "cancel", "abc"], "'abc' is not a valid integer"),
    (["wndchrm-submit", "--priority", "-1", "--", "demo", "noop"], "-1 is not in the range"),
    (["wndchrm-submit", "--", "wndchrm", "test", "-q", "x"], "-q"),
])
def test_malformed_arguments_exit_2_with_a_specific_message(argv: list[str], message: str) -> None:
    result = run(*argv)
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stderr


def test_submit_refusals_show_the_usage_the_readme_shows() -> None:
    result = run("wndchrm-submit", "--timeout", "5", "--", "demo", "noop")
    assert result.returncode == 2
    assert result.stderr.startswith("Usage: wndchrm-submit [OPTIONS] -- JOB...\nTry 'wndchrm-submit --help' for help.")
    assert "wndchrm-submit submit" not in result.stderr
    assert run("wndchrm-submit", "-h").returncode == 0


def test_a_missing_path_names_the_data_root_and_what_set_it(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "DATA_ROOT"}
    by_flag = run("wndchrm-submit", "--data-root", str(tmp_path), "--", "wndchrm", "test", "typo", env=env)
    assert by_flag.returncode == 2
    assert "'typo' does not exist" in by_flag.stderr
    assert f"data root {tmp_path} (set by --data-root)" in by_flag.stderr
    by_env = run("wndchrm-submit", "--", "wndchrm", "test", "typo", env={**env, "DATA_ROOT": str(tmp_path)})
    assert f"data root {tmp_path} (set by the DATA_ROOT environment variable)" in by_env.stderr
    unset = run("wndchrm-submit", "--", "wndchrm", "test", "typo", env=env)
    assert "set DATA_ROOT or --data-root for another" in unset.stderr


@pytest.mark.parametrize("text", ["num_workers = lots\n", "no equals sign\n", "\x00\x01binary", "unknown_key = 1\n"])
def test_malformed_config_files_exit_2(tmp_path: Path, text: str) -> None:
    conf = tmp_path / "q.conf"
    conf.write_text(text)
    for script in ("wndchrm-worker", "wndchrm-monitor"):
        result = run(script, "-f", str(conf))
        assert result.returncode == 2, (script, result.stderr)
        assert str(conf) in result.stderr


def test_a_worker_refuses_a_wndchrm_binary_it_cannot_run(tmp_path: Path) -> None:
    """A missing binary, or our own ``wndchrm`` taken for the C++ one, stops the worker at start with the
    reason, instead of failing every wndchrm job it later takes."""
    env = {k: v for k, v in os.environ.items() if k != "WNDCHRM_BINARY"}
    missing = run("wndchrm-worker", env={**env, "WNDCHRM_BINARY": str(tmp_path / "wndchrm")})
    assert missing.returncode == 2
    assert f"wndchrm_binary '{tmp_path / 'wndchrm'}': no executable file at that path" in missing.stderr
    not_on_path = run("wndchrm-worker", env={**env, "WNDCHRM_BINARY": "wndchrm-1.60", "PATH": str(tmp_path)})
    assert "no executable file on the PATH" in not_on_path.stderr
    ours = run("wndchrm-worker", env={**env, "WNDCHRM_BINARY": "wndchrm", "PATH": f"{BIN}:{env['PATH']}"})
    assert ours.returncode == 2
    assert f"is {BIN / 'wndchrm'}, this project's own wndchrm program, not the C++ one" in ours.stderr


def test_a_worker_runs_a_bare_binary_name_by_its_absolute_path(tmp_path: Path) -> None:
    """Jobs run in the data root, so the name is looked up on the PATH once, at start."""
    fake = tmp_path / "bin" / "wndchrm-cpp"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\nexit 1\n")
    fake.chmod(0o755)
    log = tmp_path / "w.log"
    env = {**os.environ, "WNDCHRM_BINARY": "wndchrm-cpp", "PATH": f"{fake.parent}:{os.environ['PATH']}",
           "BEANSTALKD_PORT": "1", "BEANSTALKD_WAIT_RETRY": "0.2", "DATA_ROOT": str(tmp_path)}
    worker = subprocess.Popen([str(BIN / "wndchrm-worker"), "-p", "1", "--log", str(log)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: log.exists() and "job kinds" in log.read_text(), 30, "the worker to start")
        assert f"wndchrm jobs run {fake}; data root" in log.read_text()
    finally:
        stop_process(worker)
