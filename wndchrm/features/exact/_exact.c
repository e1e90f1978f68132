/* wndchrm 1.60's arithmetic where its values hang on the last bits, in C, operation for operation.
 *
 * 1. The eigenvalues of a real matrix in the order Eigen 3.1.2's EigenSolver returns them.
 *    wndchrm reads Haralick's maximal correlation coefficient from the eigenvalue at index 2 of Eigen's
 *    unsorted list: the order of the diagonal of the real Schur form that its Francis QR iteration
 *    leaves. Which eigenvalue lands there can hinge on the last bit of a sum, so this follows
 *    HessenbergDecomposition::_compute and RealSchur::compute of the Eigen that wnd-charm bundles
 *    (src/Eigen/src/Eigenvalues/), step for step and in Eigen's order of operations, including the
 *    order in which its SSE2 kernels (two doubles a packet) add the terms of a matrix-vector product.
 *    Only the eigenvalues are wanted, so every QR step updates the active window (rows and columns
 *    il..iu) only, as LAPACK does without Schur vectors: what Eigen writes outside it is never read
 *    again, except the exceptional shifts, which move the whole diagonal up to iu, here as in Eigen.
 * 2. The sums of the Q matrix that feeds it (_Q_calc_eigen), as Eigen's redux adds them.
 * 3. The Chebyshev transform (src/transforms/chebyshev.cpp): its Haralick grey levels are the
 *    transformed pixels quantised to 256 levels, so a pixel a rounding away from a level boundary
 *    must round as wndchrm rounds it; libm's acos and cos, its weights and its running sums.
 *
 * Build with -ffp-contract=off: a fused multiply-add rounds once where wndchrm rounds twice.
 * Matrices are row-major (numpy's C order); see wndchrm/features/exact/__init__.py.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ITERATIONS_PER_ROW 40

typedef Py_ssize_t Index;

/* ---- Sums in Eigen's order -------------------------------------------------------------------------- */

/* redux_impl<..., LinearVectorizedTraversal> of sum() over an aligned expression: lanes (t0, t1) and
 * (t2, t3) each add every fourth term, the two packets are added, then one more packet if two terms
 * remain, then its two lanes, then the last odd term. */
static double redux_abs(const double *terms, Index size)
{
    Index paired = size / 4 * 4, packed = size / 2 * 2;
    double low, high, total;
    Index k;
    if (packed == 0)
        return size ? fabs(terms[0]) : 0.0;
    if (packed > 2) {
        double lane[4];
        for (k = 0; k < 4; k++)
            lane[k] = fabs(terms[k]);
        for (k = 4; k < paired; k++)
            lane[k % 4] += fabs(terms[k]);
        low = lane[0] + lane[2];
        high = lane[1] + lane[3];
        if (packed > paired) {
            low += fabs(terms[paired]);
            high += fabs(terms[paired + 1]);
        }
    } else {
        low = fabs(terms[0]);
        high = fabs(terms[1]);
    }
    total = low + high;
    for (k = packed; k < size; k++)
        total += fabs(terms[k]);
    return total;
}

/* Each Q entry of wndchrm's _Q_calc_eigen, sum_k (P(i, k) P(j, k)) / d(i, k), as redux sums an aligned
 * expression (above). The terms are never negative, so a zero term changes no partial sum: each lane adds
 * only the non-zero terms of the first size / 4 * 4, in order, and co-occurrence matrices are sparse (a
 * tone meets few others), so this is a small part of the size^3 products. 0, or -2 if out of memory. */
