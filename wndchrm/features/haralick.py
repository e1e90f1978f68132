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
  0 if that eigenvalue is complex, NaN if it is negative (see :mod:`wndchrm.features.real_schur`).

wndchrm writes the mean over the four directions as [16] and their range (max - min) as [17]; a NaN
direction makes the mean NaN and is skipped by the range (C comparisons with NaN are false), and the
range of four NaNs is ``-INF - INF`` with wndchrm's ``INF`` of 10E200, -2e201.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from wndchrm.features.eigen_sums import redux, sequential
from wndchrm.features.real_schur import eigenvalues, eigenvalues_many

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
    tones, index = np.unique(grey, return_inverse=True)
    index = index.reshape(grey.shape)
    size = len(tones)
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
    if size < 4:
        return np.array([redux((p[i] * p) / denominators[i]) for i in range(size)])
    return _redux_of_products(p, denominators)


def _redux_of_products(p: NDArray[np.float64], denominators: NDArray[np.float64]) -> NDArray[np.float64]:
    """``redux`` of every Q entry's terms, skipping the zero ones.

    The terms are never negative, so a zero term changes no partial sum and the sums of the four
    lanes (terms ``k = l, l+4, ...``) can run over the non-zero terms alone, in the same order;
    ``np.bincount`` adds its weights in order. Co-occurrence matrices are sparse (a tone meets few
    others), so this is a small part of the ``Ng^3`` products.
    """
    size = len(p)
    paired, packed = size // 4 * 4, size // 2 * 2
    columns, rows = np.nonzero(p[:, :paired].T)  # by k, then i
    degree = np.bincount(columns, minlength=paired)
    start = np.cumsum(degree) - degree
    repeats = degree[columns]
    entry = np.repeat(np.arange(len(columns)), repeats)  # (i, k) of each triple, then its j
    partner = start[columns[entry]] + np.arange(len(entry)) - np.repeat(np.cumsum(repeats) - repeats, repeats)
    i, j, k = rows[entry], rows[partner], columns[entry]
    terms = (p[i, k] * p[j, k]) / denominators[i, k]
    lanes = np.bincount((k % 4) * size * size + i * size + j, terms, minlength=4 * size * size)
    lanes = lanes.reshape(4, size, size)

    def term(k: int) -> NDArray[np.float64]:
        return (p[:, None, k] * p[None, :, k]) / denominators[:, None, k]

    low, high = lanes[0] + lanes[2], lanes[1] + lanes[3]
    if packed > paired:
        low, high = low + term(paired), high + term(paired + 1)
    q: NDArray[np.float64] = low + high
    return q + term(size - 1) if packed < size else q


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


def _mcc_by_direction_many(images: Sequence[NDArray[np.float64]]) -> NDArray[np.float64]:
    """Feature 14 of each image (images x 4 directions), every Q matrix iterated side by side."""
    ps = []
    for image in images:
        grey = quantise(np.asarray(image, dtype=np.float64))
        ps += [cooccurrence(grey, angle) for angle in DIRECTIONS]
    for p in ps:
        _check_tones(p)
    values = eigenvalues_many([q_matrix(p) for p in ps])
    return np.array([_feature_14(complex(v[2])) for v in values]).reshape(len(images), len(DIRECTIONS))


def mcc_by_direction(image: NDArray[np.float64]) -> NDArray[np.float64]:
    """Feature 14 for 0, 45, 90 and 135 degrees (rows x columns image)."""
    values: NDArray[np.float64] = _mcc_by_direction_many([image])[0]
    return values


def mean_and_range(values: NDArray[np.float64]) -> tuple[float, float]:
    """wndchrm's [16] and [17] from the four directions: ``sum / 4`` and ``max - min``, where its
    running ``<`` and ``>`` comparisons skip NaNs (four NaNs leave ``-INF - INF``)."""
    finite = values[~np.isnan(values)]
    spread = float(finite.max() - finite.min()) if len(finite) else -INF - INF
    return float(values.sum() / 4), spread


def maximal_correlation_features(image: NDArray[np.float64]) -> tuple[float, float]:
    """Haralick Textures [16] and [17] (wndchrm 4.2 names) of one transformed image."""
    return mean_and_range(mcc_by_direction(image))


def maximal_correlation_features_many(images: Sequence[NDArray[np.float64]]) -> list[tuple[float, float]]:
    """:func:`maximal_correlation_features` of each image (say the twelve transformed images of one
    image), the same values, computed together: the QR iterations of all their Q matrices run side by
    side, which costs far less than one image after another. Raises :class:`TooFewTones` if any of
    the images has fewer than three grey tones."""
    return [mean_and_range(values) for values in _mcc_by_direction_many(images)]
