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
from typing import Any, TypeVar

import greenstalk

from depqueue.errors import BeanstalkdUnreachable

T = TypeVar("T")

#: Extra seconds a socket read may take beyond a reserve timeout before the server counts as hung.
IO_SLACK = 10.0

Job = greenstalk.Job[bytes]
NotFound = greenstalk.NotFoundError


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
            try:
                return fn(self._client)
            except (OSError, EOFError, greenstalk.UnknownResponseError) as exc:
                self.close()
                raise BeanstalkdUnreachable(f"connection to beanstalkd at {self.address[0]}:"
                                            f"{self.address[1]} lost: {exc}") from None
            except ConnectionError as exc:  # pragma: no cover - subclass of OSError, kept explicit
                self.close()
                raise BeanstalkdUnreachable(str(exc)) from None

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                with contextlib.suppress(OSError):
                    self._client.close()
                self._client = None

    @property
    def is_open(self) -> bool:
        return self._client is not None

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
    def watching(self) -> set[str]:
        return set(self._watching)

    def reserve(self, timeout: int) -> Job | None:
        """Reserve from the watched tubes; None when nothing came within ``timeout`` seconds."""
        if timeout + IO_SLACK > self.io_timeout:
            raise ValueError(f"reserve timeout {timeout}s must be at least {IO_SLACK}s below io_timeout")
        try:
            return self.call(lambda c: c.reserve(timeout=timeout))
        except (greenstalk.TimedOutError, greenstalk.DeadlineSoonError):
            return None

    # -- pipelined commands ----------------------------------------------------------------------------
    # greenstalk sends one command and waits for its reply. These write several commands at once and
    # then read every reply in order, which saves a round trip per command on the hot paths. They use
    # greenstalk's own framing helpers (greenstalk 2.1 is pinned in pyproject.toml).
    def put_many(self, tube: str, bodies: list[bytes], priority: int, ttr: int) -> list[int]:
        """Put ``bodies`` in one write; every reply is read even if one is an error, so the stream stays in step."""
        def send(c: greenstalk.Client[bytes]) -> list[int]:
            c._sock.sendall(b"".join(b"put %d 0 %d %d\r\n%s\r\n" % (priority, ttr, len(b), b) for b in bodies))
            ids: list[int] = []
            error: Exception | None = None
            for _ in bodies:
                try:
                    (job_id,) = greenstalk._parse_response(c._reader.readline(), b"INSERTED")
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
                           ) -> tuple[dict[str, Any] | None, Job | None]:
        """Delete a finished job and tell whether its tube has drained (the finisher's fan-in check).

        With ``prefetch`` the next job is reserved in the same round trip (``reserve-with-timeout 0``);
        when ``same_tube`` says it comes from the same tube, that tube cannot have drained and the
        ``stats-tube`` is skipped. Returns (the tube's stats, or ``KEEP_GOING`` when skipped; the next job).
        """
        def send(c: greenstalk.Client[bytes]) -> tuple[dict[str, Any] | None, Job | None]:
            c._sock.sendall(b"delete %d\r\n" % job_id + (b"reserve-with-timeout 0\r\n" if prefetch else b""))
            with contextlib.suppress(NotFound):
                greenstalk._parse_response(c._reader.readline(), b"DELETED")
            following: Job | None = None
            if prefetch:
                with contextlib.suppress(greenstalk.TimedOutError, greenstalk.DeadlineSoonError):
                    next_id, next_size = greenstalk._parse_response(c._reader.readline(), b"RESERVED")
                    following = greenstalk.Job(int(next_id), c._read_chunk(int(next_size)))
            if following is not None and same_tube(following.body):
                return dict(KEEP_GOING), following
            c._sock.sendall(b"stats-tube %s\r\n" % tube.encode("ascii"))
            try:
                (size,) = greenstalk._parse_response(c._reader.readline(), b"OK")
            except NotFound:
                return None, following
            return dict(greenstalk._parse_stats(c._read_chunk(int(size)))), following

        return self.call(send)

    def reserve_job(self, job_id: int) -> Job | None:
        """Claim a job by id; None when it is gone or someone else holds it (the loser of a race)."""
        try:
            return self.call(lambda c: c.reserve_job(job_id))
        except NotFound:
            return None

    def delete(self, job_id: int) -> bool:
        try:
            self.call(lambda c: c.delete(job_id))
            return True
        except NotFound:
            return False

    def release(self, job_id: int, priority: int, delay: int = 0) -> bool:
        try:
            self.call(lambda c: c.release(greenstalk.Job(job_id, b""), priority=priority, delay=delay))
            return True
        except NotFound:
            return False

    def bury(self, job_id: int, priority: int) -> bool:
        try:
            self.call(lambda c: c.bury(greenstalk.Job(job_id, b""), priority=priority))
            return True
        except NotFound:
            return False

    def touch(self, job_id: int) -> bool:
        try:
            self.call(lambda c: c.touch(greenstalk.Job(job_id, b"")))
            return True
        except NotFound:
            return False

    def kick_job(self, job_id: int) -> bool:
        try:
            self.call(lambda c: c.kick_job(job_id))
            return True
        except NotFound:
            return False

    def stats_job(self, job_id: int) -> dict[str, Any] | None:
        try:
            return dict(self.call(lambda c: c.stats_job(job_id)))
        except NotFound:
            return None

    def stats_tube(self, tube: str) -> dict[str, Any] | None:
        try:
            return dict(self.call(lambda c: c.stats_tube(tube)))
        except NotFound:
            return None

    def stats(self) -> dict[str, Any]:
        return dict(self.call(lambda c: c.stats()))

    def tubes(self) -> list[str]:
        return self.call(lambda c: c.tubes())

    def peek(self, job_id: int) -> Job | None:
        try:
            return self.call(lambda c: c.peek(job_id))
        except NotFound:
            return None

    def peek_in(self, tube: str, state: str) -> Job | None:
        """peek-ready, peek-delayed or peek-buried in one tube."""
        with self._lock:
            self.use(tube)
            try:
                if state == "ready":
                    return self.call(lambda c: c.peek_ready())
                if state == "delayed":
                    return self.call(lambda c: c.peek_delayed())
                return self.call(lambda c: c.peek_buried())
            except NotFound:
                return None


#: Stands for the stats of a tube known to still hold work (one pending, one ready job).
KEEP_GOING = {"current-jobs-ready": 1, "current-jobs-reserved": 0, "current-jobs-delayed": 0}


def pending(tube_stats: dict[str, Any] | None) -> int:
    """Jobs of a tube that are still to run or running: ready, reserved and delayed (not buried)."""
    if tube_stats is None:
        return 0
    return int(tube_stats["current-jobs-ready"] + tube_stats["current-jobs-reserved"]
               + tube_stats["current-jobs-delayed"])
