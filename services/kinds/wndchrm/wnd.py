"""The WND-5 classifier of wndchrm (Orlov et al. 2008, Pattern Recognition Letters 29:1684), in numpy.

Training: every feature is scaled to 0-100 by the training min and max; each gets a Fisher score
``[sum_c (mean_c - mean)^2 / (C-1)] / [sum_c var_c / C]`` (``mean`` is the mean of the class means and
``var_c`` the population variance, as wndchrm computes them; the mean within-class variance is floored at
1e-6 so a feature that is constant inside every class cannot get an infinite weight); all but the top
fraction of scores are set to 0 and the scores are the weights.

Classification (WND-5): the weighted distance of a test tile to training tile ``t`` is
``d = sum_f w_f^2 (x_f - t_f)^2``; a class's similarity is the mean of ``d^-5`` over its training tiles,
skipping exact matches (``d == 0``, as wndchrm does); probabilities are the similarities normalised over
the classes, and an image's probabilities are the mean over its tiles. The sums of ``d^-5`` are formed in
log space, since ``d^-5`` over- or underflows float64 for distances far from 1.
WNN (``-w``): each tile votes for the class of its nearest training tile by the same distance.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.special import logsumexp

#: wndchrm's guard against a zero within-class variance.
MIN_CLASS_VARIANCE = 1e-6
#: The exponent of WND-5.
POWER = 5
#: Bytes of scratch a distance block may use; keeps 10,000 x 10,000 x 400 problems in memory.
BLOCK_BYTES = 32 * 1024 * 1024

FloatArray = NDArray[np.float64]
IndexArray = NDArray[np.intp]


@dataclass(frozen=True)
class Model:
    """A trained WND model: scaling, weights and the scaled training tiles of the selected features."""

    minimum: FloatArray
    maximum: FloatArray
    weights: FloatArray
    scores: FloatArray
    selected: IndexArray
    train: FloatArray
    labels: IndexArray
    n_classes: int


@dataclass(frozen=True)
class Prediction:
    """Per image: class probabilities (rows sum to 1), normalisation factor, predicted class index."""

    probabilities: FloatArray
    norm_factor: FloatArray

    @property
    def predicted(self) -> IndexArray:
        return np.asarray(np.argmax(self.probabilities, axis=1), dtype=np.intp)


def scale(values: FloatArray, minimum: FloatArray, maximum: FloatArray) -> FloatArray:
    """Scale to 0-100 by the training range, clipping values outside it; constant features become 0."""
    span = maximum - minimum
    safe = np.where(span > 0, span, 1.0)
    scaled = np.clip((values - minimum) / safe * 100.0, 0.0, 100.0)
    scaled = np.where(span > 0, scaled, 0.0)
    return np.nan_to_num(scaled, nan=0.0)


def fisher_scores(scaled: FloatArray, labels: IndexArray, n_classes: int) -> FloatArray:
    """Fisher discriminant score of every column of ``scaled`` (samples x features)."""
    if n_classes < 2:
        raise ValueError("Fisher scores need at least two classes")
    means = np.stack([scaled[labels == c].mean(axis=0) for c in range(n_classes)])
    variances = np.stack([scaled[labels == c].var(axis=0) for c in range(n_classes)])
    between = ((means - means.mean(axis=0)) ** 2).sum(axis=0) / (n_classes - 1)
    within = np.maximum(variances.mean(axis=0), MIN_CLASS_VARIANCE)
    return np.asarray(between / within, dtype=np.float64)


def select(scores: FloatArray, fraction: float) -> IndexArray:
    """Indices of the top ``fraction`` of scores (at least one), best first."""
    keep = max(1, len(scores) - int((1.0 - fraction) * len(scores)))
    order = np.argsort(-scores, kind="stable")
    return np.asarray(order[:keep], dtype=np.intp)


def train(features: FloatArray, labels: IndexArray, n_classes: int, fraction: float) -> Model:
    """Fit a WND model on training tiles (rows of ``features``) with class indices ``labels``."""
    missing = sorted(set(range(n_classes)) - set(labels.tolist()))
    if missing:
        raise ValueError(f"no training samples for class index(es) {missing}")
    minimum, maximum = features.min(axis=0), features.max(axis=0)
    scaled = scale(features, minimum, maximum)
    scores = fisher_scores(scaled, labels, n_classes)
    selected = select(scores, fraction)
    weights = np.zeros_like(scores)
    weights[selected] = scores[selected]
    return Model(minimum, maximum, weights, scores, selected, scaled[:, selected], labels, n_classes)


def distances(model: Model, tiles: FloatArray) -> FloatArray:
    """Weighted squared distances, test tiles x training tiles, over the selected features."""
    test = scale(tiles, model.minimum, model.maximum)[:, model.selected]
    w2 = model.weights[model.selected] ** 2
    per_row = max(1, BLOCK_BYTES // (8 * model.train.size or 1))
    out = np.empty((len(test), len(model.train)))
    for start in range(0, len(test), per_row):
        block = test[start : start + per_row, None, :] - model.train[None, :, :]
        out[start : start + per_row] = (block * block) @ w2
    return out


def _wnd_tiles(model: Model, dist: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Per tile: class probabilities and the normalisation factor (sum of class similarities)."""
    with np.errstate(divide="ignore"):
        log_terms = np.where(dist > 0, -POWER * np.log(dist), -np.inf)
    log_sims = np.full((len(dist), model.n_classes), -np.inf)
    for c in range(model.n_classes):
        members = model.labels == c
        counted = (dist[:, members] > 0).sum(axis=1)
        total = logsumexp(log_terms[:, members], axis=1)
        with np.errstate(divide="ignore"):
            log_sims[:, c] = np.where(counted > 0, total - np.log(np.maximum(counted, 1)), -np.inf)
    log_norm = logsumexp(log_sims, axis=1)
    finite = np.isfinite(log_norm)
    probabilities = np.full_like(log_sims, 1.0 / model.n_classes)
    probabilities[finite] = np.exp(log_sims[finite] - log_norm[finite, None])
    with np.errstate(over="ignore"):
        norm = np.where(finite, np.exp(log_norm), 0.0)
    return probabilities, norm


def _wnn_tiles(model: Model, dist: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Per tile: a one-hot vote for the class of the nearest (non-identical) training tile."""
    masked = np.where(dist > 0, dist, np.inf)
    nearest = np.argmin(masked, axis=1)
    probabilities = np.zeros((len(dist), model.n_classes))
    probabilities[np.arange(len(dist)), model.labels[nearest]] = 1.0
    return probabilities, masked[np.arange(len(dist)), nearest]


def classify(model: Model, images: list[FloatArray], wnn: bool = False) -> Prediction:
    """Classify images, each given as its tiles x features matrix; tile results are averaged."""
    if not images:
        return Prediction(np.zeros((0, model.n_classes)), np.zeros(0))
    counts = [len(tiles) for tiles in images]
    dist = distances(model, np.concatenate(images))
    tile_probs, tile_norm = (_wnn_tiles if wnn else _wnd_tiles)(model, dist)
    owner = np.repeat(np.arange(len(images)), counts)
    probabilities = np.zeros((len(images), model.n_classes))
    np.add.at(probabilities, owner, tile_probs)
    norm = np.bincount(owner, weights=tile_norm, minlength=len(images))
    divisor = np.asarray(counts, dtype=np.float64)
    return Prediction(probabilities / divisor[:, None], norm / divisor)
