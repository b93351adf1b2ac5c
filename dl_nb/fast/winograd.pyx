# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Winograd minimal-filtering convolution for 3x3 filters with stride 1: F(2x2, 3x3) and F(4x4, 3x3), forward and
backward, in float32 and float64 (hand-written; nbdev does not touch this file). Chapter 05 derives the algorithm;
dl_nb.conv's *_fast layers call these kernels through dl_nb.fast for the layers where they measured faster than im2col.

The output is cut into m x m tiles (m = 2 or 4). Tile (th, tw) needs the a x a patch d (a = m + 2) of the zero-padded
input that starts at row th*m, column tw*m, and for every output channel f

    Y[n, tile, f] = A^T [ sum_c V[:, :, n, tile, c] * U[:, :, c, f] ] A,   V = B^T d[n, c, tile] B,   U = G w[f, c] G^T,

where * multiplies a x a arrays elementwise. For each of the a*a positions xi of those arrays, the sum over c is a
matrix product over a block of T tiles, M[xi] (T, F) = V[xi] (T, C) @ U[xi] (C, F): a*a products of T*C*F
multiply-adds, against 9*m*m*T*C*F for the direct convolution (2.25 times fewer for m = 2, 4 times for m = 4).

The backward pass is the adjoint of the same chain. With Z = A dY A^T the transformed upstream gradient of a tile,
    dU[xi] (C, F) += V[xi]^T (C, T) @ Z[xi] (T, F),    dV[xi] (T, C) = Z[xi] (T, F) @ U[xi]^T (F, C),
dx gets B dV B^T added at each tile's patch (neighbouring patches overlap by 2 rows and columns), and dw = G^T dU G.

Layout: channels innermost. A block is `per_unit` whole images, or one band of tile rows of one image; its T tiles are
numbered t = ((n - n0)*rows + th - th0)*ntw + tw, and per thread
    V (a*a, Tb, C) and M or Z (a*a, Tb, F): one matrix per xi with a tile per row, Tb >= T; consecutive matrices are
        sC or sF elements apart (see _stride);
    U and dU (a*a, C, F): the filter transforms, once per call.
Each image (or band) is first transposed to (rows, columns, channels), zero-padded, so that every transform works on
whole vectors of C (or F) channels at once, and the output tiles are transposed back into NCHW as they are written.
The 1-D transforms applied to such vectors are small C functions (_winograd_1d.h, one source for both dtypes): the
matrices of chapter 05 with their zeros skipped, in a loop that `#pragma omp simd` lets the compiler vectorise (inputs
and outputs never overlap). Constants are cast to the data's type, so float32 arithmetic stays float32.

