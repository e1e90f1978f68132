"""Commands written several at a time, their replies read in order: a round trip for a whole group.

greenstalk sends one command and waits for its reply. On the hot paths (expansion's puts, and the
end of one dependency with the start of the next) that would be one round trip, and one wake-up of
each side, per command; these functions write the group at once and read every reply, so the
stream stays in step even when one command fails. ``Connection`` calls them under its lock.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any, NamedTuple

import greenstalk

Job = greenstalk.Job[bytes]
StatsJob = greenstalk.StatsJob
StatsTube = greenstalk.StatsTube
NotFound = greenstalk.NotFoundError
_NOTHING_READY = (greenstalk.TimedOutError, greenstalk.DeadlineSoonError)


class Pipeline:
    """greenstalk's own framing for commands we write ourselves.

    These are greenstalk's private members (``_sock``, ``_reader``, ``_read_chunk``, ``_parse_response``,
    ``_parse_stats``), all here and nowhere else; pyproject.toml pins greenstalk to the 2.1 series they
    are read from.
    """

    def __init__(self, client: greenstalk.Client[bytes]) -> None:
        self.client = client

    def send(self, data: bytes) -> None:
        self.client._sock.sendall(data)

    def reply(self, expected: bytes) -> list[bytes]:
        """The values of a reply line; greenstalk's reply table raises the error a status stands for."""
        return greenstalk._parse_response(self.client._reader.readline(), expected)

    def chunk(self, size: int) -> bytes:
        return self.client._read_chunk(size)

    def stats(self) -> Any:
        """The reply to ``stats-job`` or ``stats-tube`` (a StatsJob or StatsTube); None for NOT_FOUND."""
        try:
            (size,) = self.reply(b"OK")
        except NotFound:
            return None
        return parse_stats(self.chunk(int(size)))

    def reserved(self) -> Job | None:
        """The reply to ``reserve-with-timeout 0``: the job, or None when nothing was ready."""
        try:
            job_id, size = self.reply(b"RESERVED")
        except _NOTHING_READY:
            return None
        return greenstalk.Job(int(job_id), self.chunk(int(size)))


def parse_stats(chunk: bytes) -> dict[str, int | str]:
    """A job's or a tube's stats (YAML, one ``key: value`` a line), numbers as int.

    greenstalk's own parser tries int() on every value and catches the error for the text ones, which
    costs a dependency more than the rest of its stats handling; job and tube stats hold only
    non-negative integers and names, which ``isdigit`` tells apart. A name stays text even when it is
    all digits (a tube called ``42``).
    """
    stats: dict[str, int | str] = {}
    for line in chunk.decode("ascii").splitlines()[1:]:
        key, _, value = line.partition(": ")
        stats[key] = int(value) if value.isdigit() and key not in _NAMES else value
    return stats


_NAMES = frozenset(("tube", "name", "state"))


def stats_of(client: greenstalk.Client[bytes], command: bytes) -> Any:
    """``stats-job <id>`` or ``stats-tube <name>``: the stats, or None for NOT_FOUND."""
    wire = Pipeline(client)
    wire.send(command + b"\r\n")
    return wire.stats()


def put_many(client: greenstalk.Client[bytes], bodies: list[bytes], priority: int, ttr: int) -> list[int]:
    """Put ``bodies`` in the used tube in one write; raises the first error after reading every reply."""
    wire = Pipeline(client)
    wire.send(b"".join(b"put %d 0 %d %d\r\n%s\r\n" % (priority, ttr, len(b), b) for b in bodies))
    ids: list[int] = []
    error: Exception | None = None
    for _ in bodies:
        try:
            (job_id,) = wire.reply(b"INSERTED")
            ids.append(int(job_id))
        except greenstalk.BeanstalkdError as exc:
            error = error or exc
    if error is not None:
        raise error
    return ids


def stats_and_reserve(client: greenstalk.Client[bytes], job_id: int, reserve: bool
                      ) -> tuple[StatsJob | None, Job | None]:
    """``stats-job`` of a job just reserved and, with ``reserve``, the reservation of one more job."""
    wire = Pipeline(client)
    wire.send(b"stats-job %d\r\n" % job_id + (b"reserve-with-timeout 0\r\n" if reserve else b""))
    stats: StatsJob | None = wire.stats()
    return stats, wire.reserved() if reserve else None


class Finished(NamedTuple):
    """What the end of one job learnt: its tube's stats (or ``still_working``), the held job's stats when
    they were asked for, and the job reserved in the same round trip, or, in ``rest``, the reading of the
    replies left on the wire (see ``finish``), which gives that job."""

    tube_stats: StatsTube | None
    next_stats: StatsJob | None
    reserved: Job | None
    rest: Callable[[], Job | None] | None = None


def finish(client: greenstalk.Client[bytes], job_id: int, tube: str, stats_of: int | None, reserve: bool,
           same_tube: Callable[[bytes], bool]) -> Finished:
    """Delete a finished job; with ``stats_of`` read that (held) job's stats; with ``reserve`` reserve the
    next job (``reserve-with-timeout 0``): all in one write.

    The finisher must learn whether the job's tube has drained (the fan-in check). It has not when the
    held job's stats put it in the same tube, or when ``same_tube`` (asked of the reserved job's body)
    says so; otherwise a ``stats-tube`` follows in a second round trip.

    The held job's stats come first. When they show the tube still working, nothing else is needed
    before the held job runs: the replies to the delete and the reservation are left on the wire, and
    ``rest`` reads them later (the connection does, before its next command), by when they have long
    arrived. So the worker waits for one reply per job, not three.
    """
    wire = Pipeline(client)
    wire.send((b"stats-job %d\r\n" % stats_of if stats_of is not None else b"") + b"delete %d\r\n" % job_id
              + (b"reserve-with-timeout 0\r\n" if reserve else b""))
    next_stats: StatsJob | None = wire.stats() if stats_of is not None else None

    def rest() -> Job | None:
        # NOT_FOUND: its reservation lapsed (TTR) and someone else holds it now, theirs to delete.
        with contextlib.suppress(NotFound):
            wire.reply(b"DELETED")
        return wire.reserved() if reserve else None

    if next_stats is not None and next_stats["tube"] == tube:
        return Finished(still_working(tube), next_stats, None, rest)
    following = rest()
    if following is not None and same_tube(following.body):
        return Finished(still_working(tube), next_stats, following)
    wire.send(b"stats-tube %s\r\n" % tube.encode("ascii"))
    tube_stats: StatsTube | None = wire.stats()
    return Finished(tube_stats, next_stats, following)


def still_working(tube: str) -> StatsTube:
    """Stands for the stats of a tube known to still hold work (one pending, one ready job). Read only: the
    same dict serves every finish in that tube."""
    stats = _STILL_WORKING.get(tube)
    if stats is None:
        if len(_STILL_WORKING) > 1000:
            _STILL_WORKING.clear()
        stats = _STILL_WORKING[tube] = {
            "name": tube, "current-jobs-urgent": 0, "current-jobs-ready": 1, "current-jobs-reserved": 0,
            "current-jobs-delayed": 0, "current-jobs-buried": 0, "total-jobs": 1, "current-using": 0,
            "current-waiting": 0, "current-watching": 0, "pause": 0, "cmd-delete": 0, "cmd-pause-tube": 0,
            "pause-time-left": 0}
    return stats


_STILL_WORKING: dict[str, StatsTube] = {}
