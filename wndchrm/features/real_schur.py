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
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from wndchrm.features.eigen_sums import redux
from wndchrm.features.schur_steps import FrancisSweep, hessenberg_many, split_off_two_rows

#: ``RealSchur::m_maxIterations``: the iteration gives up after this many steps per row of the matrix.
MAX_ITERATIONS = 40
_EPSILON = float(np.finfo(np.float64).eps)


class NoConvergence(ArithmeticError):
    """The QR iteration did not converge (``RealSchur::info() == NoConvergence``)."""


class _Lanes(FrancisSweep):
    """``RealSchur::compute`` (eigenvalues only) on many Hessenberg matrices at once, one per lane.

    ``t`` holds the matrices as ``t[row, column, lane]`` (zero-padded to the largest): lanes innermost,
    so that a row segment or a three-column strip of every lane is one strided view. Each lane keeps
    its own state (``iu``, iteration counts, exceptional shift) and takes Eigen's decisions for itself;
    the lanes only share the pace of the bulge chase: in a sweep, step ``K`` applies the reflector at
    row ``K`` of every lane whose Francis step covers ``K`` (see :meth:`sweep`), so every entry a lane
    reads again sees Eigen's operations in Eigen's order and nothing else.

    What is written outside a lane's window (columns past iu, rows past iu once their blocks are
    deflated and kept in ``final``) is never read again, as Eigen never reads it again; the lanes are
    left to hold anything there, which spares masking every update.
    """

    def __init__(self, hessenbergs: Sequence[NDArray[np.float64]]) -> None:
        self.sizes = np.array([len(h) for h in hessenbergs], dtype=np.intp)
        size, count = int(self.sizes.max(initial=0)), len(hessenbergs)
        self.t = np.zeros((size, size, count))
        for lane, h in enumerate(hessenbergs):
            self.t[: len(h), : len(h), lane] = h
        self.hessenbergs = hessenbergs
        self.norms: dict[int, float] = {}
        self.ids = np.arange(count)  # the matrix each lane of ``t`` holds
        self.sorted = False
        self.iu = self.sizes - 1
        self.il = np.zeros(count, dtype=np.intp)
        self.im = np.zeros(count, dtype=np.intp)
        self.iteration = np.zeros(count, dtype=np.intp)
        self.total = np.zeros(count, dtype=np.intp)
        self.exshift = np.zeros(count)
        self.first = np.zeros((3, count))
        # What the eigenvalues are read from, kept as each block deflates (Eigen never changes a
        # deflated block again): the diagonal, the sub- and the super-diagonal of the Schur form. The
        # rows and columns past a lane's iu are free from then on, and so is a lane that is done.
        self.final = np.zeros((3, size, count))
        # A zero matrix (norm 0) is its own Schur form.
        self.done = ~self.t.reshape(size * size, count).any(axis=0) | (self.iu < 0)

    def norm(self, lane: int) -> float:
        """``computeNormOfT``, only needed when two neighbouring diagonal entries are both zero."""
        matrix = int(self.ids[lane])
        if matrix not in self.norms:
            h, norm = self.hessenbergs[matrix], 0.0
            for j in range(len(h)):
                norm += float(redux(np.abs(h[j, max(j - 1, 0):])))
            self.norms[matrix] = norm
        return self.norms[matrix]

    def compact(self) -> None:
        """Drop the lanes that are done, and the rows and columns past every lane's iu, once there
        are enough of them to pay for the copy."""
        keep = np.flatnonzero(~self.done)
        size = int(self.iu[keep].max(initial=-1)) + 1
        if self.sorted and len(keep) > 0.75 * len(self.ids) and size > 0.8 * len(self.t):
            return
        # A step runs on the lanes up to the last one whose iu its row has not passed: sorted by iu,
        # few lanes are carried along for nothing (they drift out of order between copies).
        keep = keep[np.argsort(-self.iu[keep], kind="stable")]
        self.sorted = True
        self.t = np.ascontiguousarray(self.t[:size, :size][:, :, keep])
        for name in ("ids", "sizes", "iu", "il", "im", "iteration", "total", "exshift", "done"):
            setattr(self, name, getattr(self, name)[keep])
        self.first = self.first[:, keep]

    def find_small_subdiag_entry(self, lanes: NDArray[np.intp]) -> NDArray[np.intp]:
        """``findSmallSubdiagEntry(iu)`` of each lane: the largest ``res <= iu`` whose sub-diagonal
        entry is negligible, or 0."""
        t, size = self.t, len(self.t)
        rows = np.arange(size)
        diagonal = np.abs(t[rows, rows][:, lanes])
        s = diagonal[:-1] + diagonal[1:]  # s[res - 1] = |t(res-1, res-1)| + |t(res, res)|
        below = rows[1:, None] <= self.iu[lanes]
        zero = (s == 0.0) & below
        if zero.any():
            for column in np.flatnonzero(zero.any(axis=0)):
                s[zero[:, column], column] = self.norm(int(lanes[column]))
        small = (np.abs(t[rows[1:], rows[:-1]][:, lanes]) < _EPSILON * s) & below
        return np.asarray(np.where(small, rows[1:, None], 0).max(axis=0, initial=0), dtype=np.intp)

    def decide(self) -> NDArray[np.intp]:
        """Deflate each lane as far as it goes, then set up its next Francis step; the lanes that step."""
        self.compact()
        t = self.t
        deciding = np.flatnonzero(~self.done)
        stepping: list[NDArray[np.intp]] = []
        while len(deciding):
            il = self.find_small_subdiag_entry(deciding)
            iu = self.iu[deciding]
            one, two = il == iu, il == iu - 1
            lanes, rows = deciding[one], iu[one]
            t[rows, rows, lanes] += self.exshift[lanes]
            t[rows[rows > 0], rows[rows > 0] - 1, lanes[rows > 0]] = 0.0
            self.final[0, rows, self.ids[lanes]] = t[rows, rows, lanes]
            for lane in deciding[two]:
                row = int(self.iu[lane])
                split_off_two_rows(t[:, :, lane], row, float(self.exshift[lane]))
                matrix = self.ids[lane]
                self.final[0, row - 1:row + 1, matrix] = t[row - 1, row - 1, lane], t[row, row, lane]
                self.final[1:, row - 1, matrix] = t[row, row - 1, lane], t[row - 1, row, lane]
            self.iu[deciding[one]] -= 1
            self.iu[deciding[two]] -= 2
            self.iteration[deciding[one | two]] = 0
            step = ~(one | two)
            if step.any():
                lanes = deciding[step]
                self.il[lanes] = il[step]
                self.start_francis_step(lanes)
                stepping.append(lanes)
            self.done |= self.iu < 0
            deciding = deciding[(one | two) & (self.iu[deciding] >= 0)]
        return np.concatenate(stepping) if stepping else np.zeros(0, dtype=np.intp)

    def start_francis_step(self, lanes: NDArray[np.intp]) -> None:
        """``computeShift`` then ``initFrancisQRStep`` for each lane in ``lanes``."""
        t, size = self.t, len(self.t)
        iu = self.iu[lanes]
        x, y = t[iu, iu, lanes], t[iu - 1, iu - 1, lanes]
        w = t[iu, iu - 1, lanes] * t[iu - 1, iu, lanes]
        for column in np.flatnonzero(np.isin(self.iteration[lanes], (10, 30))):
            x[column], y[column], w[column] = self._exceptional_shift(int(lanes[column]), float(x[column]),
                                                                      float(y[column]), float(w[column]))
        self.iteration[lanes] += 1
        self.total[lanes] += 1
        over = self.total[lanes] > MAX_ITERATIONS * self.sizes[lanes]
        if over.any():
            lane = int(lanes[over][0])
            raise NoConvergence(f"no convergence after {self.total[lane]} QR steps on a "
                                f"{self.sizes[lane]}x{self.sizes[lane]} matrix")
        # Every candidate im at once; the step starts at the largest that Eigen's loop stops at.
        rows = np.arange(size)
        diagonal, sub, sup = t[rows, rows][:, lanes], t[rows[1:], rows[:-1]][:, lanes], t[rows[:-1], rows[1:]][:, lanes]
        im = rows[: size - 2, None]
        tmm = diagonal[: size - 2]
        r, s = x - tmm, y - tmm
        v0 = (r * s - w) / sub[: size - 2] + sup[: size - 2]
        v1 = diagonal[1: size - 1] - tmm - r - s
        v2 = sub[1: size - 1]
        lhs = np.roll(sub, 1, axis=0)[: size - 2] * (np.abs(v1) + np.abs(v2))
        rhs = v0 * (np.abs(np.roll(diagonal, 1, axis=0)[: size - 2]) + np.abs(tmm) + np.abs(diagonal[1: size - 1]))
        il = self.il[lanes]
        stop = ((im == il) | (np.abs(lhs) < _EPSILON * rhs)) & (im >= il) & (im <= iu - 2)
        chosen = np.where(stop, im, -1).max(axis=0)
        columns = np.arange(len(lanes))
        self.im[lanes] = chosen
        self.first[:, lanes] = np.stack([v0[chosen, columns], v1[chosen, columns], v2[chosen, columns]])

    def _exceptional_shift(self, lane: int, x: float, y: float, w: float) -> tuple[float, float, float]:
        """``computeShift``'s ad hoc shifts at iterations 10 and 30 (they move the whole diagonal)."""
        t, iu, iteration = self.t[:, :, lane], int(self.iu[lane]), int(self.iteration[lane])
        diagonal = np.arange(iu + 1)
        if iteration == 10:  # Wilkinson's original ad hoc shift
            self.exshift[lane] += x
            t[diagonal, diagonal] -= x
            s = abs(t[iu, iu - 1]) + abs(t[iu - 1, iu - 2])
            return 0.75 * s, 0.75 * s, -0.4375 * s * s
        s = (y - x) / 2.0  # MATLAB's new ad hoc shift
        s = s * s + w
        if s > 0.0:
            s = math.sqrt(s)
            if y < x:
                s = -s
            s = s + (y - x) / 2.0
            s = x - w / s
            self.exshift[lane] += s
            t[diagonal, diagonal] -= s
            return 0.964, 0.964, 0.964
        return x, y, w

    def schur_form(self, matrix: int) -> NDArray[np.float64]:
        """The diagonal, sub- and super-diagonal of a matrix's final Schur form, as a matrix."""
        size = len(self.hessenbergs[matrix])
        diagonal, sub, sup = self.final[:, :size, matrix]
        return np.diag(diagonal) + np.diag(sub[: size - 1], -1) + np.diag(sup[: size - 1], 1)


