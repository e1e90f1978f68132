"""Train/test experiments: random splits, WND training on the split, and the accumulated results.

Splits follow wndchrm: without a separate test set, every class contributes the same number of training
images, ``-r`` (0.75) of the smallest class (at most ``-i``), and the same number of test images, the
rest of the smallest class (at most ``-j``), so the accuracy is not skewed by unbalanced classes. With a
test set, training takes every dataset image (``-r``/``-i`` still cap it per class) and testing takes
every test-set image (``-j`` caps it per class). Splits draw from a fixed seed so a rerun (a retried
job, a CI run) reports the same figures.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from depqueue.errors import BadJob
from services.kinds.wndchrm import wnd
from services.kinds.wndchrm.options import DEFAULT_TRAIN_FRACTION, Options

SPLIT_SEED = 20080611

FloatArray = NDArray[np.float64]
IndexArray = NDArray[np.intp]


@dataclass(frozen=True)
class Labelled:
    """Images (data-root-relative paths), each a tiles x features matrix, with class indices."""

    paths: list[str]
    features: list[FloatArray]
    labels: IndexArray
    classes: list[str]


@dataclass(frozen=True)
class ImageResult:
    path: str
    actual: int
    predicted: int
    probabilities: FloatArray
    norm_factor: float


@dataclass
class SplitResult:
    train_paths: list[str]
    images: list[ImageResult] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        return sum(r.actual == r.predicted for r in self.images) / max(1, len(self.images))


@dataclass
class TestResult:
    classes: list[str]
    splits: list[SplitResult]

    @property
    def accuracies(self) -> list[float]:
        return [s.accuracy for s in self.splits]

    @property
    def mean_accuracy(self) -> float:
        return float(np.mean(self.accuracies))

    @property
    def confusion(self) -> NDArray[np.int64]:
        """Counts summed over the splits; rows are actual classes, columns predicted."""
        matrix = np.zeros((len(self.classes), len(self.classes)), dtype=np.int64)
        for split in self.splits:
            for r in split.images:
                matrix[r.actual, r.predicted] += 1
        return matrix

    @property
    def similarity(self) -> FloatArray:
        """Mean class probabilities of the test images of each actual class (rows)."""
        total = np.zeros((len(self.classes), len(self.classes)))
        count = np.zeros(len(self.classes))
        for split in self.splits:
            for r in split.images:
                total[r.actual] += r.probabilities
                count[r.actual] += 1
        return total / np.maximum(count, 1)[:, None]


def _class_members(labels: IndexArray, n_classes: int, rng: np.random.Generator) -> list[IndexArray]:
    return [rng.permutation(np.flatnonzero(labels == c)) for c in range(n_classes)]


def split_within(data: Labelled, options: Options, rng: np.random.Generator) -> tuple[IndexArray, IndexArray]:
    """One balanced random train/test split of one labelled dataset."""
    members = _class_members(data.labels, len(data.classes), rng)
    smallest = min(len(m) for m in members)
    fraction = options.train_fraction or DEFAULT_TRAIN_FRACTION
    n_train = min(int(fraction * smallest), options.max_train or smallest)
    n_test = min(smallest - n_train, options.max_test or smallest)
    if n_train < 1 or n_test < 1:
        raise BadJob(
            f"the smallest class has {smallest} image(s): too few for {n_train} training and "
            f"{n_test} test image(s) per class (see -r, -i, -j)"
        )
    train = np.concatenate([m[:n_train] for m in members])
    test = np.concatenate([m[n_train : n_train + n_test] for m in members])
    return train, test


def cap_per_class(data: Labelled, fraction: float | None, most: int | None,
                  rng: np.random.Generator) -> IndexArray:
    """A random subset of each class: at most ``fraction`` of the smallest class and ``most`` images."""
    members = _class_members(data.labels, len(data.classes), rng)
    smallest = min(len(m) for m in members)
    limit = int(fraction * smallest) if fraction else None
    keep = [m[: min(x for x in (len(m), limit, most) if x is not None)] for m in members]
    return np.concatenate(keep)


def model_for(data: Labelled, indices: IndexArray, options: Options) -> wnd.Model:
    """Train WND on the tiles of the images ``indices`` of ``data``."""
    tiles = [data.features[i] for i in indices]
    labels = np.repeat(data.labels[indices], [len(t) for t in tiles])
    return wnd.train(np.concatenate(tiles), labels, len(data.classes), options.feature_fraction)


def evaluate(model: wnd.Model, data: Labelled, indices: IndexArray, wnn: bool) -> list[ImageResult]:
    prediction = wnd.classify(model, [data.features[i] for i in indices], wnn=wnn)
    return [
        ImageResult(data.paths[i], int(data.labels[i]), int(p), prediction.probabilities[k],
                    float(prediction.norm_factor[k]))
        for k, (i, p) in enumerate(zip(indices, prediction.predicted, strict=True))
    ]


def run_test(data: Labelled, test_set: Labelled | None, options: Options) -> TestResult:
    """``options.splits`` random splits; each trains on its training images and tests the rest."""
    if len(data.classes) < 2:
        raise BadJob(f"a test needs at least two classes; the dataset has {data.classes}")
    rng = np.random.default_rng(SPLIT_SEED)
    result = TestResult(data.classes, [])
    for _ in range(options.splits):
        if test_set is None:
            train_idx, test_idx = split_within(data, options, rng)
            target = data
        else:
            train_idx = cap_per_class(data, options.train_fraction, options.max_train, rng)
            test_idx = cap_per_class(test_set, None, options.max_test, rng)
            target = test_set
        model = model_for(data, train_idx, options)
        split = SplitResult([data.paths[i] for i in train_idx])
        split.images = evaluate(model, target, test_idx, options.wnn)
        result.splits.append(split)
    return result
