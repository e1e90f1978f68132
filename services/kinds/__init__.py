"""Job kinds: the only things a worker will run. A job's argv[0] names its kind.

Nothing that reaches the queue can run a program of its choosing: an argv whose first word is not a
registered kind fails with a clear reason, and each kind validates the rest of its argv itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from depqueue import BadJob, DepQueue


@dataclass(frozen=True)
class JobContext:
    """What job code needs from the worker's configuration."""

    data_root: Path

    def confine(self, path: str, *, must_exist: bool = False) -> Path:
        """Resolve ``path`` (relative paths are taken from the data root) and refuse any escape.

        Symlinks are resolved before the check, so a link inside the root that points outside is refused.
        """
        if not path or "\x00" in path:
            raise BadJob(f"invalid path {path!r}")
        root = self.data_root.resolve()
        candidate = Path(path)
        try:
            resolved = (candidate if candidate.is_absolute() else root / candidate).resolve()
        except (RuntimeError, OSError) as exc:  # RuntimeError: a symlink loop (Python 3.11)
            raise BadJob(f"path {path!r} cannot be resolved: {'symlink loop' if isinstance(exc, RuntimeError) else exc}"
                         ) from None
        if resolved != root and root not in resolved.parents:
            raise BadJob(f"path {path!r} is outside the data root {str(root)!r}")
        if must_exist and not resolved.exists():
            raise BadJob(f"path {path!r} does not exist")
        return resolved


class JobKind(Protocol):
    """A registered job kind. Methods raise depqueue.errors.BadJob for arguments that can never work."""

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
