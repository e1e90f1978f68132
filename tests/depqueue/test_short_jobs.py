"""What keeps short dependencies cheap without changing what users rely on.

Read-ahead (depqueue/ahead.py): while dependencies are short, a worker holds the next one reserved. Held
jobs must never cost anything: a long job gives its held one back for others to run, a stop hands it
back unspent, and a worker killed while holding one costs that job one attempt at most, never a job of
one attempt.

Waking (depqueue/expansion.py): an expander wakes idle workers, so they take the new parent's
dependencies at once instead of when their reserve times out.

The workers here are forked processes running depqueue's Worker with callbacks of this file. A
dependency's params are ``[what, index, seconds]``: ``sleep`` sleeps, ``die`` kills its own process (a
job that crashes its worker). Each run appends ``start``/``end`` lines to a marks file.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from depqueue import DepQueue
from depqueue.wire.connection import StatsJob
from depqueue.worker.logs import setup_logging
from depqueue.worker.loop import Worker, WorkerSettings
from testkit.beanstalkd import Beanstalkd
from testkit.workers import wait_outcomes, wait_until

TUBE = "ra"
_fork = multiprocessing.get_context("fork")


def _mark(marks: Path, text: str) -> None:
    with marks.open("a") as f:
        f.write(f"{text} {os.getpid()} {time.time():.3f}\n")


def _worker_main(port: int, log: Path, marks: Path, reserve_timeout: int) -> None:
    setup_logging(str(log))

    def run_job(queue: DepQueue, job_id: int, params: list[str]) -> None:
        if params[0] == "parent":
            return
        _mark(marks, f"start {params[1]}")
        if params[0] == "die":
            os.kill(os.getpid(), signal.SIGKILL)
        time.sleep(float(params[2]))
        _mark(marks, f"end {params[1]}")

    def add_deps(queue: DepQueue, dep_tube: str, job_id: int, params: list[str]) -> int:
        for i, spec in enumerate(params[1:]):
            what, _, seconds = spec.partition(":")
            queue.add_dependent_job(dep_tube, [what, str(i), seconds or "0"])
        return len(params) - 1

    worker = Worker(DepQueue(port=port, tube=TUBE), run_job, add_deps,
                    WorkerSettings(sweep_interval=2, reserve_timeout=reserve_timeout))
    signal.signal(signal.SIGTERM, lambda signum, frame: worker.request_stop())
    os._exit(worker.run())


class Workers:
    def __init__(self, port: int, tmp: Path) -> None:
        self.port, self.tmp = port, tmp
        self.marks = tmp / "marks.txt"
        self.processes: list[multiprocessing.process.BaseProcess] = []

    def start(self, reserve_timeout: int = 1) -> int:
        process = _fork.Process(target=_worker_main, daemon=True,
                                args=(self.port, self.tmp / f"w{len(self.processes)}.log", self.marks,
                                      reserve_timeout))
        process.start()
        self.processes.append(process)
        return int(process.pid or 0)

    def lines(self, event: str, index: int) -> list[list[str]]:
        """The marks of one dependency's ``start`` or ``end``: [event, index, pid, time] each."""
        text = self.marks.read_text() if self.marks.exists() else ""
        return [w for w in (line.split() for line in text.splitlines()) if w[:2] == [event, str(index)]]

    def log_text(self) -> str:
        return "".join(p.read_text() for p in self.tmp.glob("w*.log"))


@pytest.fixture
def workers(beanstalkd: Beanstalkd, tmp_path: Path) -> Iterator[Workers]:
    pool = Workers(beanstalkd.port, tmp_path)
    yield pool
    for process in pool.processes:
        if process.is_alive() and process.pid:
            os.kill(process.pid, signal.SIGKILL)
        process.join(5)


def _held_then_ready(queue: DepQueue, parent: int) -> StatsJob:
    """The stats of the one ready dependency of ``parent``, once it is ready."""
    job = wait_until(lambda: queue.conn.peek_in(queue.dep_tube(parent), "ready"), 10, "a ready dependency")
    stats = queue.conn.stats_job(job.id)
    assert stats is not None
    return stats


def test_a_long_job_gives_its_held_job_back_for_another_worker(beanstalkd: Beanstalkd, workers: Workers) -> None:
    queue = DepQueue(port=beanstalkd.port, tube=TUBE)
    parent = queue.add_job(["parent", *["sleep:0"] * 20, "sleep:4", "sleep:0"], batch="b")
    first = workers.start()
    wait_until(lambda: workers.lines("start", 20), 20, "the long dependency to start")
    # The worker held the last one while it ran the long one, and gave it back within READ_AHEAD_HOLD
    # (plus a heartbeat tick): released once, reserved once, no attempt spent.
    stats = _held_then_ready(queue, parent)
    assert (stats["reserves"], stats["releases"], stats["pri"]) == (1, 1, 1024 << 8)
    assert not workers.lines("end", 20)
    second = workers.start()
    outcome = wait_outcomes(queue, "b", [parent], timeout=30)[parent]
    assert outcome["status"] == "succeeded"
    (last,) = workers.lines("end", 21)
    (long_end,) = workers.lines("end", 20)
    assert int(last[2]) == second and int(long_end[2]) == first
    assert float(last[3]) < float(long_end[3])  # it did not wait behind the long one


