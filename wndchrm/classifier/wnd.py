"""The WND-5 and WNN classifiers of wndchrm 1.60 (TrainingSet.cpp), vectorised with numpy.

Scaling (TrainingSet::normalize, signatures::normalize): each feature's training min and max are taken
over the values that are not NaN and lie within +/-FLT_MAX; a value is then 0 if it is NaN, below the
minimum, or the feature's range is under DBL_EPSILON (constant features), 100 if above the maximum, and
``100 (x - min) / (max - min)`` otherwise. Test values use the training min and max.

Weights: :mod:`weights` (Fisher scores, thresholded by ``-f``).

WND-5 (TrainingSet::classify2), per test tile and training tile: ``d = sum_f w_f^2 (x_f - t_f)^2`` over
the features with ``w_f >= DBL_EPSILON`` and ``|x_f - t_f| >= DBL_EPSILON``; a training tile with
``d < DBL_EPSILON`` is an exact match and skipped; a class's similarity is the mean of ``d^-5`` over its
remaining tiles (0 if none remain); the normalisation factor is the sum of the class similarities and a
class's probability its similarity divided by that sum. Sums of ``d^-5`` are formed in log space, which
gives wndchrm's figures wherever its doubles do not under- or overflow, and finite ones where they would.

WNN (TrainingSet::WNNclassify): ``d = sqrt(sum_f w_f (x_f - t_f)^2)``; training tiles with ``d < 1e-200``
or from the test tile's own image (same path) are skipped; a class's distance is its nearest tile's;
probabilities are ``(1/d_c) / sum_k (1/d_k)`` (a class without tiles counts with d = 1e201); the
normalisation factor is ``sum_k 1/d_k``; the predicted class is the nearest tile's.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray
from scipy.special import logsumexp

from wndchrm.classifier import weights as fw
from wndchrm.classifier.interpolate import nearest_value

DBL_EPSILON = sys.float_info.epsilon
FLT_MAX = float(np.finfo(np.float32).max)
#: wndchrm's INF (cmatrix.h), the distance of a class with no usable training tile in WNN.
WNN_INF = 10e200
#: The exponent of WND-5.
POWER = 5
#: Bytes of scratch a distance block may use; keeps 10,000 x 10,000 x 400 problems in memory.
BLOCK_BYTES = 32 * 1024 * 1024
#: Largest relative error a distance from the matrix product may carry; closer pairs are recomputed.
PRODUCT_TOLERANCE = 1e-12
#: Below this many test x training pairs every distance is formed term by term.
PRODUCT_MIN_PAIRS = 4096

FloatArray = NDArray[np.float64]
IndexArray = NDArray[np.intp]


@dataclass(frozen=True)
class Model:
    """A trained model: scaling, Fisher scores, weights, and the scaled training tiles."""

    minimum: FloatArray
    maximum: FloatArray
    scores: FloatArray
    weights: FloatArray
    train: FloatArray
    labels: IndexArray
    n_classes: int
    #: Each training tile's image, for WNN's rule that a tile never matches its own image.
    paths: tuple[str, ...] = ()
    #: Each training tile's continuous value (``-C``).
    values: FloatArray | None = None

    @property
    def selected(self) -> IndexArray:
        """The features WND-5 uses (weight at least DBL_EPSILON), in feature order."""
        return np.asarray(np.flatnonzero(self.weights >= DBL_EPSILON), dtype=np.intp)


@dataclass(frozen=True)
class TileResult:
    """Per test tile: class probabilities, normalisation factor, predicted class (-1: none)."""

    probabilities: FloatArray
    norm_factor: FloatArray
    predicted: IndexArray


def training_range(features: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Per feature, min and max over the values that are not NaN and within +/-FLT_MAX."""
    usable = ~np.isnan(features) & (np.abs(features) <= FLT_MAX)
    minimum = np.where(usable, features, np.inf).min(axis=0, initial=np.inf)
    maximum = np.where(usable, features, -np.inf).max(axis=0, initial=-np.inf)
    return np.where(np.isinf(minimum), FLT_MAX, minimum), np.where(np.isinf(maximum), -FLT_MAX, maximum)


def scale(values: FloatArray, minimum: FloatArray, maximum: FloatArray) -> FloatArray:
    """Scale to 0-100 by a training range, as wndchrm does (see the module docstring)."""
    span = maximum - minimum
    flat = span < DBL_EPSILON
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        scaled = 100.0 * ((values - minimum) / np.where(flat, 1.0, span))
    scaled = np.where(values > maximum, 100.0, scaled)
    return np.where(np.isnan(values) | (values < minimum) | flat, 0.0, scaled)


