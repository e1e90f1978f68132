"""Job kinds: the only things a worker will run. A job's argv[0] names its kind.

Nothing that reaches the queue can run a program of its choosing: an argv whose first word is not a
registered kind fails with a clear reason, and each kind validates the rest of its argv itself.
"""

from __future__ import annotations

from typing import Any, Protocol

from depqueue import BadJob, DepQueue
from wndchrm.dataroot import JobContext  # the data root's confinement, which the engine owns

__all__ = ["REGISTRY", "JobContext", "JobKind", "get", "register"]


class JobKind(Protocol):
    """A registered job kind. Methods raise depqueue.BadJob for arguments that can never work."""

    name: str

    def validate(self, argv: list[str], ctx: JobContext) -> None:
        """Check the whole argv (options parse, paths under the data root) before anything is queued."""

    def expand(self, queue: DepQueue, dep_tube: str, job_id: int, argv: list[str], ctx: JobContext) -> int:
        """Add this job's dependencies with ``queue.add_dependent_job(dep_tube, params)``; return how many."""

    def run(self, queue: DepQueue, job_id: int, argv: list[str], ctx: JobContext) -> dict[str, Any] | None:
        """Run the job (a parent after its dependencies, or a dependency itself); a dict returned (e.g.
        where its report is) lands in the parent's outcome record as ``outputs``."""


REGISTRY: dict[str, JobKind] = {}


def register(kind: JobKind) -> JobKind:
    REGISTRY[kind.name] = kind
    return kind


def get(name: str) -> JobKind:
    try:
        return REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(REGISTRY)) or "none"
        raise BadJob(f"unknown job kind {name[:80]!r}; this worker runs only: {known}") from None
