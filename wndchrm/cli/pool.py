"""The features a command needs, computed over a local pool of processes: the queue's dependencies, without a queue.

Each image is the same ``wndchrm features [options] IMAGE`` job a worker runs as a dependency
(:func:`commands.feature_argv`, :func:`runner.run_features`), so the cache and ``.sig`` files are the same
files either way; the command then reads them as the queue's parent does.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterator
from pathlib import Path

from depqueue import BadJob, RetryLater
from wndchrm.cli.commands import Job, feature_argv, parse_job
from wndchrm.dataroot import JobContext

#: Called after each image with (images done, images in all).
Progress = Callable[[int, int], None]


class FeatureFailed(BadJob):
    """An image whose features could not be computed, named with the reason."""


def _compute(task: tuple[str, list[str]]) -> tuple[str, str | None]:
    """One image's dependency job, in a pool process: (its argv's image, why it failed or None)."""
    from wndchrm.cli import runner  # numpy and CharmFeatures: imported once per pool process, on first use

    root, argv = task
    ctx = JobContext(Path(root))
    try:
        runner.run_features(parse_job(argv, ctx), ctx)
    except RetryLater:
        return argv[-1], None  # another process holds the image: the command computes or waits for it itself
    except BadJob as exc:
        return argv[-1], str(exc)
    return argv[-1], None


def _results(tasks: list[tuple[str, list[str]]], jobs: int) -> Iterator[tuple[str, str | None]]:
    if jobs <= 1 or len(tasks) <= 1:
        yield from map(_compute, tasks)
        return
    # fork: the pool processes start at once with the engine's modules already imported, as the queue's
    # workers do; a process per task would pay CharmFeatures' start-up each time.
    with multiprocessing.get_context("fork").Pool(min(jobs, len(tasks))) as pool:
        yield from pool.imap_unordered(_compute, tasks)


def compute_features(job: Job, ctx: JobContext, images: list[Path], jobs: int,
                     progress: Progress | None = None) -> None:
    """Compute and cache the features of ``images`` for ``job`` on ``jobs`` processes.

    Every image is tried; then FeatureFailed names each one that failed, and why.
    """
    tasks = [(str(ctx.data_root), feature_argv(job, ctx, image)) for image in images]
    failed = []
    for done, (image, error) in enumerate(_results(tasks, jobs), start=1):
        if error is not None:
            failed.append(f"{image}: {error}")
        if progress is not None:
            progress(done, len(tasks))
    if failed:
        raise FeatureFailed(f"features of {len(failed)} image(s) could not be computed: " + "; ".join(failed[:5])
                            + (f" (and {len(failed) - 5} more)" if len(failed) > 5 else ""))
