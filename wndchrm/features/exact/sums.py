"""Sums added in the order Eigen 3.1.2 adds them on x86-64 (SSE2, two doubles a packet): those of
Haralick's Q matrix (the Schur iteration's own are in ``_exact.c``).

wndchrm 1.60's Haralick feature 14 reads an eigenvalue by its position in an unsorted list, and that
position can hinge on the last bit of a sum (two nearly converged eigenvalues trade places). So the
sums feeding it are formed here term for term as Eigen's kernels form them, from the sources wnd-charm
bundles (``src/Eigen/src/Core/Redux.h`` and ``products/GeneralMatrixVector.h``); ``numpy.cumsum``
gives the strictly sequential sums, which numpy's pairwise ``sum`` would not. All functions sum along
the last axis and work on any leading axes at once.

``aligned_start`` is ``first_aligned``: 1 when a vector starts at an odd double from a 16-byte
boundary (Eigen allocates every matrix on one), else 0.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]


def sequential(terms: Array) -> Array:
    """``DefaultTraversal``: ``((t0 + t1) + t2) + ...`` (strided vectors, such as a row-major column)."""
    if terms.shape[-1] == 0:
        return np.zeros(terms.shape[:-1])
    return np.asarray(np.cumsum(terms, axis=-1)[..., -1], dtype=np.float64)


def redux(terms: Array, aligned_start: int = 0) -> Array:
    """``redux_impl<..., LinearVectorizedTraversal, NoUnrolling>`` for ``sum()``.

    From ``aligned_start`` on, pairs of packets: lanes (t0, t1) and (t2, t3) each add every fourth
    term in turn, then the two packets are added, then one more packet if two terms remain, then its
    two lanes; the terms before ``aligned_start`` and the last odd one are added after, in order.
    Expressions (anything but a plain block of a matrix) start aligned.
    """
    size = terms.shape[-1]
    start = min(aligned_start, size)
    paired = (size - start) // 4 * 4
    packed = (size - start) // 2 * 2
    if packed == 0:
        return sequential(terms)
    if packed > 2:
        lanes = sequential(np.moveaxis(terms[..., start:start + paired].reshape(*terms.shape[:-1], -1, 4), -2, -1))
        low, high = lanes[..., 0] + lanes[..., 2], lanes[..., 1] + lanes[..., 3]
        if packed > paired:
            low, high = low + terms[..., start + paired], high + terms[..., start + paired + 1]
    else:
        low, high = terms[..., start], terms[..., start + 1]
    rest = np.concatenate([(low + high)[..., None], terms[..., :start], terms[..., start + packed:]], axis=-1)
    return sequential(rest)
