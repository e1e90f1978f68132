"""A small tmpfs for the full-disk tests; skipped, with the reason, where mount(8) is not permitted."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


@contextmanager
def tmpfs(path: Path, size: str) -> Iterator[Path]:
    """``path`` as a tmpfs of ``size`` (e.g. "4m") for the duration of the block."""
    path.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs (CI runs as root; here: {mounted.stderr.strip() or 'not permitted'})")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def fill(folder: Path, keep: int = 0) -> Path:
    """Fill ``folder``'s file system (a file named ``filler``), leaving about ``keep`` bytes free."""
    filler = folder / "filler"
    with open(filler, "wb") as stream:
        block = b"\0" * 65536
        try:
            while True:
                stream.write(block)
                stream.flush()
        except OSError:
            pass
    if keep:
        size = filler.stat().st_size
        with open(filler, "r+b") as stream:
            stream.truncate(max(0, size - keep))
    return filler
