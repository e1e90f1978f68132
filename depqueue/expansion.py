"""What ``add_job_deps_callback`` gets while a worker expands a parent: the worker's queue, buffered.

The expansion is the worker's state, so it lives here and not on the worker's DepQueue: an
ExpandingQueue shares that queue's connections, and its ``add_dependent_job`` for the parent being
expanded sends the dependencies in pipelined batches instead of one round trip each.
"""

from __future__ import annotations

from depqueue import tubes
from depqueue.connection import Connection
from depqueue.envelope import Envelope, encode_params, encoded_around_params
from depqueue.errors import JobTooBig, MalformedJob
from depqueue.queue import DepQueue
from depqueue.records import RECORD_TTR
from depqueue.signing import SIGNATURE_BYTES

#: Dependencies sent to beanstalkd in one write during an expansion.
PUT_BATCH = 256
#: The body of a wake record (envelope.py).
WAKE = b'{"v":1,"type":"wake"}'


class ExpandingQueue(DepQueue):
    """``queue`` while the parent ``parent`` (its envelope ``envelope``) is being expanded into ``dep_tube``."""

    def __init__(self, queue: DepQueue, parent: int, envelope: Envelope, dep_tube: str) -> None:
        super().__init__(queue.host, queue.port, queue.tube, connect_timeout=queue.connect_timeout,
                         signer=queue.signer)
        self.base = queue
        self.parent = parent
        self.envelope = envelope
        self.expanding_tube = dep_tube
        #: Every dependency body shares the parent's fields; only ``params`` differs. So a body is the
        #: template's encoding with the params' own encoding spliced in: the same bytes as encoding the
        #: whole record, at a fraction of the cost (checked by the envelope tests).
        self.before, self.after = encoded_around_params(envelope.for_dependency(["-"], parent, queue.tube))
        self.max_params = self.max_job_size - len(self.before) - len(self.after) - (
            SIGNATURE_BYTES if self.signer is not None else 0)
        self.count = 0
        self.buffer: list[bytes] = []
        self.woken = False

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
        encoded = encode_params(params)
        if len(encoded) > self.max_params:
            raise JobTooBig(f"job body is {len(encoded) + len(self.before) + len(self.after)} bytes, over "
                            f"beanstalkd's max job size of {self.max_job_size} bytes (start beanstalkd with "
                            "a larger -z, or pass fewer or shorter arguments)")
        body = self.before + encoded + self.after
        self.buffer.append(body if self.signer is None else self.signer.sign(body))
        self.count += 1
        if len(self.buffer) >= PUT_BATCH:
            self.flush()

    def flush(self) -> None:
        """Send the buffered dependencies; after the first ones, wake idle workers to take them."""
        if self.buffer:
            bodies, self.buffer = self.buffer, []
            self.conn.put_many(self.expanding_tube, bodies, self.envelope.wire_priority, self.envelope.ttr)
            if not self.woken:
                self.woken = True
                wake_idle_workers(self.conn, self.tube, len(bodies) - 1)


def wake_idle_workers(conn: Connection, tube: str, most: int) -> None:
    """Wake up to ``most`` workers blocked in ``reserve`` so they look at the new dependency tube at once.

    An idle worker reserves with a timeout (RESERVE_TIMEOUT) on the tubes it watched when it went idle;
    the new tube did not exist then. Each wake record is handed to one waiting worker, which deletes it
    and refreshes its watch list (worker.py); one left over, if a worker stopped waiting meanwhile, is
    taken and deleted the same way by the next worker to reserve.
    """
    stats = conn.stats_tube(tubes.wake(tube))
    waiting = min(most, stats["current-waiting"] if stats else 0)
    if waiting > 0:
        conn.put_many(tubes.wake(tube), [WAKE] * waiting, 0, RECORD_TTR)
