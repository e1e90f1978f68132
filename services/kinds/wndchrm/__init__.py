"""The ``wndchrm`` job kind: the engine of the top-level ``wndchrm`` package, run as queue jobs.

This folder holds only the adapter (``kind.py``): one feature-extraction dependency per image, then the
command. The engine itself (formats, features, classifier, reports, commands) is ``wndchrm/``, and so is
its documentation (wndchrm/README.md).

``WNDCHRM`` is the kind with the built-in engine; a worker entry point that has a C++ wndchrm binary
configured builds its own ``WndchrmKind(binary=path)`` instead.
"""

from __future__ import annotations

from services.kinds.wndchrm.kind import WndchrmKind

WNDCHRM = WndchrmKind()

__all__ = ["WNDCHRM", "WndchrmKind"]
