"""``wndchrm-submit status``: workers, parents and their dependencies, jobs left, and each parent's and
batch's pace and time left."""

from __future__ import annotations

import json
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from depqueue import BeanstalkdUnreachable, DepQueue, original_workers
from services.common import ExitCode, fail
from services.submitter.pace import BatchPace, Counts, duration

ORIGINAL_WORKERS = ("{count} worker(s) of the original wndchrm-queue watch this queue: workers here do not "
                    "reserve, and nothing is submitted, until they stop (docs/migrating.md)")


def print_status(queue: DepQueue, as_json: bool, paces: dict[str, BatchPace] | None = None) -> None:
    """One report of the queue: workers, parents and their dependencies, jobs left (JSON or a table).

    Each parent and each batch (of its active parents) gets a pace and a time left: over the readings of
    the last minute when ``paces`` is kept between reports (``--watch``), else the mean since submission.
    """
    try:
        stats = queue.get_stats()
        stats["original_workers"] = original_workers(queue.conn, queue.tube)
    except BeanstalkdUnreachable as exc:
        fail(str(exc), ExitCode.UNREACHABLE)
    paces = {} if paces is None else paces
    batches = add_pace(stats, paces)
    if as_json:
        click.echo(json.dumps(stats, sort_keys=True))
        return
    console = Console()
    if stats["original_workers"]:
        console.print(f"[bold red]{ORIGINAL_WORKERS.format(count=stats['original_workers'])}[/]")
    w = stats["workers"]
    console.print(f"workers {w['total']} ({w['busy']} busy, {w['idle']} idle); parents queued "
                  f"{stats['parents_queued']}, with dependencies {stats['jobs_with_deps']}; "
                  f"jobs left {stats['jobs_left']}")
    for batch in batches:
        console.print(f"batch {batch or '(expanding)'}: {paces[batch].batch_text()}", highlight=False)
    if stats["parents"]:
        table = Table("parent", "batch", "deps", "done", "working", "idle", "failed", "left", "per s", "time left")
        for parent, p in stats["parents"].items():
            table.add_row(str(parent), p["batch"], *(str(p[k]) for k in ("deps", "done", "working", "idle",
                                                                           "failed", "left")),
                          f"{p['per_second']:.3g}" if p["per_second"] is not None else "",
                          duration(p["seconds_left"]) if p["seconds_left"] is not None else "")
        console.print(table)


def add_pace(stats: dict[str, Any], paces: dict[str, BatchPace]) -> list[str]:
    """Add each parent's pace (``per_second``, ``seconds_left``) and a ``batches`` entry to ``stats``;
    returns the batches seen."""
    by_batch: dict[str, list[int]] = {}
    for parent, p in stats["parents"].items():
        by_batch.setdefault(p["batch"], []).append(parent)
    stats["batches"] = {}
    for batch, parents in sorted(by_batch.items()):
        pace = paces.setdefault(batch, BatchPace())
        ages = []
        for parent in parents:
            p = stats["parents"][parent]
            pace.update(parent, Counts(p["done"], p["failed"], p["deps"]), p["age"])
            ages.append(p["age"] or 0.0)
        for gone in set(pace.counts) - set(parents):  # finished since the last report: all ended
            last = pace.last(gone)
            pace.counts[gone] = Counts(last.total - last.failed, last.failed, last.total)
        pace.tick(max(ages))
        for parent in parents:
            rate, left = pace.parent_pace(parent)
            stats["parents"][parent].update(per_second=rate, seconds_left=left)
        total = pace.total()
        stats["batches"][batch] = {"deps": total.total, "done": total.done, "failed": total.failed,
                                   "left": total.left, "per_second": pace.batch.rate,
                                   "seconds_left": pace.batch.seconds_left(total.left)}
    return sorted(by_batch)