static int q_sums(const double *p, const double *d, Index n, double *q)
{
    Index paired = n / 4 * 4, packed = n / 2 * 2, i, j, k, m;
    double *lanes = calloc(4 * (size_t)n * (size_t)n, sizeof(double));
    Index *rows = malloc((size_t)(n ? n : 1) * sizeof(Index));
    if (!lanes || !rows) {
        free(lanes);
        free(rows);
        return -2;
    }
    for (k = 0; k < paired; k++) {
        double *lane = lanes + (k % 4) * n * n;
        Index count = 0;
        for (i = 0; i < n; i++)
            if (p[i * n + k] != 0.0)
                rows[count++] = i;
        for (m = 0; m < count; m++) {
            Index a = rows[m], b;
            double pa = p[a * n + k], da = d[a * n + k];
            for (b = 0; b < count; b++)
                lane[a * n + rows[b]] += (pa * p[rows[b] * n + k]) / da;
        }
    }
    for (i = 0; i < n; i++) {
        for (j = 0; j < n; j++) {
            Index at = i * n + j;
            double low, high, total;
            if (packed == 0) { /* one term */
                q[at] = (p[i * n] * p[j * n]) / d[i * n];
                continue;
            }
            if (packed > 2) {
                low = lanes[at] + lanes[2 * n * n + at];
                high = lanes[n * n + at] + lanes[3 * n * n + at];
                if (packed > paired) {
                    low += (p[i * n + paired] * p[j * n + paired]) / d[i * n + paired];
                    high += (p[i * n + paired + 1] * p[j * n + paired + 1]) / d[i * n + paired + 1];
                }
            } else {
                low = (p[i * n] * p[j * n]) / d[i * n];
                high = (p[i * n + 1] * p[j * n + 1]) / d[i * n + 1];
            }
            total = low + high;
            if (packed < n)
                total += (p[i * n + n - 1] * p[j * n + n - 1]) / d[i * n + n - 1];
            q[at] = total;
        }
    }
    free(lanes);
    free(rows);
    return 0;
}

/* ---- The Chebyshev transform -------------------------------------------------------------------------- */

/* TNx then getChCoeff1D's weights: tj[j * length + a] = T_j(x_a) / length (j = 0) or T_j(x_a) * 2 / length,
 * with x_a = 2 (a + 1) / length - 1 and T_j(x) = cos(j acos(x)), T_0 = 1 (transposed: j major). */
static void chebyshev_weights(Index length, Index order, double *tj)
{
    Index a, j;
    for (a = 0; a < length; a++) {
        double x = 2 * (double)(a + 1) / (double)length - 1;
        double angle = fabs(x) > 1 ? 0.0 : acos(x);
        tj[a] = 1.0 / (double)length;
        for (j = 1; j < order; j++)
            tj[j * length + a] = cos(angle * (double)j) * 2 / (double)length;
    }
}

/* getChCoeff: out[r * order + j] = sum_a (f[r * length + a] tj[j * length + a]) / 2, in turn from a = 0.
 * Four sums run side by side (each still in its own order), which hides the latency of the additions. */
static void chebyshev_sums(const double *f, Index count, Index length, const double *tj, Index order,
                           double *out)
{
    Index r, j, a;
    for (r = 0; r < count; r++) {
        const double *row = f + r * length;
        for (j = 0; j + 4 <= order; j += 4) {
            const double *t0 = tj + j * length, *t1 = t0 + length, *t2 = t1 + length, *t3 = t2 + length;
            double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
            for (a = 0; a < length; a++) {
                s0 += row[a] * t0[a] / 2;
                s1 += row[a] * t1[a] / 2;
                s2 += row[a] * t2[a] / 2;
                s3 += row[a] * t3[a] / 2;
            }
            out[r * order + j] = s0;
            out[r * order + j + 1] = s1;
            out[r * order + j + 2] = s2;
            out[r * order + j + 3] = s3;
        }
        for (; j < order; j++) {
            const double *t = tj + j * length;
            double sum = 0.0;
            for (a = 0; a < length; a++)
                sum += row[a] * t[a] / 2;
            out[r * order + j] = sum;
        }
    }
}

/* ImageMatrix::ChebyshevTransform(N = 0), Chebyshev2D: the order is min(rows, columns); the coefficients
 * along x of every row, transposed, then along y: out is order x order. 0, or -2 if out of memory. */
