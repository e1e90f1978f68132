"""Fixtures shared by every test: a real beanstalkd (with binlog) on a free loopback port (testkit's, as the
benchmarks use)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from testkit.beanstalkd import Beanstalkd, free_port

__all__ = ["Beanstalkd", "free_port"]


@pytest.fixture
def beanstalkd(tmp_path: Path) -> Iterator[Beanstalkd]:
    server = Beanstalkd(port=free_port(), binlog=tmp_path / "binlog")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def data_root(tmp_path: Path) -> Path:
    root = tmp_path / "data"
    root.mkdir()
    return root


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never read this machine's configuration."""
    for key in list(os.environ):
        if key.startswith(("BEANSTALKD_", "WNDCHRM_")) or key in ("NUM_WORKERS", "DATA_ROOT", "MONITOR_PORT"):
            monkeypatch.delenv(key, raising=False)
