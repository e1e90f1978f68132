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

from wndchrm.features.eigen_sums import gemv_col_major, gemv_row_major, redux, sequential

#: ``RealSchur::m_maxIterations``: the iteration gives up after this many steps per row of the matrix.
MAX_ITERATIONS = 40
_EPSILON = float(np.finfo(np.float64).eps)


class NoConvergence(ArithmeticError):
    """The QR iteration did not converge (``RealSchur::info() == NoConvergence``)."""


def hessenberg(matrix: NDArray[np.float64]) -> NDArray[np.float64]:
    """:func:`hessenberg_many` of one matrix."""
    return hessenberg_many([matrix])[0]


def hessenberg_many(matrices: Sequence[NDArray[np.float64]]) -> list[NDArray[np.float64]]:
    """``HessenbergDecomposition<MatrixType>::_compute`` then ``matrixH()`` of each (row-major)
    matrix; matrices of one size are reduced together (their kernels sum in the same order)."""
    result: list[NDArray[np.float64]] = [np.empty((0, 0))] * len(matrices)
    for size in {len(matrix) for matrix in matrices}:
        which = [n for n, matrix in enumerate(matrices) if len(matrix) == size]
        reduced = _hessenberg_same_size(np.array([matrices[n] for n in which], dtype=np.float64))
        for n, h in zip(which, reduced, strict=True):
            result[n] = h
    return result


def _hessenberg_same_size(a: NDArray[np.float64]) -> NDArray[np.float64]:
    """The Hessenberg matrices of ``a`` (matrices x size x size).

    Column by column, a Householder reflector (``makeHouseholderInPlace``) is applied from the left
    to the trailing block and from the right to the trailing columns (``applyHouseholderOnTheLeft``
    / ``OnTheRight``), their matrix-vector products summed as Eigen's kernels sum them.
    """
    count, size = len(a), a.shape[-1]
    for i in range(size - 1):
        remaining = size - i - 1
        c0, tail = a[:, i + 1, i].copy(), a[:, i + 2:, i]
        tail_norm = sequential(tail * tail) if remaining > 1 else np.zeros(count)
        with np.errstate(all="ignore"):  # a zero tail is no reflector: tau 0, beta c0
            beta = np.sqrt(c0 * c0 + tail_norm)
            beta = np.where(c0 >= 0.0, -beta, beta)
            essential = tail / (c0 - beta)[:, None]
            tau = (beta - c0) / beta
        zero = tail_norm == 0.0
        tau[zero], beta[zero], essential[zero] = 0.0, c0[zero], 0.0
        a[:, i + 2:, i] = essential
        a[:, i + 1, i] = beta
        if remaining == 1:
            continue  # a 1x1 block times (1 - tau) with tau = 0
        # A = H A on the trailing block: tmp = essential^T bottom, via the column-major kernel.
        block = a[:, i + 1:, i + 1:]
        tmp = gemv_col_major(block[:, 1:].transpose(0, 2, 1), essential, size, ((i + 2) * size + i + 1) % 2)
        tmp += block[:, 0]
        block[:, 0] -= tau[:, None] * tmp
        block[:, 1:] -= (tau[:, None] * essential)[:, :, None] * tmp[:, None, :]
        # A = A H' on the trailing columns: tmp = right essential, via the row-major kernel.
        columns = a[:, :, i + 1:]
        tmp = gemv_row_major(columns[:, :, 1:], essential[:, None, :])
        tmp += columns[:, :, 0]
        columns[:, :, 0] -= tau[:, None] * tmp
        columns[:, :, 1:] -= (tau[:, None] * tmp)[:, :, None] * essential[:, None, :]
    return np.triu(a, -1)


