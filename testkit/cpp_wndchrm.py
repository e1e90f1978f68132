"""Finding the C++ wndchrm 1.60 that tests and benchmarks compare against.

Since this project installs a ``wndchrm`` console script of its own, a ``wndchrm`` on the PATH may be ours:
that one is skipped, never taken for the C++ program.
"""

from __future__ import annotations

import os
import shutil


def is_ours(path: str) -> bool:
    """Whether ``path`` is this project's ``wndchrm`` console script (a Python script calling our program)."""
    try:
        with open(path, "rb") as program:
            head = program.read(4096)
    except OSError:
        return False
    return head.startswith(b"#!") and b"wndchrm.cli.program" in head


def cpp_wndchrm() -> str | None:
    """WNDCHRM_BINARY, else a ``wndchrm`` on the PATH that is not ours, else None."""
    found = os.environ.get("WNDCHRM_BINARY") or shutil.which("wndchrm")
    return None if found is None or is_ours(found) else found
