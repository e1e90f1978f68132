"""Hooks a worker calls at each job state change; the no-op base is what a plain worker uses.

Cross-cutting concerns (metrics, tracing) subclass WorkerHooks instead of editing the worker loop.
``job_type`` is ``"job"`` for a parent and ``"dep"`` for a dependency; ``kind`` is the job's argv[0].
"""

from __future__ import annotations


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
