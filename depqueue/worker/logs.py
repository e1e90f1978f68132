"""Workers' logging: one line per event, with the process id, each line one write(2) to a file or stderr.

A worker logs a line for every job it starts, so the cost of a line is part of the cost of a short job.
The standard FileHandler writes through a text buffer and flushes it (two layers of Python and a lock
per line); here a line is formatted once and handed to the kernel in one ``write`` on an ``O_APPEND``
descriptor, which is also what keeps lines from several worker processes whole in one file. Nothing is
held back in a buffer: the line naming a job is on disk before its code runs, so a worker killed by
its job still leaves that line behind.
"""

from __future__ import annotations

import logging
import os
import sys
import time
import weakref
from typing import TextIO, cast

#: This process's id, kept up to date across forks; records leave theirs out (see setup_logging).
_pid = [os.getpid()]
#: Every AppendHandler: a forked child drops the lines its parent held, which are the parent's to write.
_handlers: weakref.WeakSet[AppendHandler] = weakref.WeakSet()


def _after_fork_in_child() -> None:
    _pid[0] = os.getpid()
    for handler in _handlers:
        handler._held = []


os.register_at_fork(after_in_child=_after_fork_in_child)


class LineFormatter(logging.Formatter):
    """``2026-01-02 03:04:05,678 INFO [pid] logger: message``, the date text made once a second.

    The standard formatter's per-record strftime is a third of the cost of a line.
    """

    _second = -1
    _date = ""

    def format(self, record: logging.LogRecord) -> str:
        text = self.line(record.created, record.levelname, record.name, record.getMessage(), record.process)
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        return text

    def line(self, created: float, level: str, name: str, message: str, pid: int | None = None) -> str:
        second = int(created)
        if second != self._second:
            self._second, self._date = second, time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(second))
        msecs = int((created - second) * 1000)
        return f"{self._date},{msecs:03d} {level} [{pid if pid is not None else _pid[0]}] {name}: {message}"


#: Start lines of short jobs held back (info_line's ``hold``) are written with the next line that is not,
#: or once this many are held, or once the oldest is this old (the heartbeat thread looks every tick).
HOLD_LINES = 256
HOLD_SECONDS = 0.1


class AppendHandler(logging.Handler):
    """Writes each record as one line with one ``write`` on a file descriptor (a log file opened for
    appending, or standard error)."""

    def __init__(self, fd: int, close_fd: bool) -> None:
        super().__init__()
        self.fd = fd
        self.close_fd = close_fd
        self._held: list[str] = []
        self._held_since = 0.0
        _handlers.add(self)

    @classmethod
    def to_file(cls, path: str) -> AppendHandler:
        return cls(os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644), close_fd=True)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.write(self.format(record))
        except Exception:
            self.handleError(record)

    def write(self, line: str) -> None:
        if self._held:
            with self.lock:  # type: ignore[union-attr]  # made by Handler.__init__
                line, self._held = "\n".join([*self._held, line]), []
        data = (line + "\n").encode("utf-8", "backslashreplace")
        while data:  # a pipe may take a long line in parts
            data = data[os.write(self.fd, data):]

    def hold(self, line: str) -> None:
        """Keep ``line`` to write with later ones (HOLD_LINES, HOLD_SECONDS)."""
        now = time.monotonic()
        with self.lock:  # type: ignore[union-attr]
            if not self._held:
                self._held_since = now
            self._held.append(line)
            due = len(self._held) >= HOLD_LINES or now - self._held_since >= HOLD_SECONDS
        if due:
            self.flush()

    def flush(self) -> None:
        """Write the held lines, if any."""
        if self._held:
            with self.lock:  # type: ignore[union-attr]
                held, self._held = self._held, []
            if held:
                self.write("\n".join(held))

    def flush_if_due(self) -> None:
        if self._held and time.monotonic() - self._held_since >= HOLD_SECONDS:
            self.flush()

    def close(self) -> None:
        self.flush()
        if self.close_fd and self.fd >= 0:
            os.close(self.fd)
            self.fd = -1
        super().close()


def info_line(logger: logging.Logger, message: str, hold: bool = False) -> None:
    """``logger.info(message)`` for the line a worker writes for every job it starts, at a third of the cost.

    When the line would go only to setup_logging's own handler (no other handler, no filter, on the way up
    from ``logger`` to the root), it is formatted and written here without a LogRecord and the logging
    machinery around it; the text is LineFormatter's either way. Any other configuration gets logger.info.

    With ``hold`` (a worker running jobs of a few milliseconds) the line is written within HOLD_SECONDS,
    together with its neighbours, instead of by a write of its own. The cost: a worker killed outright
    loses up to HOLD_SECONDS of such lines (the job it was running still shows: its next start line
    counts the attempt the crash cost, and its failure record names the crashes).
    """
    if not logger.isEnabledFor(logging.INFO):
        return
    handler = _only_handler(logger)
    if handler is None:
        logger.info("%s", message)
        return
    try:
        line = cast(LineFormatter, handler.formatter).line(time.time(), "INFO", logger.name, message)
        if hold:
            handler.hold(line)
        else:
            handler.write(line)
    except Exception:
        logger.info("%s", message)


def flush_held_lines(if_due: bool = False) -> None:
    """Write the lines info_line held back (all of them, or only when HOLD_SECONDS have passed)."""
    for handler in logging.getLogger().handlers:
        if isinstance(handler, AppendHandler):
            if if_due:
                handler.flush_if_due()
            else:
                handler.flush()


def _only_handler(logger: logging.Logger) -> AppendHandler | None:
    """setup_logging's handler, if it is the one place records from ``logger`` at INFO go, unfiltered."""
    node: logging.Logger | None = logger
    while node is not None and not node.handlers and not node.filters and node.propagate:
        node = node.parent
    if node is None or node.parent is not None or node.filters or len(node.handlers) != 1:
        return None
    handler = node.handlers[0]
    if (type(handler) is not AppendHandler or type(handler.formatter) is not LineFormatter or handler.filters
            or handler.level > logging.INFO):
        return None
    return handler


def _stderr_handler(stream: TextIO) -> logging.Handler:
    """Standard error by its descriptor; a stand-in without one (a test's capture) gets a StreamHandler."""
    try:
        fd = stream.fileno()
    except (AttributeError, OSError, ValueError):
        return logging.StreamHandler(stream)
    stream.flush()
    return AppendHandler(fd, close_fd=False)


def setup_logging(path: str | None = None, verbose: bool = False) -> None:
    """One line per event, with the process id, to ``path`` or stderr."""
    # Records gather no thread, multiprocessing or process names, nor the caller's file and line: the
    # format shows the pid from _pid and nothing else of these, and gathering them costs a system call
    # and a walk up the stack per line. (The logging HOWTO's "Optimization" section names these switches.)
    logging.logThreads = False
    logging.logMultiprocessing = False
    logging.logProcesses = False
    logging._srcfile = None
    handler = AppendHandler.to_file(path) if path else _stderr_handler(sys.stderr)
    handler.setFormatter(LineFormatter())
    root = logging.getLogger()
    for old in root.handlers:
        old.close()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
