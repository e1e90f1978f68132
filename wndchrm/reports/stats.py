"""The figures of wndchrm 1.60's HTML report that its printed output lacks (TrainingSet::report).

P values are the binomial chance of at least that many correct guesses among the known test images
with 1/classes odds; 95% intervals use the normal approximation when n * p and n * (1 - p) both exceed
5, else the Wilson score interval, as the C++ program chooses (z = 1.95996). Feature statistics are
of the Fisher (or, with ``-C``, correlation) scores of each split; the class distances for the
dendrogram follow ``-P``.
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.stats import binom

FloatArray = NDArray[np.float64]

#: The quantile wndchrm uses for 95% intervals.
Z_SCORE = 1.95996
#: How many features the report ranks across splits, as wndchrm's "Top 50 image features".
TOP_FEATURES = 50


def chance_p_value(correct: int, tested: int, n_classes: int) -> float:
    """P of at least ``correct`` right among ``tested`` by guessing one of ``n_classes`` classes."""
    if tested <= 0 or n_classes <= 0:
        return math.nan
    return float(binom.sf(correct - 1, tested, 1.0 / n_classes))


def uses_wilson(correct: int, tested: int) -> bool:
    """wndchrm's rule of thumb: the normal approximation only when n*p and n*(1-p) both exceed 5."""
    p = correct / tested if tested else math.nan
    return not (tested * p > 5 and tested * (1 - p) > 5)


def interval(correct: int, tested: int, wilson: bool) -> tuple[float, float]:
    """A 95% interval as (centre, half width), fractions of 1 (NaN when nothing was tested)."""
    if tested <= 0:
        return math.nan, math.nan
    p, n, z = correct / tested, float(tested), Z_SCORE
    if not wilson:
        return p, z * math.sqrt(p * (1 - p) / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (p + z * z / (2 * n)) / (1 + z * z / n), half


def probability_intervals(per_image: list[tuple[int, FloatArray]], n_classes: int) -> tuple[FloatArray, FloatArray]:
    """Mean marginal probability per (actual, predicted class) over every image of every split, and its
    95% half width (population std / sqrt(n) * 1.95966, the constant wndchrm uses there)."""
    means = np.full((n_classes, n_classes), np.nan)
    halves = np.full((n_classes, n_classes), np.nan)
    for row in range(n_classes):
        rows = np.array([p for actual, p in per_image if actual == row], dtype=np.float64)
        if len(rows):
            means[row] = rows.mean(axis=0)
            halves[row] = rows.std(axis=0) / math.sqrt(len(rows)) * 1.95966
    return means, halves


def family_of(name: str) -> str:
    """The feature family: the name without its trailing index (``Zernike Coefficients (Fourier ()) [3]``)."""
    return re.sub(r"\s*\[\d+\]\s*$", "", name)


def _stats(values: FloatArray) -> dict[str, float]:
    std = float(values.std(ddof=1)) if len(values) > 1 else 0.0
    return {"min": float(values.min()), "max": float(values.max()), "mean": float(values.mean()), "std": std}


def family_scores(scores: FloatArray, names: list[str]) -> list[dict[str, Any]]:
    """Scores summarised per feature family, ranked by mean score (wndchrm's "Analysis of Fisher scores")."""
    families: dict[str, list[float]] = {}
    for name, score in zip(names, scores.tolist(), strict=False):
        families.setdefault(family_of(name), []).append(score)
    rows = [{"name": family, "features": len(v), **_stats(np.array(v))} for family, v in families.items()]
    return sorted(rows, key=lambda row: -row["mean"])


def selected_features(scores: FloatArray, weights: FloatArray, names: list[str]) -> list[dict[str, Any]]:
    """The features with a weight, by score (highest first), as the report's "features selected"."""
    chosen = np.flatnonzero(weights > 0)
    ordered = chosen[np.argsort(-scores[chosen], kind="stable")]
    return [{"name": names[i], "weight": float(weights[i])} for i in ordered.tolist()]


def top_features(weights: list[FloatArray], names: list[str]) -> list[dict[str, Any]]:
    """Each feature's weight over the splits (min, max, mean, std), the ``TOP_FEATURES`` highest means."""
    stacked = np.vstack(weights)
    means = stacked.mean(axis=0)
    order = np.argsort(-means, kind="stable")[:TOP_FEATURES]
    return [{"rank": rank, "name": names[i], **_stats(stacked[:, i])} for rank, i in enumerate(order.tolist(), 1)]


def class_distances(similarity: FloatArray, class_probability: FloatArray, method: int) -> FloatArray:
    """The class distance matrix of ``-P`` (1 max, 2 mean, 3 upper, 4 lower dis-similarity, 5 Euclidean
    distance between the class probability rows), as wndchrm writes it for PHYLIP."""
    if method == 5:
        diff = class_probability[:, None, :] - class_probability[None, :, :]
        return np.asarray(np.sqrt((diff**2).sum(axis=2)), dtype=np.float64)
    dissimilar = 1.0 - similarity
    upper = np.triu(np.ones_like(dissimilar, dtype=bool))
    if method == 1:
        return np.maximum(dissimilar, dissimilar.T)
    if method == 3:
        return np.where(upper, dissimilar, dissimilar.T)
    if method == 4:
        return np.where(upper, dissimilar.T, dissimilar)
    return (dissimilar + dissimilar.T) / 2


def image_distances(probabilities: FloatArray) -> FloatArray:
    """``-p#``: distances between test images, each row scaled to 0..1 as wndchrm scales them."""
    diff = probabilities[:, None, :] - probabilities[None, :, :]
    dist = np.sqrt((diff**2).sum(axis=2))
    off = ~np.eye(len(dist), dtype=bool)
    for row in range(len(dist)):
        values = dist[row][off[row]]
        if len(values):
            low, high = values.min(), values.max()
            dist[row][off[row]] = (values - low) / (high - low) if high > low else 0.0
    return np.asarray(dist, dtype=np.float64)