static int chebyshev(const double *image, Index rows, Index columns, double *out)
{
    Index order = rows < columns ? rows : columns, longest = rows > columns ? rows : columns, r, j;
    double *tj = malloc((size_t)(longest * order) * sizeof(double));
    double *along_x = malloc((size_t)(rows * order) * sizeof(double));
    double *transposed = malloc((size_t)(rows * order) * sizeof(double));
    int status = 0;
    if (!tj || !along_x || !transposed) {
        status = -2;
    } else {
        chebyshev_weights(columns, order, tj);
        chebyshev_sums(image, rows, columns, tj, order, along_x);
        for (j = 0; j < order; j++)
            for (r = 0; r < rows; r++)
                transposed[j * rows + r] = along_x[r * order + j];
        chebyshev_weights(rows, order, tj);
        chebyshev_sums(transposed, order, rows, tj, order, out);
    }
    free(tj);
    free(along_x);
    free(transposed);
    return status;
}

/* ---- The Hessenberg reduction ----------------------------------------------------------------------- */

/* general_matrix_vector_product<..., ColMajor, ...> into an aligned result, as the left update of the
 * Hessenberg step calls it: out[c] = sum_k a[(i + 2 + k) n + i + 1 + c] e[k], c < rows, k < count.
 * Columns go four at a time (k, k+3, k+2, k+1 when the stride is odd); in the packet-aligned rows a group
 * adds as (a + b) + (c + d), in a trailing odd row term by term; then the columns left over, then those
 * skipped at the start to align, one at a time. */
static void gemv_col_major(const double *a, Index n, Index i, const double *e, double *out)
{
    Index rows = n - i - 1, count = rows - 1;
    const double *base = a + (i + 2) * n + i + 1; /* column k of the kernel's lhs is base + k n */
    Index offset = ((i + 2) * n + i + 1) % 2, step = n % 2;
    Index skip = 0, bound, aligned = rows / 2 * 2, second, fourth, g, k, c;
    int started = 0;
    while (skip < 2 && (offset + step * skip) % 2 != 0)
        skip++;
    skip = skip == 2 ? 0 : (skip < count ? skip : count);
    second = step == 1 ? 3 : 1;
    fourth = step == 1 ? 1 : 3;
    bound = (count - skip) / 4 * 4 + skip;
    for (g = skip; g < bound; g += 4) {
        const double *c0 = base + g * n, *c1 = base + (g + second) * n;
        const double *c2 = base + (g + 2) * n, *c3 = base + (g + fourth) * n;
        double e0 = e[g], e1 = e[g + second], e2 = e[g + 2], e3 = e[g + fourth];
        for (c = 0; c < aligned; c++) {
            double sum = (c0[c] * e0 + c1[c] * e1) + (c2[c] * e2 + c3[c] * e3);
            out[c] = started ? out[c] + sum : sum;
        }
        started = 1;
    }
    for (k = bound; k < count + skip; k++) {
        Index column = k < count ? k : k - count; /* the tail, then the skipped columns */
        const double *col = base + column * n;
        for (c = 0; c < aligned; c++) {
            double term = col[c] * e[column];
            out[c] = started ? out[c] + term : term;
        }
        started = 1;
    }
    if (aligned < rows) {
        Index last = rows - 1;
        double total = 0.0;
        int first = 1;
        for (g = skip; g < bound; g += 4) {
            Index order[4] = {g, g + second, g + 2, g + fourth};
            for (k = 0; k < 4; k++) {
                double term = base[order[k] * n + last] * e[order[k]];
                total = first ? term : total + term;
                first = 0;
            }
        }
        for (k = bound; k < count + skip; k++) {
            Index column = k < count ? k : k - count;
            double term = base[column * n + last] * e[column];
            total = first ? term : total + term;
            first = 0;
        }
        out[last] = total;
    }
}

/* general_matrix_vector_product<..., RowMajor, ...> with an aligned, contiguous vector, as the right
 * update calls it: out[r] = sum_k a[r n + i + 2 + k] e[k]. Lane 0 adds the even terms and lane 1 the
 * odd ones, each in turn, then lane 0 + lane 1, then the last term if the length is odd. */
