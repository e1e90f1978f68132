"""The exceptions of depqueue: one small hierarchy that callers can catch by meaning."""

from __future__ import annotations


class DepQueueError(Exception):
    """Base class of every error depqueue raises on purpose."""


class BeanstalkdUnreachable(DepQueueError):
    """beanstalkd could not be reached, or the connection dropped mid-command."""


class ServerRefused(BeanstalkdUnreachable):
    """beanstalkd answered a command with OUT_OF_MEMORY, INTERNAL_ERROR or DRAINING: its binlog volume or
    memory is full, or it is shutting down. Handled as a lost connection (closed, retried with backoff)."""


#: What beanstalkd's refusals mean for an operator, by greenstalk's name for each.
_REFUSALS = {"OutOfMemoryError": "OUT_OF_MEMORY (its binlog volume or its memory is full; that job was not "
                                 "stored, jobs already queued are kept)",
             "InternalError": "INTERNAL_ERROR (a fault in the server; see its log)",
             "DrainingError": "DRAINING (it was sent SIGUSR1 and takes no new jobs)"}


def refused(address: tuple[str, int], exc: Exception) -> ServerRefused:
    """The ServerRefused for beanstalkd's answer ``exc``, saying what it means."""
    meaning = _REFUSALS.get(type(exc).__name__, type(exc).__name__)
    return ServerRefused(f"beanstalkd at {address[0]}:{address[1]} refused a command: {meaning}")


class JobTooBig(DepQueueError):
    """The encoded job is larger than beanstalkd's max job size (``-z``)."""


class MalformedJob(DepQueueError):
    """A job body that cannot be used: not JSON, wrong types, unknown version or type."""


class BadJob(DepQueueError):
    """A well-formed job that its kind refuses: unknown command, bad option, path outside the data root.

    Raised by job code; the job fails at once, without retries, since retrying cannot help.
    """


class RetryLater(DepQueueError):
    """Raised by job code to hand a job back for later without counting a failed attempt.

    For example a feature extraction whose image another worker is computing right now.
    """

    def __init__(self, reason: str, delay: int = 5) -> None:
        super().__init__(reason)
        self.delay = delay


class TimeLimitExceeded(DepQueueError):
    """The job ran past its time limit."""


class NotCancellable(DepQueueError):
    """The parent is held by a worker right now (expanding or running) and cannot be cancelled."""


class ConfigError(DepQueueError):
    """A configuration file or value that cannot be used."""
