"""wndchrm 1.60's arithmetic, reproduced where its values hang on the last bits (``_exact.c``, the one
compiled module, built with the package; :mod:`wndchrm.features.exact.sums` for numpy sums in Eigen's
order).

- :func:`eigenvalues`: wndchrm takes Haralick's maximal correlation coefficient from
  ``Q.matrix().eigenvalues()(2)``, the third eigenvalue in Eigen's order: the order of the diagonal of
  the real Schur form its Francis QR iteration leaves, not a sorted order. Two nearly converged
  eigenvalues trade places, or not, on a last bit, so this runs Eigen 3.1.2's own iteration
  (``HessenbergDecomposition`` then ``RealSchur::compute`` of the Eigen wnd-charm bundles) step for step:
  its shifts, exceptional shifts at iterations 10 and 30, deflation tests, Householder and Givens
  arithmetic, and the order in which its SSE2 kernels add a matrix-vector product's terms.
- :func:`q_sums`: the sums of that Q matrix, as Eigen's ``redux`` adds them.
- :func:`chebyshev`: the Chebyshev transform, whose pixels Haralick quantises to 256 grey levels: a
  pixel a rounding away from a level boundary falls as wndchrm's falls only if it rounds as wndchrm's.

On the reference matrices and images (fixtures/cpp/haralick/, fixtures/cpp/transforms/) the results
equal wndchrm 1.60's bit for bit, order included. A build of wndchrm with other SIMD (AVX packets of
four doubles) or with FMA would sum differently and could order near-equal eigenvalues differently.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from wndchrm.features.exact import _exact

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
    if not _exact.eigenvalues(work, size, real, imag):
        raise NoConvergence(f"no convergence after {MAX_ITERATIONS * size} QR steps on a {size}x{size} matrix")
    values = np.empty(size, dtype=np.complex128)
    values.real, values.imag = real, imag
    return values


def q_sums(p: NDArray[np.float64], denominators: NDArray[np.float64]) -> NDArray[np.float64]:
    """wndchrm's ``Q(i, j) = sum_k P(i, k) P(j, k) / denominators(i, k)`` (``_Q_calc_eigen``), each sum
    added as Eigen's ``redux`` adds an aligned expression (:func:`wndchrm.features.exact.sums.redux`)."""
    p = np.ascontiguousarray(p, dtype=np.float64)
    denominators = np.ascontiguousarray(denominators, dtype=np.float64)
    if p.ndim != 2 or p.shape[0] != p.shape[1] or denominators.shape != p.shape:
        raise ValueError(f"square matrices of one shape are needed, not {p.shape} and {denominators.shape}")
    q = np.empty_like(p)
    _exact.q_sums(p, denominators, len(p), q)
    return q


def chebyshev(image: ArrayLike) -> NDArray[np.float64]:
    """``ImageMatrix::ChebyshevTransform(N = 0)`` (``Chebyshev2D``) of a rows x columns image: N x N
    coefficients, N = min(rows, columns); row j, column k holds the coefficient of order j along the
    columns (x) and order k along the rows (y), as wndchrm stores it."""
    pixels = np.ascontiguousarray(image, dtype=np.float64)
    if pixels.ndim != 2 or not pixels.size:
        raise ValueError(f"an image of rows x columns pixels is needed, not one of shape {pixels.shape}")
    rows, columns = pixels.shape
    out = np.empty((min(rows, columns),) * 2)
    _exact.chebyshev(pixels, rows, columns, out)
    return out
