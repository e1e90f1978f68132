"""The seed's configuration: a ``key = value`` file, overridden by environment, overridden by flags.

Only entry points (QueueMain and the console scripts) call ``load_config``; the library itself takes
arguments. A missing file at the default path is fine; a file named explicitly must exist, and any
malformed line, unknown key or bad value is an error that names the file and line.

``Config`` holds the library's keys only (the seed's, and the worker's tuning). An application adds its
own keys by subclassing it (a frozen dataclass whose new fields all have defaults) and passing the
subclass as ``schema``: every key of the subclass is then read from file, environment and flags alike.

One file often serves several readers: the library's entry points (``QueueMain()``, ``DepQueue()``) read
it with ``lenient=True``, so a key that means nothing to them (an application's, such as ``data_root``)
is reported once as ignored, with the closest known key when there is one; the application's own reader
(``load_settings`` with its subclass, lenient False) still refuses an unknown key, so a misspelt key is
caught there. The original installer's keys that mean nothing here (``worker_host``, ``worker_PID_dir``)
are accepted and reported once as ignored by every reader.
"""

from __future__ import annotations

import dataclasses
import difflib
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from depqueue import defaults
from depqueue.errors import ConfigError
from depqueue.wire.tubes import check_tube

DEFAULT_CONFIG_FILE = "/etc/wndchrm/wndchrm-queue.conf"

#: Keys the original installer writes that configure nothing here: read, then reported as ignored.
IGNORED_ORIGINAL_KEYS = ("worker_host", "worker_pid_dir")

log = logging.getLogger("depqueue.config")
_reported: set[str] = set()


def report_once(message: str) -> None:
    """Log a configuration notice once per process (start-up, not every reload or reader)."""
    if message not in _reported:
        _reported.add(message)
        log.warning("%s", message)


@dataclass(frozen=True)
class Config:
    """The library's settings, with the seed's key names. ``num_workers`` None means one per allowed CPU.

    ``worker_host`` and ``worker_pid_dir`` (the seed's ``worker_PID_dir``) are read so the original
    installer's file loads unchanged; the pool writes no PID files (supervisor or the pool tracks them).
    """

    num_workers: int | None = None
    beanstalkd_host: str = defaults.BEANSTALKD_HOST
    beanstalkd_port: int = defaults.BEANSTALKD_PORT
    beanstalkd_tube: str = defaults.TUBE
    beanstalkd_wait_retry: float = defaults.RECONNECT_WAIT
    beanstalkd_retries: int = 5
    worker_log: str | None = None
    worker_host: str | None = None
    worker_pid_dir: str | None = None
    sweep_interval: int = defaults.SWEEP_INTERVAL
    max_watched_dep_tubes: int = defaults.MAX_WATCHED_DEP_TUBES
    grace_period: float = defaults.GRACE_PERIOD
    #: Secrets that sign and check job bodies, one a line (depqueue.signing); unset: jobs are unsigned.
    job_secret_file: str | None = None
    source: str = "defaults"

    def replace(self, **changes: Any) -> Config:
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})


C = TypeVar("C", bound=Config)


def _fields(schema: type[Config]) -> dict[str, Any]:
    return {f.name: f for f in dataclasses.fields(schema) if f.name != "source"}


def _convert(schema: type[Config], key: str, raw: str, where: str) -> Any:
    kind = str(_fields(schema)[key].type)
    text = raw.strip()
    if text == "" and "None" in kind:
        return None
    try:
        if kind.startswith("int"):
            value: Any = int(text)
            if value < 0 or (key.endswith("port") and not 0 < value < 65536):
                raise ValueError
            return value
        if kind.startswith("float"):
            number = float(text)
            if number < 0:
                raise ValueError
            return number
    except ValueError:
        expected = "a port number" if key.endswith("port") else f"a non-negative {kind.split(' ')[0]}"
        raise ConfigError(f"{where}: {key} must be {expected}, not {raw!r}") from None
    return text


def _unknown(key: str, where: str, schema: type[Config], lenient: bool) -> None:
    known = sorted(_fields(schema))
    close = difflib.get_close_matches(key, known, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    if not lenient:
        raise ConfigError(f"{where}: unknown key {key!r}{hint}; known keys: {', '.join(known)}")
    report_once(f"{where}: key {key!r} means nothing to this reader and is ignored{hint}")


def parse_file(path: Path, schema: type[Config] = Config, lenient: bool = False) -> dict[str, Any]:
    try:
        text = path.read_text()
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not a text file") from None
    except OSError as exc:
        raise ConfigError(f"cannot read configuration file {path}: {exc.strerror}") from None
    values: dict[str, Any] = {}
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith(("#", ";")) or (stripped.startswith("[") and stripped.endswith("]")):
            continue
        sep = min((i for i in (stripped.find("="), stripped.find(":")) if i > 0), default=-1)
        if sep < 0:
            raise ConfigError(f"{path}:{number}: expected 'key = value', got {stripped[:80]!r}")
        key, raw = stripped[:sep].strip().lower(), stripped[sep + 1:]
        if key not in _fields(schema):
            _unknown(key, f"{path}:{number}", schema, lenient)
            continue
        values[key] = _convert(schema, key, raw, f"{path}:{number}")
    return values


def load_config(path: str | None = None, environ: Mapping[str, str] | None = None,
                overrides: Mapping[str, Any] | None = None, *, lenient: bool = False) -> Config:
    """Defaults, then the file (``path`` or the default one if present), then ``KEY`` variables, then flags.

    ``lenient``: a file key this reader does not know is reported once and ignored instead of refused.
    """
    return load_settings(Config, path, environ, overrides, lenient=lenient)


def load_settings(schema: type[C], path: str | None = None, environ: Mapping[str, str] | None = None,
                  overrides: Mapping[str, Any] | None = None, *, lenient: bool = False) -> C:
    """``load_config`` for an application's subclass of Config, with its own keys."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    source = "defaults"
    if path is not None:
        if not Path(path).is_file():
            raise ConfigError(f"configuration file {path} does not exist")
        values.update(parse_file(Path(path), schema, lenient))
        source = path
    elif Path(DEFAULT_CONFIG_FILE).is_file():
        values.update(parse_file(Path(DEFAULT_CONFIG_FILE), schema, lenient))
        source = DEFAULT_CONFIG_FILE
    for key in IGNORED_ORIGINAL_KEYS:
        if values.get(key):
            report_once(f"{source}: key {key!r} (from the original installer) is accepted and ignored here")
    for key in _fields(schema):
        if key.upper() in environ:
            values[key] = _convert(schema, key, environ[key.upper()], f"environment variable {key.upper()}")
    for key, value in (overrides or {}).items():
        if value is not None:
            values[key] = value
    if values.get("num_workers") == 0:
        raise ConfigError("num_workers must be at least 1")
    try:
        check_tube(str(values.get("beanstalkd_tube", defaults.TUBE)))
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    return schema(**values, source=source)
