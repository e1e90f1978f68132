"""Build queue states by hand with greenstalk, following the queue's conventions on beanstalkd.

Shared by the monitor tests and bench/monitor_scrape.py; it writes what workers and the submitter would
write (parents, dependencies, buried manifests, depfail records) without running them.
"""

from __future__ import annotations

import json
import socket
import time
from dataclasses import dataclass
from typing import Any

import greenstalk

PRIORITY = 1024 << 8  # depqueue's default priority, shifted as on the wire


def body(record: dict[str, Any]) -> bytes:
    return json.dumps({"v": 1, **record}).encode()


def put_parent(client: greenstalk.Client[bytes], tube: str, batch: str, params: list[str] | None = None,
               priority: int = PRIORITY) -> int:
    client.use(tube)
    return client.put(body({"type": "job", "params": params or ["wndchrm", "train", "x"], "batch": batch,
                            "priority": 1024, "submitted": time.time()}), priority=priority)


def park(client: greenstalk.Client[bytes], job_id: int, delay: int = 3600) -> None:
    """Reserve a ready parent by id and release it delayed, as a worker parks a parent waiting on deps."""
    job = client.reserve_job(job_id)
    client.release(job, priority=PRIORITY, delay=delay)


def put_deps(client: greenstalk.Client[bytes], tube: str, parent: int, batch: str, count: int,
             priority: int = PRIORITY) -> list[int]:
    client.use(f"{tube}-deps-{parent}")
    return [client.put(body({"type": "dep", "params": ["wndchrm", "features", f"img{i}.tif"],
                             "parent": parent, "parent_tube": tube, "batch": batch, "priority": 1024}),
                       priority=priority)
            for i in range(count)]


def write_manifest(client: greenstalk.Client[bytes], tube: str, parent: int, batch: str, deps: int) -> int:
    client.use(f"{tube}-deps-{parent}")
    manifest = {"type": "manifest", "parent": parent, "deps": deps, "expanded": time.time(),
                "batch": batch, "priority": 1024}
    manifest_id = client.put(body(manifest), priority=0)
    client.bury(client.reserve_job(manifest_id), priority=0)
    return manifest_id


def fail_dep(client: greenstalk.Client[bytes], tube: str, parent: int, dep: int) -> None:
    """A dependency out of attempts: its job is deleted and a depfail record put for the parent."""
    client.delete(dep)
    client.use(f"{tube}-depfail-{parent}")
    client.put(body({"type": "depfail", "parent": parent, "dep": dep, "params": ["wndchrm", "features"],
                     "reason": "exit status 1"}))


def idle_worker(address: tuple[str, int], tube: str) -> socket.socket:
    """A connection blocked in reserve on the main tube, like an idle worker; close it to end it."""
    sock = socket.create_connection(address)
    sock.sendall(f"watch {tube}\r\nignore default\r\nreserve-with-timeout 3600\r\n".encode())
    return sock


def wait_for(predicate: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.01)


@dataclass
class DemoQueue:
    """The handles of a state built by build_demo_queue; close() ends the workers' connections."""

    a: int
    b: int
    c: int
    clients: list[greenstalk.Client[bytes]]
    idle: socket.socket

    def close(self) -> None:
        self.idle.close()
        for client in self.clients:
            client.close()


def build_demo_queue(address: tuple[str, int], tube: str = "wndchrm") -> DemoQueue:
    """Parent A: 5 deps (1 done, 1 running, 1 ready, 1 in retry backoff, 1 failed), parked.
    Parent B: 2 deps, all done, parked. Parent C: expanding (2 deps put, no manifest), reserved.
    Workers: one running A's dep, one expanding C, one idle in reserve. Plus records and a stranger's tube.
    """
    c = greenstalk.Client(address, encoding=None)
    a = put_parent(c, tube, "b1")
    b = put_parent(c, tube, "b1")
    parent_c = put_parent(c, tube, "b2")
    park(c, a)
    park(c, b)
    done, running, _ready, backoff, failed = put_deps(c, tube, a, "b1", 5, priority=5)
    c.delete(done)
    c.release(c.reserve_job(backoff), priority=PRIORITY, delay=3600)
    fail_dep(c, tube, a, failed)
    write_manifest(c, tube, a, "b1", 5)
    for dep in put_deps(c, tube, b, "b1", 2):
        c.delete(dep)
    write_manifest(c, tube, b, "b1", 2)
    put_deps(c, tube, parent_c, "b2", 2)
    c.use(f"{tube}-outcomes-b0")
    c.put(body({"type": "outcome", "parent": 1, "status": "succeeded"}))
    c.use(f"{tube}-failed")
    c.put(body({"type": "failed", "parent": 2, "reason": "x"}))
    c.use("otherapp")
    c.put(b"not ours")

    running_worker = greenstalk.Client(address, encoding=None, watch=[tube, f"{tube}-deps-{a}"])
    running_worker.reserve_job(running)
    expanding_worker = greenstalk.Client(address, encoding=None, watch=[tube])
    expanding_worker.reserve_job(parent_c)
    idle = idle_worker(address, tube)
    wait_for(lambda: c.stats_tube(tube)["current-waiting"] == 1)
    return DemoQueue(a, b, parent_c, [c, running_worker, expanding_worker], idle)
