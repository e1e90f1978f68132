"""Which dependency tubes a worker watches besides its main tube (and the wake tube, see expansion.py).

beanstalkd serves the best priority first and, at equal priority, the lowest job id: the earlier
parent's dependencies. Watching the tubes of the most urgent, oldest parents with work ready keeps
that order while the watch list stays bounded however many parents are active.
"""

from __future__ import annotations

import time

from depqueue import defaults
from depqueue.errors import MalformedJob
from depqueue.wire import tubes
from depqueue.wire.connection import Connection
from depqueue.wire.envelope import decode_record


class DepTubeWatch:
    """The watch list of one worker connection, refreshed when due.

    A quick refresh (after an expansion, or when a watched tube drains) trusts the tubes still watched
    and asks ``stats-tube`` only of the others; every ``refresh_every`` seconds all are checked.
    """

    def __init__(self, conn: Connection, tube: str, max_tubes: int, refresh_every: float) -> None:
        self.conn = conn
        self.tube = tube
        self.max_tubes = max_tubes
        self.refresh_every = refresh_every
        self.next_refresh = 0.0
        self.next_full_refresh = 0.0
        #: Watched dependency tubes seen with nothing ready since the last refresh.
        self.drained: set[str] = set()
        #: Each dependency tube's priority, read once from its first ready job.
        self.tube_priority: dict[str, int] = {}

    def refresh_soon(self) -> None:
        """A new dependency tube exists (this worker expanded a parent): look at once."""
        self.next_refresh = 0.0

    def refresh_all_soon(self) -> None:
        """Idle or reconnected: check every tube on the next refresh."""
        self.next_refresh = self.next_full_refresh = 0.0

    def tube_drained(self, dep_tube: str) -> None:
        """Nothing left to hand out in ``dep_tube``: look for other tubes now."""
        self.drained.add(dep_tube)
        self.next_refresh = 0.0

    def refresh(self) -> None:
        """Watch the main tube and the dependency tubes of the most urgent, oldest parents with work ready."""
        now = time.monotonic()
        full = now >= self.next_full_refresh
        if full:
            self.next_full_refresh = now + self.refresh_every
        self.next_refresh = self.next_full_refresh
        watched = self.conn.watching - self.drained
        chosen: list[str] = []
        for _, _, name in sorted(self._candidates()):
            if len(chosen) >= self.max_tubes:
                break
            if name in watched and not full:
                chosen.append(name)
                continue
            info = self.conn.stats_tube(name)
            if info is not None and info["current-jobs-ready"] > 0:
                chosen.append(name)
        self.drained.clear()
        self.conn.watch_only([self.tube, tubes.wake(self.tube), *chosen])

    def _candidates(self) -> list[tuple[int, int, str]]:
        """(priority, parent, tube) of every dependency tube with a ready job seen at least once."""
        candidates = []
        names = set()
        for name in self.conn.tubes():
            parent = tubes.parent_of(self.tube, name)
            if parent is None:
                continue
            names.add(name)
            if name not in self.tube_priority:
                priority = self._priority_of(name)
                if priority is None:
                    continue
                self.tube_priority[name] = priority
            candidates.append((self.tube_priority[name], parent, name))
        for gone in set(self.tube_priority) - names:
            del self.tube_priority[gone]
        return candidates

    def _priority_of(self, dep_tube: str) -> int | None:
        peeked = self.conn.peek_in(dep_tube, "ready")
        if peeked is None:
            return None
        try:
            return int(decode_record(peeked.body).get("priority", defaults.PRIORITY))
        except (MalformedJob, TypeError, ValueError):
            return defaults.PRIORITY