class _Lanes:
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
                _split_off_two_rows(t[:, :, lane], row, float(self.exshift[lane]))
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

    def sweep(self, lanes: NDArray[np.intp]) -> None:
        """One Francis QR step (``performFrancisQRStep``) of every lane in ``lanes``, in lockstep.

        Each update is computed for the lanes whose iu has not passed the step (a prefix, as
        :meth:`compact` sorts the lanes by iu) all at once; those among them it must not touch
        (their Francis step does not cover it yet, or any more) are saved before and put back after,
        which costs less than a masked update. Past its iu a lane holds nothing any more.
        """
        t, size = self.t, len(self.t)
        count = t.shape[2]
        stepping = np.zeros(count, dtype=bool)
        stepping[lanes] = True
        im, iu, il = self.im, self.iu, self.il
        low, high = int(im[lanes].min()), int((iu[lanes] - 2).max())
        width, top = int(iu[lanes].max()) + 1, int(il[lanes].min())
        steps = np.arange(low, high + 1)[:, None]
        active = stepping & (steps >= im) & (steps <= iu - 2)
        first = active & (steps == im)
        continuing = active & (steps > im)
        # Kept from each step: a lane's rows and columns before its Francis step reaches them, and
        # rows iu-1 and iu after (its last reflector comes after the sweep); past iu all is free.
        idle = _rows_of(stepping & ((steps < im) | ((steps > iu - 2) & (steps <= iu))))
        starting = _rows_of(first & (steps > il))
        any_first = first.any(axis=1)
        reach = ((np.arange(count) + 1) * (stepping & (iu >= steps))).max(axis=1)
        # Lanes whose window starts below ``top``: the rows of their strip above il stay as they are.
        outside_rows = np.concatenate([np.arange(int(il[lane]) - top) for lane in lanes] + [np.zeros(0, np.intp)])
        outside_lanes = np.repeat(lanes, il[lanes] - top)
        order = np.argsort(outside_rows, kind="stable")
        outside_rows, outside_lanes = outside_rows[order], outside_lanes[order]
        reached = -1
        for j, k in enumerate(range(low, high + 1)):
            if reach[j] != reached:  # fewer lanes from here on: views and buffers for them
                reached = n = int(reach[j])
                tv, first_vectors = t[:, :, :n], self.first[:, :n]
                vector, squares = np.empty((3, n)), np.empty((3, n))
                tail_norm, beta, denominator, tau = np.empty(n), np.empty(n), np.empty(n), np.empty(n)
                sign, zero = np.empty(n, dtype=bool), np.empty(n, dtype=bool)
                left_factors, essential = np.empty((3, n)), np.empty((2, n))
                tmp, tmp2, update = np.empty((size, n)), np.empty((size, n)), np.empty((3, size, n))
                scaled, scaled2, strip_update = np.empty((size, n)), np.empty((size, n)), np.empty((size, 2, n))
                near = outside_lanes < n
                rows_out, lanes_out = outside_rows[near], outside_lanes[near]
                cuts = np.searchsorted(rows_out, np.minimum(steps[:, 0] + 4, size) - top)  # rows in each strip
            np.copyto(vector, tv[k:k + 3, k - 1])
            if any_first[j]:
                np.copyto(vector, first_vectors, where=first[j, :n])
            # makeHouseholder of (c0, c1, c2): beta = -sign(c0) |c|, essential = tail / (c0 - beta),
            # tau = (beta - c0) / beta.
            np.multiply(vector, vector, out=squares)
            np.add(squares[1], squares[2], out=tail_norm)
            np.add(squares[0], tail_norm, out=beta)
            np.sqrt(beta, out=beta)
            np.greater_equal(vector[0], 0.0, out=sign)
            np.negative(beta, out=beta, where=sign)
            np.subtract(vector[0], beta, out=denominator)
            np.divide(vector[1:], denominator, out=essential)
            np.subtract(beta, vector[0], out=tau)
            np.divide(tau, beta, out=tau)
            skip = idle[j]
            writing = continuing[j, :n]
            np.equal(tail_norm, 0.0, out=zero)
            zero &= active[j, :n]
            if zero.any():  # tau = 0, beta = c0; no update at all when beta is 0 too
                tau[zero], beta[zero], essential[:, zero] = 0.0, vector[0, zero], 0.0
                skip = np.concatenate([skip, np.flatnonzero(zero & (beta == 0.0))])
                writing = writing & (beta != 0.0)
            if k > 0:
                below = tv[k, k - 1]
                np.copyto(below, beta, where=writing)
                if len(starting[j]):
                    negated = starting[j][beta[starting[j]] != 0.0]
                    below[negated] = -below[negated]
            np.multiply(tau, essential, out=left_factors[1:])
            left_factors[0] = tau
            # applyHouseholderOnTheLeft on rows k..k+2: tmp = (e0 b1 + e1 b2) + b0, b_i -= (tau e_i) tmp.
            block = tv[k:k + 3, k:width]
            columns = block.shape[1]
            kept = block[:, :, skip] if len(skip) else None
            np.multiply(block[1], essential[0], out=tmp[:columns])
            np.multiply(block[2], essential[1], out=tmp2[:columns])
            tmp[:columns] += tmp2[:columns]
            tmp[:columns] += block[0]
            np.multiply(left_factors[:, None, :], tmp[:columns], out=update[:, :columns])
            block -= update[:, :columns]
            if kept is not None:
                block[:, :, skip] = kept
            # applyHouseholderOnTheRight on columns k..k+2 of rows il..min(iu, k+3): scaled = ((e0 c1 +
            # e1 c2) + c0) tau, c_i -= scaled e_i (a row k+3 past iu holds zeros, and keeps them).
            strip = tv[top:k + 4, k:k + 3]
            rows = strip.shape[0]
            kept = strip[:, :, skip] if len(skip) else None
            cut = int(cuts[j]) if len(rows_out) else 0
            outside = strip[rows_out[:cut], :, lanes_out[:cut]] if cut else None
            np.multiply(strip[:, 1], essential[0], out=scaled[:rows])
            np.multiply(strip[:, 2], essential[1], out=scaled2[:rows])
            scaled[:rows] += scaled2[:rows]
            scaled[:rows] += strip[:, 0]
            scaled[:rows] *= tau
            strip[:, 0] -= scaled[:rows]  # its factor is 1.0, and x * 1.0 is x
            np.multiply(scaled[:rows, None, :], essential, out=strip_update[:rows])
            strip[:, 1:] -= strip_update[:rows]
            if kept is not None:
                strip[:, :, skip] = kept
            if outside is not None:
                strip[rows_out[:cut], :, lanes_out[:cut]] = outside
        self._last_reflector(lanes)
        # Clean up pollution due to round-off errors, as Eigen does: t(i, i-2) from im+2, t(i, i-3) from im+3.
        for offset in (2, 3):
            i = np.arange(offset, size)
            entries = t[i, i - offset]
            entries[(i[:, None] >= im + offset) & (i[:, None] <= iu) & stepping] = 0.0
            t[i, i - offset] = entries

    def _last_reflector(self, lanes: NDArray[np.intp]) -> None:
        """The two-row reflector that ends each lane's Francis step, at rows iu-1 and iu."""
        t = self.t
        iu, il = self.iu[lanes], self.il[lanes]
        c0, c1 = t[iu - 1, iu - 2, lanes], t[iu, iu - 2, lanes]
        tail_norm = c1 * c1
        beta = np.sqrt(c0 * c0 + tail_norm)
        np.negative(beta, out=beta, where=c0 >= 0.0)
        e0 = c1 / (c0 - beta)
        tau = (beta - c0) / beta
        zero = tail_norm == 0.0
        e0[zero], tau[zero], beta[zero] = 0.0, 0.0, c0[zero]
        keep = beta != 0.0
        lanes, iu, il, e0, tau = lanes[keep], iu[keep], il[keep], e0[keep], tau[keep]
        t[iu - 1, iu - 2, lanes] = beta[keep]
        pair = iu - 1 + np.arange(2)[:, None]  # 2 x lanes
        block = t[pair[:, None, :], pair[None, :, :], lanes]  # block[i, j] = t(iu-1+i, iu-1+j)
        tmp = block[1] * e0 + block[0]
        block[0] -= tau * tmp
        block[1] -= (tau * e0) * tmp
        t[pair[:, None, :], pair[None, :, :], lanes] = block
        rows = np.arange(int(iu.max(initial=0)) + 1)[:, None, None]
        strip = t[rows, pair[None], lanes]  # strip[r, j] = t(r, iu-1+j)
        scaled = (strip[:, 1] * e0 + strip[:, 0]) * tau
        inside = (rows[:, 0] >= il) & (rows[:, 0] <= iu)
        strip[:, 0] = np.where(inside, strip[:, 0] - scaled * 1.0, strip[:, 0])
        strip[:, 1] = np.where(inside, strip[:, 1] - scaled * e0, strip[:, 1])
        t[rows, pair[None], lanes] = strip

    def schur_form(self, matrix: int) -> NDArray[np.float64]:
        """The diagonal, sub- and super-diagonal of a matrix's final Schur form, as a matrix."""
        size = len(self.hessenbergs[matrix])
        diagonal, sub, sup = self.final[:, :size, matrix]
        return np.diag(diagonal) + np.diag(sub[: size - 1], -1) + np.diag(sup[: size - 1], 1)


