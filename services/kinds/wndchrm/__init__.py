"""The ``wndchrm`` job kind: WND-CHARM features (CharmFeatures, cached per image) and the WND-5 classifier.

``WNDCHRM`` is the kind with the built-in engine; a worker entry point that has a C++ wndchrm binary
configured builds its own ``WndchrmKind(binary=path)`` instead. See README.md in this folder.
"""

from __future__ import annotations

from services.kinds.wndchrm.kind import WndchrmKind

WNDCHRM = WndchrmKind()

__all__ = ["WNDCHRM", "WndchrmKind"]
