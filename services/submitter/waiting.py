"""Waiting for a batch: collect outcome records, show progress, notice parents that vanished."""

from __future__ import annotations

import json
import shlex
import sys
import time
from collections.abc import Callable
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from depqueue import BeanstalkdUnreachable, DepQueue, MalformedJob, Outcome, Record, decode_record
from services.common import ExitCode, fail
from services.submitter.pace import BatchPace, Counts
from services.submitter.report import ParentResult

#: Polls in a row that a parent may be gone without an outcome before it counts as lost.
LOST_AFTER_POLLS = 5
#: At most this many parents get a bar of their own; the overall bar counts them all.
MAX_BARS = 15


class ServerLost(Exception):
    """beanstalkd came back as a new, empty server: these parents are gone without an outcome."""

    def __init__(self, batch: str, lost: list[ParentResult], old_id: str, new_id: str) -> None:
        self.batch, self.lost = batch, lost
        ids = " ".join(str(r.parent) for r in lost[:20]) + (" ..." if len(lost) > 20 else "")
        super().__init__(f"beanstalkd restarted (server id {old_id} is now {new_id}) without the jobs of batch "
                         f"{batch}: {len(lost)} parent(s) are gone with no outcome recorded: {ids}")


def write_resubmit_file(batch: str, lost: list[ParentResult], folder: Path) -> Path:
    """A batch file (JSON: a list of argv lists) of the lost parents, for ``wndchrm-submit --batch-file``."""
    path = folder / f"lost-{batch}.json"
    path.write_text(json.dumps([r.argv for r in lost], indent=1) + "\n")
    return path


def report_lost_server(lost: ServerLost, folder: Path | None = None) -> None:
    """Say which parents a server lost and how to resubmit them; exit with ExitCode.SERVER_LOST."""
    try:
        path = write_resubmit_file(lost.batch, lost.lost, folder or Path.cwd())
        how = f"resubmit them with: wndchrm-submit --batch-file {path} --wait"
    except OSError as exc:
        argv = "\n".join(shlex.join(r.argv) for r in lost.lost)
        how = f"cannot write a batch file ({exc.strerror}); resubmit these command lines:\n{argv}"
    fail(f"{lost}; {how}", ExitCode.SERVER_LOST)


def server_id(queue: DepQueue) -> str:
    """beanstalkd's random id, new each time the server starts: a restart is a changed id."""
    return str(queue.conn.stats()["id"])


class ProgressView:
    """A live bar per parent on a terminal; a plain line every few seconds in a CI log."""

    def __init__(self, console: Console, results: list[ParentResult], live: bool, every: float = 10.0) -> None:
        self.console = console
        self.live = live
        self.every = every
        self.last_line = 0.0
        self.progress: Progress | None = None
        self.tasks: dict[int, TaskID] = {}
        self.states: dict[int, str] = {}
        if live:
            self.progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                     TextColumn("{task.fields[state]}"), TimeElapsedColumn(), console=console)
            self.overall = self.progress.add_task("all parents", total=len(results), state="")
            self.deps = self.progress.add_task("all dependencies", total=None, state="")
            for r in results[:MAX_BARS]:
                self.tasks[r.parent] = self.progress.add_task(f"{r.parent} {r.command[:40]}", total=None,
                                                              state="queued")
            self.progress.start()

    def update(self, results: list[ParentResult], pace: BatchPace, start: float) -> None:
        finished = sum(r.status != "pending" for r in results)
        failed = sum(r.status in ("failed", "lost") for r in results)
        if self.progress is not None:
            total = pace.total()
            self.progress.update(self.overall, completed=finished, state=f"{failed} failed" if failed else "")
            self.progress.update(self.deps, completed=total.ended, total=total.total or None,
                                 state=pace.batch_text().split(", ", 1)[-1])
            for r in results:
                if r.parent in self.tasks:
                    counts = pace.last(r.parent)
                    state = r.status if r.status != "pending" else self.states.get(r.parent, "queued")
                    if state in ("waiting", "running", "expanding"):
                        state = f"{state}, {pace.parent_text(r.parent)}"
                    self.progress.update(self.tasks[r.parent], completed=counts.ended, total=counts.total or None,
                                         state=state)
            return
        now = time.monotonic()
        if now - self.last_line >= self.every or finished == len(results):
            self.last_line = now
            print(f"[{now - start:6.0f}s] parents {finished}/{len(results)} finished ({failed} failed); "
                  f"{pace.batch_text()}", flush=True)
            for r in results[:MAX_BARS]:
                counts = pace.last(r.parent)
                if r.status == "pending" and counts.total:
                    print(f"         parent {r.parent}: {counts.ended}/{counts.total} done, "
                          f"{pace.parent_text(r.parent)}", flush=True)

    def close(self) -> None:
        if self.progress is not None:
            self.progress.stop()


