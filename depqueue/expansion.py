"""What ``add_job_deps_callback`` gets while a worker expands a parent: the worker's queue, buffered.

The expansion is the worker's state, so it lives here and not on the worker's DepQueue: an
ExpandingQueue shares that queue's connections, and its ``add_dependent_job`` for the parent being
expanded sends the dependencies in pipelined batches instead of one round trip each.
"""

from __future__ import annotations

from depqueue.connection import Connection
from depqueue.envelope import Envelope
from depqueue.errors import MalformedJob
from depqueue.queue import DepQueue

#: Dependencies sent to beanstalkd in one write during an expansion.
PUT_BATCH = 256


class ExpandingQueue(DepQueue):
    """``queue`` while the parent ``parent`` (its envelope ``envelope``) is being expanded into ``dep_tube``."""

    def __init__(self, queue: DepQueue, parent: int, envelope: Envelope, dep_tube: str) -> None:
        super().__init__(queue.host, queue.port, queue.tube, connect_timeout=queue.connect_timeout,
                         signer=queue.signer)
        self.base = queue
        self.parent = parent
        self.envelope = envelope
        self.expanding_tube = dep_tube
        #: Every dependency body shares the parent's fields; only ``params`` differs.
        self.template = envelope.for_dependency(["-"], parent, queue.tube).to_dict()
        self.count = 0
        self.buffer: list[bytes] = []

    @property
    def conn(self) -> Connection:
        return self.base.conn

    @property
    def reader(self) -> Connection:
        return self.base.reader

    @property
    def max_job_size(self) -> int:
        return self.base.max_job_size

    def close(self) -> None:
        """The connections are the worker's: they stay open."""

    def add_dependent_job(self, dep_tube: str, params: list[str]) -> None:
        """Buffer a dependency of the parent being expanded; any other tube is put at once."""
        if dep_tube != self.expanding_tube:
            super().add_dependent_job(dep_tube, params)
            return
        params = [str(p) for p in params]
        if not params:
            raise MalformedJob("a dependency's params must not be empty")
        self.buffer.append(self.encode({**self.template, "params": params}))
        self.count += 1
        if len(self.buffer) >= PUT_BATCH:
            self.flush()

    def flush(self) -> None:
        """Send the buffered dependencies."""
        if self.buffer:
            bodies, self.buffer = self.buffer, []
            self.conn.put_many(self.expanding_tube, bodies, self.envelope.wire_priority, self.envelope.ttr)
