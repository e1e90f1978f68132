"""Class labels read as numbers, the interpolated value and the Pearson correlation, as wndchrm 1.60 does.

wndchrm decides that labels are numbers with its ``check_numeric`` (strtod, then strtol): a label is
"numeric" when it does not overflow, even if no number starts it, so "2cell" reads as 2 and "alpha" as 0,
and practically every dataset counts as numeric. It then prints, per image, the interpolated value
``sum_c p(c) * atof(label_c)``; the Pearson correlation of those values with the images' own label values
is a figure of each ``test`` split. With ``-C`` (continuous values) a test sample's value is instead the
inverse-distance weighted mean of its ``-q`` nearest training samples (TrainingSet::InterpolateValue).
"""

from __future__ import annotations

import math
import re
import sys

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]

_DECIMAL = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_HEX = re.compile(r"[+-]?0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)(?:[pP][+-]?\d+)?")
_SPECIAL = re.compile(r"[+-]?(?:inf(?:inity)?|nan)", re.IGNORECASE)
_INTEGER = re.compile(r"[+-]?(?:0[xX][0-9a-fA-F]+|0[0-7]*|[1-9]\d*)")
_LONG_MAX = 2**63 - 1
_DBL_MAX = sys.float_info.max
_DBL_EPSILON = sys.float_info.epsilon


def _strtod(text: str) -> tuple[float, int, bool]:
    """C's strtod: (value, characters used, range error)."""
    start = len(text) - len(text.lstrip(" \t\n\v\f\r"))
    rest = text[start:]
    for pattern in (_HEX, _DECIMAL, _SPECIAL):
        match = pattern.match(rest)
        if match:
            word = match.group(0)
            value = float.fromhex(word) if pattern is _HEX else float(word)
            digits = re.sub(r"[eEpP].*|[^0-9a-fA-F]", "", word.lstrip("+-")[2:] if pattern is _HEX else word)
            overflow = math.isinf(value) and pattern is not _SPECIAL
            underflow = value == 0.0 and pattern is _DECIMAL and digits.strip("0") != ""
            return value, start + len(word), overflow or underflow
    return 0.0, 0, False


def _strtol(text: str) -> tuple[float, int, bool]:
    """C's strtol with base 0: (value, characters used, range error)."""
    start = len(text) - len(text.lstrip(" \t\n\v\f\r"))
    match = _INTEGER.match(text[start:])
    if not match:
        return 0.0, 0, False
    word = match.group(0)
    body = word.lstrip("+-")
    base = 16 if body[:2].lower() == "0x" else 8 if body.startswith("0") else 10
    value = int(body, base)
    value = -value if word.startswith("-") else value
    return float(value), start + len(match.group(0)), abs(value) > _LONG_MAX


def check_numeric(label: str) -> int:
    """wndchrm's check_numeric: 0 not a number, 1 starts like one (or not at all), 2 wholly a number."""
    value, used, range_error = _strtod(label)
    numeric, pure = (0, 0) if range_error else (1, int(used > 0 and used == len(label)))
    if not (numeric and pure):
        value, used, range_error = _strtol(label)
        numeric, pure = (0, 0) if range_error else (1, int(used > 0 and used == len(label)))
    if not -_DBL_MAX + _DBL_EPSILON < value < _DBL_MAX - _DBL_EPSILON:
        return 0
    return numeric + pure


def c_atof(text: str) -> float:
    """C's atof: the number starting ``text`` (after blanks), 0 when none does."""
    return _strtod(text)[0]


def labels_numeric(classes: list[str]) -> bool:
    """Whether wndchrm interpolates values for these class labels (its ``is_numeric``)."""
    return bool(classes) and all(check_numeric(label) > 0 for label in classes)


def labels_pure_numeric(classes: list[str]) -> bool:
    """Whether every label is wholly a number (needed for continuous values from a dataset folder)."""
    return bool(classes) and all(check_numeric(label) == 2 for label in classes)


def label_values(classes: list[str]) -> FloatArray:
    return np.array([c_atof(label) for label in classes], dtype=np.float64)


def interpolated(probabilities: FloatArray, classes: list[str]) -> FloatArray:
    """Per image: sum over classes of p(class) * the class label's value."""
    return np.asarray(probabilities @ label_values(classes), dtype=np.float64)


def nearest_value(distances: FloatArray, values: FloatArray, neighbours: int) -> FloatArray:
    """InterpolateValue: per row, the 1/d-weighted mean value of the ``neighbours`` closest samples.

    As in wndchrm, an exact match (d = 0) is not skipped: its weight is infinite and the value NaN.
    """
    count = min(neighbours, distances.shape[1])
    order = np.argsort(distances, axis=1, kind="stable")[:, :count]
    near = np.take_along_axis(distances, order, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        inverse = 1.0 / near
        return np.asarray((values[order] * inverse).sum(axis=1) / inverse.sum(axis=1), dtype=np.float64)


def pearson(predicted: FloatArray, actual: FloatArray) -> tuple[float, float]:
    """TrainingSet::pearson: the correlation (sample moments) and its two-sided t-density P value."""
    n = len(predicted)
    if n < 2:
        return 0.0, 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        z_pred = (predicted - predicted.mean()) / predicted.std(ddof=1)
        z_act = (actual - actual.mean()) / actual.std(ddof=1)
        correlation = float((z_pred * z_act).sum() / (n - 1))
    return correlation, _p_value(correlation, n)


def _p_value(correlation: float, n: int) -> float:
    """wndchrm's formula: the Student t density at t = r sqrt(n-2) / sqrt(1-r^2), n-2 degrees of freedom."""
    dof = n - 2
    if dof <= 0 or not math.isfinite(correlation) or abs(correlation) >= 1.0:
        return 0.0
    t = correlation * math.sqrt(dof) / math.sqrt(1 - correlation * correlation)
    log_ratio = math.lgamma((dof + 1) / 2) - math.lgamma(dof / 2)
    return float(math.exp(log_ratio) / math.sqrt(dof * 3.14159265) * (1 + t * t / dof) ** (-(dof + 1) / 2))


def pearson_applies(classes: list[str]) -> bool:
    """wndchrm reports 0 unless every label's value is non-zero or the label starts with '0'."""
    return all(c_atof(label) != 0.0 or label.startswith("0") for label in classes)