static void gemv_row_major(const double *a, Index n, Index i, const double *e, double *out)
{
    Index depth = n - i - 2, packed = depth / 2 * 2, r, k;
    for (r = 0; r < n; r++) {
        const double *row = a + r * n + i + 2;
        double total;
        if (packed == 0) {
            total = row[0] * e[0];
        } else {
            double even = row[0] * e[0], odd = row[1] * e[1];
            for (k = 2; k < packed; k += 2) {
                even += row[k] * e[k];
                odd += row[k + 1] * e[k + 1];
            }
            total = even + odd;
            if (packed < depth)
                total += row[packed] * e[packed];
        }
        out[r] = total;
    }
}

/* HessenbergDecomposition::_compute, then matrixH(): column by column, a Householder reflector
 * (makeHouseholderInPlace) applied from the left to the trailing block and from the right to the
 * trailing columns (applyHouseholderOnTheLeft / OnTheRight). */
static void hessenberg(double *a, Index n, double *essential, double *tmp)
{
    Index i, r, c, k;
    for (i = 0; i + 1 < n; i++) {
        Index remaining = n - i - 1;
        double c0 = a[(i + 1) * n + i], tail_norm = 0.0, beta, tau;
        for (r = 0; r + 1 < remaining; r++) {
            double x = a[(i + 2 + r) * n + i];
            tail_norm = r ? tail_norm + x * x : x * x;
        }
        if (tail_norm == 0.0) {
            tau = 0.0;
            beta = c0;
            for (r = 0; r + 1 < remaining; r++)
                essential[r] = 0.0;
        } else {
            beta = sqrt(c0 * c0 + tail_norm);
            if (c0 >= 0.0)
                beta = -beta;
            for (r = 0; r + 1 < remaining; r++)
                essential[r] = a[(i + 2 + r) * n + i] / (c0 - beta);
            tau = (beta - c0) / beta;
        }
        for (r = 0; r + 1 < remaining; r++)
            a[(i + 2 + r) * n + i] = essential[r];
        a[(i + 1) * n + i] = beta;
        if (remaining == 1)
            continue; /* a 1x1 block times (1 - tau), with tau 0 */
        /* A = H A on rows and columns i+1..: tmp = essential^T bottom, through the column-major kernel. */
        gemv_col_major(a, n, i, essential, tmp);
        {
            double *top = a + (i + 1) * n + i + 1;
            for (c = 0; c < remaining; c++) {
                tmp[c] += top[c];
                top[c] -= tau * tmp[c];
            }
            for (r = 0; r + 1 < remaining; r++) {
                double factor = tau * essential[r], *row = a + (i + 2 + r) * n + i + 1;
                for (c = 0; c < remaining; c++)
                    row[c] -= factor * tmp[c];
            }
        }
        /* A = A H' on columns i+1..: tmp = right essential, through the row-major kernel. */
        gemv_row_major(a, n, i, essential, tmp);
        for (r = 0; r < n; r++) {
            double *row = a + r * n + i + 1, scaled;
            tmp[r] += row[0];
            row[0] -= tau * tmp[r];
            scaled = tau * tmp[r];
            for (k = 0; k + 1 < remaining; k++)
                row[1 + k] -= scaled * essential[k];
        }
    }
    for (r = 2; r < n; r++)
        for (c = 0; c + 1 < r; c++)
            a[r * n + c] = 0.0;
}

/* ---- The Francis QR iteration (RealSchur::compute without Schur vectors) ---------------------------- */

typedef struct {
    double *t;
    Index n;
    double norm; /* computeNormOfT of the Hessenberg matrix */
} Schur;

#define T(i, j) (s->t[(i) * s->n + (j)])

