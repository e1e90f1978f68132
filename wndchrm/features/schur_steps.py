"""The steps of Eigen's real Schur computation that ``real_schur`` runs on many matrices side by side:
the Hessenberg reduction, the bulge chase of a Francis double-shift QR step, and the split of a
deflated 2x2 block.

Part of ``real_schur``'s ``_Lanes`` (which holds the matrices as ``t[row, column, lane]`` and each
lane's state): a sweep applies, at each step ``K``, the reflector at row ``K`` of every lane whose
Francis step covers ``K``, in Eigen's order of operations; see :mod:`wndchrm.features.real_schur`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from wndchrm.features.eigen_sums import gemv_col_major, gemv_row_major, sequential


def rows_of(table: NDArray[np.bool_]) -> list[NDArray[np.intp]]:
    """The columns that are True in each row of ``table``."""
    rows, columns = np.nonzero(table)
    bounds = np.searchsorted(rows, np.arange(len(table) + 1))
    return [columns[bounds[j]:bounds[j + 1]] for j in range(len(table))]


def hessenberg(matrix: NDArray[np.float64]) -> NDArray[np.float64]:
    """:func:`hessenberg_many` of one matrix."""
    return hessenberg_many([matrix])[0]


def hessenberg_many(matrices: Sequence[NDArray[np.float64]]) -> list[NDArray[np.float64]]:
    """``HessenbergDecomposition<MatrixType>::_compute`` then ``matrixH()`` of each (row-major)
    matrix; matrices of one size are reduced together (their kernels sum in the same order)."""
    result: list[NDArray[np.float64]] = [np.empty((0, 0))] * len(matrices)
    for size in {len(matrix) for matrix in matrices}:
        which = [n for n, matrix in enumerate(matrices) if len(matrix) == size]
        reduced = hessenberg_same_size(np.array([matrices[n] for n in which], dtype=np.float64))
        for n, h in zip(which, reduced, strict=True):
            result[n] = h
    return result


def hessenberg_same_size(a: NDArray[np.float64]) -> NDArray[np.float64]:
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


def split_off_two_rows(t: NDArray[np.float64], iu: int, exshift: float) -> None:
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


class FrancisSweep:
    """The sweep of ``_Lanes`` (real_schur.py), which holds the state named below."""

    t: NDArray[np.float64]
    il: NDArray[np.intp]
    im: NDArray[np.intp]
    iu: NDArray[np.intp]
    first: NDArray[np.float64]
    final: NDArray[np.float64]
    hessenbergs: Sequence[NDArray[np.float64]]

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
        idle = rows_of(stepping & ((steps < im) | ((steps > iu - 2) & (steps <= iu))))
        starting = rows_of(first & (steps > il))
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
