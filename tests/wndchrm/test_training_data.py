"""A .fit's samples per image follow the job's tiles and rotations (-R: four samples a tile)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from depqueue import BadJob
from services.kinds import JobContext
from wndchrm import options
from wndchrm.classifier.training_data import feature_names, fit_samples
from wndchrm.formats.fitfile import FitFile, write_fit


def _model(root: Path, rows_per_image: int) -> None:
    names = feature_names(options.parse(["wndchrm", "classify", "-l", "m.fit", "x"]).options)
    images = ["a/1.tif", "a/2.tif", "b/3.tif", "b/4.tif"]
    rng = np.random.default_rng(1)
    write_fit(root / "m.fit", FitFile(["a", "b"], names, rng.random((4 * rows_per_image, len(names))),
                                      np.repeat(np.array([0, 0, 1, 1]), rows_per_image),
                                      [p for p in images for _ in range(rows_per_image)]))


def test_a_model_trained_with_rotations_reads_four_samples_a_tile(tmp_path: Path) -> None:
    _model(tmp_path, rows_per_image=8)
    ctx = JobContext(tmp_path)
    rotated = options.parse(["wndchrm", "classify", "-l", "-R", "-t2x1", "m.fit", "x"]).options
    model = fit_samples(ctx, "m.fit", rotated)
    assert [len(f) for f in model.features] == [8, 8, 8, 8] and model.labels.tolist() == [0, 0, 1, 1]
    plain = options.parse(["wndchrm", "classify", "-l", "-t2x1", "m.fit", "x"]).options
    with pytest.raises(BadJob, match=r"8 sample\(s\) per image, not the 2 of 2x1 tile\(s\)"):
        fit_samples(ctx, "m.fit", plain)