def wait_for_batch(queue: DepQueue, batch: str, results: list[ParentResult], timeout: float | None,
                   view: ProgressView, poll: float = 0.5, clock: Callable[[], float] = time.monotonic,
                   reconnects: int = 10) -> bool:
    """Fill in each result's outcome; False when the timeout ran out first.

    A beanstalkd restart (or a dropped connection) is waited out: up to ``reconnects`` failed polls in a
    row, with growing pauses; the outcome records this process held go back to the queue with the
    connection and are collected again. A server that came back without the batch (a new server id, and
    parents gone with no outcome: its binlog lost, or run without one) raises ServerLost at once.
    """
    by_id = {r.parent: r for r in results}
    pace = BatchPace(clock=clock)
    held: list[Record[Outcome]] = []
    gone: dict[int, int] = {}  # polls in a row each parent was gone without an outcome
    start = clock()
    failures = 0
    known_server = server_id(queue)
    try:
        while True:
            try:
                done = _poll(queue, batch, results, by_id, held, gone, view, start, pace)
                failures = 0
                known_server = _check_server(queue, batch, results, known_server)
            except BeanstalkdUnreachable as exc:
                failures += 1
                if failures > reconnects:
                    raise
                print(f"{exc}; retrying ({failures}/{reconnects})", file=sys.stderr, flush=True)
                queue.close()
                held.clear()
                time.sleep(min(30.0, poll * 2 ** failures))
                continue
            if done:
                return True
            if timeout is not None and clock() - start > timeout:
                for r in results:
                    if r.status == "pending":
                        r.status = "timed out"
                return False
            time.sleep(poll)
    finally:
        view.close()
        mine = {r.parent for r in results}
        try:
            queue.finish_outcomes([h for h in held if h.value.parent in mine], consume=True)
            queue.finish_outcomes([h for h in held if h.value.parent not in mine], consume=False)
        except BeanstalkdUnreachable:
            pass  # they return to the queue with the connection


def _check_server(queue: DepQueue, batch: str, results: list[ParentResult], known_server: str) -> str:
    """The server's id now; ServerLost when it is a new server that no longer holds pending parents.

    A server restarted from its binlog holds them still; an empty one numbers jobs from 1 again, so a
    parent's id may name someone else's job: a parent counts as held only if its body names this batch.
    """
    current = server_id(queue)
    if current == known_server:
        return current
    lost = [r for r in results if r.status == "pending" and not _holds(queue, r.parent, batch)]
    if not lost:
        return current
    for r in lost:
        r.status = "lost"
        r.outcome = {"reason": "beanstalkd came back without it (a new, empty server)"}
    raise ServerLost(batch, lost, known_server, current)


def _holds(queue: DepQueue, parent: int, batch: str) -> bool:
    job = queue.conn.peek(parent)
    if job is None:
        return False
    try:
        return decode_record(job.body).get("batch") == batch
    except MalformedJob:
        return False


def _poll(queue: DepQueue, batch: str, results: list[ParentResult], by_id: dict[int, ParentResult],
          held: list[Record[Outcome]], gone: dict[int, int], view: ProgressView, start: float,
          pace: BatchPace) -> bool:
    """One round: collect outcomes, then ask after the parents still pending. True when all are done."""
    for record in queue.collect_outcomes(batch):
        held.append(record)
        result = by_id.get(record.value.parent)
        if result is not None and result.status == "pending":
            result.status, result.outcome = record.value.status, record.body
    oldest: float | None = None
    for r in results:
        if r.status != "pending":
            pace.update(r.parent, Counts.of_outcome(r.outcome, pace.last(r.parent)))
            continue
        progress = queue.parent_progress(r.parent)
        view.states[r.parent] = progress.state
        gone[r.parent] = gone.get(r.parent, 0) + 1 if progress.state == "finished" else 0
        if gone[r.parent] >= LOST_AFTER_POLLS:
            r.status = "lost"
            r.outcome = {"reason": "the parent left the queue without an outcome record"}
        if progress.state != "finished":  # finished but its outcome not yet read: keep its last counts
            pace.update(r.parent, Counts.of(progress.deps), progress.age)
            oldest = max(oldest or 0.0, progress.age or 0.0)
    pace.tick(oldest)
    view.update(results, pace, start)
    return all(r.status != "pending" for r in results)


def is_live_terminal() -> bool:
    return sys.stdout.isatty()