/* computeNormOfT: the sum of the absolute values of the Hessenberg matrix, row by row. */
static double norm_of_t(const Schur *s)
{
    double norm = 0.0;
    Index j;
    for (j = 0; j < s->n; j++) {
        Index from = j > 0 ? j - 1 : 0;
        norm += redux_abs(s->t + j * s->n + from, s->n - from);
    }
    return norm;
}

/* findSmallSubdiagEntry: the largest res <= iu whose sub-diagonal entry is negligible, or 0. */
static Index find_small_subdiag_entry(const Schur *s, Index iu)
{
    Index res = iu;
    while (res > 0) {
        double sum = fabs(T(res - 1, res - 1)) + fabs(T(res, res));
        if (sum == 0.0)
            sum = s->norm;
        if (fabs(T(res, res - 1)) < DBL_EPSILON * sum)
            break;
        res--;
    }
    return res;
}

/* JacobiRotation::makeGivens (real). */
static void make_givens(double p, double q, double *c, double *s)
{
    if (q == 0.0) {
        *c = p < 0.0 ? -1.0 : 1.0;
        *s = 0.0;
    } else if (p == 0.0) {
        *c = 0.0;
        *s = q < 0.0 ? 1.0 : -1.0;
    } else if (fabs(p) > fabs(q)) {
        double t = q / p, u = sqrt(1.0 + t * t);
        if (p < 0.0)
            u = -u;
        *c = 1.0 / u;
        *s = -t * *c;
    } else {
        double t = p / q, u = sqrt(1.0 + t * t);
        if (q < 0.0)
            u = -u;
        *s = -1.0 / u;
        *c = -t * *s;
    }
}

/* splitOffTwoRows: the 2x2 block at rows iu-1, iu is final; its rotation is applied to the block only. */
static void split_off_two_rows(Schur *s, Index iu, double exshift)
{
    double p = 0.5 * (T(iu - 1, iu - 1) - T(iu, iu));
    double q = p * p + T(iu, iu - 1) * T(iu - 1, iu);
    T(iu, iu) += exshift;
    T(iu - 1, iu - 1) += exshift;
    if (q >= 0.0) {
        double z = sqrt(fabs(q)), c, sn, x, y;
        Index j;
        make_givens(p >= 0.0 ? p + z : p - z, T(iu, iu - 1), &c, &sn);
        for (j = iu - 1; j <= iu; j++) { /* rot.adjoint() on rows iu-1 and iu */
            x = T(iu - 1, j);
            y = T(iu, j);
            T(iu - 1, j) = c * x + (-sn) * y;
            T(iu, j) = sn * x + c * y;
        }
        for (j = iu - 1; j <= iu; j++) { /* rot on columns iu-1 and iu */
            x = T(j, iu - 1);
            y = T(j, iu);
            T(j, iu - 1) = c * x + (-sn) * y;
            T(j, iu) = sn * x + c * y;
        }
        T(iu, iu - 1) = 0.0;
    }
    if (iu > 1)
        T(iu - 1, iu - 2) = 0.0;
}

/* computeShift, with the exceptional shifts at iterations 10 and 30. */
static void compute_shift(Schur *s, Index iu, Index iter, double *exshift, double shift[3])
{
    Index i;
    shift[0] = T(iu, iu);
    shift[1] = T(iu - 1, iu - 1);
    shift[2] = T(iu, iu - 1) * T(iu - 1, iu);
    if (iter == 10) { /* Wilkinson's original ad hoc shift */
        double sum;
        *exshift += shift[0];
        for (i = 0; i <= iu; i++)
            T(i, i) -= shift[0];
        sum = fabs(T(iu, iu - 1)) + fabs(T(iu - 1, iu - 2));
        shift[0] = 0.75 * sum;
        shift[1] = 0.75 * sum;
        shift[2] = -0.4375 * sum * sum;
    }
    if (iter == 30) { /* MATLAB's new ad hoc shift */
        double v = (shift[1] - shift[0]) / 2.0;
        v = v * v + shift[2];
        if (v > 0.0) {
            v = sqrt(v);
            if (shift[1] < shift[0])
                v = -v;
            v = v + (shift[1] - shift[0]) / 2.0;
            v = shift[0] - shift[2] / v;
            *exshift += v;
            for (i = 0; i <= iu; i++)
                T(i, i) -= v;
            shift[0] = shift[1] = shift[2] = 0.964;
        }
    }
}

