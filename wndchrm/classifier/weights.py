"""Feature weights as wndchrm 1.60 computes them (TrainingSet::SetFisherScores), and its weight files.

Fisher score of a feature, on values already scaled to 0-100 (:func:`wnd.scale`)::

    [sum_c (mean_c - mean)^2 / (C - 1)] / max(1e-6, sum_c var_c / C)

``mean`` is the mean of all training samples (not of the class means) and ``var_c`` the sample variance
(n - 1) of class c, taken as 0 for a class of 2 or fewer samples, as wndchrm's Moments2 does. With one
class (continuous values, ``-C``) the score is instead ``|mean of z(value) * z(feature)|`` with population
standard deviations, the Pearson correlation wndchrm uses there.

Selection keeps every weight at or above the (floor(f*N + 0.5) + 1)-th largest, so ``-f0.15`` keeps 439
of wndchrm's 2,919 features; a count above 1 means that many of N (``-f439`` is ``-f0.15`` there).

Weight files (``-vw``/``-vr``/``-v+``/``-v-``) hold one ``%f name`` line per feature.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from depqueue import BadJob
from wndchrm.classifier.interpolate import c_atof

FloatArray = NDArray[np.float64]
IndexArray = NDArray[np.intp]

#: wndchrm's guard against a zero within-class variance.
MIN_CLASS_VARIANCE = 1e-6
#: Moments2::var() is 0 unless a class has more than this many samples.
MIN_SAMPLES_FOR_VARIANCE = 2
#: A weight file has one short line per feature (wndchrm reads 127 characters of each).
MAX_WEIGHT_FILE_BYTES = 16 * 1024 * 1024


def fisher_scores(scaled: FloatArray, labels: IndexArray, n_classes: int) -> FloatArray:
    """Fisher score of every column of ``scaled`` (samples x features); ``labels`` are 0-based classes."""
    if n_classes < 2:
        return np.zeros(scaled.shape[1])
    overall = scaled.mean(axis=0)
    between = np.zeros(scaled.shape[1])
    within = np.zeros(scaled.shape[1])
    for c in range(n_classes):
        members = scaled[labels == c]
        if len(members) == 0:
            continue
        between += (members.mean(axis=0) - overall) ** 2
        if len(members) > MIN_SAMPLES_FOR_VARIANCE:
            within += members.var(axis=0, ddof=1)
    between /= n_classes - 1
    within /= n_classes
    within = np.where(within < MIN_CLASS_VARIANCE, MIN_CLASS_VARIANCE, within)
    return np.asarray(between / within, dtype=np.float64)


def pearson_scores(scaled: FloatArray, values: FloatArray) -> FloatArray:
    """|Pearson correlation| of every feature with the samples' continuous values (population moments)."""
    ground = (values - values.mean()) / values.std() if values.std() > 0 else np.zeros_like(values)
    spread = scaled.std(axis=0)
    safe = np.where(spread > 0, spread, 1.0)
    z_features = np.where(spread > 0, (scaled - scaled.mean(axis=0)) / safe, 0.0)
    return np.asarray(np.abs(ground @ z_features / len(values)), dtype=np.float64)


def kept_rank(fraction: float, n_features: int) -> int:
    """wndchrm's threshold index: the weight at this rank (0 = largest) is the smallest one kept."""
    wanted = fraction * n_features if fraction <= 1.0 else fraction
    return math.floor(wanted + 0.5)


def threshold(scores: FloatArray, fraction: float) -> FloatArray:
    """Weights: scores below the threshold set to 0; ties with the threshold are all kept."""
    rank = kept_rank(fraction, len(scores))
    if rank >= len(scores):
        return scores.copy()  # wndchrm reads past its array here; every feature is kept
    cut = np.sort(scores)[::-1][rank]
    return np.where(scores < cut, 0.0, scores)


def feature_groups(names: list[str]) -> list[tuple[str, IndexArray]]:
    """wndchrm's feature groups for ``-A``: runs of features whose names share the first word.

    Names not starting with a capital letter are skipped, as IgnoreFeatureGroup does; a group is named
    by its first feature's name with digits blanked ("Edge Features () [ ]").
    """
    groups: list[tuple[str, list[int]]] = []
    last = None
    for index, name in enumerate(names):
        if not name[:1].isupper():
            continue
        word = name.split(" ", 1)[0]
        if word != last:
            groups.append(("".join(" " if ch.isdigit() else ch for ch in name), []))
            last = word
        groups[-1][1].append(index)
    return [(label, np.asarray(members, dtype=np.intp)) for label, members in groups]


def weight_file_text(weights: FloatArray, names: list[str]) -> str:
    """TrainingSet::SaveWeightVector's layout: ``%f name`` per feature."""
    return "".join(f"{w:f} {name}\n" for w, name in zip(weights.tolist(), names, strict=True))


def apply_weight_file(weights: FloatArray, path: Path, shown: str, action: str) -> tuple[FloatArray, float]:
    """TrainingSet::LoadWeightVector: replace (``r``), add (``+``) or subtract (``-``) a weight file.

    Returns the new weights (negative ones set to 0) and the Euclidean distance between the old
    weights and the file's. BadJob if the file cannot be read or its line count is not the feature count.
    """
    try:
        if path.stat().st_size > MAX_WEIGHT_FILE_BYTES:
            raise BadJob(f"weight file {shown!r} is over {MAX_WEIGHT_FILE_BYTES} bytes: not a weight file")
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError as exc:
        raise BadJob(f"weight file {shown!r} cannot be read: {exc}") from exc
    if len(lines) != len(weights):
        raise BadJob(f"weight file {shown!r} has {len(lines)} line(s); the dataset has {len(weights)} features")
    loaded = np.array([c_atof(line.split(" ", 1)[0]) for line in lines])
    distance = float(np.sqrt(((weights - loaded) ** 2).sum()))
    factor = {"r": 0.0, "+": 1.0, "-": -1.0}[action]
    updated = loaded if factor == 0.0 else weights + factor * loaded
    return np.where(updated < 0, 0.0, updated), distance
