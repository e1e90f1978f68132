"""Per-parent progress from a dependency tube's ``stats-tube``, its manifest and its failure records.

The worker's fan-in, ``DepQueue.parent_progress`` and the monitor all count the same way, here.
"""

from __future__ import annotations

from dataclasses import dataclass

from depqueue.connection import StatsTube, pending


@dataclass(frozen=True)
class DepCounts:
    """A parent's dependencies: how many in all, running, waiting (ready or delayed) and failed for good."""

    total: int = 0
    running: int = 0
    waiting: int = 0
    failed: int = 0

    @classmethod
    def of(cls, total: int, dep_stats: StatsTube | None, failed: int) -> DepCounts:
        """``total`` from the manifest (or an estimate before it exists); the rest from the tube's stats."""
        running = dep_stats["current-jobs-reserved"] if dep_stats else 0
        return cls(total=total, running=running, waiting=pending(dep_stats) - running, failed=failed)

    @property
    def left(self) -> int:
        """Still to run or running."""
        return self.running + self.waiting

    @property
    def done(self) -> int:
        # Clamped: while expansion is still putting dependencies the known total can trail the counts.
        return max(self.total - self.left - self.failed, 0)


@dataclass(frozen=True)
class ParentProgress:
    """Where one parent stands: its state (queued, expanding, waiting, running, finished, or "" when not
    asked), its dependency counts, its age in seconds and whether its expansion is complete."""

    parent: int
    state: str
    deps: DepCounts
    age: float | None
    expanded: bool
    batch: str = ""
