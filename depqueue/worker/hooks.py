"""What a worker is given: the queue it serves (``ServedQueue``, a DepQueue), hooks it calls at each job
state change (the no-op base is what a plain worker uses), and a guard of its tube against other
programs (``JobGuard``; none by default).

Cross-cutting concerns (metrics, tracing) subclass WorkerHooks instead of editing the worker loop.
``job_type`` is ``"job"`` for a parent and ``"dep"`` for a dependency; ``kind`` is the job's argv[0].
"""

from __future__ import annotations

import contextlib
from typing import Any, Protocol

from depqueue.wire.connection import Connection, Job
from depqueue.wire.signing import Signer


class WorkerHooks:
    """Called from the worker process's main thread; keep them cheap and never raise."""

    def on_worker_start(self) -> None:
        """The worker process is ready to reserve."""

    def on_job_start(self, kind: str, job_type: str) -> None:
        """A job's callback (expansion or run) is about to start."""

    def on_job_end(self, kind: str, job_type: str, outcome: str, seconds: float) -> None:
        """A job's callback ended. ``outcome`` is one of succeeded, failed, retried, handed_back, expanded."""

    def on_retry(self, kind: str, job_type: str) -> None:
        """A failed attempt was released for another try."""

    def on_worker_exit(self) -> None:
        """The worker process is about to exit."""


class JobGuard(Protocol):
    """What a worker is given to guard its tube against other programs' workers and bodies (the pool gives
    depqueue.legacy.cutover's guard against the original wndchrm-queue)."""

    def blocked(self) -> bool:
        """True while the worker must not reserve."""

    def take_over(self, job: Job, tube: str) -> bool:
        """A reserved job whose body is not ours (not a JSON object): True when the guard dealt with it."""


class NoGuard:
    """A worker guarding against nothing: a body that is not ours is set aside as malformed."""

    def blocked(self) -> bool:
        return False

    def take_over(self, job: Job, tube: str) -> bool:
        return False


class ServedQueue(Protocol):
    """The queue a worker serves (a ``DepQueue``): what the worker uses of it. The callbacks get it whole."""

    tube: str
    signer: Signer | None

    @property
    def conn(self) -> Connection: ...

    @property
    def reader(self) -> Connection: ...

    @property
    def max_job_size(self) -> int: ...

    def expanding(self, buffer: Any) -> contextlib.AbstractContextManager[Any]: ...

    def close(self) -> None: ...