/* initFrancisQRStep: the row im the step starts at, and its first Householder vector. */
static Index init_francis_step(Schur *s, Index il, Index iu, const double shift[3], double v[3])
{
    Index im;
    for (im = iu - 2; im >= il; --im) {
        double tmm = T(im, im), r = shift[0] - tmm, sh = shift[1] - tmm, lhs, rhs;
        v[0] = (r * sh - shift[2]) / T(im + 1, im) + T(im, im + 1);
        v[1] = T(im + 1, im + 1) - tmm - r - sh;
        v[2] = T(im + 2, im + 1);
        if (im == il)
            break;
        lhs = T(im, im - 1) * (fabs(v[1]) + fabs(v[2]));
        rhs = v[0] * (fabs(T(im - 1, im - 1)) + fabs(tmm) + fabs(T(im + 1, im + 1)));
        if (fabs(lhs) < DBL_EPSILON * rhs)
            break;
    }
    return im;
}

/* performFrancisQRStep on the window il..iu. */
static void francis_step(Schur *s, Index il, Index im, Index iu, const double first[3])
{
    Index k, r, c, i;
    for (k = im; k <= iu - 2; ++k) {
        double v0, v1, v2, tail_norm, beta, tau, e0, e1;
        if (k == im) {
            v0 = first[0];
            v1 = first[1];
            v2 = first[2];
        } else {
            v0 = T(k, k - 1);
            v1 = T(k + 1, k - 1);
            v2 = T(k + 2, k - 1);
        }
        tail_norm = v1 * v1 + v2 * v2;
        if (tail_norm == 0.0) {
            tau = 0.0;
            beta = v0;
            e0 = e1 = 0.0;
        } else {
            beta = sqrt(v0 * v0 + tail_norm);
            if (v0 >= 0.0)
                beta = -beta;
            e0 = v1 / (v0 - beta);
            e1 = v2 / (v0 - beta);
            tau = (beta - v0) / beta;
        }
        if (beta != 0.0) {
            Index last = iu < k + 3 ? iu : k + 3;
            double f0 = tau * e0, f1 = tau * e1;
            if (k == im && k > il)
                T(k, k - 1) = -T(k, k - 1);
            else if (k != im)
                T(k, k - 1) = beta;
            for (c = k; c <= iu; c++) { /* applyHouseholderOnTheLeft, rows k..k+2 */
                double tmp = (e0 * T(k + 1, c) + e1 * T(k + 2, c)) + T(k, c);
                T(k, c) -= tau * tmp;
                T(k + 1, c) -= f0 * tmp;
                T(k + 2, c) -= f1 * tmp;
            }
            for (r = il; r <= last; r++) { /* applyHouseholderOnTheRight, columns k..k+2 */
                double scaled = ((T(r, k + 1) * e0 + T(r, k + 2) * e1) + T(r, k)) * tau;
                T(r, k) -= scaled;
                T(r, k + 1) -= scaled * e0;
                T(r, k + 2) -= scaled * e1;
            }
        }
    }
    { /* the two-row reflector that ends the step */
        double v0 = T(iu - 1, iu - 2), v1 = T(iu, iu - 2), tail_norm = v1 * v1, beta, tau, e0;
        if (tail_norm == 0.0) {
            tau = 0.0;
            beta = v0;
            e0 = 0.0;
        } else {
            beta = sqrt(v0 * v0 + tail_norm);
            if (v0 >= 0.0)
                beta = -beta;
            e0 = v1 / (v0 - beta);
            tau = (beta - v0) / beta;
        }
        if (beta != 0.0) {
            T(iu - 1, iu - 2) = beta;
            for (c = iu - 1; c <= iu; c++) {
                double tmp = T(iu, c) * e0 + T(iu - 1, c);
                T(iu - 1, c) -= tau * tmp;
                T(iu, c) -= (tau * e0) * tmp;
            }
            for (r = il; r <= iu; r++) {
                double scaled = (T(r, iu) * e0 + T(r, iu - 1)) * tau;
                T(r, iu - 1) -= scaled;
                T(r, iu) -= scaled * e0;
            }
        }
    }
    for (i = im + 2; i <= iu; ++i) { /* clean up pollution due to round-off errors */
        T(i, i - 2) = 0.0;
        if (i > im + 2)
            T(i, i - 3) = 0.0;
    }
}

