"""Sums added in the order Eigen 3.1.2 adds them on x86-64 (SSE2, two doubles a packet).

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


def sequential_first(terms: Array) -> Array:
    """:func:`sequential` along the first axis, one slab of sums at a time (numpy's ``cumsum`` runs
    each sum on its own, which is slow for many short sums)."""
    total = np.zeros(terms.shape[1:])
    if len(terms):
        total[...] = terms[0]
    for term in terms[1:]:
        total += term
    return total


def gemv_row_major(matrix: Array, vector: Array) -> Array:
    """``general_matrix_vector_product<..., RowMajor, ...>`` with an aligned, contiguous ``vector``
    (``matrix @ vector``): per row, lane 0 adds the even terms and lane 1 the odd ones, each in turn,
    then ``lane 0 + lane 1``, then the last term if the length is odd."""
    depth = matrix.shape[-1]
    vector = np.broadcast_to(vector, (*matrix.shape[:-2], 1, depth))
    terms = np.multiply(np.moveaxis(matrix, -1, 0), np.moveaxis(vector, -1, 0), order="C")  # term first
    packed = depth // 2 * 2
    if packed == 0:
        return sequential_first(terms)
    lanes = sequential_first(terms[0:packed:2]) + sequential_first(terms[1:packed:2])
    return lanes + terms[packed] if packed < depth else lanes


def gemv_col_major(columns: Array, vector: Array, stride: int, lhs_offset: int) -> Array:
    """``general_matrix_vector_product<..., ColMajor, ...>`` into an aligned result:
    ``sum_k columns[..., :, k] * vector[..., k]``.

    ``columns`` is the lhs as the kernel sees it (result rows x columns), ``stride`` its outer stride
    in doubles and ``lhs_offset`` the ``first_aligned`` of its first element. Columns go four at a
    time (in the order k, k+3, k+2, k+1 when the stride is odd); in the packet-aligned rows a group
    is added as ``(a + b) + (c + d)``, in a trailing odd row term by term; then the columns left
    over, then those skipped at the start to align, one at a time.
    """
    *lead, size, count = columns.shape
    step = stride % 2
    skip = 0
    while skip < 2 and (lhs_offset + step * skip) % 2 != 0:
        skip += 1
    skip = 0 if skip == 2 else min(skip, count)
    second, fourth = (3, 1) if step == 1 else (1, 3)
    bound = (count - skip) // 4 * 4 + skip
    vector = np.broadcast_to(np.expand_dims(vector, -2), (*lead, 1, count))
    products = np.multiply(np.moveaxis(columns, -1, 0), np.moveaxis(vector, -1, 0), order="C")  # column first
    grouped = products[skip:bound].reshape(-1, 4, *lead, size)  # groups x 4 x ... x size
    tail = np.concatenate([products[bound:], products[:skip]])
    aligned = size // 2 * 2
    result = np.empty((*lead, size))
    group_sums = (grouped[:, 0, ..., :aligned] + grouped[:, second, ..., :aligned]) + (
        grouped[:, 2, ..., :aligned] + grouped[:, fourth, ..., :aligned])
    result[..., :aligned] = sequential_first(np.concatenate([group_sums, tail[..., :aligned]]))
    if aligned < size:
        flat = grouped[:, (0, second, 2, fourth), ..., aligned:].reshape(-1, *lead, size - aligned)
        result[..., aligned:] = sequential_first(np.concatenate([flat, tail[..., aligned:]]))
    return result
