"""``test`` and ``classify`` runs: train on each split, classify its test images, collect wndchrm's figures.

Models follow wndchrm's per-split order: scale and weigh the training images, then apply a weight file
(``-vr``/``-v+``/``-v-``), then leave out a feature group (``-A``). ``-t#`` trains one model per tile
position. ``-A`` repeats the whole test once with every feature and once per feature group with that
group's weights set to 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from depqueue import BadJob
from wndchrm.classifier import experiment, interpolate, predict, wnd
from wndchrm.classifier import weights as fw
from wndchrm.classifier.experiment import Labelled
from wndchrm.classifier.predict import ImageResult
from wndchrm.options import Options

FloatArray = NDArray[np.float64]
IndexArray = NDArray[np.intp]


@dataclass(frozen=True)
class WeightFile:
    """A ``-v`` weight file to read: action ``r`` (replace), ``+`` (add) or ``-`` (subtract)."""

    action: str
    path: Path
    shown: str


@dataclass
class SplitResult:
    train_paths: list[str]
    images: list[ImageResult] = field(default_factory=list)
    #: Distance between the computed weights and a ``-v`` weight file's, if one was read.
    weight_distance: float | None = None
    #: The split's Fisher (or correlation) scores and the weights used (first tile position), for reports.
    scores: FloatArray | None = None
    weights: FloatArray | None = None

    @property
    def accuracy(self) -> float:
        """Correct among images of known class (NaN when none is known), as wndchrm divides."""
        known = [r for r in self.images if r.actual >= 0]
        return sum(r.actual == r.predicted for r in known) / len(known) if known else -math.nan  # C's 0/0

    def pearson(self, classes: list[str]) -> tuple[float, float, float] | None:
        """Correlation and P value of interpolated and actual values, and their mean absolute difference."""
        valued = [r for r in self.images if r.value is not None and r.actual >= 0]
        continuous = any(r.actual_value is not None for r in valued)  # values, not labels read as numbers
        if not valued or not (continuous or interpolate.pearson_applies(classes)):
            return None
        predicted = np.array([r.value for r in valued], dtype=np.float64)
        actual = np.array([r.actual_value if r.actual_value is not None else interpolate.c_atof(classes[r.actual])
                           for r in valued])
        correlation, p_value = interpolate.pearson(predicted, actual)
        return correlation, p_value, float(np.abs(actual - predicted).mean())


@dataclass
class TestResult:
    classes: list[str]
    splits: list[SplitResult]
    continuous: bool = False
    #: With ``-A``: the feature group left out (None for the run with every feature).
    left_out: str | None = None
    #: The last split's feature weights (of the first tile position), for ``-vw``.
    weights: FloatArray | None = None

    @property
    def accuracies(self) -> list[float]:
        return [s.accuracy for s in self.splits]

    @property
    def mean_accuracy(self) -> float:
        return float(np.mean(self.accuracies))

    def split_matrices(self, split: SplitResult) -> tuple[NDArray[np.int64], FloatArray]:
        """One split's confusion counts and mean marginal probabilities per actual class (rows)."""
        n = len(self.classes)
        confusion = np.zeros((n, n), dtype=np.int64)
        probability = np.zeros((n, n))
        for r in split.images:
            if r.actual >= 0:
                probability[r.actual] += r.probabilities
                if r.predicted >= 0:
                    confusion[r.actual, r.predicted] += 1
        with np.errstate(invalid="ignore", divide="ignore"):
            probability /= confusion.sum(axis=1, keepdims=True)
        return confusion, probability

    @property
    def confusion(self) -> NDArray[np.int64]:
        """Counts summed over the splits; rows are actual classes, columns predicted."""
        return np.asarray(sum(self.split_matrices(s)[0] for s in self.splits), dtype=np.int64)

    @property
    def class_probability(self) -> FloatArray:
        """Mean marginal probabilities of each actual class's test images (rows), averaged over splits."""
        return np.asarray(np.mean([self.split_matrices(s)[1] for s in self.splits], axis=0), dtype=np.float64)

    @property
    def similarity(self) -> FloatArray:
        """wndchrm's similarity matrix: each split's class probability rows over their diagonal, averaged."""
        rows = []
        for split in self.splits:
            probability = self.split_matrices(split)[1]
            with np.errstate(invalid="ignore", divide="ignore"):
                rows.append(probability / np.diag(probability)[:, None])
        return np.asarray(np.mean(rows, axis=0), dtype=np.float64)


def _train_one(data: Labelled, indices: IndexArray, fraction: float, position: int | None) -> wnd.Model:
    tiles = [data.features[i] if position is None else data.features[i][position : position + 1] for i in indices]
    counts = [len(t) for t in tiles]
    labels = np.repeat(data.labels[indices], counts)
    paths = tuple(data.paths[i] for i, count in zip(indices, counts, strict=True) for _ in range(count))
    values = np.repeat(data.values[indices], counts) if data.values is not None else None
    return wnd.train(np.concatenate(tiles), labels, len(data.classes), fraction, paths, values)


