"""Registers every job kind this worker ships, so entry points import one module."""

from services.worker.kinds import REGISTRY
from services.worker.kinds.demo import DEMO

__all__ = ["DEMO", "REGISTRY"]