def test_a_stopping_worker_hands_its_held_job_back_unspent(beanstalkd: Beanstalkd, workers: Workers) -> None:
    queue = DepQueue(port=beanstalkd.port, tube=TUBE)
    parent = queue.add_job(["parent", *["sleep:0"] * 20, "sleep:0.3", "sleep:0"], batch="b", attempts=2)
    workers.start()
    wait_until(lambda: workers.lines("start", 20), 20, "the last-but-one dependency to start", poll=0.01)
    (process,) = workers.processes
    os.kill(int(process.pid or 0), signal.SIGTERM)  # shorter than READ_AHEAD_HOLD: still held at the stop
    process.join(20)
    assert process.exitcode == 0
    assert workers.lines("end", 20) and not workers.lines("start", 21)
    stats = _held_then_ready(queue, parent)
    assert stats["reserves"] - stats["releases"] - stats["buries"] == 0  # counted as no crash
    workers.start()
    assert wait_outcomes(queue, "b", [parent], timeout=30)[parent]["status"] == "succeeded"
    assert "attempt 2/2" not in workers.log_text()


@pytest.mark.parametrize("attempts", [1, 2])
def test_a_job_that_kills_its_worker_costs_its_held_neighbour_one_attempt_at_most(
        beanstalkd: Beanstalkd, workers: Workers, attempts: int) -> None:
    queue = DepQueue(port=beanstalkd.port, tube=TUBE)
    specs = [*["sleep:0"] * 20, "die", *["sleep:0"] * 5]
    parent = queue.add_job(["parent", *specs], batch="b", attempts=attempts)
    for n in range(1, attempts + 1):  # each run of the dying job takes a worker with it
        workers.start()
        wait_until(lambda: len(workers.lines("start", 20)) == n, 20, f"run {n} of the dying job")  # noqa: B023
        workers.processes[-1].join(10)
    workers.start()
    outcome = wait_outcomes(queue, "b", [parent], timeout=30)[parent]
    assert outcome["status"] == "failed"
    assert [d["command"] for d in outcome["failed_deps"]] == ["die 20 0"]
    assert "out of attempts: the worker died or timed out" in outcome["failed_deps"][0]["reason"]
    for i in [*range(20), *range(21, 26)]:
        assert len(workers.lines("end", i)) == 1, i  # every other dependency ran, once
    log = workers.log_text()
    if attempts == 1:
        assert "attempt 2/" not in log  # nothing was held: no neighbour was charged
    else:
        # Second attempts: the dying job's second run, and the neighbour it held when it first died (charged
        # one crash, it still ran); no other job was charged.
        second = sorted(line.rsplit(": ", 1)[1] for line in log.splitlines() if "started, attempt 2/2" in line)
        assert second == ["die 20 0", "sleep 21 0"]


def test_an_expander_wakes_idle_workers_for_its_new_dependencies(beanstalkd: Beanstalkd, workers: Workers) -> None:
    queue = DepQueue(port=beanstalkd.port, tube=TUBE)
    pids = {workers.start(reserve_timeout=15), workers.start(reserve_timeout=15)}
    # Both idle in a reserve that would not time out for 15 s, on tubes that exist before the parent.
    wait_until(lambda: (queue.conn.stats_tube(f"{TUBE}-wake") or {}).get("current-waiting") == 2, 10,
               "both workers to wait")
    parent = queue.add_job(["parent", *["sleep:0.5"] * 6], batch="b")
    began = time.monotonic()
    assert wait_outcomes(queue, "b", [parent], timeout=14)[parent]["status"] == "succeeded"
    # 3 s of work in 2 s or less: both workers ran dependencies from the start.
    assert time.monotonic() - began < 2.5
    runners = {int(w[2]) for i in range(6) for w in workers.lines("start", i)}
    assert runners == pids


def test_short_jobs_start_lines_are_all_written_within_moments(beanstalkd: Beanstalkd, workers: Workers) -> None:
    """Start lines of short dependencies are held and written together (logs.info_line): every one must be
    in the log soon after, even when the worker then idles and writes nothing else."""
    queue = DepQueue(port=beanstalkd.port, tube=TUBE)
    parent = queue.add_job(["parent", "sleep:4", *["sleep:0"] * 200], batch="b")
    workers.start()
    wait_until(lambda: workers.lines("start", 0), 20, "the long dependency to start")
    workers.start()  # runs the 200 short ones while the first worker sleeps, then idles
    wait_until(lambda: all(workers.lines("end", i) for i in range(1, 201)), 20, "the short dependencies")
    time.sleep(0.5)
    assert not workers.lines("end", 0)  # the parent is still waiting: nothing else was logged meanwhile
    second_log = (workers.tmp / "w1.log").read_text()
    started = [line for line in second_log.splitlines() if "started, attempt 1/3" in line]
    assert sorted(int(line.split(": ")[-1].split()[1]) for line in started) == list(range(1, 201))
    assert wait_outcomes(queue, "b", [parent], timeout=10)[parent]["status"] == "succeeded"
