"""The worker-pool helpers, kept importable from here for the tests that name this module; see testkit.workers."""

from testkit.workers import BIN, WorkerPool, children_of, starts, wait_outcomes, wait_until

__all__ = ["BIN", "WorkerPool", "children_of", "starts", "wait_outcomes", "wait_until"]
