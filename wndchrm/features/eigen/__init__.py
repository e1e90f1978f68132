"""Eigen 3.1.2's arithmetic, reproduced where wndchrm 1.60's values depend on its last bits.

wndchrm 1.60 takes Haralick's maximal correlation coefficient from ``Q.matrix().eigenvalues()(2)``:
the third eigenvalue in Eigen's order, the order of the diagonal of the real Schur form its Francis QR
iteration leaves, not a sorted order. Two nearly converged eigenvalues trade places, or not, on a
last bit, so :func:`eigenvalues` runs Eigen's own iteration, ``HessenbergDecomposition`` then
``RealSchur::compute`` of the Eigen that wnd-charm bundles, step for step, in C (``_schur.c``,
built with the package): its shifts, exceptional shifts at iterations 10 and 30, deflation tests,
Householder and Givens arithmetic, and the order in which its SSE2 kernels add a matrix-vector
product's terms. :mod:`wndchrm.features.eigen.sums` forms the Q matrix's sums the same way.

On the reference matrices (Q matrices of the test images, fixtures/cpp/haralick/) the eigenvalues equal
wndchrm 1.60's bit for bit, order included. A build of wndchrm with other SIMD (AVX packets of four
doubles) or with FMA would sum differently and could order near-equal eigenvalues differently.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from wndchrm.features.eigen import _schur

#: ``RealSchur::m_maxIterationsPerRow``: the iteration gives up after this many steps per row.
MAX_ITERATIONS = 40


class NoConvergence(ArithmeticError):
    """The QR iteration did not converge (``RealSchur::info() == NoConvergence``)."""


def eigenvalues(matrix: ArrayLike) -> NDArray[np.complex128]:
    """``EigenSolver(matrix).eigenvalues()`` of Eigen 3.1.2, in the order of its real Schur form: a
    complex pair from a 2x2 block as ``(t11 + p) +/- z i``."""
    work = np.array(matrix, dtype=np.float64, order="C", copy=True)
    if work.ndim != 2 or work.shape[0] != work.shape[1]:
        raise ValueError(f"a square matrix is needed, not one of shape {work.shape}")
    size = len(work)
    real, imag = np.empty(size), np.empty(size)
    if not _schur.eigenvalues(work, size, real, imag):
        raise NoConvergence(f"no convergence after {MAX_ITERATIONS * size} QR steps on a {size}x{size} matrix")
    values = np.empty(size, dtype=np.complex128)
    values.real, values.imag = real, imag
    return values


def q_sums(p: NDArray[np.float64], denominators: NDArray[np.float64]) -> NDArray[np.float64]:
    """wndchrm's ``Q(i, j) = sum_k P(i, k) P(j, k) / denominators(i, k)`` (``_Q_calc_eigen``), each sum
    added as Eigen's ``redux`` adds an aligned expression (:func:`wndchrm.features.eigen.sums.redux`)."""
    p = np.ascontiguousarray(p, dtype=np.float64)
    denominators = np.ascontiguousarray(denominators, dtype=np.float64)
    if p.ndim != 2 or p.shape[0] != p.shape[1] or denominators.shape != p.shape:
        raise ValueError(f"square matrices of one shape are needed, not {p.shape} and {denominators.shape}")
    q = np.empty_like(p)
    _schur.q_sums(p, denominators, len(p), q)
    return q
