"""Registers every job kind this worker ships, so entry points import one module."""

from services.kinds import REGISTRY, register
from services.kinds.demo import DEMO
from services.kinds.wndchrm import WNDCHRM

register(WNDCHRM)

__all__ = ["DEMO", "REGISTRY", "WNDCHRM"]
