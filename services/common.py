"""What the role entry points share: configuration flags, exit codes, the job context."""

from __future__ import annotations

import enum
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from depqueue import Config, load_config
from depqueue.errors import ConfigError
from services.kinds import JobContext

F = TypeVar("F", bound=Callable[..., Any])


class ExitCode(enum.IntEnum):
    """Exit codes of the console scripts, for CI pipelines."""

    OK = 0
    FAILED = 1
    USAGE = 2
    TIMED_OUT = 3
    UNREACHABLE = 4


def config_options(fn: F) -> F:
    """-f and the connection flags every role takes; flags override environment and file."""
    for option in reversed([
        click.option("-f", "--config", "config_file", type=click.Path(dir_okay=False),
                     help="Configuration file (default /etc/wndchrm/wndchrm-queue.conf, if present)."),
        click.option("--host", "beanstalkd_host", help="beanstalkd host [BEANSTALKD_HOST]."),
        click.option("--port", "beanstalkd_port", type=click.IntRange(1, 65535),
                     help="beanstalkd port [BEANSTALKD_PORT]."),
        click.option("--tube", "beanstalkd_tube", help="Main tube [BEANSTALKD_TUBE]."),
        click.option("--data-root", "data_root", type=click.Path(file_okay=False),
                     help="Folder every job path must stay inside [DATA_ROOT]."),
    ]):
        fn = option(fn)
    return fn


def load(config_file: str | None, **overrides: Any) -> Config:
    """Load configuration or exit with the usage code and a specific message."""
    try:
        return load_config(config_file, overrides=overrides)
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from None


def job_context(config: Config) -> JobContext:
    return JobContext(data_root=Path(config.data_root))


def exit_on_sigterm(code: int) -> None:
    """Leave on SIGTERM with ``code``. As a container's PID 1 a process ignores SIGTERM unless it says so."""
    def _leave(signum: int, frame: object) -> None:
        raise SystemExit(code)

    signal.signal(signal.SIGTERM, _leave)


def fail(message: str, code: ExitCode) -> None:
    click.echo(f"error: {message}", err=True)
    raise SystemExit(int(code))
