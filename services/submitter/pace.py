"""How fast a batch's dependencies (for wndchrm, images) end, and the time left at that pace.

A batch's counts cover every parent of it, finished ones too: a finished parent's dependencies stay
counted (from its outcome record's ``deps`` and ``failed_count``), so the batch's figures only grow.
A parent not yet expanded counts what is in sight of it so far; its total grows as it expands.

Time left is dependencies left divided by the pace of the last minute. For a parent it is the time until
its own dependencies are through: workers serve the dependencies of earlier parents of equal priority
first, so that is its own left plus those of the batch's earlier parents, at the batch's pace. Neither
includes the parents' own runs (training, classifying), which start when their dependencies are done.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from depqueue import DepCounts, Throughput

#: Seconds of readings the pace is measured over.
PACE_WINDOW = 60.0
#: beanstalkd gives a job's age in whole seconds (truncated): half a second is the better guess.
AGE_ROUNDING = 0.5


@dataclass(frozen=True)
class Counts:
    """One parent's (or a batch's) dependencies: done, failed for good, and how many in all so far."""

    done: int = 0
    failed: int = 0
    total: int = 0

    @classmethod
    def of(cls, deps: DepCounts) -> Counts:
        return cls(deps.done, deps.failed, deps.total)

    @classmethod
    def of_outcome(cls, outcome: dict[str, Any], last: Counts) -> Counts:
        """A finished parent's counts from its outcome; a cancelled or lost one keeps what had ended."""
        if outcome.get("status") == "cancelled" or "deps" not in outcome:
            return cls(last.done, last.failed, last.ended)
        deps, failed = int(outcome.get("deps") or 0), int(outcome.get("failed_count") or 0)
        return cls(max(deps - failed, 0), failed, deps)

    @property
    def ended(self) -> int:
        return self.done + self.failed

    @property
    def left(self) -> int:
        return max(self.total - self.ended, 0)

    def __add__(self, other: Counts) -> Counts:
        return Counts(self.done + other.done, self.failed + other.failed, self.total + other.total)


def duration(seconds: float) -> str:
    """``45s``, ``3m05s``, ``2h04m``."""
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


def pace_text(rate: float | None, seconds_left: float | None, left: int) -> str:
    """``12.3/s, about 1m05s left``; before any pace is known, what is left without a time."""
    if left == 0:
        return "done"
    speed = f"{rate:.3g}/s" if rate else "0/s"
    return f"{speed}, about {duration(seconds_left)} left" if seconds_left is not None else \
        f"{speed}, {left} left, time left unknown"


class BatchPace:
    """The counts and pace of one batch's dependencies, per parent and in all."""

    def __init__(self, window: float = PACE_WINDOW, clock: Callable[[], float] = time.monotonic) -> None:
        self.window, self.clock = window, clock
        self.counts: dict[int, Counts] = {}
        self.meters: dict[int, Throughput] = {}
        self.batch = Throughput(window, clock)

    def update(self, parent: int, counts: Counts, age: float | None = None) -> None:
        """A parent's counts now; ``age`` (seconds since it was submitted) gives a first reading a pace."""
        self.counts[parent] = counts
        meter = self.meters.get(parent)
        if meter is None:
            meter = self.meters[parent] = Throughput(self.window, self.clock)
            if age is not None:
                meter.seed(0, self.clock() - age - AGE_ROUNDING)
        meter.add(counts.ended)

    def last(self, parent: int) -> Counts:
        return self.counts.get(parent, Counts())

    def tick(self, oldest_age: float | None = None) -> None:
        """After a round of updates: a reading of the whole batch (``oldest_age`` seeds the first one)."""
        if oldest_age is not None and not self.batch.readings:
            self.batch.seed(0, self.clock() - oldest_age - AGE_ROUNDING)
        self.batch.add(self.total().ended)

    def total(self, parents: Iterable[int] | None = None) -> Counts:
        found = Counts()
        for parent in self.counts if parents is None else parents:
            found += self.last(parent)
        return found

    def batch_text(self) -> str:
        total = self.total()
        failed = f" ({total.failed} failed)" if total.failed else ""
        return (f"dependencies {total.ended}/{total.total} done{failed}, "
                f"{pace_text(self.batch.rate, self.batch.seconds_left(total.left), total.left)}")

    def parent_pace(self, parent: int) -> tuple[float | None, float | None]:
        """A parent's own pace and its time left: its dependencies and those of earlier parents, at the
        batch's pace (the module's docstring says why)."""
        meter = self.meters.get(parent)
        ahead = self.total(p for p in self.counts if p <= parent and self.last(p).left)
        own = self.last(parent).left
        return (meter.rate if meter else None), (self.batch.seconds_left(ahead.left) if own else 0.0)

    def parent_text(self, parent: int) -> str:
        counts = self.last(parent)
        rate, left = self.parent_pace(parent)
        return pace_text(rate, left, counts.left)
