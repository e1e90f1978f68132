"""Every job kind this project ships, registered in one place and one way: ``register_kinds``.

Nothing registers itself on import. Each entry point (the worker, the submitter) calls ``register_kinds``
with its configuration's ``wndchrm_binary``, so the submitter validates a job for the engine the workers
run: the C++ program a site configured, or the built-in one.
"""

from __future__ import annotations

import os

from services.kinds import REGISTRY, JobKind, register
from services.kinds.demo import DEMO
from services.kinds.wndchrm import WNDCHRM, WndchrmKind


def register_kinds(wndchrm_binary: str | os.PathLike[str] | None = None) -> dict[str, JobKind]:
    """Register ``demo`` and ``wndchrm`` (through ``wndchrm_binary`` when set, else the built-in engine);
    returns the registry."""
    register(DEMO)
    register(WndchrmKind(binary=wndchrm_binary) if wndchrm_binary else WNDCHRM)
    return REGISTRY


__all__ = ["DEMO", "REGISTRY", "WNDCHRM", "register_kinds"]
