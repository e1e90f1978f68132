"""Haralick's maximal correlation coefficient as wndchrm 1.60 computes it: 4.2's Haralick [16] and [17].

CharmFeatures computes the other 26 Haralick Textures values; v5 dropped these two (the mean and the
range over the four directions of Haralick's feature 14). This follows ``haralick2D``
(``src/textures/haralick/haralick.cpp``) and ``Extract_Texture_Features``, ``CoOcMat_Angle_*``,
``_Q_calc_eigen`` and ``f14_maxcorr`` (``CVIPtexture.cpp``) of wnd-charm at 1.60:

- the image is quantised to ``(unsigned char)((pixel - min) * (255 / (max - min)))``;
- the grey tones that occur in the image (0 among them: the minimum) are numbered in increasing order;
- for each direction (0, 45, 90 and 135 degrees, distance 1) every pair of neighbours in which both
  pixels are non-zero is counted twice, as (a, b) and (b, a), and the counts are divided by their sum
  (a matrix of zeros if there is no such pair); tone 0 never counts;
- ``Q(i, j) = sum_k P(i, k) P(j, k) / (px(i) py(k) + 1e-13)`` with ``px``, ``py`` P's row and column sums;
- feature 14 is ``sqrt`` of the real part of the eigenvalue at index 2 in Eigen's (unsorted) order,
  0 if that eigenvalue is complex, NaN if it is negative (see :mod:`wndchrm.features.exact`).

wndchrm writes the mean over the four directions as [16] and their range (max - min) as [17]; a NaN
direction makes the mean NaN and is skipped by the range (C comparisons with NaN are false), and the
range of four NaNs is ``-INF - INF`` with wndchrm's ``INF`` of 10E200, -2e201.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from wndchrm.features.exact import eigenvalues, q_sums
from wndchrm.features.exact.sums import redux, sequential

#: Pixel offsets (rows, columns) of the neighbour ``CoOcMat_Angle_<angle>`` pairs a pixel with.
DIRECTIONS = {0: (0, 1), 45: (1, -1), 90: (1, 0), 135: (1, 1)}
#: The constant ``_Q_calc_eigen`` adds to each denominator.
Q_EPSILON = 0.0000000000001
#: wndchrm's ``INF`` (cmatrix.h), the starting minimum and maximum of the range.
INF = 10e200
#: Tones an image needs: with fewer, wndchrm 1.60 reads past Eigen's vector of eigenvalues (an
#: assertion failure, and the program aborts, in a build without NDEBUG).
MIN_TONES = 3


class TooFewTones(ValueError):
    """The quantised image has fewer than three grey tones; wndchrm 1.60 aborts on such an image."""


def quantise(image: NDArray[np.float64]) -> NDArray[np.uint8]:
    """``haralick2D``'s grey levels: ``(unsigned char)((pixel - min) * (255 / (max - min)))``.

    A constant image has no range: the C++ cast of its NaNs gives 0 on x86-64, and so does this.
    """
    low, high = float(image.min()), float(image.max())
    if not high > low:
        return np.zeros(image.shape, dtype=np.uint8)
    return np.trunc((image - low) * (255.0 / (high - low))).astype(np.uint8)


def cooccurrence(grey: NDArray[np.uint8], angle: int) -> NDArray[np.float64]:
    """``CoOcMat_Angle_<angle>`` at distance 1: the normalised symmetric co-occurrence matrix over the
    tones present in ``grey`` (tones x tones), pairs with a 0 pixel left out."""
    present = np.bincount(grey.ravel(), minlength=256) > 0  # the tones, numbered in increasing order
    size = int(present.sum())
    index = (np.cumsum(present) - 1)[grey]
    down, across = DIRECTIONS[angle]
    rows, columns = grey.shape
    first = index[: rows - down, max(0, -across): columns - max(0, across)]
    second = index[down:, max(0, across): columns + min(0, across)]
    counted = (grey[: rows - down, max(0, -across): columns - max(0, across)] != 0) & (
        grey[down:, max(0, across): columns + min(0, across)] != 0)
    pairs = first[counted] * size + second[counted]
    counts = np.bincount(pairs, minlength=size * size).reshape(size, size).astype(np.float64)
    counts += counts.T
    total = 2 * int(counted.sum())
    return counts / total if total else counts


def q_matrix(p: NDArray[np.float64]) -> NDArray[np.float64]:
    """``_Q_calc_eigen``: ``Q(i, j) = sum_k P(i, k) P(j, k) / (px(i) py(k) + 1e-13)``.

    Summed as Eigen sums there: ``px`` row by row (row ``i`` of the row-major P starts
    ``i * Ng`` doubles into an aligned block), ``py`` column by column in turn, and each Q entry's
    terms ``(P(i, k) P(j, k)) / (px(i) py(k) + 1e-13)`` as an aligned expression (:func:`redux`).
    """
    size = len(p)
    px = np.empty(size)
    for parity in (0, 1):  # a row starts on an odd double when i * Ng is odd
        rows = np.flatnonzero((np.arange(size) * size) % 2 == parity)
        if len(rows):
            px[rows] = redux(p[rows], parity)
    py = sequential(p.T)
    denominators = px[:, None] * py[None, :] + Q_EPSILON
    return q_sums(p, denominators)


def max_correlation(p: NDArray[np.float64]) -> float:
    """``f14_maxcorr``: sqrt of the eigenvalue of Q at index 2 in Eigen's order (0 if complex)."""
    _check_tones(p)
    return _feature_14(eigenvalues(q_matrix(p))[2])


def _check_tones(p: NDArray[np.float64]) -> None:
    if len(p) < MIN_TONES:
        raise TooFewTones(f"{len(p)} grey tone(s); wndchrm 1.60 needs {MIN_TONES} for Haralick feature 14")


def _feature_14(value: complex) -> float:
    if value.imag != 0.0:
        return 0.0
    return math.sqrt(value.real) if value.real >= 0.0 else math.nan


def mcc_by_direction(image: NDArray[np.float64]) -> NDArray[np.float64]:
    """Feature 14 for 0, 45, 90 and 135 degrees (rows x columns image). Raises :class:`TooFewTones` if
    the image has fewer than three grey tones."""
    grey = quantise(np.asarray(image, dtype=np.float64))
    values = []
    for angle in DIRECTIONS:
        p = cooccurrence(grey, angle)
        _check_tones(p)
        values.append(_feature_14(complex(eigenvalues(q_matrix(p))[2])))
    return np.array(values)


def mean_and_range(values: NDArray[np.float64]) -> tuple[float, float]:
    """wndchrm's [16] and [17] from the four directions: ``sum / 4`` and ``max - min``, where its
    running ``<`` and ``>`` comparisons skip NaNs (four NaNs leave ``-INF - INF``)."""
    finite = values[~np.isnan(values)]
    spread = float(finite.max() - finite.min()) if len(finite) else -INF - INF
    return float(values.sum() / 4), spread


def maximal_correlation_features(image: NDArray[np.float64]) -> tuple[float, float]:
    """Haralick Textures [16] and [17] (wndchrm 4.2 names) of one transformed image."""
    return mean_and_range(mcc_by_direction(image))
