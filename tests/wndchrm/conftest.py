"""Fixtures of the wndchrm kind's tests: example datasets whose features are computed once per session.

Features go through the same code the queue runs: ``kind.expand`` with a recording fake queue, then
``kind.run`` of every dependency it added (two at a time, in two processes), then the parent's ``run``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import tifffile
from wndchrm_helpers import FakeQueue, precompute

from services.kinds import JobContext
from services.kinds.wndchrm import WNDCHRM
from testkit.example_data import ExampleSets, build_examples

#: Example images per class and their side; 64 px keeps CharmFeatures at about half a second an image.
PER_CLASS = 20
SIZE = 64


@pytest.fixture(scope="session")
def examples_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data root holding the example sets under ``ex/``, every image's features already cached."""
    root = tmp_path_factory.mktemp("wndchrm-data")
    build_examples(root / "ex", per_class=PER_CLASS, size=SIZE)
    ctx = JobContext(root)
    queue = FakeQueue()
    for dataset in ("ex/textures", "ex/digits"):
        # The long set: jobs without -l read their short set from it.
        WNDCHRM.expand(queue, "t", 1, ["wndchrm", "test", "-l", dataset], ctx)  # type: ignore[arg-type]
    precompute(ctx, queue.params, processes=2)
    return root


@pytest.fixture(scope="session")
def examples(examples_root: Path) -> ExampleSets:
    ex = examples_root / "ex"
    return ExampleSets(ex / "textures", ex / "digits", ex / "digits-shuffled.tsv")


@pytest.fixture
def data_root(tmp_path: Path) -> Path:
    root = tmp_path / "data"
    root.mkdir()
    return root


@pytest.fixture
def ctx(data_root: Path) -> JobContext:
    return JobContext(data_root)


@pytest.fixture
def make_image(data_root: Path) -> Callable[..., Path]:
    """Write a small random-texture TIFF under the data root and return its path."""

    def make(relative: str, size: int = 48, seed: int = 0) -> Path:
        rng = np.random.default_rng(seed)
        pixels = (rng.random((size, size)) * 200 + np.linspace(0, 55, size)).astype(np.uint8)
        path = data_root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        tifffile.imwrite(path, pixels)
        return path

    return make