/* RealSchur::compute on the Hessenberg matrix in s->t; 0, or -1 if it does not converge. */
static int real_schur(Schur *s)
{
    Index n = s->n, iu = n - 1, iter = 0, total = 0, i;
    double exshift = 0.0;
    int zero = 1;
    for (i = 0; i < n * n && zero; i++)
        zero = s->t[i] == 0.0;
    if (zero)
        return 0; /* norm 0: its own Schur form */
    while (iu >= 0) {
        Index il = find_small_subdiag_entry(s, iu);
        if (il == iu) { /* one root found */
            T(iu, iu) = T(iu, iu) + exshift;
            if (iu > 0)
                T(iu, iu - 1) = 0.0;
            iu--;
            iter = 0;
        } else if (il == iu - 1) { /* two roots found */
            split_off_two_rows(s, iu, exshift);
            iu -= 2;
            iter = 0;
        } else {
            double shift[3], first[3] = {0.0, 0.0, 0.0}; /* set by init_francis_step: il < iu - 1 here */
            Index im;
            compute_shift(s, iu, iter, &exshift, shift);
            iter++;
            total++;
            if (total > MAX_ITERATIONS_PER_ROW * n)
                return -1;
            im = init_francis_step(s, il, iu, shift, first);
            francis_step(s, il, im, iu, first);
        }
    }
    return 0;
}

/* EigenSolver::compute's reading of the quasi-triangular form. */
static void read_eigenvalues(Schur *s, double *re, double *im)
{
    Index n = s->n, i = 0;
    while (i < n) {
        if (i == n - 1 || T(i + 1, i) == 0.0) {
            re[i] = T(i, i);
            im[i] = 0.0;
            i++;
        } else {
            double p = 0.5 * (T(i, i) - T(i + 1, i + 1));
            double z = sqrt(fabs(p * p + T(i + 1, i) * T(i, i + 1)));
            re[i] = re[i + 1] = T(i + 1, i + 1) + p;
            im[i] = z;
            im[i + 1] = -z;
            i += 2;
        }
    }
}

#undef T

/* 0, -1 (no convergence) or -2 (out of memory). */
static int eigenvalues_of(double *a, Index n, double *re, double *im)
{
    Schur s;
    double *work = n ? malloc(2 * (size_t)n * sizeof(double)) : NULL;
    int status;
    if (n && !work)
        return -2;
    hessenberg(a, n, work, work + n);
    free(work);
    s.t = a;
    s.n = n;
    s.norm = norm_of_t(&s);
    status = real_schur(&s);
    if (status == 0)
        read_eigenvalues(&s, re, im);
    return status;
}

/* A wrapper's status when its arguments were refused: the exception is set, its buffers still to release. */
#define BAD_ARGUMENTS (-3)

