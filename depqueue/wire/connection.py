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
from typing import TypeVar

import greenstalk

from depqueue.errors import BeanstalkdUnreachable, refused
from depqueue.wire import pipelined

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
        self._reserved: set[int] = set()  # reserved on the open socket: finish deletes no other
        #: Replies a finish left on the wire (pipelined.finish), read before the next command; they give
        #: the job reserved ahead, kept in _deferred until the worker takes it.
        self._owed: Callable[[], Job | None] | None = None
        self._deferred: Job | None = None

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
                if self._owed is not None:
                    self._settle()
                return fn(self._client)
            except (OSError, EOFError, greenstalk.UnknownResponseError) as exc:  # OSError: ConnectionError too
                self.close()
                raise BeanstalkdUnreachable(f"connection to beanstalkd at {self.address[0]}:"
                                            f"{self.address[1]} lost: {exc}") from None
            except _REFUSED as exc:  # a full binlog volume (or memory), or a draining server
                self.close()
                raise refused(self.address, exc) from None

    def _settle(self) -> None:
        owed, self._owed = self._owed, None
        if owed is not None:
            self._deferred = owed()
            if self._deferred is not None:
                self._reserved.add(self._deferred.id)

    def close(self) -> None:
        with self._lock:
            self._owed = self._deferred = None  # a job reserved ahead goes back with the connection
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
        self._owed = self._deferred = None
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

    # -- pipelined commands (pipelined.py) -------------------------------------------------------------
    def put_many(self, tube: str, bodies: list[bytes], priority: int, ttr: int) -> list[int]:
        """Put ``bodies`` in one write; every reply is read even if one is an error, so the stream stays in step."""
        with self._lock:
            self.use(tube)
            return self.call(lambda c: pipelined.put_many(c, bodies, priority, ttr))

    def stats_and_reserve(self, job_id: int, reserve: bool) -> tuple[StatsJob | None, Job | None]:
        """A reserved job's stats and, with ``reserve``, one more job reserved in the same round trip."""
        stats, following = self.call(lambda c: pipelined.stats_and_reserve(c, job_id, reserve))
        self._reserved.update([following.id] if following else [])
        return stats, following

    def finish(self, job_id: int, tube: str, *, stats_of: int | None = None, reserve: bool = False,
               same_tube: Callable[[bytes], bool] = lambda body: False) -> pipelined.Finished:
        """Delete a finished job and learn whether its tube drained, in one round trip with the held job's
        stats (``stats_of``) and the next reservation (``reserve``); see pipelined.finish."""
        if job_id not in self._reserved:
            raise BeanstalkdUnreachable(f"job {job_id} was reserved on a connection since lost; it went back")
        self._reserved.discard(job_id)
        with self._lock:
            done = self.call(lambda c: pipelined.finish(c, job_id, tube, stats_of, reserve, same_tube))
            self._reserved.update([done.reserved.id] if done.reserved else [])
            self._owed = done.rest
        return done

    def take_deferred(self) -> Job | None:
        """The job the last finish reserved ahead without reading its reply (None if there was none)."""
        with self._lock:
            if self._owed is not None and self._client is not None:
                self.call(lambda c: None)  # reads what is owed
            job, self._deferred = self._deferred, None
            return job

    def hand_back(self, job_id: int) -> bool:
        """Release a job held but not started, with its priority unchanged: no attempt is spent."""
        info = self.stats_job(job_id)
        return info is not None and self.release(job_id, info["pri"], 0)

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
        stats: StatsJob | None = self.call(lambda c: pipelined.stats_of(c, b"stats-job %d" % job_id))
        return stats

    def stats_tube(self, tube: str) -> StatsTube | None:
        stats: StatsTube | None = self.call(lambda c: pipelined.stats_of(c, b"stats-tube " + tube.encode("ascii")))
        return stats

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


def pending(tube_stats: StatsTube | None) -> int:
    """Jobs of a tube that are still to run or running: ready, reserved and delayed (not buried)."""
    if tube_stats is None:
        return 0
    return tube_stats["current-jobs-ready"] + tube_stats["current-jobs-reserved"] + tube_stats["current-jobs-delayed"]