def models_for(data: Labelled, indices: IndexArray, options: Options, weight_file: WeightFile | None = None,
               left_out: IndexArray | None = None) -> tuple[list[wnd.Model], float | None]:
    """The split's model (or one per tile position with ``-t#``) and the ``-v`` weight distance, if any."""
    positions: list[int | None] = list(range(options.tiles)) if options.tile_areas else [None]
    models = [_train_one(data, indices, options.feature_fraction, p) for p in positions]
    distance = None
    if weight_file is not None:
        loaded = [fw.apply_weight_file(m.weights, weight_file.path, weight_file.shown, weight_file.action)
                  for m in models]
        models = [wnd.with_weights(m, w) for m, (w, _) in zip(models, loaded, strict=True)]
        distance = loaded[-1][1]
    if left_out is not None:
        models = [wnd.with_weights(m, np.where(np.isin(np.arange(len(m.weights)), left_out), 0.0, m.weights))
                  for m in models]
    return models, distance


def evaluate(models: list[wnd.Model], target: Labelled, indices: IndexArray, options: Options,
             classes: list[str]) -> list[ImageResult]:
    """Classify the images ``indices`` of ``target`` with the split's model(s)."""
    values = target.values[indices] if target.values is not None else None
    # A separate test set has its own (sorted) labels; a split's test images share the training ones.
    own = sorted(set(target.given) - {""}) if target.given else None
    settings = predict.Settings(classes, test_classes=own, wnn=options.wnn, rank=options.first_n or 1,
                                max_tile=options.max_tile, continuous=values is not None)
    results = predict.classify_images(models, [target.features[i] for i in indices],
                                      [target.paths[i] for i in indices], target.labels[indices], settings, values)
    if target.given:
        results = [replace(r, given=target.given[i]) for r, i in zip(results, indices.tolist(), strict=True)]
    return results


def run_test(data: Labelled, test_set: Labelled | None, options: Options, classify: bool = False,
             weight_file: WeightFile | None = None, left_out: tuple[str, IndexArray] | None = None) -> TestResult:
    """``options.splits`` splits (one for ``classify``); each trains on its training images and tests."""
    data, test_set = prepared(data, test_set, options)
    if classify and options.splits > 1:
        experiment.log.warning("-n is ignored by classify: it trains on the same images every time")
    chosen = experiment.plan(data, options, test_set is not None, classify)
    rng = None if classify else np.random.default_rng(experiment.SPLIT_SEED)
    result = TestResult(data.classes, [], data.values is not None, left_out[0] if left_out else None)
    for _ in range(1 if classify else options.splits):
        train_idx, test_idx = experiment.split(data, chosen, test_set is None, rng)
        target = test_set if test_set is not None else data
        if test_set is not None:
            test_idx = np.arange(len(test_set.paths))
        models, distance = models_for(data, train_idx, options, weight_file, left_out[1] if left_out else None)
        split = SplitResult([data.paths[i] for i in train_idx], weight_distance=distance,
                            scores=models[0].scores, weights=models[0].weights)
        split.images = evaluate(models, target, test_idx, options, data.classes)
        result.splits.append(split)
        result.weights = models[0].weights
    return result


def prepared(data: Labelled, test_set: Labelled | None, options: Options) -> tuple[Labelled, Labelled | None]:
    """Classes limited by ``-N``/``-i#``; with ``-C`` and numeric labels, one continuous class."""
    if len(data.classes) < 2 and not options.continuous:
        raise BadJob(f"training needs at least two classes; the dataset has {data.classes}")
    chosen = experiment.select_classes(data, options)
    if test_set is not None and chosen.classes != data.classes:
        keep = [data.classes.index(c) for c in chosen.classes]
        test_set = experiment.restrict(test_set, keep, drop_unknown=False)
    if options.continuous and interpolate.labels_numeric(chosen.classes):
        return experiment.as_continuous(chosen), experiment.as_continuous(test_set) if test_set else None
    if options.continuous:
        experiment.log.warning("-C needs numeric class labels; %s are not: classes are used", chosen.classes)
    if len(chosen.classes) < 2:
        raise BadJob(f"fewer than two classes are left to train on: {chosen.classes} (see -N, -i#)")
    return chosen, test_set


def run_assessment(data: Labelled, test_set: Labelled | None, options: Options, names: list[str],
                   classify: bool = False, weight_file: WeightFile | None = None) -> list[TestResult]:
    """``-A``: the test with every feature, then once per feature group left out."""
    results = [run_test(data, test_set, options, classify, weight_file)]
    for group in fw.feature_groups(names):
        results.append(run_test(data, test_set, options, classify, weight_file, group))
    return results
