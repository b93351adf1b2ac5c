# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Winograd minimal-filtering convolution for 3x3 filters with stride 1: F(2x2, 3x3) and F(4x4, 3x3), forward and
backward, in float32 and float64 (hand-written; nbdev does not touch this file). Chapter 05 derives the algorithm;
dl_nb.conv's *_fast layers call these kernels through dl_nb.fast where they measured faster than im2col.

The output is cut into m x m tiles (m = 2 or 4). Tile (th, tw) needs the a x a patch (a = m + 2) of the zero-padded
input that starts at row th*m, column tw*m, and for every output channel f

    Y[n, f, tile] = A^T [ sum_c U[:, :, f, c] * V[:, :, n, c, tile] ] A,   U = G w[f, c] G^T,   V = B^T d[n, c, tile] B,

where * multiplies a x a arrays elementwise. For each of the a*a positions xi of those arrays, the sum over c is a
matrix product over a block of T tiles, M[xi] (F, T) = U[xi] (F, C) @ V[xi] (C, T): a*a products of C*F*T
multiply-adds, against 9*m*m*C*F*T for the direct convolution (2.25 times fewer for m = 2, 4 times for m = 4).

The backward pass is the adjoint of the same chain. With Z = A dY A^T the transformed upstream gradient of a tile,
    dU[xi] (F, C) += Z[xi] (F, T) @ V[xi]^T (T, C),    dV[xi] (C, T) = U[xi]^T (C, F) @ Z[xi] (F, T),
dx gets B dV B^T added at each tile's patch (neighbouring patches overlap by 2 rows and columns), and dw = G^T dU G.

Layout. A block is `per_unit` whole images (or one band of tile rows of one image), its T tiles numbered
t = ((n - n0)*rows + th - th0)*ntw + tw. Per thread:
    V (a*a, C, Tb) and M or Z (a*a, F, Tb): one (C, Tb) or (F, Tb) matrix per xi, Tb >= T columns; consecutive
        matrices are sC or sF elements apart (see _stride);
    U (a*a, F, C): the filter transforms, once per call.
