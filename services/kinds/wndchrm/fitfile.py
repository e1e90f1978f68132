"""wndchrm's ``.fit`` training-set text format, written by ``train`` and read by ``classify MODEL.fit``.

Layout, as wndchrm's TrainingSet::SaveToFile writes it::

    <class count>
    <feature count>
    <sample count>
    <feature name>                      one line per feature
    <class label>                       one line per class, after an empty line for class 0 ("unknown")
    <value> <value> ... <class index>   one line per sample (tile); class indices start at 1
    <image path>                        the sample's image, relative to the data root

Values are written with Python's shortest round-trip repr rather than wndchrm's ``%.5e``, so a model
classifies exactly as the features it was trained on.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from depqueue.errors import BadJob
from services.kinds.wndchrm.outputs import write_atomic


@dataclass(frozen=True)
class FitFile:
    classes: list[str]
    feature_names: list[str]
    features: NDArray[np.float64]
    labels: NDArray[np.intp]
    paths: list[str]


def write_fit(path: Path, fit: FitFile) -> None:
    """Write atomically so a reader never sees half a model."""
    lines = [str(len(fit.classes)), str(len(fit.feature_names)), str(len(fit.paths))]
    lines += fit.feature_names
    lines += ["", *fit.classes]
    for row, label, image in zip(fit.features.tolist(), fit.labels.tolist(), fit.paths, strict=True):
        lines.append(" ".join(repr(v) for v in row) + f" {label + 1}")
        lines.append(image)
    write_atomic(path, "\n".join(lines) + "\n")


def read_fit(path: Path, name: str) -> FitFile:
    """Parse a ``.fit`` file; BadJob naming the file and line if it is not one."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise BadJob(f"model {name!r} cannot be read: {exc}") from exc
    try:
        return _parse(lines)
    except (ValueError, IndexError) as exc:
        raise BadJob(f"model {name!r} is not a wndchrm .fit file: {exc}") from None


def _parse(lines: list[str]) -> FitFile:
    n_classes, n_features, n_samples = (int(lines[i]) for i in range(3))
    names = lines[3 : 3 + n_features]
    classes = lines[4 + n_features : 4 + n_features + n_classes]
    start = 4 + n_features + n_classes
    if len(names) != n_features or len(classes) != n_classes:
        raise ValueError("header is shorter than its counts")
    if len(lines) < start + 2 * n_samples:
        raise ValueError(f"expected {n_samples} samples, the file ends early")
    features = np.empty((n_samples, n_features))
    labels = np.empty(n_samples, dtype=np.intp)
    paths: list[str] = []
    for i in range(n_samples):
        values = lines[start + 2 * i].split()
        if len(values) != n_features + 1:
            raise ValueError(f"line {start + 2 * i + 1} has {len(values)} values, not {n_features + 1}")
        features[i] = [float(v) for v in values[:-1]]
        labels[i] = int(values[-1]) - 1
        if not 0 <= labels[i] < n_classes:
            raise ValueError(f"line {start + 2 * i + 1}: class index {labels[i] + 1} out of range")
        paths.append(lines[start + 2 * i + 1])
    return FitFile(classes, names, features, labels, paths)
