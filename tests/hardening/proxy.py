"""A TCP proxy between workers and beanstalkd that a test can cut: while cut, no byte crosses in either
direction and new connections hang unanswered, as on a partitioned network; TCP connections survive a cut
(their bytes wait, as a kernel retransmits) unless a side gives up first."""

from __future__ import annotations

import select
import socket
import threading
import time


class CuttableProxy:
    """Listens on a free loopback port and forwards each connection to ``target``."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.listener.getsockname()[1])
        self.flowing = threading.Event()
        self.flowing.set()
        self.closed = False
        #: monotonic time of the first reply forwarded to a client after the last ``resume()``.
        self.first_reply_after_resume: float | None = None
        self.resumed_at: float | None = None
        threading.Thread(target=self._accept, daemon=True).start()

    def cut(self) -> None:
        self.flowing.clear()

    def resume(self) -> None:
        self.resumed_at = time.monotonic()
        self.first_reply_after_resume = None
        self.flowing.set()

    def close(self) -> None:
        self.closed = True
        self.flowing.set()
        self.listener.close()

    def _accept(self) -> None:
        while not self.closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._pipe, args=(client,), daemon=True).start()

    def _pipe(self, client: socket.socket) -> None:
        self.flowing.wait()  # a connection made during a cut gets no answer until it ends
        try:
            server = socket.create_connection(self.target)
        except OSError:
            client.close()
            return
        peers = {client: server, server: client}
        try:
            while not self.closed:
                self.flowing.wait()
                readable, _, _ = select.select(list(peers), [], [], 0.05)
                if not self.flowing.is_set():
                    continue  # cut between select and read: the bytes wait in the kernel
                for sock in readable:
                    data = sock.recv(65536)
                    if not data:
                        return
                    peers[sock].sendall(data)
                    if sock is server and self.resumed_at is not None and self.first_reply_after_resume is None:
                        self.first_reply_after_resume = time.monotonic()
        except OSError:
            return
        finally:
            client.close()
            server.close()
