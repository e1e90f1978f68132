"""The submitter and the monitor run without the wndchrm engine's libraries (their images carry none)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("numpy", "scipy", "tifffile", "imagecodecs", "matplotlib", "CharmFeatures")


@pytest.mark.parametrize("module", ["services.submitter.cli", "services.monitor.cli"])
def test_a_role_imports_none_of_the_engines_libraries(module: str, tmp_path: Path) -> None:
    # Validating a wndchrm job, as the submitter does before queueing it, is part of what is checked.
    for image in ("set/a/x.tif", "set/b/y.ppm"):
        (tmp_path / image).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / image).write_bytes(b"not read when validating")
    code = (
        f"import sys, {module}\n"
        "from pathlib import Path\n"
        "from services.kinds import JobContext\n"
        "from services.kinds.wndchrm import WNDCHRM\n"
        "from depqueue import BadJob\n"
        f"ctx = JobContext(Path({str(tmp_path)!r}))\n"
        "WNDCHRM.validate(['wndchrm', 'train', '-l', '-t2', 'set', 'out.fit'], ctx)\n"
        "WNDCHRM.validate(['wndchrm', 'test', '-n5', 'set', 'r.html'], ctx)\n"
        "try:\n"
        "    WNDCHRM.validate(['wndchrm', 'classify', 'missing.fit', 'set'], ctx)\n"
        "except BadJob:\n"
        "    pass\n"
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.strip() == "", f"{module} imported {done.stdout.strip()}"