static PyObject *py_eigenvalues(PyObject *self, PyObject *args)
{
    Py_buffer a, re, im;
    Py_ssize_t n;
    int status = BAD_ARGUMENTS;
    (void)self;
    if (!PyArg_ParseTuple(args, "w*nw*w*", &a, &n, &re, &im))
        return NULL;
    if (n < 0 || a.len != n * n * (Py_ssize_t)sizeof(double) || re.len != n * (Py_ssize_t)sizeof(double) ||
        im.len != n * (Py_ssize_t)sizeof(double)) {
        PyErr_SetString(PyExc_ValueError, "eigenvalues(matrix, n, real, imag): n x n and n doubles expected");
        goto release;
    }
    Py_BEGIN_ALLOW_THREADS
    status = eigenvalues_of((double *)a.buf, n, (double *)re.buf, (double *)im.buf);
    Py_END_ALLOW_THREADS
release:
    PyBuffer_Release(&a);
    PyBuffer_Release(&re);
    PyBuffer_Release(&im);
    if (status == BAD_ARGUMENTS)
        return NULL;
    if (status == -2)
        return PyErr_NoMemory();
    return PyBool_FromLong(status == 0);
}

static PyObject *py_q_sums(PyObject *self, PyObject *args)
{
    Py_buffer p, d, q;
    Py_ssize_t n, size;
    int status = BAD_ARGUMENTS;
    (void)self;
    if (!PyArg_ParseTuple(args, "y*y*nw*", &p, &d, &n, &q))
        return NULL;
    size = n * n * (Py_ssize_t)sizeof(double);
    if (n < 0 || p.len != size || d.len != size || q.len != size) {
        PyErr_SetString(PyExc_ValueError, "q_sums(p, denominators, n, q): n x n doubles each expected");
        goto release;
    }
    Py_BEGIN_ALLOW_THREADS
    status = q_sums((const double *)p.buf, (const double *)d.buf, n, (double *)q.buf);
    Py_END_ALLOW_THREADS
release:
    PyBuffer_Release(&p);
    PyBuffer_Release(&d);
    PyBuffer_Release(&q);
    if (status == BAD_ARGUMENTS)
        return NULL;
    if (status == -2)
        return PyErr_NoMemory();
    Py_RETURN_NONE;
}

static PyObject *py_chebyshev(PyObject *self, PyObject *args)
{
    Py_buffer image, out;
    Py_ssize_t rows, columns, order;
    int status = BAD_ARGUMENTS;
    (void)self;
    if (!PyArg_ParseTuple(args, "y*nnw*", &image, &rows, &columns, &out))
        return NULL;
    order = rows < columns ? rows : columns;
    if (rows < 1 || columns < 1 || image.len != rows * columns * (Py_ssize_t)sizeof(double) ||
        out.len != order * order * (Py_ssize_t)sizeof(double)) {
        PyErr_SetString(PyExc_ValueError, "chebyshev(image, rows, columns, out): rows x columns and N x N doubles "
                                          "(N = min(rows, columns)) expected");
        goto release;
    }
    Py_BEGIN_ALLOW_THREADS
    status = chebyshev((const double *)image.buf, rows, columns, (double *)out.buf);
    Py_END_ALLOW_THREADS
release:
    PyBuffer_Release(&image);
    PyBuffer_Release(&out);
    if (status == BAD_ARGUMENTS)
        return NULL;
    if (status == -2)
        return PyErr_NoMemory();
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"eigenvalues", py_eigenvalues, METH_VARARGS,
     "eigenvalues(matrix, n, real, imag) -> bool\n\n"
     "Eigen 3.1.2's EigenSolver eigenvalues of the row-major n x n doubles in matrix (overwritten), "
     "written into real and imag in Eigen's order; False if the QR iteration did not converge."},
    {"q_sums", py_q_sums, METH_VARARGS,
     "q_sums(p, denominators, n, q) -> None\n\n"
     "wndchrm's Q(i, j) = sum_k p(i, k) p(j, k) / denominators(i, k), row-major n x n doubles, summed as "
     "Eigen's redux sums an aligned expression, written into q."},
    {"chebyshev", py_chebyshev, METH_VARARGS,
     "chebyshev(image, rows, columns, out) -> None\n\n"
     "wndchrm's ChebyshevTransform(N = 0) of the row-major image into out (N x N, N = min(rows, columns))."},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_exact",
                                    "wndchrm 1.60's arithmetic, operation for operation.", -1, methods,
                                    NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__exact(void) { return PyModule_Create(&module); }
