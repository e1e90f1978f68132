"""The eigenvalues of a real matrix in the order Eigen 3.1.2's ``EigenSolver`` returns them.

wndchrm 1.60 takes Haralick's maximal correlation coefficient from ``Q.matrix().eigenvalues()(2)``:
the third eigenvalue in Eigen's order, which is the order of the diagonal of the real Schur form its
Francis QR iteration leaves, not a sorted order. To reproduce the feature the iteration itself is
reproduced here: ``RealSchur<MatrixType>::compute`` of the Eigen 3.1.2 that wnd-charm bundles
(``src/Eigen/src/Eigenvalues/RealSchur.h``), step for step (its shifts, exceptional shifts at
iterations 10 and 30, deflation tests and Householder arithmetic), then ``EigenSolver::compute``'s
reading of the quasi-triangular result.

The order is decided by quantities at the level of rounding (two nearly converged eigenvalues trade
places, or not, in a last step), so every operation is Eigen's, in Eigen's order: the Hessenberg
reduction (``HessenbergDecomposition``) with its matrix-vector products summed as Eigen's SSE2 kernels
sum them (:mod:`wndchrm.features.eigen_sums`), and each Householder and Givens update entry by entry
as Eigen forms it. On the reference matrices (co-occurrence Q matrices of every transform chain of the
test images) the Hessenberg matrix and the eigenvalues equal those of wndchrm 1.60's Eigen bit for bit,
order included. A build of wndchrm with other SIMD (AVX packets of four doubles) or with FMA would sum
differently and could order near-equal eigenvalues differently.

Only the eigenvalues are wanted, so each QR step updates the active window (rows and columns
``il..iu``) only, as LAPACK does without Schur vectors: what lies outside it never flows back into
it, except the exceptional shifts, which Eigen subtracts from the whole diagonal and so does this.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from wndchrm.features.eigen_sums import gemv_col_major, gemv_row_major, redux, sequential

#: ``RealSchur::m_maxIterations``: the iteration gives up after this many steps per row of the matrix.
MAX_ITERATIONS = 40
_EPSILON = float(np.finfo(np.float64).eps)


class NoConvergence(ArithmeticError):
    """The QR iteration did not converge (``RealSchur::info() == NoConvergence``)."""


def hessenberg(matrix: NDArray[np.float64]) -> NDArray[np.float64]:
    """``HessenbergDecomposition<MatrixType>::_compute`` then ``matrixH()`` on a row-major matrix.

    Column by column, a Householder reflector (``makeHouseholderInPlace``) is applied from the left
    to the trailing block and from the right to the trailing columns (``applyHouseholderOnTheLeft``
    / ``OnTheRight``), their matrix-vector products summed as Eigen's kernels sum them.
    """
    a = np.array(matrix, dtype=np.float64)
    size = len(a)
    for i in range(size - 1):
        remaining = size - i - 1
        c0, tail = float(a[i + 1, i]), a[i + 2:, i]
        tail_norm = float(sequential(tail * tail)) if remaining > 1 else 0.0
        if tail_norm == 0.0:
            tau, beta, essential = 0.0, c0, np.zeros(remaining - 1)
        else:
            beta = math.sqrt(c0 * c0 + tail_norm)
            if c0 >= 0.0:
                beta = -beta
            essential = tail / (c0 - beta)
            tau = (beta - c0) / beta
        a[i + 2:, i] = essential
        a[i + 1, i] = beta
        if remaining == 1:
            continue  # a 1x1 block times (1 - tau) with tau = 0
        # A = H A on the trailing block: tmp = essential^T bottom, via the column-major kernel.
        block = a[i + 1:, i + 1:]
        tmp = gemv_col_major(block[1:].T, essential, size, ((i + 2) * size + i + 1) % 2)
        tmp += block[0]
        block[0] -= tau * tmp
        block[1:] -= (tau * essential)[:, None] * tmp[None, :]
        # A = A H' on the trailing columns: tmp = right essential, via the row-major kernel.
        columns = a[:, i + 1:]
        tmp = gemv_row_major(columns[:, 1:], essential)
        tmp += columns[:, 0]
        columns[:, 0] -= tau * tmp
        columns[:, 1:] -= (tau * tmp)[:, None] * essential[None, :]
    return np.triu(a, -1)


def _householder(vector: tuple[float, ...]) -> tuple[tuple[float, ...], float, float]:
    """``MatrixBase::makeHouseholder``: (essential part, tau, beta) of a short vector."""
    c0, tail = vector[0], vector[1:]
    tail_norm = tail[0] * tail[0]
    if len(tail) == 2:
        tail_norm += tail[1] * tail[1]
    if tail_norm == 0.0:
        return tuple(0.0 for _ in tail), 0.0, c0
    beta = math.sqrt(c0 * c0 + tail_norm)
    if c0 >= 0.0:
        beta = -beta
    return tuple(value / (c0 - beta) for value in tail), (beta - c0) / beta, beta


class _Schur:
    """The state of ``RealSchur::compute`` (eigenvalues only) on one Hessenberg matrix."""

    def __init__(self, hessenberg: NDArray[np.float64]) -> None:
        self.t = np.array(hessenberg, dtype=np.float64)
        size = len(self.t)
        # computeNormOfT: the absolute sum of the upper Hessenberg part, row segment by row segment.
        norm = 0.0
        for j in range(size):
            norm += float(redux(np.abs(self.t[j, max(j - 1, 0):])))
        self.norm = norm

    def find_small_subdiag_entry(self, iu: int) -> int:
        item, res = self.t.item, iu
        while res > 0:
            s = abs(item(res - 1, res - 1)) + abs(item(res, res))
            if s == 0.0:
                s = self.norm
            if abs(item(res, res - 1)) < _EPSILON * s:
                break
            res -= 1
        return res

    def split_off_two_rows(self, iu: int, exshift: float) -> None:
        t = self.t
        p = 0.5 * (t[iu - 1, iu - 1] - t[iu, iu])
        q = p * p + t[iu, iu - 1] * t[iu - 1, iu]
        t[iu, iu] += exshift
        t[iu - 1, iu - 1] += exshift
        if q >= 0.0:
            z = math.sqrt(abs(q))
            c, s = _givens(p + z if p >= 0.0 else p - z, float(t[iu, iu - 1]))
            # rot.adjoint() on rows iu-1, iu (from column iu-1), then rot on columns iu-1, iu.
            top, bottom = t[iu - 1, iu - 1:].copy(), t[iu, iu - 1:].copy()
            t[iu - 1, iu - 1:] = c * top + (-s) * bottom
            t[iu, iu - 1:] = s * top + c * bottom
            left, right = t[: iu + 1, iu - 1].copy(), t[: iu + 1, iu].copy()
            t[: iu + 1, iu - 1] = c * left + (-s) * right
            t[: iu + 1, iu] = s * left + c * right
            t[iu, iu - 1] = 0.0
        if iu > 1:
            t[iu - 1, iu - 2] = 0.0

    def compute_shift(self, iu: int, iteration: int, exshift: float) -> tuple[tuple[float, float, float], float]:
        t = self.t
        info = [float(t[iu, iu]), float(t[iu - 1, iu - 1]), float(t[iu, iu - 1] * t[iu - 1, iu])]
        if iteration == 10:  # Wilkinson's original ad hoc shift
            exshift += info[0]
            diagonal = np.arange(iu + 1)
            t[diagonal, diagonal] -= info[0]
            s = abs(t[iu, iu - 1]) + abs(t[iu - 1, iu - 2])
            info = [0.75 * s, 0.75 * s, -0.4375 * s * s]
        if iteration == 30:  # MATLAB's new ad hoc shift
            s = (info[1] - info[0]) / 2.0
            s = s * s + info[2]
            if s > 0.0:
                s = math.sqrt(s)
                if info[1] < info[0]:
                    s = -s
                s = s + (info[1] - info[0]) / 2.0
                s = info[0] - info[2] / s
                exshift += s
                diagonal = np.arange(iu + 1)
                t[diagonal, diagonal] -= s
                info = [0.964, 0.964, 0.964]
        return (info[0], info[1], info[2]), exshift

    def init_francis_step(self, il: int, iu: int, shift: tuple[float, float, float]) -> tuple[int, tuple[float, ...]]:
        item = self.t.item
        x, y, w = shift
        im = iu - 2
        while True:
            tmm = item(im, im)
            r = x - tmm
            s = y - tmm
            v0 = (r * s - w) / item(im + 1, im) + item(im, im + 1)
            v1 = item(im + 1, im + 1) - tmm - r - s
            v2 = item(im + 2, im + 1)
            if im == il:
                break
            lhs = item(im, im - 1) * (abs(v1) + abs(v2))
            rhs = v0 * (abs(item(im - 1, im - 1)) + abs(tmm) + abs(item(im + 1, im + 1)))
            if abs(lhs) < _EPSILON * rhs:
                break
            im -= 1
        return im, (v0, v1, v2)

    def perform_francis_step(self, il: int, im: int, iu: int, first_vector: tuple[float, ...]) -> None:
        t = self.t
        item = t.item
        for k in range(im, iu - 1):
            first = k == im
            vector = first_vector if first else (item(k, k - 1), item(k + 1, k - 1), item(k + 2, k - 1))
            (e0, e1), tau, beta = _householder(vector)
            if beta == 0.0:
                continue
            if first and k > il:
                t[k, k - 1] = -item(k, k - 1)
            elif not first:
                t[k, k - 1] = beta
            # applyHouseholderOnTheLeft on rows k..k+2, then OnTheRight on columns k..k+2; each entry
            # is formed as Eigen forms it: tmp = (e0 b1 + e1 b2) + b0, b0 - tau tmp, b_i - (tau e_i) tmp.
            rows = t[k:k + 3, k:iu + 1]
            tmp = rows[1] * e0 + rows[2] * e1 + rows[0]
            rows -= np.array((tau, tau * e0, tau * e1))[:, None] * tmp
            columns = t[il:min(iu, k + 3) + 1, k:k + 3]
            scaled = (columns[:, 1] * e0 + columns[:, 2] * e1 + columns[:, 0]) * tau
            columns -= scaled[:, None] * np.array((1.0, e0, e1))
        (e0,), tau, beta = _householder((item(iu - 1, iu - 2), item(iu, iu - 2)))
        if beta != 0.0:
            t[iu - 1, iu - 2] = beta
            rows = t[iu - 1:iu + 1, iu - 1:iu + 1]
            tmp = rows[1] * e0 + rows[0]
            rows -= np.array((tau, tau * e0))[:, None] * tmp
            columns = t[il:iu + 1, iu - 1:iu + 1]
            scaled = (columns[:, 1] * e0 + columns[:, 0]) * tau
            columns -= scaled[:, None] * np.array((1.0, e0))
        # Clean up pollution due to round-off errors, as Eigen does.
        for i in range(im + 2, iu + 1):
            t[i, i - 2] = 0.0
            if i > im + 2:
                t[i, i - 3] = 0.0


def _givens(p: float, q: float) -> tuple[float, float]:
    """``JacobiRotation::makeGivens`` (real): (c, s)."""
    if q == 0.0:
        return (-1.0 if p < 0.0 else 1.0), 0.0
    if p == 0.0:
        return 0.0, (1.0 if q < 0.0 else -1.0)
    if abs(p) > abs(q):
        t = q / p
        u = math.sqrt(1.0 + t * t)
        if p < 0.0:
            u = -u
        c = 1.0 / u
        return c, -t * c
    t = p / q
    u = math.sqrt(1.0 + t * t)
    if q < 0.0:
        u = -u
    s = -1.0 / u
    return -t * s, s


def schur_diagonal(matrix: NDArray[np.float64]) -> NDArray[np.float64]:
    """The quasi-triangular Schur form ``RealSchur`` computes (only its window-relevant entries are
    valid: the diagonal, the sub-diagonal and the 2x2 blocks on the diagonal)."""
    size = len(matrix)
    schur = _Schur(hessenberg(matrix))
    iu, iteration, total, exshift = size - 1, 0, 0, 0.0
    if schur.norm == 0.0:
        return schur.t
    t = schur.t
    while iu >= 0:
        il = schur.find_small_subdiag_entry(iu)
        if il == iu:  # one root found
            t[iu, iu] += exshift
            if iu > 0:
                t[iu, iu - 1] = 0.0
            iu -= 1
            iteration = 0
        elif il == iu - 1:  # two roots found
            schur.split_off_two_rows(iu, exshift)
            iu -= 2
            iteration = 0
        else:
            shift, exshift = schur.compute_shift(iu, iteration, exshift)
            iteration += 1
            total += 1
            if total > MAX_ITERATIONS * size:
                raise NoConvergence(f"no convergence after {total} QR steps on a {size}x{size} matrix")
            im, vector = schur.init_francis_step(il, iu, shift)
            schur.perform_francis_step(il, im, iu, vector)
    return t


def eigenvalues(matrix: NDArray[np.float64]) -> NDArray[np.complex128]:
    """``EigenSolver(matrix, false).eigenvalues()`` of Eigen 3.1.2: in the order of the real Schur form,
    a complex pair read from its 2x2 block as ``(t11 + p) +/- z i``."""
    t = schur_diagonal(matrix)
    size = len(t)
    values = np.empty(size, dtype=np.complex128)
    i = 0
    while i < size:
        if i == size - 1 or t[i + 1, i] == 0.0:
            values[i] = t[i, i]
            i += 1
        else:
            p = 0.5 * (t[i, i] - t[i + 1, i + 1])
            z = math.sqrt(abs(p * p + t[i + 1, i] * t[i, i + 1]))
            values[i] = complex(t[i + 1, i + 1] + p, z)
            values[i + 1] = complex(t[i + 1, i + 1] + p, -z)
            i += 2
    return values
