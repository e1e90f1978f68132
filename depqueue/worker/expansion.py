"""A parent's expansion: while ``add_job_deps_callback`` runs, the worker's own queue (the one the callback
is given) hands the parent's dependencies to an ``Expansion`` (``DepQueue.expanding``), which sends them
in pipelined batches instead of one round trip each.
"""

from __future__ import annotations

from depqueue.errors import JobTooBig
from depqueue.wire import tubes
from depqueue.wire.connection import Connection
from depqueue.wire.envelope import Envelope, encode_params, encoded_around_params
from depqueue.wire.records import RECORD_TTR
from depqueue.wire.signing import SIGNATURE_BYTES
from depqueue.worker.hooks import ServedQueue

#: Dependencies sent to beanstalkd in one write during an expansion.
PUT_BATCH = 256
#: The body of a wake record (envelope.py).
WAKE = b'{"v":1,"type":"wake"}'


class Expansion:
    """The dependencies of parent ``parent`` (its envelope ``envelope``) as ``queue``'s callback adds them
    to ``dep_tube``: ``DepQueue.expanding`` routes its ``add_dependent_job`` here."""

    def __init__(self, queue: ServedQueue, parent: int, envelope: Envelope, dep_tube: str) -> None:
        self.conn = queue.conn
        self.tube = queue.tube
        self.signer = queue.signer
        self.max_job_size = queue.max_job_size
        self.envelope = envelope
        self.dep_tube = dep_tube
        #: Every dependency body shares the parent's fields; only ``params`` differs. So a body is the
        #: template's encoding with the params' own encoding spliced in: the same bytes as encoding the
        #: whole record, at a fraction of the cost (checked by the envelope tests).
        self.before, self.after = encoded_around_params(envelope.for_dependency(["-"], parent, queue.tube))
        self.max_params = self.max_job_size - len(self.before) - len(self.after) - (
            SIGNATURE_BYTES if self.signer is not None else 0)
        self.count = 0
        self.buffer: list[bytes] = []
        self.woken = False

    def add(self, params: list[str]) -> None:
        """Buffer one dependency (its params already strings, not empty)."""
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
            self.conn.put_many(self.dep_tube, bodies, self.envelope.wire_priority, self.envelope.ttr)
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
