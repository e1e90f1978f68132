"""Finding the C++ wndchrm 1.60 that tests and benchmarks compare against.

Since this project installs a ``wndchrm`` console script of its own, a ``wndchrm`` on the PATH may be ours:
that one is skipped, never taken for the C++ program.
"""

from __future__ import annotations

import os
import shutil

from wndchrm.cli.external import is_this_program


def cpp_wndchrm() -> str | None:
    """WNDCHRM_BINARY, else a ``wndchrm`` on the PATH that is not ours, else None."""
    found = os.environ.get("WNDCHRM_BINARY") or shutil.which("wndchrm")
    return None if found is None or is_this_program(found) else found
