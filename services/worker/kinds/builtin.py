"""Registers every job kind this worker ships, so entry points import one module."""

from services.worker.kinds import REGISTRY, register
from services.worker.kinds.demo import DEMO
from services.worker.wndchrm import WNDCHRM

register(WNDCHRM)

__all__ = ["DEMO", "REGISTRY", "WNDCHRM"]