def schur_forms(matrices: Sequence[NDArray[np.float64]]) -> list[NDArray[np.float64]]:
    """The quasi-triangular Schur form ``RealSchur`` computes of each matrix: its diagonal, and its
    sub- and super-diagonal where they are part of a 2x2 block (what decides the eigenvalues); the
    rest is left 0."""
    lanes = _Lanes(hessenberg_many(matrices))
    with np.errstate(all="ignore"):  # lanes a step does not cover compute on padding, and are masked
        while True:
            stepping = lanes.decide()
            if not len(stepping):
                break
            lanes.sweep(stepping)
    return [lanes.schur_form(lane) for lane in range(len(matrices))]


def schur_diagonal(matrix: NDArray[np.float64]) -> NDArray[np.float64]:
    """:func:`schur_forms` of one matrix."""
    return schur_forms([matrix])[0]


def _read_eigenvalues(t: NDArray[np.float64]) -> NDArray[np.complex128]:
    """``EigenSolver::compute``'s reading of a real Schur form: a complex pair from its 2x2 block as
    ``(t11 + p) +/- z i``."""
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


def eigenvalues_many(matrices: Sequence[NDArray[np.float64]]) -> list[NDArray[np.complex128]]:
    """``EigenSolver(matrix, false).eigenvalues()`` of Eigen 3.1.2 for each matrix, in the order of its
    real Schur form; the matrices iterate side by side (see :class:`_Lanes`), which is much faster than
    one by one and gives the same bits."""
    return [_read_eigenvalues(t) for t in schur_forms(matrices)]


def eigenvalues(matrix: NDArray[np.float64]) -> NDArray[np.complex128]:
    """:func:`eigenvalues_many` of one matrix."""
    return eigenvalues_many([matrix])[0]
