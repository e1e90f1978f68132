"""Helpers of the wndchrm kind's tests: a recording fake queue, and running a job the way the queue does."""

from __future__ import annotations

import multiprocessing
from dataclasses import dataclass, field

from services.kinds import JobContext
from services.kinds.wndchrm import WNDCHRM, WndchrmKind


@dataclass
class FakeQueue:
    """Records ``add_dependent_job`` calls the way DepQueue would accept them."""

    deps: list[tuple[str, list[str]]] = field(default_factory=list)

    def add_dependent_job(self, dep_tube: str, params: list[str]) -> int:
        self.deps.append((dep_tube, list(params)))
        return len(self.deps)

    @property
    def params(self) -> list[list[str]]:
        return [p for _, p in self.deps]


_CTX: JobContext | None = None


def _run_dependency(argv: list[str]) -> None:
    assert _CTX is not None
    WNDCHRM.run(None, 0, argv, _CTX)  # type: ignore[arg-type]


def precompute(ctx: JobContext, params: list[list[str]], processes: int = 2) -> None:
    """Run dependency jobs of the built-in kind in ``processes`` forked processes, as workers would."""
    global _CTX
    _CTX = ctx
    with multiprocessing.get_context("fork").Pool(processes) as pool:
        pool.map(_run_dependency, params, chunksize=1)


def run_through_kind(kind: WndchrmKind, ctx: JobContext, argv: list[str]) -> FakeQueue:
    """Validate, expand, run every dependency, then run the parent; return the queue of dependencies."""
    kind.validate(argv, ctx)
    queue = FakeQueue()
    count = kind.expand(queue, "wndchrm-deps-1", 1, argv, ctx)  # type: ignore[arg-type]
    assert count == len(queue.deps)
    for params in queue.params:
        kind.run(queue, 2, params, ctx)  # type: ignore[arg-type]
    kind.run(queue, 1, argv, ctx)  # type: ignore[arg-type]
    return queue