Tuning: `with tile_target(tiles): ...` sets the block size for the calls inside it. Scratch buffers are kept between
calls (per Python thread) up to `scratch_limit` bytes in all; `scratch_bytes()` says how much is held.
"""
from cython cimport floating
from cython.parallel cimport prange, threadid
from libc.string cimport memset
import threading
from contextlib import contextmanager
import numpy as np
from dl_nb.fast._common cimport gemm, transpose, plane_sums
from dl_nb.fast._common import openmp_threads

cdef extern from "winograd.h" nogil:
    # the 1-D transforms of n columns whose k-th entries are d[k*ld + i], for either dtype (C in _winograd_1d.h)
    void dlnb_wino_bt(const void *d, Py_ssize_t ld, void *o, Py_ssize_t s, Py_ssize_t n, int m, size_t size)
    void dlnb_wino_at(const void *d, Py_ssize_t ld, void *o, Py_ssize_t s, Py_ssize_t n, int m, size_t size)
    void dlnb_wino_a(const void *d, Py_ssize_t ld, void *o, Py_ssize_t s, Py_ssize_t n, int m, size_t size)
    void dlnb_wino_b(const void *d, Py_ssize_t ld, void *o, Py_ssize_t s, Py_ssize_t n, int m, int add, size_t size)
    void dlnb_wino_g(const void *d, Py_ssize_t ld, void *o, Py_ssize_t s, Py_ssize_t n, int m, size_t size)
    void dlnb_wino_gt(const void *d, Py_ssize_t ld, void *o, Py_ssize_t s, Py_ssize_t n, int m, size_t size)


# ---------------------------------------------------------------------------------------------
# The transform matrices (chapter 05 derives them; interpolation points 0, 1, -1 (, 2, -2) and infinity):
#
# F(2x2, 3x3), a = 4:                                      F(4x4, 3x3), a = 6:
#   B^T = [[1, 0,-1, 0],   G = [[  1,    0,   0],          B^T = [[4, 0,-5, 0, 1, 0],   G = [[ 1/4,    0,    0],
#          [0, 1, 1, 0],        [1/2,  1/2, 1/2],                 [0, 4, 4,-1,-1, 0],        [ 1/6,  1/6,  1/6],
#          [0,-1, 1, 0],        [1/2, -1/2, 1/2],                 [0,-4, 4, 1,-1, 0],        [ 1/6, -1/6,  1/6],
#          [0, 1, 0,-1]]        [  0,    0,   1]]                 [0,-2,-1, 2, 1, 0],        [1/24, 1/12, 1/6],
#   A^T = [[1, 1, 1, 0],                                          [0, 2,-1,-2, 1, 0],        [1/24,-1/12, 1/6],
#          [0, 1,-1,-1]]                                          [0, 4, 0,-5, 0, 1]]        [   0,    0,   1]]
#                                                          A^T = [[1, 1, 1, 1, 1, 0], [0, 1,-1, 2,-2, 0],
#                                                                 [0, 1, 1, 4, 4, 0], [0, 1,-1, 8,-8, 1]]
# The 1-D transforms of n columns whose k-th entries are d[k*ld + i] (in C: winograd.h), typed for Cython:
# ---------------------------------------------------------------------------------------------

cdef inline void _bt(const floating *d, Py_ssize_t ld, floating *o, Py_ssize_t s, Py_ssize_t n, int m) noexcept nogil:
    dlnb_wino_bt(d, ld, o, s, n, m, sizeof(floating))     # o[k*s + i] = (B^T d[:, i])[k], k < a: the input transform


cdef inline void _at(const floating *d, Py_ssize_t ld, floating *o, Py_ssize_t s, Py_ssize_t n, int m) noexcept nogil:
    dlnb_wino_at(d, ld, o, s, n, m, sizeof(floating))     # o[k*s + i] = (A^T d[:, i])[k], k < m: the output transform


cdef inline void _a(const floating *d, Py_ssize_t ld, floating *o, Py_ssize_t s, Py_ssize_t n, int m) noexcept nogil:
    dlnb_wino_a(d, ld, o, s, n, m, sizeof(floating))      # o[k*s + i] = (A d[:, i])[k], k < a: adjoint of _at


cdef inline void _b(const floating *d, Py_ssize_t ld, floating *o, Py_ssize_t s, Py_ssize_t n, int m,
                    bint add) noexcept nogil:
    dlnb_wino_b(d, ld, o, s, n, m, add, sizeof(floating))  # o[k*s + i] (+)= (B d[:, i])[k], k < a: adjoint of _bt


# ---------------------------------------------------------------------------------------------
# Filter transforms: U[xi, c, f] = (G w[f, c] G^T)[xi], and the adjoint dw[f, c] = G^T dU[:, c, f] G, vectorised over
# the filters f of one input channel c (the weights are first transposed to (C, 3, 3, F)).
# ---------------------------------------------------------------------------------------------

cdef inline void _g(const floating *d, Py_ssize_t ld, floating *o, Py_ssize_t s, Py_ssize_t n, int m) noexcept nogil:
    dlnb_wino_g(d, ld, o, s, n, m, sizeof(floating))      # o[k*s + i] = (G d[:, i])[k], k < a, for 3-long columns


cdef inline void _gt(const floating *d, Py_ssize_t ld, floating *o, Py_ssize_t s, Py_ssize_t n, int m) noexcept nogil:
    dlnb_wino_gt(d, ld, o, s, n, m, sizeof(floating))     # o[j*s + i] = (G^T d[:, i])[j], j < 3, for a-long columns


cdef void _filters(const floating *w, Py_ssize_t F, Py_ssize_t C, floating *U, Py_ssize_t sU, floating *S, int m,
                   int nt) noexcept nogil:
    # U[xi*sU + c*F + f] = (G w[f, c] G^T)[xi] for all filters, on nt threads; S: scratch of 9*C*F + nt*(m+2)*3*F
    cdef Py_ssize_t c, k, a = m + 2
    cdef floating *T
    transpose(w, 9 * C, S, F, F, 9 * C, True)            # S[c, i, j, f] = w[f, c, i, j]
    for c in prange(C, schedule="static", num_threads=nt):
        T = S + 9 * C * F + threadid() * a * 3 * F        # G w[:, c] of all filters, (a, 3, F)
        _g(S + 9 * c * F, 3 * F, T, 3 * F, 3 * F, m)       # columns: T[k, j] = (G w[:, j])[k]
        for k in range(a):                                # rows: U[k*a + l] = (T[k] G^T)[l]
            _g(T + 3 * k * F, F, U + a * k * sU + c * F, sU, F, m)


cdef void _filters_adjoint(floating *dU, Py_ssize_t sU, Py_ssize_t parts, Py_ssize_t sP, floating *dw, Py_ssize_t F,
                           Py_ssize_t C, floating *S, int m, int nt) noexcept nogil:
    # dw[f, c] = G^T dU[:, c, f] G for dU[xi, c, f] = dU[xi*sU + c*F + f] + the same entry of the other parts (the
    # threads' partial sums, sP elements apart), which are added into the first part channel by channel, in part order
    cdef Py_ssize_t c, k, p, xi, f, a = m + 2
    cdef floating *T
    for c in prange(C, schedule="static", num_threads=nt):
        for p in range(1, parts):
            for xi in range(a * a):
                for f in range(F):
                    dU[xi * sU + c * F + f] += dU[p * sP + xi * sU + c * F + f]
        T = S + 9 * C * F + threadid() * a * 3 * F        # dU G of all filters, (a, 3, F)
        for k in range(a):                                # rows: T[k, j] = (dU[k, :] G)[j]
            _gt(dU + a * k * sU + c * F, sU, T + 3 * k * F, F, F, m)
        _gt(T, 3 * F, S + 9 * c * F, 3 * F, 3 * F, m)      # columns: S[c, i, j] = (G^T T[:, j])[i]
    transpose(S, F, dw, 9 * C, 9 * C, F, True)            # dw[f, c, i, j] = S[c, i, j, f]


def filter_transform(const floating[:, :, :, ::1] w, int m=4):
    """U = G w G^T of every 3x3 filter w (F, C, 3, 3), as the a*a matrices of the products: shape ((m+2)**2, C, F)."""
    cdef Py_ssize_t F = w.shape[0], C = w.shape[1], a = m + 2
    if w.shape[2] != 3 or w.shape[3] != 3 or m not in (2, 4):
        raise ValueError(f"filter_transform needs 3x3 filters and m in (2, 4), got w {tuple(w.shape)[:4]}, m={m}")
    dtype = np.float32 if floating is float else np.float64
    cdef Py_ssize_t sU = _stride(C * F, sizeof(floating))
    U = np.empty((a * a, sU), dtype=dtype)
    cdef floating[:, ::1] Uv = U
    cdef int nt = openmp_threads()
    cdef floating[::1] S = np.empty(9 * C * F + nt * a * 3 * F, dtype=dtype)
    with nogil:
        _filters(&w[0, 0, 0, 0], F, C, &Uv[0, 0], sU, &S[0], m, nt)
    return U[:, :C * F].reshape(a * a, C, F)


# ---------------------------------------------------------------------------------------------
# Buffers, geometry and transposes.
# ---------------------------------------------------------------------------------------------

_tls = threading.local()
_scratch_limit = 256 * 2**20          # bytes of scratch kept between calls, per Python thread


@contextmanager
def scratch_limit(Py_ssize_t nbytes):
    """Tuning knob, restored on exit: at most `nbytes` of scratch buffers are kept between calls (per Python thread).
    A call still gets the buffers it needs; those that do not fit the limit are freed when it returns."""
    global _scratch_limit
    if nbytes < 0:
        raise ValueError(f"the scratch limit must be >= 0 bytes, got nbytes={nbytes}")
    old, _scratch_limit = _scratch_limit, nbytes
    try:
        _trim(_cache(), 0)
        yield nbytes
    finally:
        _scratch_limit = old


def scratch_bytes():
    """Bytes of scratch buffers this Python thread keeps between calls (at most the scratch limit)."""
    return sum(buf.nbytes for buf in _cache().values())


def _cache():
    cache = getattr(_tls, "buffers", None)
    if cache is None:
        cache = _tls.buffers = {}
    return cache


def _trim(dict cache, Py_ssize_t room):
    # drop the least recently used buffers until those kept and `room` more bytes fit the limit
    cdef Py_ssize_t held = sum(buf.nbytes for buf in cache.values())
    while cache and held + room > _scratch_limit:
        held -= cache.pop(next(iter(cache))).nbytes


def _buffer(str name, Py_ssize_t n, dtype):
    """A scratch array of n elements, kept between calls in a per-Python-thread cache (reused, so that a call does not
    pay for fresh pages; grown when a larger one is needed), which holds at most the scratch limit: the least recently
    used buffers are dropped to make room, and a buffer larger than the limit is never kept."""
    cache = _cache()
    key = (name, np.dtype(dtype).char)
    buf = cache.pop(key, None)              # popped and put back last: the dict's order is the order of use
    if buf is None or buf.size < n:
        buf = np.empty(max(n, 1), dtype=dtype)
    if buf.nbytes <= _scratch_limit:
        _trim(cache, buf.nbytes)
        cache[key] = buf
    return buf[:n]


cdef Py_ssize_t _stride(Py_ssize_t n, Py_ssize_t itemsize) noexcept nogil:
    # Distance between the a*a matrices of a buffer: at least n elements, rounded up to whole 4 KB pages plus one 64-byte
    # cache line. A tile's transform touches each of the a*a matrices at the same offset; were they a multiple of 4 KB
    # apart, all a*a accesses would fall into the same set of the L1 cache and evict each other.
    cdef Py_ssize_t page = 4096 // itemsize
    return (n + page - 1) // page * page + 64 // itemsize


cdef struct Geom:
    Py_ssize_t N, C, F, H, W, Ho, Wo, pad, m, a, nth, ntw, Hp, Wp, Tb, sC, sF, sU
    # output Ho x Wo in nth x ntw tiles of m x m, read from an Hp x Wp padded input (Hp = nth*m + 2, Wp = ntw*m + 2);
    # blocks of at most Tb tiles; sC, sF, sU: distances between the a*a matrices of V, M (or Z) and U (see _stride)


cdef Geom _geometry(Py_ssize_t N, Py_ssize_t C, Py_ssize_t H, Py_ssize_t W, Py_ssize_t F, Py_ssize_t pad, int m):
    cdef Geom g
    if m != 2 and m != 4:
        raise ValueError(f"Winograd tiles must be m=2 or m=4, got m={m}")
    if pad < 0 or H + 2 * pad < 3 or W + 2 * pad < 3:
        raise ValueError(f"a 3x3 filter does not fit an input of {H}x{W} with pad={pad}")
    g.N, g.C, g.F, g.H, g.W, g.pad, g.m, g.a = N, C, F, H, W, pad, m, m + 2
    g.Ho, g.Wo = H + 2 * pad - 2, W + 2 * pad - 2
    g.nth, g.ntw = (g.Ho + m - 1) // m, (g.Wo + m - 1) // m
    g.Hp, g.Wp = g.nth * m + 2, g.ntw * m + 2
    g.Tb = g.sC = g.sF = g.sU = 0
    return g


cdef void _load_input(const floating *x, floating *X, Geom *g, Py_ssize_t r0, Py_ssize_t r1) noexcept nogil:
    # rows r0 <= r < r1 of one zero-padded input image, channels innermost: X[r - r0, col, c] = xpad[c, r, col]
    cdef Py_ssize_t r, h, C = g.C, ld = g.Wp * g.C
    cdef floating *row
    for r in range(r0, r1):
        row = X + (r - r0) * ld
        h = r - g.pad
        if h < 0 or h >= g.H:
            memset(row, 0, ld * sizeof(floating))
            continue
        memset(row, 0, g.pad * C * sizeof(floating))
        transpose(x + h * g.W, g.H * g.W, row + g.pad * C, C, C, g.W, False)
        memset(row + (g.pad + g.W) * C, 0, (g.Wp - g.pad - g.W) * C * sizeof(floating))


# ---------------------------------------------------------------------------------------------
# The transforms of one row of tiles of one image (th; its tiles are t0 <= t < t0 + ntw of the block).
# ---------------------------------------------------------------------------------------------

cdef void _input_row(const floating *X, floating *V, floating *T, Geom *g, Py_ssize_t t0) noexcept nogil:
    # V[xi, t, :] = (B^T d B)[xi] for the tiles of the row; X: the a padded input rows of the tile row, (a, Wp, C)
    cdef Py_ssize_t tw, k, C = g.C, a = g.a, m = g.m, ld = g.Wp * g.C
    _bt(X, ld, T, ld, ld, m)                              # columns, the whole row at once: T[k] = (B^T d)[k], (a, Wp, C)
    for tw in range(g.ntw):                               # rows, tile by tile (patches overlap): V[k*a + l] = (T[k] B)[l]
        for k in range(a):
            _bt(T + k * ld + tw * m * C, C, V + k * a * g.sC + (t0 + tw) * C, g.sC, C, m)


cdef void _output_row(const floating *M, const floating *b, floating *out, floating *T, Geom *g, Py_ssize_t t0,
                      Py_ssize_t n, Py_ssize_t th) noexcept nogil:
    # out[n, :, tile] = A^T M[:, t, :] A + b for the tiles of row th, transposed back to NCHW and clipped to Ho x Wo
    cdef Py_ssize_t k, i, tw, hi, a = g.a, m = g.m, F = g.F, R = g.ntw * g.F, HW = g.Ho * g.Wo
    cdef floating *Y = T + m * a * R                      # the outputs, (m, ntw, m, F): row i, column tw*m + j
    for k in range(a):                                    # columns, the whole row at once: T[i, k] = (A^T M[:, k])[i]
        _at(M + k * g.sF + t0 * F, a * g.sF, T + k * R, a * R, R, m)
    for i in range(m):                                    # rows, tile by tile: Y[i, tw, j] = (T[i, :, tw] A)[j]
        for tw in range(g.ntw):
            _at(T + i * a * R + tw * F, R, Y + (i * g.ntw + tw) * m * F, F, F, m)
    hi = g.Ho - th * m
    if hi > m:
        hi = m
    for i in range(hi):                                   # Y[i] (Wo, F) + b -> out[n, :, th*m + i, :] (F, Wo)
        transpose(Y + i * g.ntw * m * F, F, out + n * F * HW + (th * m + i) * g.Wo, HW, g.Wo, F, True, b)


cdef void _grad_output_row(const floating *dout, floating *Z, floating *T, Geom *g, Py_ssize_t t0, Py_ssize_t n,
                           Py_ssize_t th) noexcept nogil:
    # Z[xi, t, :] = (A dY A^T)[xi] for the m x m tiles dY of row th of the upstream gradient (zero beyond Ho x Wo)
    cdef Py_ssize_t i, k, tw, hi, a = g.a, m = g.m, F = g.F, Wq = g.ntw * g.m, ld = Wq * F
    cdef floating *D = T + a * ld                         # the m rows of dout, channels innermost, (m, Wq, F)
    memset(D, 0, m * ld * sizeof(floating))
    hi = g.Ho - th * m
    if hi > m:
        hi = m
    for i in range(hi):
        transpose(dout + (n * F * g.Ho + th * m + i) * g.Wo, g.Ho * g.Wo, D + i * ld, F, F, g.Wo, False)
    _a(D, ld, T, ld, ld, m)                               # columns, the whole row at once: T[k] = (A dY)[k], (a, Wq, F)
    for tw in range(g.ntw):                               # rows, tile by tile: Z[k*a + l] = (T[k] A^T)[l]
        for k in range(a):
            _a(T + k * ld + tw * m * F, F, Z + k * a * g.sF + (t0 + tw) * F, g.sF, F, m)


cdef void _grad_input_row(const floating *dV, floating *DX, floating *T, Geom *g, Py_ssize_t t0,
                          Py_ssize_t th) noexcept nogil:
    # DX (the padded input gradient of one image, (Hp, Wp, C)) += B dV[:, t, :] B^T at the patch of each tile of row th
    cdef Py_ssize_t k, tw, a = g.a, m = g.m, C = g.C, R = g.ntw * g.C
    for k in range(a):                                    # columns, the whole row at once: T[i, k] = (B dV[:, k])[i]
        _b(dV + k * g.sC + t0 * C, a * g.sC, T + k * R, a * R, R, m, False)
    for tw in range(g.ntw):                               # rows, tile by tile, added into the overlapping patches
        for k in range(a):
            _b(T + k * a * R + tw * C, R, DX + ((th * m + k) * g.Wp + tw * m) * C, C, C, m, True)


cdef void _store_grad(const floating *DX, floating *dx, Geom *g) noexcept nogil:
    # dx[c, h, w] (one image) = the interior of the padded gradient DX[h + pad, w + pad, c]
    cdef Py_ssize_t h
    for h in range(g.H):
        transpose(DX + ((h + g.pad) * g.Wp + g.pad) * g.C, g.C, dx + h * g.W, g.H * g.W, g.W, g.C, True)


# ---------------------------------------------------------------------------------------------
# The convolution: blocks of tiles, a*a matrix products per block, OpenMP over the blocks.
# ---------------------------------------------------------------------------------------------

cdef Py_ssize_t _tile_target = 256


@contextmanager
def tile_target(Py_ssize_t tiles):
    """Tuning knob, restored on exit: inside `with tile_target(tiles):` a block holds about `tiles` tiles (the rows of
    its a*a matrix products; 256 outside)."""
    global _tile_target
    if tiles < 1:
        raise ValueError(f"need at least one tile per block, got {tiles}")
    old, _tile_target = _tile_target, tiles
    try:
        yield tiles
    finally:
        _tile_target = old


def get_tile_target():
    """The current block size in tiles (see tile_target)."""
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
    g.sC, g.sF, g.sU = _stride(g.Tb * g.C, itemsize), _stride(g.Tb * g.F, itemsize), _stride(g.C * g.F, itemsize)


cdef Py_ssize_t _scratch(Geom *g) noexcept:
    # elements of per-thread scratch the row transforms need (the largest of their uses)
    cdef Py_ssize_t most = g.a * g.Wp * g.C                                   # _input_row
    most = max(most, (g.m * g.a + g.m * g.m) * g.ntw * g.F)                   # _output_row
    most = max(most, (g.a + g.m) * g.ntw * g.m * g.F)                         # _grad_output_row
    return max(most, g.a * g.a * g.ntw * g.C)                                 # _grad_input_row


cdef tuple _prepare(Geom *g, const floating[:, :, :, ::1] w, int nt, Py_ssize_t *per_unit, Py_ssize_t *band):
    """What the forward and the backward pass both need before their loops: the plan of the work (see _plan), the
    per-thread scratch buffers V, M (or Z), X and S, and U = G w G^T of every filter (with W, _filters' scratch)."""
    dtype = np.float32 if floating is float else np.float64
    cdef Py_ssize_t A2 = g.a * g.a
    _plan(g, nt, sizeof(floating), per_unit, band)
    U = _buffer("U", A2 * g.sU, dtype)
    V = _buffer("V", nt * A2 * g.sC, dtype).reshape(nt, -1)
    M = _buffer("M", nt * A2 * g.sF, dtype).reshape(nt, -1)
    X = _buffer("X", nt * (band[0] * g.m + 2) * g.Wp * g.C, dtype).reshape(nt, -1)
    S = _buffer("S", nt * _scratch(g), dtype).reshape(nt, -1)
    W = _buffer("W", 9 * g.C * g.F + nt * g.a * 3 * g.F, dtype)
    cdef floating[::1] Uv = U
    cdef floating[::1] Wv = W
    with nogil:
        _filters(&w[0, 0, 0, 0], g.F, g.C, &Uv[0], g.sU, &Wv[0], <int>g.m, nt)
    return U, V, M, X, S, W


def conv_forward(const floating[:, :, :, ::1] x, const floating[:, :, :, ::1] w, const floating[::1] b,
                 Py_ssize_t pad, int m=4):
    """Stride-1 3x3 convolution by Winograd's F(m x m, 3x3), m = 2 or 4: out (N, F, Ho, Wo) in the dtype of x.

    x (N, C, H, W), w (F, C, 3, 3), b (F,), all C-contiguous and of one dtype.
    Non-finite input: the transforms mix the inputs of an (m+2) x (m+2) tile window into many outputs of its m x m
    tile, so a NaN or inf in x spoils every output a direct sum would (those whose 3x3 windows hold it) and, for
    m = 4, other outputs of the same tiles. Outputs of other tiles are unaffected.
    """
    cdef Py_ssize_t N = x.shape[0], C = x.shape[1], F = w.shape[0]
    if w.shape[1] != C or w.shape[2] != 3 or w.shape[3] != 3 or b.shape[0] != F:
        raise ValueError(f"need w of shape (F, {C}, 3, 3) and b of shape (F,), got {tuple(w.shape)[:4]} and {b.shape[0]}")
    cdef Geom g = _geometry(N, C, x.shape[2], x.shape[3], F, pad, m)
    dtype = np.float32 if floating is float else np.float64
    if N == 0 or C == 0 or F == 0:             # nothing to sum: the biases (or an empty batch)
        return np.broadcast_to(np.asarray(b)[:, None, None], (N, F, g.Ho, g.Wo)).astype(dtype)
    cdef int nt = openmp_threads() if N > 1 else 1
    cdef Py_ssize_t per_unit, band, units, u, n, n0, n1, th, th0, th1, xi, A2 = g.a * g.a, t
    U, V, M, X, S, _ = _prepare(&g, w, nt, &per_unit, &band)
    units = (N + per_unit - 1) // per_unit
    out = np.empty((N, F, g.Ho, g.Wo), dtype=dtype)
    cdef floating[::1] Uv = U
    cdef floating[:, ::1] Vv = V, Mv = M, Xv = X, Sv = S
    cdef floating[:, :, :, ::1] ov = out
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
            for n in range(n0, n1):         # V: the input transforms
                _load_input(&x[n, 0, 0, 0], &Xv[t, 0], &g, th0 * m, th1 * m + 2)
                for th in range(th0, th1):
                    _input_row(&Xv[t, (th - th0) * m * g.Wp * C], &Vv[t, 0], &Sv[t, 0], &g,
                               ((n - n0) * (th1 - th0) + th - th0) * g.ntw)
            for xi in range(A2):            # M[xi] (T, F) = V[xi] (T, C) @ U[xi] (C, F)
                gemm(False, False, ntiles, <int>F, <int>C, one, &Vv[t, xi * g.sC], <int>C,
                     &Uv[xi * g.sU], <int>F, zero, &Mv[t, xi * g.sF], <int>F)
            for n in range(n0, n1):         # the output transforms
                for th in range(th0, th1):
                    _output_row(&Mv[t, 0], &b[0], &ov[0, 0, 0, 0], &Sv[t, 0], &g,
                                ((n - n0) * (th1 - th0) + th - th0) * g.ntw, n, th)
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
    dtype = np.float32 if floating is float else np.float64
    if N == 0 or C == 0 or F == 0:             # nothing to sum: zero gradients (and the bias gradient)
        return (np.zeros((N, C, g.H, g.W), dtype=dtype) if need_dx else None), np.zeros((F, C, 3, 3), dtype=dtype), \
            np.asarray(dout).sum(axis=(0, 2, 3)).astype(dtype)
    cdef int nt = openmp_threads() if N > 1 else 1
    cdef Py_ssize_t per_unit, band, units, u, n, n0, n1, th, th0, th1, xi, A2 = g.a * g.a, t, tr
    U, V, Z, X, S, W = _prepare(&g, w, nt, &per_unit, &band)
    units = (N + per_unit - 1) // per_unit
    cdef floating[::1] Uv = U, Wv = W
    cdef floating[:, ::1] Vv = V, Zv = Z, Xv = X, Sv = S
    cdef floating[:, ::1] Dv = _buffer("D", nt * (g.Hp * g.Wp * C if need_dx else 1), dtype).reshape(nt, -1)
    dUb = _buffer("dU", nt * A2 * g.sU, dtype).reshape(nt, -1)   # each thread's partial sum, begun by its first block
    cdef floating[:, ::1] dUv = dUb
    begun = np.zeros(nt, dtype=np.intc)
    cdef int[::1] begunv = begun
    sums = np.empty((N, F), dtype=np.float64)                     # each image's sums of dout per channel (for db)
    cdef double[:, ::1] sumsv = sums
    dx = np.empty((N, C, g.H, g.W), dtype=dtype) if need_dx else np.empty((1, 1, 1, 1), dtype=dtype)  # placeholder
    cdef floating[:, :, :, ::1] dxv = dx
    cdef floating one = 1, zero = 0, beta
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
            for n in range(n0, n1):         # V and Z: the transforms of the input and of the upstream gradient
                _load_input(&x[n, 0, 0, 0], &Xv[t, 0], &g, th0 * m, th1 * m + 2)
                for th in range(th0, th1):
                    tr = ((n - n0) * (th1 - th0) + th - th0) * g.ntw
                    _input_row(&Xv[t, (th - th0) * m * g.Wp * C], &Vv[t, 0], &Sv[t, 0], &g, tr)
                    _grad_output_row(&dout[0, 0, 0, 0], &Zv[t, 0], &Sv[t, 0], &g, tr, n, th)
            beta = one if begunv[t] else zero
            begunv[t] = 1
            for xi in range(A2):            # dU[xi] (C, F) (+)= V[xi]^T (C, T) @ Z[xi] (T, F)
                gemm(True, False, <int>C, <int>F, ntiles, one, &Vv[t, xi * g.sC], <int>C,
                     &Zv[t, xi * g.sF], <int>F, beta, &dUv[t, xi * g.sU], <int>F)
            if need_dx:
                for xi in range(A2):        # dV[xi] (T, C) = Z[xi] (T, F) @ U[xi]^T (F, C), written over V
                    gemm(False, True, ntiles, <int>C, <int>F, one, &Zv[t, xi * g.sF], <int>F,
                         &Uv[xi * g.sU], <int>F, zero, &Vv[t, xi * g.sC], <int>C)
                for n in range(n0, n1):     # dx: B dV B^T added into each image's padded gradient
                    if th0 == 0:
                        memset(&Dv[t, 0], 0, g.Hp * g.Wp * C * sizeof(floating))
                    for th in range(th0, th1):
                        _grad_input_row(&Vv[t, 0], &Dv[t, 0], &Sv[t, 0], &g,
                                        ((n - n0) * (th1 - th0) + th - th0) * g.ntw, th)
                    if th1 == g.nth:
                        _store_grad(&Dv[t, 0], &dxv[n, 0, 0, 0], &g)
            if th1 == g.nth:                # the unit's images are done: their sums of dout, per channel
                for n in range(n0, n1):
                    plane_sums(&dout[n, 0, 0, 0], F, g.Ho * g.Wo, &sumsv[n, 0])
            th0 = th1
    dUb[begun == 0] = 0                     # a thread that had no block (fewer units than threads) adds nothing
    dw = np.empty((F, C, 3, 3), dtype=dtype)
    cdef floating[:, :, :, ::1] dwv = dw
    with nogil:
        _filters_adjoint(&dUv[0, 0], g.sU, nt, dUv.shape[1], &dwv[0, 0, 0, 0], F, C, &Wv[0], m, nt)
    return (dx if need_dx else None), dw, sums.sum(axis=0).astype(dtype)
