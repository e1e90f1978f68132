"""One worker process, by lifecycle: the loop (``loop``) reserves a job and routes it; ``parent`` expands,
parks, runs and finishes a parent (``expansion``: the queue its callback fills); ``dependency`` runs a
dependency and fans in; ``attempts`` runs one attempt at a callback and retries; ``ahead`` holds the next
job reserved while jobs are short; ``known_bodies`` checks sibling bodies once per shape; ``watch``
chooses the dependency tubes to watch; ``heartbeat`` keeps a reservation alive; ``hooks`` are the
callbacks that metrics plug into; ``logs`` is the worker's logging."""

from depqueue.worker.hooks import WorkerHooks
from depqueue.worker.loop import DepsCallback, RunCallback, Worker, WorkerSettings

__all__ = ["DepsCallback", "RunCallback", "Worker", "WorkerHooks", "WorkerSettings"]
