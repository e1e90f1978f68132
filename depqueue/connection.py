"""One beanstalkd connection, shared safely by a worker's main thread and its heartbeat thread.

greenstalk's Client is one socket with request/reply framing, so two threads must never interleave
commands; every call here holds the connection's lock. Bodies stay bytes: a body that is not UTF-8 must
still be reserved, recognised as malformed and set aside, not crash the reader.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from collections.abc import Callable
from typing import TypeVar, cast

import greenstalk

from depqueue.errors import BeanstalkdUnreachable, refused

T = TypeVar("T")

#: Extra seconds a socket read may take beyond a reserve timeout before the server counts as hung.
IO_SLACK = 10.0

Job = greenstalk.Job[bytes]
NotFound = greenstalk.NotFoundError
_REFUSED = (greenstalk.OutOfMemoryError, greenstalk.InternalError, greenstalk.DrainingError)  # errors.refused
StatsJob = greenstalk.StatsJob
StatsTube = greenstalk.StatsTube
Stats = greenstalk.Stats


class Connection:
    """A lazily opened, lock-guarded greenstalk client that remembers its used tube."""

    def __init__(self, host: str, port: int, connect_timeout: float = 5.0, io_timeout: float = 30.0) -> None:
        self.address = (host, port)
        self.connect_timeout = connect_timeout
        self.io_timeout = io_timeout
        self._lock = threading.RLock()
        self._client: greenstalk.Client[bytes] | None = None
        self._using = "default"
        self._watching: set[str] = {"default"}
        self._reserved: set[int] = set()  # reserved on the open socket: finish_and_reserve deletes no other

    # -- plumbing -----------------------------------------------------------------------------------
    def _open(self) -> greenstalk.Client[bytes]:
        try:
            sock = socket.create_connection(self.address, timeout=self.connect_timeout)
        except OSError as exc:
            raise BeanstalkdUnreachable(f"cannot reach beanstalkd at {self.address[0]}:{self.address[1]}: "
                                        f"{exc.strerror or exc}") from None
        # A blocking socket with kernel-level timeouts: Python's own socket timeout polls before every send
        # and receive, which costs as much as the round trip itself on loopback. A server that stops
        # answering (paused, partitioned) still fails the call after io_timeout seconds.
        sock.settimeout(None)
        limit = struct.pack("ll", int(self.io_timeout), int((self.io_timeout % 1) * 1e6))
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, limit)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, limit)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        self._using, self._watching = "default", {"default"}
        return greenstalk.Client(sock, encoding=None)

    def call(self, fn: Callable[[greenstalk.Client[bytes]], T]) -> T:
        """Run one command under the lock; a broken connection is closed and reported as unreachable."""
        with self._lock:
            if self._client is None:
                self._client = self._open()
                self._reserved.clear()
            try:
                return fn(self._client)
            except (OSError, EOFError, greenstalk.UnknownResponseError) as exc:  # OSError: ConnectionError too
                self.close()
                raise BeanstalkdUnreachable(f"connection to beanstalkd at {self.address[0]}:"
                                            f"{self.address[1]} lost: {exc}") from None
            except _REFUSED as exc:  # a full binlog volume (or memory), or a draining server
                self.close()
                raise refused(self.address, exc) from None

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                with contextlib.suppress(OSError):
                    self._client.close()
                self._client = None

    def call_if_found(self, fn: Callable[[greenstalk.Client[bytes]], T]) -> T | None:
        """Run one command whose NOT_FOUND reply means "gone" (or "held by someone else"): None then."""
        try:
            return self.call(fn)
        except NotFound:
            return None

    def _done(self, fn: Callable[[greenstalk.Client[bytes]], object]) -> bool:
        """Run a command that answers nothing on success: True, or False when the job was not found."""
        return self.call_if_found(lambda c: fn(c) or True) is not None

    def abandon(self) -> None:
        """After fork: drop the socket inherited from the parent process, without a word on it.

        The lock is not taken (a thread of the parent may have held it at the fork) but replaced.
        """
        client, self._client = self._client, None
        self._lock = threading.RLock()
        if client is not None:
            with contextlib.suppress(OSError):
                client.close()

    # -- commands -------------------------------------------------------------------------------------
    def use(self, tube: str) -> None:
        with self._lock:
            if self._client is None or self._using != tube:
                self.call(lambda c: c.use(tube))
                self._using = tube

    def put(self, tube: str, body: bytes, priority: int, delay: int = 0, ttr: int = 60) -> int:
        with self._lock:
            self.use(tube)
            return self.call(lambda c: c.put(body, priority=priority, delay=delay, ttr=ttr))

    def watch_only(self, tubes: list[str]) -> None:
        """Make the watch list exactly ``tubes`` (order matters not to beanstalkd)."""
        with self._lock:
            if self._client is None:
                self.call(lambda c: None)
            wanted = set(tubes)
            for tube in wanted - self._watching:
                self.call(lambda c, t=tube: c.watch(t))  # type: ignore[misc]
                self._watching.add(tube)
            for tube in self._watching - wanted:
                self.call(lambda c, t=tube: c.ignore(t))  # type: ignore[misc]
                self._watching.discard(tube)

    @property
    def using(self) -> str:
        """The tube ``put`` and the peeks act on ("default" on a connection not open)."""
        return self._using if self._client is not None else "default"

    @property
    def watching(self) -> set[str]:
        return set(self._watching)

    def reserve(self, timeout: int) -> Job | None:
        """Reserve from the watched tubes; None when nothing came within ``timeout`` seconds."""
        if timeout + IO_SLACK > self.io_timeout:
            raise ValueError(f"reserve timeout {timeout}s must be at least {IO_SLACK}s below io_timeout")
        try:
            job = self.call(lambda c: c.reserve(timeout=timeout))
        except (greenstalk.TimedOutError, greenstalk.DeadlineSoonError):
            return None
        self._reserved.add(job.id)
        return job

    # -- pipelined commands ----------------------------------------------------------------------------
    # greenstalk sends one command and waits for its reply. These write several commands at once and
    # then read every reply in order, which saves a round trip per command on the hot paths.
    def put_many(self, tube: str, bodies: list[bytes], priority: int, ttr: int) -> list[int]:
        """Put ``bodies`` in one write; every reply is read even if one is an error, so the stream stays in step."""
        def send(c: greenstalk.Client[bytes]) -> list[int]:
            wire = Pipeline(c)
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

        with self._lock:
            self.use(tube)
            return self.call(send)

    def finish_and_reserve(self, job_id: int, tube: str, prefetch: bool,
                           same_tube: Callable[[bytes], bool] = lambda body: False
                           ) -> tuple[StatsTube | None, Job | None]:
        """Delete a finished job and tell whether its tube has drained (the finisher's fan-in check).

        With ``prefetch`` the next job is reserved in the same round trip (``reserve-with-timeout 0``);
        when ``same_tube`` says it comes from the same tube, that tube cannot have drained and the
        ``stats-tube`` is skipped. Returns (the tube's stats, or ``still_working`` when skipped; the next job).
        """
        if job_id not in self._reserved:
            raise BeanstalkdUnreachable(f"job {job_id} was reserved on a connection since lost; it went back")
        self._reserved.discard(job_id)

        def send(c: greenstalk.Client[bytes]) -> tuple[StatsTube | None, Job | None]:
            wire = Pipeline(c)
            wire.send(b"delete %d\r\n" % job_id + (b"reserve-with-timeout 0\r\n" if prefetch else b""))
            with contextlib.suppress(NotFound):
                wire.reply(b"DELETED")
            following: Job | None = None
            if prefetch:
                with contextlib.suppress(greenstalk.TimedOutError, greenstalk.DeadlineSoonError):
                    next_id, next_size = wire.reply(b"RESERVED")
                    following = greenstalk.Job(int(next_id), wire.chunk(int(next_size)))
                    self._reserved.add(following.id)
            if following is not None and same_tube(following.body):
                return still_working(tube), following
            wire.send(b"stats-tube %s\r\n" % tube.encode("ascii"))
            try:
                (size,) = wire.reply(b"OK")
            except NotFound:
                return None, following
            return wire.tube_stats(int(size)), following

        return self.call(send)

    def reserve_job(self, job_id: int) -> Job | None:
        """Claim a job by id; None when it is gone or someone else holds it (the loser of a race)."""
        job = self.call_if_found(lambda c: c.reserve_job(job_id))
        self._reserved.update([job.id] if job else [])
        return job

    def delete(self, job_id: int) -> bool:
        self._reserved.discard(job_id)
        return self._done(lambda c: c.delete(job_id))

    def release(self, job_id: int, priority: int, delay: int = 0) -> bool:
        self._reserved.discard(job_id)
        return self._done(lambda c: c.release(greenstalk.Job(job_id, b""), priority=priority, delay=delay))

    def bury(self, job_id: int, priority: int) -> bool:
        self._reserved.discard(job_id)
        return self._done(lambda c: c.bury(greenstalk.Job(job_id, b""), priority=priority))

    def touch(self, job_id: int) -> bool:
        return self._done(lambda c: c.touch(greenstalk.Job(job_id, b"")))

    def kick_job(self, job_id: int) -> bool:
        return self._done(lambda c: c.kick_job(job_id))

    def stats_job(self, job_id: int) -> StatsJob | None:
        return self.call_if_found(lambda c: c.stats_job(job_id))

    def stats_tube(self, tube: str) -> StatsTube | None:
        return self.call_if_found(lambda c: c.stats_tube(tube))

    def stats(self) -> Stats:
        return self.call(lambda c: c.stats())

    def tubes(self) -> list[str]:
        return self.call(lambda c: c.tubes())

    def peek(self, job_id: int) -> Job | None:
        return self.call_if_found(lambda c: c.peek(job_id))

    def peek_in(self, tube: str, state: str) -> Job | None:
        """peek-ready, peek-delayed or peek-buried in one tube."""
        with self._lock:
            self.use(tube)
            peeks = {"ready": greenstalk.Client.peek_ready, "delayed": greenstalk.Client.peek_delayed,
                     "buried": greenstalk.Client.peek_buried}
            return self.call_if_found(peeks[state])


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

    def tube_stats(self, size: int) -> StatsTube:
        return cast(StatsTube, greenstalk._parse_stats(self.chunk(size)))


def still_working(tube: str) -> StatsTube:
    """Stands for the stats of a tube known to still hold work (one pending, one ready job)."""
    return {"name": tube, "current-jobs-urgent": 0, "current-jobs-ready": 1, "current-jobs-reserved": 0,
            "current-jobs-delayed": 0, "current-jobs-buried": 0, "total-jobs": 1, "current-using": 0,
            "current-waiting": 0, "current-watching": 0, "pause": 0, "cmd-delete": 0, "cmd-pause-tube": 0,
            "pause-time-left": 0}


def pending(tube_stats: StatsTube | None) -> int:
    """Jobs of a tube that are still to run or running: ready, reserved and delayed (not buried)."""
    if tube_stats is None:
        return 0
    return tube_stats["current-jobs-ready"] + tube_stats["current-jobs-reserved"] + tube_stats["current-jobs-delayed"]
