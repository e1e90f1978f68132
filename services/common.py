"""What the role entry points share: configuration flags, exit codes, the job context."""

from __future__ import annotations

import enum
import os
import posixpath
import signal
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import click

from depqueue import Config, ConfigError, load_settings
from services import kinds
from services.kinds import JobContext

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")


class ExitCode(enum.IntEnum):
    """Exit codes of the console scripts, for CI pipelines."""

    OK = 0
    FAILED = 1
    USAGE = 2
    TIMED_OUT = 3
    UNREACHABLE = 4
    #: beanstalkd came back empty while a submitter waited: its parents are lost (resubmit them).
    SERVER_LOST = 5


@dataclass(frozen=True)
class ServiceConfig(Config):
    """The library's keys plus the roles' own; the three roles share one file, so all read every key."""

    #: The folder every job path must stay inside.
    data_root: str = "/data"
    #: The monitor's HTTP port.
    monitor_port: int = 9310
    #: The worker pool's metrics port (none when unset).
    metrics_port: int | None = None
    #: A site's own C++ wndchrm, run by the wndchrm job kind instead of the built-in engine.
    wndchrm_binary: str | None = None


def renamed(old: str, new: str) -> Callable[[click.Context, click.Parameter, T], T]:
    """A callback for an option's old spelling: it still works, and says what to write instead."""
    def warn(ctx: click.Context, param: click.Parameter, value: T) -> T:
        if value is not None:
            click.echo(f"warning: {old} is deprecated, write {new}", err=True)
        return value

    return warn


def beanstalkd_options(fn: F) -> F:
    """-f and the beanstalkd flags every role takes, with one meaning in all three; flags override
    environment and file. ``--host``/``--port`` are the old spellings, kept in the worker and submitter."""
    for option in reversed([
        click.option("-f", "--config", "config_file", type=click.Path(dir_okay=False),
                     help="Configuration file (default /etc/wndchrm/wndchrm-queue.conf, if present)."),
        click.option("--beanstalkd-host", "beanstalkd_host", help="beanstalkd host [BEANSTALKD_HOST; 127.0.0.1]."),
        click.option("--beanstalkd-port", "beanstalkd_port", type=click.IntRange(1, 65535),
                     help="beanstalkd port [BEANSTALKD_PORT; 11300]."),
        click.option("--tube", "beanstalkd_tube",
                     help="Main tube; dependency tubes are <tube>-deps-<id> [BEANSTALKD_TUBE; wndchrm]."),
    ]):
        fn = option(fn)
    return fn


def config_options(fn: F) -> F:
    """The worker's and submitter's flags: beanstalkd's, the old ``--host``/``--port``, and the data root."""
    for option in reversed([
        click.option("--host", "old_host", hidden=True, callback=renamed("--host", "--beanstalkd-host")),
        click.option("--port", "old_port", type=click.IntRange(1, 65535), hidden=True,
                     callback=renamed("--port", "--beanstalkd-port")),
        click.option("--data-root", "data_root", type=click.Path(file_okay=False),
                     help="Folder every job path must stay inside [DATA_ROOT]."),
    ]):
        fn = option(fn)
    return beanstalkd_options(fn)


def load(config_file: str | None, *, old_host: str | None = None, old_port: int | None = None,
         **overrides: Any) -> ServiceConfig:
    """Load configuration or exit with the usage code and a specific message."""
    overrides["beanstalkd_host"] = overrides.get("beanstalkd_host") or old_host
    overrides["beanstalkd_port"] = overrides.get("beanstalkd_port") or old_port
    try:
        return load_settings(ServiceConfig, config_file, overrides=overrides)
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from None


def data_root_said(config: ServiceConfig, flags: dict[str, Any]) -> str:
    """Which data root a job's paths were read from, and what set it (a typo and a missing ``DATA_ROOT``
    otherwise give the same "does not exist")."""
    if flags.get("data_root"):
        source = "set by --data-root"
    elif os.environ.get("DATA_ROOT"):
        source = "set by the DATA_ROOT environment variable"
    else:
        source = "the configuration file's data_root, or the default: set DATA_ROOT or --data-root for another"
    return f"paths are read from the data root {Path(config.data_root).absolute()} ({source})"


def job_context(config: ServiceConfig) -> JobContext:
    return JobContext(data_root=Path(config.data_root))


def exit_on_sigterm(code: int) -> None:
    """Leave on SIGTERM with ``code``. As a container's PID 1 a process ignores SIGTERM unless it says so."""
    def _leave(signum: int, frame: object) -> None:
        raise SystemExit(code)

    signal.signal(signal.SIGTERM, _leave)


def fail(message: str, code: ExitCode) -> None:
    click.echo(f"error: {message}", err=True)
    raise SystemExit(int(code))


def kind_name(word: str) -> str:
    """The job kind an argv[0] names: itself, or the last part of a path whose last part is a kind.

    The original queue put the absolute path of the program (``/usr/local/bin/wndchrm``) on the queue;
    such a path only *names* the kind: nothing runs it (the kind decides what runs, e.g. the configured
    ``wndchrm_binary``).
    """
    if "/" in word:
        last = posixpath.basename(word)
        if last in kinds.REGISTRY:
            return last
    return word


def as_kind_argv(job_params: list[str]) -> list[str]:
    """``job_params`` with argv[0] replaced by the kind it names."""
    return [kind_name(job_params[0]), *job_params[1:]]
