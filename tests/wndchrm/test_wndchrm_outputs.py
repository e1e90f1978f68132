"""Output files: atomic, and readable by the lab as an ordinary write would leave them."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from wndchrm.formats.outputs import write_atomic


def test_written_files_get_the_umask_permissions_not_a_temp_files(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        write_atomic(tmp_path / "reports" / "model.fit", "2\t4.2\n")
    finally:
        os.umask(old)
    target = tmp_path / "reports" / "model.fit"
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    assert target.read_text() == "2\t4.2\n"
    assert [p.name for p in target.parent.iterdir()] == ["model.fit"]  # no temp file left behind