def _rows_of(table: NDArray[np.bool_]) -> list[NDArray[np.intp]]:
    """The columns that are True in each row of ``table``."""
    rows, columns = np.nonzero(table)
    bounds = np.searchsorted(rows, np.arange(len(table) + 1))
    return [columns[bounds[j]:bounds[j + 1]] for j in range(len(table))]


def _split_off_two_rows(t: NDArray[np.float64], iu: int, exshift: float) -> None:
    """``splitOffTwoRows``: the 2x2 block at rows iu-1, iu is final; its rotation is applied to the block
    only (the rest of those rows and columns lies outside every later window)."""
    p = 0.5 * (t[iu - 1, iu - 1] - t[iu, iu])
    q = p * p + t[iu, iu - 1] * t[iu - 1, iu]
    t[iu, iu] += exshift
    t[iu - 1, iu - 1] += exshift
    if q >= 0.0:
        z = math.sqrt(abs(q))
        c, s = _givens(p + z if p >= 0.0 else p - z, float(t[iu, iu - 1]))
        # rot.adjoint() on rows iu-1, iu, then rot on columns iu-1, iu.
        top, bottom = t[iu - 1, iu - 1:iu + 1].copy(), t[iu, iu - 1:iu + 1].copy()
        t[iu - 1, iu - 1:iu + 1] = c * top + (-s) * bottom
        t[iu, iu - 1:iu + 1] = s * top + c * bottom
        left, right = t[iu - 1:iu + 1, iu - 1].copy(), t[iu - 1:iu + 1, iu].copy()
        t[iu - 1:iu + 1, iu - 1] = c * left + (-s) * right
        t[iu - 1:iu + 1, iu] = s * left + c * right
        t[iu, iu - 1] = 0.0
    if iu > 1:
        t[iu - 1, iu - 2] = 0.0


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