def train(features: FloatArray, labels: IndexArray, n_classes: int, fraction: float,
          paths: tuple[str, ...] = (), values: FloatArray | None = None) -> Model:
    """Fit on training tiles (rows of ``features``) with 0-based class indices ``labels``.

    With ``values`` (continuous, ``-C``) the scores are Pearson correlations instead of Fisher scores.
    """
    missing = sorted(set(range(n_classes)) - set(labels.tolist()))
    if missing:
        raise ValueError(f"no training samples for class index(es) {missing}")
    minimum, maximum = training_range(features)
    scaled = scale(features, minimum, maximum)
    scores = fw.pearson_scores(scaled, values) if values is not None else fw.fisher_scores(scaled, labels, n_classes)
    return Model(minimum, maximum, scores, fw.threshold(scores, fraction), scaled, labels, n_classes,
                 paths, values)


def with_weights(model: Model, weights: FloatArray) -> Model:
    """The same model with other feature weights (a weight file, a feature group left out)."""
    return replace(model, weights=np.asarray(weights, dtype=np.float64))


def _weighted_squares(test: FloatArray, train_rows: FloatArray, coefficients: FloatArray,
                      skip_tiny: bool) -> FloatArray:
    """``sum_f c_f (x_f - t_f)^2``, test rows x training rows.

    Large problems go through one matrix product (``|a|^2 + |b|^2 - 2 a.b`` of the rows centred on the
    training mean and scaled by ``sqrt(c)``), tens of times faster than forming every difference. Its
    rounding error is at most ``2 (f + 6) eps (|a|^2 + |b|^2)``, so every pair whose sum could be off by
    more than PRODUCT_TOLERANCE of itself (near neighbours, which dominate WND-5) is recomputed term by
    term, as are the sums classify2's skip of per-feature differences under DBL_EPSILON can change
    (together those differences add at most eps^2 * sum(c)).
    """
    if len(test) * len(train_rows) < PRODUCT_MIN_PAIRS or not len(coefficients):
        return _exact_squares(test, train_rows, coefficients, skip_tiny)
    root = np.sqrt(coefficients)
    centre = train_rows.mean(axis=0)
    a = (test - centre) * root
    b = (train_rows - centre) * root
    a_norms = np.einsum("ij,ij->i", a, a)
    b_norms = np.einsum("ij,ij->i", b, b)
    out = a_norms[:, None] + b_norms[None, :] - 2.0 * (a @ b.T)
    bound = 2.0 * (len(coefficients) + 6) * DBL_EPSILON / PRODUCT_TOLERANCE
    suspect = out < bound * (a_norms[:, None] + b_norms[None, :])
    if skip_tiny:
        suspect |= out < 1e16 * DBL_EPSILON**2 * coefficients.sum()
    rows, cols = np.nonzero(suspect)
    per_chunk = max(1, BLOCK_BYTES // (8 * test.shape[1] or 1))
    for start in range(0, len(rows), per_chunk):
        r, c = rows[start : start + per_chunk], cols[start : start + per_chunk]
        diff = test[r] - train_rows[c]
        squares = np.where(np.abs(diff) < DBL_EPSILON, 0.0, diff * diff) if skip_tiny else diff * diff
        out[r, c] = squares @ coefficients
    return np.asarray(out, dtype=np.float64)


def _exact_squares(test: FloatArray, train_rows: FloatArray, coefficients: FloatArray,
                   skip_tiny: bool) -> FloatArray:
    """``_weighted_squares`` term by term, in blocks that fit BLOCK_BYTES."""
    per_row = max(1, BLOCK_BYTES // (8 * train_rows.size or 1))
    out = np.empty((len(test), len(train_rows)))
    for start in range(0, len(test), per_row):
        block = test[start : start + per_row, None, :] - train_rows[None, :, :]
        out[start : start + per_row] = (block * block) @ coefficients
    if skip_tiny:
        # classify2 skips per-feature differences under DBL_EPSILON. Together they add at most
        # eps^2 * sum(c); only sums within 1e16 times that can change, so only those are recomputed.
        suspect = np.argwhere(out < 1e16 * DBL_EPSILON**2 * coefficients.sum())
        for row, col in suspect:
            diff = test[row] - train_rows[col]
            out[row, col] = np.where(np.abs(diff) < DBL_EPSILON, 0.0, diff * diff) @ coefficients
    return out


def wnd5_distances(model: Model, scaled_tiles: FloatArray) -> FloatArray:
    """classify2's ``dist_sum`` of every scaled test tile to every training tile."""
    chosen = model.selected
    return _weighted_squares(scaled_tiles[:, chosen], model.train[:, chosen], model.weights[chosen] ** 2, True)


def wnn_distances(model: Model, scaled_tiles: FloatArray) -> FloatArray:
    """TrainingSet::distance (power 2): ``sqrt(sum_f w_f (x_f - t_f)^2)``."""
    chosen = np.flatnonzero(model.weights != 0)
    squares = _weighted_squares(scaled_tiles[:, chosen], model.train[:, chosen], model.weights[chosen], False)
    return np.asarray(np.sqrt(np.maximum(squares, 0.0)), dtype=np.float64)


def wnd5(model: Model, dist: FloatArray) -> TileResult:
    """Per tile, classify2's probabilities, normalisation factor and most similar class."""
    counted = dist >= DBL_EPSILON
    with np.errstate(divide="ignore"):
        log_terms = np.where(counted, -POWER * np.log(np.where(counted, dist, 1.0)), -np.inf)
    log_sims = np.full((len(dist), model.n_classes), -np.inf)
    for c in range(model.n_classes):
        members = model.labels == c
        count = counted[:, members].sum(axis=1)
        total = logsumexp(log_terms[:, members], axis=1) if members.any() else np.full(len(dist), -np.inf)
        log_sims[:, c] = np.where(count > 0, total - np.log(np.maximum(count, 1)), -np.inf)
    log_norm = logsumexp(log_sims, axis=1)
    found = np.isfinite(log_norm)
    probabilities = np.full_like(log_sims, -np.nan)  # C's 0/0 when every training tile is an exact match
    probabilities[found] = np.exp(log_sims[found] - log_norm[found, None])
    with np.errstate(over="ignore"):
        norm = np.where(found, np.exp(np.where(found, log_norm, 0.0)), 0.0)
    predicted = np.where(found, np.argmax(np.where(found[:, None], log_sims, 0.0), axis=1), -1)
    return TileResult(probabilities, norm, np.asarray(predicted, dtype=np.intp))


def wnn(model: Model, dist: FloatArray, tile_paths: tuple[str, ...] = ()) -> TileResult:
    """Per tile, WNNclassify's probabilities, normalisation factor and nearest tile's class."""
    usable = dist >= 1.0 / WNN_INF
    if tile_paths and model.paths:
        usable &= np.asarray(tile_paths)[:, None] != np.asarray(model.paths)[None, :]
    masked = np.where(usable, dist, WNN_INF)
    nearest = np.argmin(masked, axis=1)
    closest = np.full((len(dist), model.n_classes), WNN_INF)
    for c in range(model.n_classes):
        members = model.labels == c
        if members.any():
            closest[:, c] = masked[:, members].min(axis=1)
    inverse = 1.0 / closest
    total = inverse.sum(axis=1)
    predicted = np.where(masked[np.arange(len(dist)), nearest] < WNN_INF, model.labels[nearest], -1)
    return TileResult(inverse / total[:, None], total, np.asarray(predicted, dtype=np.intp))


def classify_tiles(model: Model, tiles: FloatArray, wnn_method: bool = False,
                   tile_paths: tuple[str, ...] = ()) -> TileResult:
    """Classify raw (unscaled) test tiles, one per row.

    Test tiles go in blocks whose distances to every training tile fit BLOCK_BYTES: memory stays linear in
    the number of images (a 2,500 x 7,500 split would otherwise hold several 150 MB matrices at once).
    """
    rows = max(1, BLOCK_BYTES // (8 * max(1, len(model.train))))
    parts = []
    for start in range(0, max(1, len(tiles)), rows):  # one block even for no tiles
        scaled = scale(tiles[start : start + rows], model.minimum, model.maximum)
        if wnn_method:
            paths = tile_paths[start : start + rows] if tile_paths else ()
            parts.append(wnn(model, wnn_distances(model, scaled), paths))
        else:
            parts.append(wnd5(model, wnd5_distances(model, scaled)))
    if len(parts) == 1:
        return parts[0]
    return TileResult(np.concatenate([p.probabilities for p in parts]), np.concatenate([p.norm_factor for p in parts]),
                      np.concatenate([p.predicted for p in parts]))


def continuous_values(model: Model, tiles: FloatArray, neighbours: int) -> FloatArray:
    """Per raw test tile, the value interpolated from its nearest training tiles (``-C``)."""
    if model.values is None:
        raise ValueError("the model has no continuous values")
    rows = max(1, BLOCK_BYTES // (8 * max(1, len(model.train))))
    return np.concatenate([
        nearest_value(wnn_distances(model, scale(tiles[start : start + rows], model.minimum, model.maximum)),
                      model.values, neighbours)
        for start in range(0, max(1, len(tiles)), rows)])
