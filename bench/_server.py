"""What the benchmarks share: a private beanstalkd (testkit's, free loopback port, binlog in a temporary
folder) and job callbacks whose work is nothing, so that only the queue's own cost is measured."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from depqueue import DepQueue
from testkit.beanstalkd import running_beanstalkd


@contextmanager
def beanstalkd(binlog: bool = True) -> Iterator[int]:
    """testkit's private beanstalkd, as the tests use it; yields its port."""
    with running_beanstalkd(binlog) as server:
        yield server.port


class TrivialJobs:
    """depqueue callbacks: each parent gets ``deps`` dependencies, and no job does any work."""

    def __init__(self, deps: int) -> None:
        self.deps = deps

    def run_job(self, queue: object, job_id: int, params: list[str]) -> None:
        """Nothing to do."""

    def add_deps(self, queue: DepQueue, dep_tube: str, job_id: int, params: list[str]) -> int:
        for i in range(self.deps):
            queue.add_dependent_job(dep_tube, ["noop", str(i)])
        return self.deps