The transforms work on one row of tiles at a time and are vectorised across the tiles of the row: the padded input
plane is stored "de-interleaved", each row split into its m phases (columns m*j + ph stored at ph*J + j, J = ntw + 1),
so that the k-th column of every tile of the row, m*tw + k, is the contiguous run that starts at (k % m)*J + k // m.
The 1-D transforms applied to whole runs of tiles are the small C functions below: the same arithmetic as the
matrices in chapter 05 with their zeros skipped, in a loop that `#pragma omp simd` lets the compiler vectorise
(their inputs and outputs never overlap). Constants are cast to the data's type, so float32 stays float32.
"""
from cython cimport floating
from cython.parallel cimport prange, threadid
from libc.string cimport memset, memcpy
import numpy as np
from dl_nb.fast._gemm cimport gemm
from dl_nb.fast.im2col import openmp_threads

cdef extern from *:
    """
    /* The 1-D Winograd transforms, each applied to n vectors at once: input k of vector i is dk[i*is] (or dk[i]),
       output k goes to o[k*s + i]. Defined for float (suffix f) and double (suffix d).
       F(4x4, 3x3): bt6 = B^T (6 -> 6), at6 = A^T (6 -> 4), a4 = A (4 -> 6), b6 = B (6 -> 6).
       F(2x2, 3x3): bt4 = B^T (4 -> 4), at4 = A^T (4 -> 2), a2 = A (2 -> 4), b4 = B (4 -> 4). */
    #include <stddef.h>
    #define DL_NB_WINOGRAD_1D(T, S)                                                                                   \
    static void bt6_##S(const T *d0, const T *d1, const T *d2, const T *d3, const T *d4, const T *d5,                 \
                        T *o, ptrdiff_t s, ptrdiff_t n) {                                                             \
        _Pragma("omp simd")                                                                                           \
        for (ptrdiff_t i = 0; i < n; i++) {                                                                           \
            T p = d4[i] - (T)4 * d2[i], q = d3[i] - (T)4 * d1[i], r = d4[i] - d2[i], u = (T)2 * (d3[i] - d1[i]);     \
            o[i] = (T)4 * d0[i] - (T)5 * d2[i] + d4[i];                                                               \
            o[s + i] = p + q;                                                                                         \
            o[2 * s + i] = p - q;                                                                                     \
            o[3 * s + i] = r + u;                                                                                     \
            o[4 * s + i] = r - u;                                                                                     \
            o[5 * s + i] = (T)4 * d1[i] - (T)5 * d3[i] + d5[i];                                                       \
        }                                                                                                             \
    }                                                                                                                 \
    static void at6_##S(const T *m0, const T *m1, const T *m2, const T *m3, const T *m4, const T *m5,                 \
                        T *o, ptrdiff_t s, ptrdiff_t n) {                                                             \
        _Pragma("omp simd")                                                                                           \
        for (ptrdiff_t i = 0; i < n; i++) {                                                                           \
            T s1 = m1[i] + m2[i], d1 = m1[i] - m2[i], s2 = m3[i] + m4[i], d2 = m3[i] - m4[i];                         \
            o[i] = m0[i] + s1 + s2;                                                                                   \
            o[s + i] = d1 + (T)2 * d2;                                                                                \
            o[2 * s + i] = s1 + (T)4 * s2;                                                                            \
            o[3 * s + i] = d1 + (T)8 * d2 + m5[i];                                                                    \
        }                                                                                                             \
    }                                                                                                                 \
    static void a4_##S(const T *y0, const T *y1, const T *y2, const T *y3, ptrdiff_t is,                              \
                       T *o, ptrdiff_t s, ptrdiff_t n) {                                                              \
        _Pragma("omp simd")                                                                                           \
        for (ptrdiff_t i = 0; i < n; i++) {                                                                           \
            T a = y0[i * is], b = y1[i * is], c = y2[i * is], d = y3[i * is];                                         \
            T e = a + c, f = b + d, e2 = a + (T)4 * c, f2 = (T)2 * b + (T)8 * d;                                      \
            o[i] = a;                                                                                                 \
            o[s + i] = e + f;                                                                                         \
            o[2 * s + i] = e - f;                                                                                     \
            o[3 * s + i] = e2 + f2;                                                                                   \
            o[4 * s + i] = e2 - f2;                                                                                   \
            o[5 * s + i] = d;                                                                                         \
        }                                                                                                             \
    }                                                                                                                 \
    static void b6_##S(const T *v0, const T *v1, const T *v2, const T *v3, const T *v4, const T *v5,                  \
                       T *o, ptrdiff_t s, ptrdiff_t n) {                                                              \
        _Pragma("omp simd")                                                                                           \
        for (ptrdiff_t i = 0; i < n; i++) {                                                                           \
            T p = v1[i] + v2[i], q = v1[i] - v2[i], r = v3[i] + v4[i], u = v3[i] - v4[i];                             \
            o[i] = (T)4 * v0[i];                                                                                      \
            o[s + i] = (T)4 * (v5[i] - q) - (T)2 * u;                                                                 \
            o[2 * s + i] = -(T)5 * v0[i] - (T)4 * p - r;                                                              \
            o[3 * s + i] = q + (T)2 * u - (T)5 * v5[i];                                                               \
            o[4 * s + i] = v0[i] + p + r;                                                                             \
            o[5 * s + i] = v5[i];                                                                                     \
        }                                                                                                             \
    }                                                                                                                 \
    static void bt4_##S(const T *d0, const T *d1, const T *d2, const T *d3, T *o, ptrdiff_t s, ptrdiff_t n) {         \
        _Pragma("omp simd")                                                                                           \
        for (ptrdiff_t i = 0; i < n; i++) {                                                                           \
            o[i] = d0[i] - d2[i];                                                                                     \
            o[s + i] = d1[i] + d2[i];                                                                                 \
            o[2 * s + i] = d2[i] - d1[i];                                                                             \
            o[3 * s + i] = d1[i] - d3[i];                                                                             \
        }                                                                                                             \
    }                                                                                                                 \
    static void at4_##S(const T *m0, const T *m1, const T *m2, const T *m3, T *o, ptrdiff_t s, ptrdiff_t n) {         \
        _Pragma("omp simd")                                                                                           \
        for (ptrdiff_t i = 0; i < n; i++) {                                                                           \
            o[i] = m0[i] + m1[i] + m2[i];                                                                             \
            o[s + i] = m1[i] - m2[i] - m3[i];                                                                         \
        }                                                                                                             \
    }                                                                                                                 \
    static void a2_##S(const T *y0, const T *y1, ptrdiff_t is, T *o, ptrdiff_t s, ptrdiff_t n) {                      \
        _Pragma("omp simd")                                                                                           \
        for (ptrdiff_t i = 0; i < n; i++) {                                                                           \
            T a = y0[i * is], b = y1[i * is];                                                                         \
            o[i] = a;                                                                                                 \
            o[s + i] = a + b;                                                                                         \
            o[2 * s + i] = a - b;                                                                                     \
            o[3 * s + i] = -b;                                                                                        \
        }                                                                                                             \
    }                                                                                                                 \
    static void b4_##S(const T *v0, const T *v1, const T *v2, const T *v3, T *o, ptrdiff_t s, ptrdiff_t n) {          \
        _Pragma("omp simd")                                                                                           \
        for (ptrdiff_t i = 0; i < n; i++) {                                                                           \
            o[i] = v0[i];                                                                                             \
            o[s + i] = v1[i] - v2[i] + v3[i];                                                                         \
            o[2 * s + i] = v1[i] + v2[i] - v0[i];                                                                     \
            o[3 * s + i] = -v3[i];                                                                                    \
        }                                                                                                             \
    }
    DL_NB_WINOGRAD_1D(float, f)
    DL_NB_WINOGRAD_1D(double, d)
    """
    void bt6_f(const float *d0, const float *d1, const float *d2, const float *d3, const float *d4, const float *d5,
               float *o, Py_ssize_t s, Py_ssize_t n) nogil
    void bt6_d(const double *d0, const double *d1, const double *d2, const double *d3, const double *d4,
               const double *d5, double *o, Py_ssize_t s, Py_ssize_t n) nogil
    void at6_f(const float *m0, const float *m1, const float *m2, const float *m3, const float *m4, const float *m5,
               float *o, Py_ssize_t s, Py_ssize_t n) nogil
    void at6_d(const double *m0, const double *m1, const double *m2, const double *m3, const double *m4,
               const double *m5, double *o, Py_ssize_t s, Py_ssize_t n) nogil
    void a4_f(const float *y0, const float *y1, const float *y2, const float *y3, Py_ssize_t inc,
              float *o, Py_ssize_t s, Py_ssize_t n) nogil
    void a4_d(const double *y0, const double *y1, const double *y2, const double *y3, Py_ssize_t inc,
              double *o, Py_ssize_t s, Py_ssize_t n) nogil
    void b6_f(const float *v0, const float *v1, const float *v2, const float *v3, const float *v4, const float *v5,
              float *o, Py_ssize_t s, Py_ssize_t n) nogil
    void b6_d(const double *v0, const double *v1, const double *v2, const double *v3, const double *v4,
              const double *v5, double *o, Py_ssize_t s, Py_ssize_t n) nogil
    void bt4_f(const float *d0, const float *d1, const float *d2, const float *d3, float *o, Py_ssize_t s,
               Py_ssize_t n) nogil
    void bt4_d(const double *d0, const double *d1, const double *d2, const double *d3, double *o, Py_ssize_t s,
               Py_ssize_t n) nogil
    void at4_f(const float *m0, const float *m1, const float *m2, const float *m3, float *o, Py_ssize_t s,
               Py_ssize_t n) nogil
    void at4_d(const double *m0, const double *m1, const double *m2, const double *m3, double *o, Py_ssize_t s,
               Py_ssize_t n) nogil
    void a2_f(const float *y0, const float *y1, Py_ssize_t inc, float *o, Py_ssize_t s, Py_ssize_t n) nogil
    void a2_d(const double *y0, const double *y1, Py_ssize_t inc, double *o, Py_ssize_t s, Py_ssize_t n) nogil
    void b4_f(const float *v0, const float *v1, const float *v2, const float *v3, float *o, Py_ssize_t s,
              Py_ssize_t n) nogil
    void b4_d(const double *v0, const double *v1, const double *v2, const double *v3, double *o, Py_ssize_t s,
              Py_ssize_t n) nogil


# ---------------------------------------------------------------------------------------------
# The transform matrices (chapter 05 derives them; interpolation points 0, 1, -1 (, 2, -2) and infinity):
#
# F(2x2, 3x3), a = 4:                                      F(4x4, 3x3), a = 6:
#   B^T = [[1, 0,-1, 0],   G = [[  1,    0,   0],          B^T = [[4, 0,-5, 0, 1, 0],   G = [[ 1/4,     0,    0],
#          [0, 1, 1, 0],        [1/2,  1/2, 1/2],                 [0,-4,-4, 1, 1, 0],        [-1/6,  -1/6, -1/6],
#          [0,-1, 1, 0],        [1/2, -1/2, 1/2],                 [0, 4,-4,-1, 1, 0],        [-1/6,   1/6, -1/6],
#          [0, 1, 0,-1]]        [  0,    0,   1]]                 [0,-2,-1, 2, 1, 0],        [1/24, 1/12,  1/6],
#   A^T = [[1, 1, 1, 0],                                          [0, 2,-1,-2, 1, 0],        [1/24,-1/12,  1/6],
#          [0, 1,-1,-1]]                                          [0, 4, 0,-5, 0, 1]]        [   0,    0,    1]]
#                                                          A^T = [[1, 1, 1, 1, 1, 0], [0, 1,-1, 2,-2, 0],
#                                                                 [0, 1, 1, 4, 4, 0], [0, 1,-1, 8,-8, 1]]
# The 1-D transforms of whole runs of tiles, for either dtype:
# ---------------------------------------------------------------------------------------------

cdef inline void _bt(const floating *d, Py_ssize_t ld, floating *o, Py_ssize_t s, Py_ssize_t n, int m) noexcept nogil:
    # o[k*s + i] = (B^T [d[i], d[ld + i], ...])[k]: the input transform of n columns a rows deep (rows ld apart)
    if m == 4:
        if floating is float:
            bt6_f(d, d + ld, d + 2 * ld, d + 3 * ld, d + 4 * ld, d + 5 * ld, o, s, n)
        else:
            bt6_d(d, d + ld, d + 2 * ld, d + 3 * ld, d + 4 * ld, d + 5 * ld, o, s, n)
    else:
        if floating is float:
            bt4_f(d, d + ld, d + 2 * ld, d + 3 * ld, o, s, n)
        else:
            bt4_d(d, d + ld, d + 2 * ld, d + 3 * ld, o, s, n)


cdef inline void _bt_tiles(const floating *r, Py_ssize_t J, floating *o, Py_ssize_t s, Py_ssize_t n, int m) noexcept nogil:
    # the same along a de-interleaved row r: column k of tile tw is r[(k % m)*J + k // m + tw]
    if m == 4:
        if floating is float:
            bt6_f(r, r + J, r + 2 * J, r + 3 * J, r + 1, r + J + 1, o, s, n)
        else:
            bt6_d(r, r + J, r + 2 * J, r + 3 * J, r + 1, r + J + 1, o, s, n)
    else:
        if floating is float:
            bt4_f(r, r + J, r + 1, r + J + 1, o, s, n)
        else:
            bt4_d(r, r + J, r + 1, r + J + 1, o, s, n)


cdef inline void _at(const floating *mm, Py_ssize_t ld, floating *o, Py_ssize_t s, Py_ssize_t n, int m) noexcept nogil:
    # o[i*s + j] = (A^T [mm[j], mm[ld + j], ...])[i], i < m: the output transform of n columns
    if m == 4:
        if floating is float:
            at6_f(mm, mm + ld, mm + 2 * ld, mm + 3 * ld, mm + 4 * ld, mm + 5 * ld, o, s, n)
        else:
            at6_d(mm, mm + ld, mm + 2 * ld, mm + 3 * ld, mm + 4 * ld, mm + 5 * ld, o, s, n)
    else:
        if floating is float:
            at4_f(mm, mm + ld, mm + 2 * ld, mm + 3 * ld, o, s, n)
        else:
            at4_d(mm, mm + ld, mm + 2 * ld, mm + 3 * ld, o, s, n)


cdef inline void _a(const floating *y, Py_ssize_t ld, Py_ssize_t inc, floating *o, Py_ssize_t s, Py_ssize_t n,
                    int m) noexcept nogil:
    # o[k*s + i] = (A [y[i*inc], y[ld + i*inc], ...])[k], k < a: the upstream-gradient transform of n columns
    if m == 4:
        if floating is float:
            a4_f(y, y + ld, y + 2 * ld, y + 3 * ld, inc, o, s, n)
        else:
            a4_d(y, y + ld, y + 2 * ld, y + 3 * ld, inc, o, s, n)
    else:
        if floating is float:
            a2_f(y, y + ld, inc, o, s, n)
        else:
            a2_d(y, y + ld, inc, o, s, n)


cdef inline void _b(const floating *v, Py_ssize_t ld, floating *o, Py_ssize_t s, Py_ssize_t n, int m) noexcept nogil:
    # o[k*s + i] = (B [v[i], v[ld + i], ...])[k]: the input-gradient transform of n columns
    if m == 4:
        if floating is float:
            b6_f(v, v + ld, v + 2 * ld, v + 3 * ld, v + 4 * ld, v + 5 * ld, o, s, n)
        else:
            b6_d(v, v + ld, v + 2 * ld, v + 3 * ld, v + 4 * ld, v + 5 * ld, o, s, n)
    else:
        if floating is float:
            b4_f(v, v + ld, v + 2 * ld, v + 3 * ld, o, s, n)
        else:
            b4_d(v, v + ld, v + 2 * ld, v + 3 * ld, o, s, n)


# ---------------------------------------------------------------------------------------------
# Filter transforms: U[xi, f, c] = (G w[f, c] G^T)[xi], and the adjoint dw[f, c] = G^T dU[:, f, c] G.
# Once per call and cheap (F*C small 3x3 filters), so written out as scalar code.
# ---------------------------------------------------------------------------------------------

cdef inline void _g(floating g0, floating g1, floating g2, floating *o, Py_ssize_t s, int m) noexcept nogil:
    # o[k*s] = (G g)[k]
    cdef floating e = g0 + g2, h, q
    if m == 4:
        h = g0 / <floating>24 + g2 / <floating>6
        q = g1 / <floating>12
        o[0] = g0 / <floating>4
        o[s] = -(e + g1) / <floating>6
        o[2 * s] = -(e - g1) / <floating>6
        o[3 * s] = h + q
        o[4 * s] = h - q
        o[5 * s] = g2
    else:
        o[0] = g0
        o[s] = (e + g1) / <floating>2
        o[2 * s] = (e - g1) / <floating>2
        o[3 * s] = g2


cdef inline void _gt(const floating *u, Py_ssize_t s, floating *o, Py_ssize_t os, int m) noexcept nogil:
    # o[j*os] = (G^T u)[j] for u[k] = u[k*s]
    cdef floating p, q
    if m == 4:
        p = (u[s] + u[2 * s]) / <floating>6
        q = (u[3 * s] + u[4 * s]) / <floating>24
        o[0] = u[0] / <floating>4 - p + q
        o[os] = (u[2 * s] - u[s]) / <floating>6 + (u[3 * s] - u[4 * s]) / <floating>12
        o[2 * os] = -p + <floating>4 * q + u[5 * s]
    else:
        p = (u[s] + u[2 * s]) / <floating>2
        o[0] = u[0] + p
        o[os] = (u[s] - u[2 * s]) / <floating>2
        o[2 * os] = p + u[3 * s]


cdef void _filter(const floating *w, floating *u, Py_ssize_t s, int m) noexcept nogil:
    # u[xi*s] = (G w G^T)[xi] for one 3x3 filter w (row-major)
    cdef floating t[18]                        # G w, a x 3
    cdef int k, a = m + 2
    for k in range(3):
        _g(w[k], w[3 + k], w[6 + k], &t[k], 3, m)
    for k in range(a):
        _g(t[3 * k], t[3 * k + 1], t[3 * k + 2], u + a * k * s, s, m)


cdef void _filter_adjoint(const floating *u, Py_ssize_t s, floating *w, int m) noexcept nogil:
    # w (3x3, row-major) = G^T dU G for dU[xi] = u[xi*s]
    cdef floating t[18]                        # dU G, a x 3
    cdef int k, a = m + 2
    for k in range(a):
        _gt(u + a * k * s, s, &t[3 * k], 1, m)
    for k in range(3):
        _gt(&t[k], 3, w + k, 3, m)


cdef Py_ssize_t _stride(Py_ssize_t n, Py_ssize_t itemsize) noexcept nogil:
    # Distance between the a*a matrices of a buffer: at least n elements, rounded up to whole 4 KB pages plus one 64-byte
    # cache line. A tile transform touches one element in each of the a*a matrices; were they a multiple of 4 KB apart,
    # all a*a accesses would fall into the same set of the L1 cache and evict each other.
    cdef Py_ssize_t page = 4096 // itemsize
    return (n + page - 1) // page * page + 64 // itemsize


def filter_transform(const floating[:, :, :, ::1] w, int m=4):
    """U = G w G^T of every 3x3 filter, shape ((m+2)**2, F, C), in the dtype of w (the a*a matrices of the products).

    The result is a view into a buffer whose (F, C) matrices are padded apart (see _stride)."""
    cdef Py_ssize_t F = w.shape[0], C = w.shape[1], f, c, a = m + 2
    if w.shape[2] != 3 or w.shape[3] != 3 or m not in (2, 4):
        raise ValueError(f"filter_transform needs 3x3 filters and m in (2, 4), got w {tuple(w.shape)[:4]}, m={m}")
    cdef Py_ssize_t sU = _stride(F * C, sizeof(floating))
    dtype = np.float32 if floating is float else np.float64
    U = np.empty((a * a, sU), dtype=dtype)
    cdef floating[:, ::1] Uv = U
    for f in prange(F, nogil=True, schedule="static"):
        for c in range(C):
            _filter(&w[f, c, 0, 0], &Uv[0, f * C + c], sU, m)
    return U[:, :F * C].reshape(a * a, F, C)


def filter_transform_adjoint(const floating[:, :, :] dU, int m=4):
    """dw = G^T dU G for every filter: the gradient of `filter_transform`; dU ((m+2)**2, F, C) -> dw (F, C, 3, 3).

    dU may be a view whose (F, C) matrices are padded apart, as `filter_transform` returns."""
    cdef Py_ssize_t F = dU.shape[1], C = dU.shape[2], f, c, a = m + 2
    if dU.shape[0] != a * a or m not in (2, 4):
        raise ValueError(f"filter_transform_adjoint: dU has {dU.shape[0]} matrices, expected {a * a} for m={m}")
    if dU.strides[2] != sizeof(floating) or dU.strides[1] != C * sizeof(floating):
        raise ValueError("filter_transform_adjoint: each (F, C) matrix of dU must be C-contiguous")
    cdef Py_ssize_t sU = dU.strides[0] // sizeof(floating)
    dtype = np.float32 if floating is float else np.float64
    dw = np.empty((F, C, 3, 3), dtype=dtype)
    cdef floating[:, :, :, ::1] dwv = dw
    for f in prange(F, nogil=True, schedule="static"):
        for c in range(C):
            _filter_adjoint(&dU[0, f, c], sU, &dwv[f, c, 0, 0], m)
    return dw


# ---------------------------------------------------------------------------------------------
# Geometry, and the transforms of one row of tiles.
# ---------------------------------------------------------------------------------------------

cdef struct Geom:
    Py_ssize_t N, C, F, H, W, Ho, Wo, pad, m, a, nth, ntw, J, L, Hp, Tb, sC, sF
    # output Ho x Wo in nth x ntw tiles of m x m; a padded plane has Hp = nth*m + 2 rows, and each row L = m*J
    # de-interleaved elements (J = ntw + 1 per phase); blocks of at most Tb tiles; sC, sF: see _stride


cdef Geom _geometry(Py_ssize_t N, Py_ssize_t C, Py_ssize_t H, Py_ssize_t W, Py_ssize_t F, Py_ssize_t pad, int m):
    cdef Geom g
    if m != 2 and m != 4:
        raise ValueError(f"Winograd tiles must be m=2 or m=4, got m={m}")
    if pad < 0 or H + 2 * pad < 3 or W + 2 * pad < 3:
        raise ValueError(f"a 3x3 filter does not fit an input of {H}x{W} with pad={pad}")
    g.N, g.C, g.F, g.H, g.W, g.pad, g.m, g.a = N, C, F, H, W, pad, m, m + 2
    g.Ho, g.Wo = H + 2 * pad - 2, W + 2 * pad - 2
    g.nth, g.ntw = (g.Ho + m - 1) // m, (g.Wo + m - 1) // m
    g.J = g.ntw + 1
    g.L = m * g.J
    g.Hp = g.nth * m + 2
    g.Tb = g.sC = g.sF = 0
    return g


cdef void _load_rows(const floating *src, floating *P, floating *row, Geom *g, Py_ssize_t r0, Py_ssize_t r1) noexcept nogil:
    # rows r0 <= r < r1 of the zero-padded input plane (source: H x W), de-interleaved: P[r - r0, ph*J + j] = xpad[r, m*j + ph]
    cdef Py_ssize_t r, h, j, J = g.J, m = g.m
    cdef floating *dst
    for r in range(r0, r1):
        dst = P + (r - r0) * g.L
        h = r - g.pad
        if h < 0 or h >= g.H:
            memset(dst, 0, g.L * sizeof(floating))
            continue
        memset(row, 0, g.L * sizeof(floating))
        memcpy(row + g.pad, src + h * g.W, g.W * sizeof(floating))
        if m == 4:
            for j in range(J):
                dst[j] = row[4 * j]
                dst[J + j] = row[4 * j + 1]
                dst[2 * J + j] = row[4 * j + 2]
                dst[3 * J + j] = row[4 * j + 3]
        else:
            for j in range(J):
                dst[j] = row[2 * j]
                dst[J + j] = row[2 * j + 1]


cdef void _input_block(const floating *x, floating *V, floating *S, Geom *g, Py_ssize_t n0, Py_ssize_t n1,
                       Py_ssize_t th0, Py_ssize_t th1) noexcept nogil:
    # V[xi, c, t] = (B^T d B)[xi] for the patches d of the block's tiles
    cdef Py_ssize_t n, c, th, k, t, m = g.m, a = g.a, rows = th1 - th0, L = g.L
    cdef floating *P = S                                 # de-interleaved padded rows of the band, (rows*m + 2, L)
    cdef floating *T = S + (rows * m + 2) * L            # B^T d of one row of tiles, (a, L)
    cdef floating *row = T + a * L                       # one padded row, L
    for n in range(n0, n1):
        for c in range(g.C):
            _load_rows(x + (n * g.C + c) * g.H * g.W, P, row, g, th0 * m, th1 * m + 2)
            for th in range(th0, th1):
                t = ((n - n0) * rows + th - th0) * g.ntw
                _bt(P + (th - th0) * m * L, L, T, L, L, m)           # columns: T = B^T d
                for k in range(a):                                  # rows: (B^T d) B, tile by tile
                    _bt_tiles(T + k * L, g.J, V + a * k * g.sC + c * g.Tb + t, g.sC, g.ntw, m)


cdef void _output_block(const floating *M, const floating *b, floating *out, floating *S, Geom *g, Py_ssize_t n0,
                        Py_ssize_t n1, Py_ssize_t th0, Py_ssize_t th1) noexcept nogil:
    # out[n, f, tile] = A^T M[:, f, t] A + b[f], clipped to the output size
    cdef Py_ssize_t n, f, th, tw, t, i, j, k, hi, wj, m = g.m, a = g.a, rows = th1 - th0, ntw = g.ntw
    cdef floating *T = S                                 # A^T M of one row of tiles, (m, a, ntw)
    cdef floating *Y = S + m * a * ntw                   # the outputs, (m, m, ntw)
    cdef floating bias
    cdef floating *o
    cdef const floating *mm
    for n in range(n0, n1):
        for f in range(g.F):
            bias = b[f]
            for th in range(th0, th1):
                t = ((n - n0) * rows + th - th0) * ntw
                mm = M + f * g.Tb + t
                for k in range(a):                                  # columns of M: T[:, k] = A^T M[:, k]
                    _at(mm + k * g.sF, a * g.sF, T + k * ntw, a * ntw, ntw, m)
                for i in range(m):                                  # rows: Y[i] = T[i] A
                    _at(T + i * a * ntw, ntw, Y + i * m * ntw, ntw, ntw, m)
                hi = g.Ho - th * m
                if hi > m:
                    hi = m
                for i in range(hi):                                 # interleave the tiles into the output rows
                    o = out + ((n * g.F + f) * g.Ho + th * m + i) * g.Wo
                    for tw in range(ntw):
                        wj = g.Wo - tw * m
                        if wj > m:
                            wj = m
                        for j in range(wj):
                            o[tw * m + j] = Y[(i * m + j) * ntw + tw] + bias


cdef void _grad_output_block(const floating *dout, floating *Z, floating *S, Geom *g, Py_ssize_t n0, Py_ssize_t n1,
                             Py_ssize_t th0, Py_ssize_t th1) noexcept nogil:
    # Z[xi, f, t] = (A dY A^T)[xi] for the m x m tiles dY of the upstream gradient (zero beyond the output)
    cdef Py_ssize_t n, f, th, t, i, k, hi, m = g.m, a = g.a, rows = th1 - th0, ntw = g.ntw, Wm = ntw * g.m, ld
    cdef floating *T = S                                 # dY A^T of one row of tiles, (m, a, ntw)
    cdef floating *E = S + m * a * ntw                   # zero-padded copy of m rows at an edge, (m, ntw*m)
    cdef const floating *src
    for n in range(n0, n1):
        for f in range(g.F):
            for th in range(th0, th1):
                t = ((n - n0) * rows + th - th0) * ntw
                src = dout + ((n * g.F + f) * g.Ho + th * m) * g.Wo
                ld = g.Wo
                hi = g.Ho - th * m
                if hi < m or Wm > g.Wo:                             # a tile row at the bottom or right edge
                    memset(E, 0, m * Wm * sizeof(floating))
                    for i in range(hi if hi < m else m):
                        memcpy(E + i * Wm, src + i * g.Wo, g.Wo * sizeof(floating))
                    src = E
                    ld = Wm
                for i in range(m):                                  # rows of dY: T[i] = A dY[i, tile] (stride m)
                    _a(src + i * ld, 1, m, T + i * a * ntw, ntw, ntw, m)
                for k in range(a):                                  # columns: Z[:, k] = A T[:, k]
                    _a(T + k * ntw, a * ntw, 1, Z + k * g.sF + f * g.Tb + t, a * g.sF, ntw, m)


cdef void _grad_input_block(const floating *dV, floating *D, floating *S, Geom *g, Py_ssize_t n0, Py_ssize_t n1,
                            Py_ssize_t th0, Py_ssize_t th1) noexcept nogil:
    # D[n - n0, c] (de-interleaved padded planes, (Hp, L)) += B dV[:, c, t] B^T at each tile's patch
    cdef Py_ssize_t n, c, th, tw, t, k, q, m = g.m, a = g.a, rows = th1 - th0, ntw = g.ntw, J = g.J
    cdef floating *T = S                                 # B dV of one row of tiles, (a, a, ntw)
    cdef floating *R = S + a * a * ntw                   # the patches, (a, a, ntw)
    cdef floating *d
    cdef const floating *v
    cdef floating *src
    for n in range(n0, n1):
        for c in range(g.C):
            for th in range(th0, th1):
                t = ((n - n0) * rows + th - th0) * ntw
                v = dV + c * g.Tb + t
                for k in range(a):                                  # columns of dV: T[:, k] = B dV[:, k]
                    _b(v + k * g.sC, a * g.sC, T + k * ntw, a * ntw, ntw, m)
                for k in range(a):                                  # rows: R[k] = T[k] B^T
                    _b(T + k * a * ntw, ntw, R + k * a * ntw, ntw, ntw, m)
                d = D + ((n - n0) * g.C + c) * g.Hp * g.L + th * m * g.L
                for k in range(a):                                  # add patch row k: column q of tile tw is at
                    for q in range(a):                              # (q % m)*J + q // m + tw; the runs of q < m and of
                        src = R + (k * a + q) * ntw                 # q >= m do not overlap themselves
                        if q < m:
                            for tw in range(ntw):
                                d[k * g.L + q * J + tw] += src[tw]
                        else:
                            for tw in range(ntw):
                                d[k * g.L + (q - m) * J + 1 + tw] += src[tw]


cdef void _store_planes(const floating *D, floating *dx, Geom *g, Py_ssize_t n0, Py_ssize_t n1) noexcept nogil:
    # dx[n, c] = the interior of the de-interleaved padded gradient plane D[n - n0, c]
    cdef Py_ssize_t n, c, h, w, col, m = g.m, J = g.J
    cdef const floating *src
    cdef floating *dst
    for n in range(n0, n1):
        for c in range(g.C):
            for h in range(g.H):
                src = D + (((n - n0) * g.C + c) * g.Hp + h + g.pad) * g.L
                dst = dx + ((n * g.C + c) * g.H + h) * g.W
                if m == 4:
                    for w in range(g.W):
                        col = w + g.pad
                        dst[w] = src[(col & 3) * J + (col >> 2)]
                else:
                    for w in range(g.W):
                        col = w + g.pad
                        dst[w] = src[(col & 1) * J + (col >> 1)]


# ---------------------------------------------------------------------------------------------
# The convolution: blocks of tiles, a*a matrix products per block, OpenMP over the blocks.
# ---------------------------------------------------------------------------------------------

cdef Py_ssize_t _tile_target = 256


def set_tile_target(Py_ssize_t tiles):
    """Tuning knob: about how many tiles a block holds (the width of its a*a matrix products)."""
    global _tile_target
    if tiles < 1:
        raise ValueError(f"need at least one tile per block, got {tiles}")
    _tile_target = tiles


def get_tile_target():
    """The current block size in tiles (see set_tile_target)."""
    return _tile_target


cdef void _plan(Geom *g, int nt, Py_ssize_t itemsize, Py_ssize_t *per_unit, Py_ssize_t *band) noexcept:
    # A unit of work is `per_unit` whole images, or (per_unit == 1) one image in bands of `band` tile rows; g.Tb is
    # the most tiles in a block. Units never share an image, so their input-gradient scatters never overlap.
    cdef Py_ssize_t tpi = g.nth * g.ntw, k, most
    if tpi <= _tile_target:
        k = _tile_target // tpi
        most = (g.N + nt - 1) // nt             # give every thread some work
        if k > most:
            k = most
        per_unit[0] = k if k >= 1 else 1
        band[0] = g.nth
    else:
        per_unit[0] = 1
        k = _tile_target // g.ntw
        band[0] = k if k >= 1 else 1
    g.Tb = per_unit[0] * band[0] * g.ntw
    g.sC, g.sF = _stride(g.C * g.Tb, itemsize), _stride(g.F * g.Tb, itemsize)


cdef Py_ssize_t _scratch(Geom *g, Py_ssize_t band) noexcept:
    # elements of per-thread scratch the transforms need (the largest of their uses)
    cdef Py_ssize_t s_in = (band * g.m + 2) * g.L + g.a * g.L + g.L
    cdef Py_ssize_t s_tiles = 2 * g.a * g.a * g.ntw + g.m * g.ntw * g.m
    return s_in if s_in > s_tiles else s_tiles


def conv_forward(const floating[:, :, :, ::1] x, const floating[:, :, :, ::1] w, const floating[::1] b,
                 Py_ssize_t pad, int m=4):
    """Stride-1 3x3 convolution by Winograd's F(m x m, 3x3), m = 2 or 4: out (N, F, Ho, Wo) in the dtype of x.

    x (N, C, H, W), w (F, C, 3, 3), b (F,), all C-contiguous and of one dtype.
    """
    cdef Py_ssize_t N = x.shape[0], C = x.shape[1], F = w.shape[0]
    if w.shape[1] != C or w.shape[2] != 3 or w.shape[3] != 3 or b.shape[0] != F:
        raise ValueError(f"need w of shape (F, {C}, 3, 3) and b of shape (F,), got {tuple(w.shape)[:4]} and {b.shape[0]}")
    cdef Geom g = _geometry(N, C, x.shape[2], x.shape[3], F, pad, m)
    cdef int nt = openmp_threads() if N > 1 else 1
    cdef Py_ssize_t per_unit, band, units, u, n0, n1, th0, th1, xi, A2 = g.a * g.a, t
    _plan(&g, nt, sizeof(floating), &per_unit, &band)
    units = (N + per_unit - 1) // per_unit
    dtype = np.float32 if floating is float else np.float64
    out = np.empty((N, F, g.Ho, g.Wo), dtype=dtype)
    U = filter_transform(w, m)
    cdef Py_ssize_t sU = U.strides[0] // sizeof(floating)
    Vb = np.empty((nt, A2 * g.sC), dtype=dtype)
    Mb = np.empty((nt, A2 * g.sF), dtype=dtype)
    Sb = np.empty((nt, _scratch(&g, band)), dtype=dtype)
    cdef floating[:, :, :] Uv = U
    cdef floating[:, ::1] Vv = Vb, Mv = Mb, Sv = Sb
    cdef floating[:, :, :, ::1] ov = out
    cdef const floating *xp = &x[0, 0, 0, 0]
    cdef floating one = 1, zero = 0
    cdef int ntiles
    for u in prange(units, nogil=True, schedule="static", num_threads=nt):
        t = threadid()
        n0 = u * per_unit
        n1 = n0 + per_unit
        if n1 > N:
            n1 = N
        th0 = 0
        while th0 < g.nth:
            th1 = th0 + band
            if th1 > g.nth:
                th1 = g.nth
            ntiles = <int>((n1 - n0) * (th1 - th0) * g.ntw)
            _input_block(xp, &Vv[t, 0], &Sv[t, 0], &g, n0, n1, th0, th1)
            for xi in range(A2):        # M[xi] (F, T) = U[xi] (F, C) @ V[xi] (C, T)
                gemm(False, False, <int>F, ntiles, <int>C, one, &Uv[0, 0, 0] + xi * sU, <int>C,
                     &Vv[t, xi * g.sC], <int>g.Tb, zero, &Mv[t, xi * g.sF], <int>g.Tb)
            _output_block(&Mv[t, 0], &b[0], &ov[0, 0, 0, 0], &Sv[t, 0], &g, n0, n1, th0, th1)
            th0 = th1
    return out


def conv_backward(const floating[:, :, :, ::1] dout, const floating[:, :, :, ::1] x,
                  const floating[:, :, :, ::1] w, Py_ssize_t pad, int m=4, bint need_dx=True):
    """Backward pass of `conv_forward` (the adjoint of the same transforms and products): dx (None unless need_dx),
    dw, db in the dtype of the inputs."""
    cdef Py_ssize_t N = x.shape[0], C = x.shape[1], F = w.shape[0]
    if w.shape[1] != C or w.shape[2] != 3 or w.shape[3] != 3:
        raise ValueError(f"need w of shape (F, {C}, 3, 3), got {tuple(w.shape)[:4]}")
    cdef Geom g = _geometry(N, C, x.shape[2], x.shape[3], F, pad, m)
    if dout.shape[0] != N or dout.shape[1] != F or dout.shape[2] != g.Ho or dout.shape[3] != g.Wo:
        raise ValueError(f"dout has shape {tuple(dout.shape)[:4]}, expected {(N, F, g.Ho, g.Wo)}")
    cdef int nt = openmp_threads() if N > 1 else 1
    cdef Py_ssize_t per_unit, band, units, u, n0, n1, th0, th1, xi, A2 = g.a * g.a, t
    _plan(&g, nt, sizeof(floating), &per_unit, &band)
    units = (N + per_unit - 1) // per_unit
    dtype = np.float32 if floating is float else np.float64
    U = filter_transform(w, m)
    cdef Py_ssize_t sU = U.strides[0] // sizeof(floating)
    Vb = np.empty((nt, A2 * g.sC), dtype=dtype)
    Zb = np.empty((nt, A2 * g.sF), dtype=dtype)
    Sb = np.empty((nt, _scratch(&g, band)), dtype=dtype)
    dUb = np.zeros((nt, A2, sU), dtype=dtype)
    dx = np.empty((N, C, g.H, g.W), dtype=dtype) if need_dx else np.empty((1, 1, 1, 1), dtype=dtype)  # placeholder
    Db = np.empty((nt, per_unit * C * g.Hp * g.L if need_dx else 1), dtype=dtype)
    cdef floating[:, :, :] Uv = U
    cdef floating[:, ::1] Vv = Vb, Zv = Zb, Sv = Sb, Dv = Db
    cdef floating[:, :, ::1] dUv = dUb
    cdef floating[:, :, :, ::1] dxv = dx
    cdef const floating *xp = &x[0, 0, 0, 0]
    cdef const floating *dp = &dout[0, 0, 0, 0]
    cdef floating one = 1, zero = 0
    cdef int ntiles
    for u in prange(units, nogil=True, schedule="static", num_threads=nt):
        t = threadid()
        n0 = u * per_unit
        n1 = n0 + per_unit
        if n1 > N:
            n1 = N
        if need_dx:
            memset(&Dv[t, 0], 0, (n1 - n0) * C * g.Hp * g.L * sizeof(floating))
        th0 = 0
        while th0 < g.nth:
            th1 = th0 + band
            if th1 > g.nth:
                th1 = g.nth
            ntiles = <int>((n1 - n0) * (th1 - th0) * g.ntw)
            _input_block(xp, &Vv[t, 0], &Sv[t, 0], &g, n0, n1, th0, th1)
            _grad_output_block(dp, &Zv[t, 0], &Sv[t, 0], &g, n0, n1, th0, th1)
            for xi in range(A2):        # dU[xi] (F, C) += Z[xi] (F, T) @ V[xi]^T (T, C)
                gemm(False, True, <int>F, <int>C, ntiles, one, &Zv[t, xi * g.sF], <int>g.Tb,
                     &Vv[t, xi * g.sC], <int>g.Tb, one, &dUv[t, xi, 0], <int>C)
            if need_dx:
                for xi in range(A2):    # dV[xi] (C, T) = U[xi]^T (C, F) @ Z[xi] (F, T), written over V
                    gemm(True, False, <int>C, ntiles, <int>F, one, &Uv[0, 0, 0] + xi * sU, <int>C,
                         &Zv[t, xi * g.sF], <int>g.Tb, zero, &Vv[t, xi * g.sC], <int>g.Tb)
                _grad_input_block(&Vv[t, 0], &Dv[t, 0], &Sv[t, 0], &g, n0, n1, th0, th1)
            th0 = th1
        if need_dx:
            _store_planes(&Dv[t, 0], &dxv[0, 0, 0, 0], &g, n0, n1)
    dU = dUb[0] if nt == 1 else dUb.sum(axis=0)
    dw = filter_transform_adjoint(dU[:, :F * C].reshape(A2, F, C), m)
    return (dx if need_dx else None), dw, np.asarray(dout).sum(axis=(0, 2, 3))
