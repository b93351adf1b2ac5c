# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""im2col / col2im, and the fused convolution and max-pooling kernels built on them, for float32 and float64
(hand-written; nbdev does not touch this file; dl_nb.conv's *_fast layers call them through dl_nb.fast).

Layout: for an input batch `x` of shape (N, C, H, W) and a KH x KW window, `im2col` returns
`cols` of shape (N, C*KH*KW, Ho*Wo) with

    cols[n, (c*KH + i)*KW + j, oh*Wo + ow] = xpad[n, c, oh*stride + i, ow*stride + j]

where `xpad` is `x` zero-padded by `pad` on both sides of H and W (the padding is never
materialised). One image's columns are contiguous, so a convolution is one matrix product per
image, `w.reshape(F, -1) @ cols[n]`, whose (F, Ho*Wo) result is already in NCHW order.
`col2im` is the adjoint (transpose) of `im2col`: it scatter-adds columns back into an image,
which is exactly the backward pass of the gather.
"""
cimport cython
from cython cimport floating
from cython.parallel cimport prange, threadid
from libc.string cimport memset, memcpy
import numpy as np
from contextlib import contextmanager
from dl_nb.fast._common import openmp_threads, _out_size
from dl_nb.fast._common cimport plane_sums

cdef extern from "pool.h" nogil:
    # 2x2, stride-2 max pooling of one float plane; nonzero if a window held a NaN (C and the rule in pool.h)
    int dlnb_pool2x2_plane_f(const float *x, float *out, int *arg, Py_ssize_t W, Py_ssize_t Ho, Py_ssize_t Wo)


cdef inline Py_ssize_t _first_valid(Py_ssize_t offset, Py_ssize_t stride) noexcept nogil:
    # smallest o >= 0 with o*stride + offset >= 0
    if offset >= 0:
        return 0
    return (-offset + stride - 1) // stride


cdef inline Py_ssize_t _end_valid(Py_ssize_t offset, Py_ssize_t stride, Py_ssize_t size, Py_ssize_t n_out) noexcept nogil:
    # one past the largest o < n_out with o*stride + offset <= size - 1
    cdef Py_ssize_t last = size - 1 - offset
    if last < 0:
        return 0
    last = last // stride + 1
    return last if last < n_out else n_out


cdef void _im2col_rows(const floating[:, :, ::1] img, floating *out, Py_ssize_t ldo,
                       Py_ssize_t kh, Py_ssize_t kw, Py_ssize_t pad, Py_ssize_t stride,
                       Py_ssize_t Wo, Py_ssize_t oh0, Py_ssize_t oh1) noexcept nogil:
    # Columns of output rows oh0 <= oh < oh1 of one image: row (c*kh + i)*kw + j of `out` (leading dimension ldo)
    # holds xpad[c, oh*stride + i, ow*stride + j] at column (oh - oh0)*Wo + ow.
    cdef Py_ssize_t C = img.shape[0], H = img.shape[1], W = img.shape[2]
    cdef Py_ssize_t c, i, j, oh, ow, ih, ow0, ow1, iw0
    cdef floating *dst
    cdef const floating *src
    for c in range(C):
        for i in range(kh):
            for j in range(kw):
                ow0 = _first_valid(j - pad, stride)
                ow1 = _end_valid(j - pad, stride, W, Wo)
                if ow1 < ow0:
                    ow1 = ow0
                iw0 = ow0 * stride - pad + j
                for oh in range(oh0, oh1):
                    dst = out + ((c * kh + i) * kw + j) * ldo + (oh - oh0) * Wo
                    ih = oh * stride - pad + i
                    if ih < 0 or ih >= H:
                        memset(dst, 0, Wo * sizeof(floating))
                        continue
                    if ow0 > 0:
                        memset(dst, 0, ow0 * sizeof(floating))
                    src = &img[c, ih, 0] + iw0
                    if stride == 1:
                        memcpy(dst + ow0, src, (ow1 - ow0) * sizeof(floating))
                    else:
                        for ow in range(ow1 - ow0):
                            dst[ow0 + ow] = src[ow * stride]
                    if ow1 < Wo:
                        memset(dst + ow1, 0, (Wo - ow1) * sizeof(floating))


cdef void _col2im_rows(const floating *cols, Py_ssize_t ldc, floating[:, :, ::1] img,
                       Py_ssize_t kh, Py_ssize_t kw, Py_ssize_t pad, Py_ssize_t stride,
                       Py_ssize_t Wo, Py_ssize_t oh0, Py_ssize_t oh1) noexcept nogil:
    # Adjoint of _im2col_rows: add the columns of output rows oh0 <= oh < oh1 back into the image.
    cdef Py_ssize_t C = img.shape[0], H = img.shape[1], W = img.shape[2]
    cdef Py_ssize_t c, i, j, oh, ow, ih, ow0, ow1, iw0, n
    cdef floating *dst
    cdef const floating *src
    for c in range(C):
        for i in range(kh):
            for j in range(kw):
                ow0 = _first_valid(j - pad, stride)
                ow1 = _end_valid(j - pad, stride, W, Wo)
                if ow1 <= ow0:
                    continue
                iw0 = ow0 * stride - pad + j
                n = ow1 - ow0
                for oh in range(oh0, oh1):
                    ih = oh * stride - pad + i
                    if ih < 0 or ih >= H:
                        continue
                    src = cols + ((c * kh + i) * kw + j) * ldc + (oh - oh0) * Wo + ow0
                    dst = &img[c, ih, 0] + iw0
                    if stride == 1:
                        for ow in range(n):
                            dst[ow] += src[ow]
                    else:
                        for ow in range(n):
                            dst[ow * stride] += src[ow]


cdef inline void _im2col_image(const floating[:, :, ::1] img, floating[:, ::1] out,
                               Py_ssize_t kh, Py_ssize_t kw, Py_ssize_t pad, Py_ssize_t stride,
                               Py_ssize_t Ho, Py_ssize_t Wo) noexcept nogil:
    _im2col_rows(img, &out[0, 0], out.shape[1], kh, kw, pad, stride, Wo, 0, Ho)


cdef inline void _col2im_image(const floating[:, ::1] cols, floating[:, :, ::1] img,
                               Py_ssize_t kh, Py_ssize_t kw, Py_ssize_t pad, Py_ssize_t stride,
                               Py_ssize_t Ho, Py_ssize_t Wo) noexcept nogil:
    _col2im_rows(&cols[0, 0], cols.shape[1], img, kh, kw, pad, stride, Wo, 0, Ho)


def im2col(const floating[:, :, :, ::1] x, Py_ssize_t kh, Py_ssize_t kw, Py_ssize_t pad=0, Py_ssize_t stride=1):
    """Gather KHxKW windows of a C-contiguous (N, C, H, W) batch into columns (N, C*KH*KW, Ho*Wo).

    Keeps the dtype of `x` (float32 or float64); the zero padding is applied on the fly.
    """
    cdef Py_ssize_t N = x.shape[0], C = x.shape[1], H = x.shape[2], W = x.shape[3]
    cdef Py_ssize_t Ho = _out_size(H, kh, pad, stride, "kh")
    cdef Py_ssize_t Wo = _out_size(W, kw, pad, stride, "kw")
    cdef Py_ssize_t n
    dtype = np.float32 if floating is float else np.float64
    cols = np.empty((N, C * kh * kw, Ho * Wo), dtype=dtype)
    cdef floating[:, :, ::1] cv = cols
    for n in prange(N, nogil=True, schedule="static"):
        _im2col_image(x[n], cv[n], kh, kw, pad, stride, Ho, Wo)
    return cols


def col2im(const floating[:, :, ::1] cols, Py_ssize_t C, Py_ssize_t H, Py_ssize_t W,
           Py_ssize_t kh, Py_ssize_t kw, Py_ssize_t pad=0, Py_ssize_t stride=1):
    """Scatter-add columns (N, C*KH*KW, Ho*Wo) back into an (N, C, H, W) batch: the adjoint of `im2col`.

    Overlapping windows accumulate; padded positions are dropped. Keeps the dtype of `cols`.
    """
    cdef Py_ssize_t N = cols.shape[0]
    cdef Py_ssize_t Ho = _out_size(H, kh, pad, stride, "kh")
    cdef Py_ssize_t Wo = _out_size(W, kw, pad, stride, "kw")
    cdef Py_ssize_t n
    if cols.shape[1] != C * kh * kw or cols.shape[2] != Ho * Wo:
        raise ValueError(f"cols has shape ({cols.shape[0]}, {cols.shape[1]}, {cols.shape[2]}), expected (N, {C * kh * kw}, {Ho * Wo}) "
                         f"for C={C}, H={H}, W={W}, kh={kh}, kw={kw}, pad={pad}, stride={stride}")
    dtype = np.float32 if floating is float else np.float64
    x = np.zeros((N, C, H, W), dtype=dtype)
    cdef floating[:, :, :, ::1] xv = x
    for n in prange(N, nogil=True, schedule="static"):
        _col2im_image(cols[n], xv[n], kh, kw, pad, stride, Ho, Wo)
    return x


# ---------------------------------------------------------------------------------------------
# Fused convolution and pooling kernels (used by dl_nb.conv's *_fast layers).
#
# The matrix products go to the BLAS that SciPy ships, through `gemm` of _common.pxd (a row-major
# product on top of SciPy's Fortran BLAS, shared with winograd.pyx).
# ---------------------------------------------------------------------------------------------
from dl_nb.fast._common cimport gemm as _gemm


cdef Py_ssize_t _band_bytes = 4 * 1024 * 1024


@contextmanager
def band_bytes(Py_ssize_t nbytes):
    """Tuning knob, restored on exit: inside `with band_bytes(nbytes):` the fused conv kernels aim for a per-thread
    column buffer of `nbytes` bytes (4 MiB outside)."""
    global _band_bytes
    if nbytes < 1:
        raise ValueError(f"the column buffer needs at least one byte, got nbytes={nbytes}")
    old, _band_bytes = _band_bytes, nbytes
    try:
        yield nbytes
    finally:
        _band_bytes = old


def get_band_bytes():
    """The current column-buffer budget in bytes (see band_bytes)."""
    return _band_bytes


cdef Py_ssize_t _band_rows(Py_ssize_t K, Py_ssize_t Wo, Py_ssize_t Ho, Py_ssize_t itemsize) noexcept:
    # output rows per band, so that the band's columns (K, rows*Wo) fit the buffer budget (at least one row)
    if K * Wo == 0:                     # no columns (C = 0): nothing to buffer
        return Ho if Ho > 0 else 1
    cdef Py_ssize_t rows = _band_bytes // (K * Wo * itemsize)
    if rows < 1:
        rows = 1
    if rows >= Ho:
        return Ho
    return rows


def conv_forward(const floating[:, :, :, ::1] x, const floating[:, :, :, ::1] w, const floating[::1] b,
                 Py_ssize_t pad, Py_ssize_t stride):
    """Convolution forward: im2col of a band of output rows into a small buffer, then one GEMM writing NCHW output.

    x (N, C, H, W), w (F, C, KH, KW), b (F,), all C-contiguous and of one dtype. Returns out (N, F, Ho, Wo).
    The buffer holds the columns of a few output rows of one image (C*KH*KW, rows*Wo), small enough to stay in the
    core's cache between the copy and the product.
    """
    cdef Py_ssize_t N = x.shape[0], C = x.shape[1], H = x.shape[2], W = x.shape[3]
    cdef Py_ssize_t F = w.shape[0], KH = w.shape[2], KW = w.shape[3]
    cdef Py_ssize_t Ho = _out_size(H, KH, pad, stride, "kh")
    cdef Py_ssize_t Wo = _out_size(W, KW, pad, stride, "kw")
    if w.shape[1] != C or b.shape[0] != F:
        raise ValueError(f"x {tuple(x.shape)[:4]}, w {tuple(w.shape)[:4]} and b {tuple(b.shape)[:1]} do not fit together: "
                         f"need w of shape (F, {C}, KH, KW) and b of shape ({F},)")
    cdef Py_ssize_t K = C * KH * KW, P = Ho * Wo, n, f, p, t, oh0, oh1
    cdef Py_ssize_t R = _band_rows(K, Wo, Ho, sizeof(floating))
    cdef int nt = openmp_threads() if N > 1 else 1
    dtype = np.float32 if floating is float else np.float64
    out = np.empty((N, F, Ho, Wo), dtype=dtype)
    if K == 0:                          # no input channels: the output is the bias (and BLAS refuses K = 0)
        out[...] = np.asarray(b)[:, None, None]
        return out
    bufs = np.empty((nt, K, R * Wo), dtype=dtype)
    cdef floating[:, :, ::1] ov = out.reshape(N, F, P)
    cdef floating[:, :, ::1] bv = bufs
    cdef floating one = 1
    for n in prange(N, nogil=True, schedule="static", num_threads=nt):
        t = threadid()
        for f in range(F):
            for p in range(P):
                ov[n, f, p] = b[f]
        oh0 = 0
        while oh0 < Ho:
            oh1 = oh0 + R
            if oh1 > Ho:
                oh1 = Ho
            _im2col_rows(x[n], &bv[t, 0, 0], R * Wo, KH, KW, pad, stride, Wo, oh0, oh1)
            # out[n][:, band] (F, rows*Wo) += w (F, K) @ cols (K, rows*Wo)
            _gemm(False, False, <int>F, <int>((oh1 - oh0) * Wo), <int>K, one, <floating *>&w[0, 0, 0, 0], <int>K,
                  &bv[t, 0, 0], <int>(R * Wo), one, &ov[n, 0, oh0 * Wo], <int>P)
            oh0 = oh1
    return out


def conv_backward(const floating[:, :, :, ::1] dout, const floating[:, :, :, ::1] x,
                  const floating[:, :, :, ::1] w, Py_ssize_t pad, Py_ssize_t stride, bint need_dx=True):
    """Convolution backward, one band of output rows of one image at a time: rebuild the band's columns,
    accumulate dw += dout_band @ cols^T, then dcols = w^T @ dout_band, scattered back into dx with col2im.
    Returns dx, dw, db in the dtype of the inputs (dx is None, and its product and col2im are skipped, if not need_dx)."""
    cdef Py_ssize_t N = x.shape[0], C = x.shape[1], H = x.shape[2], W = x.shape[3]
    cdef Py_ssize_t F = w.shape[0], KH = w.shape[2], KW = w.shape[3]
    cdef Py_ssize_t Ho = _out_size(H, KH, pad, stride, "kh")
    cdef Py_ssize_t Wo = _out_size(W, KW, pad, stride, "kw")
    if w.shape[1] != C:
        raise ValueError(f"w has shape {tuple(w.shape)[:4]}, expected (F, {C}, KH, KW) for x {tuple(x.shape)[:4]}")
    cdef Py_ssize_t K = C * KH * KW, P = Ho * Wo, n, t, oh0, oh1, cnt
    cdef Py_ssize_t R = _band_rows(K, Wo, Ho, sizeof(floating))
    if dout.shape[0] != N or dout.shape[1] != F or dout.shape[2] != Ho or dout.shape[3] != Wo:
        raise ValueError(f"dout has shape {tuple(dout.shape)[:4]}, expected {(N, F, Ho, Wo)}")
    cdef int nt = openmp_threads() if N > 1 else 1
    dtype = np.float32 if floating is float else np.float64
    if need_dx:
        dx = np.zeros((N, C, H, W), dtype=dtype)
    else:
        dx = np.zeros((N, 1, 1, 1), dtype=dtype)  # placeholder, never written
    if K == 0:                          # no input channels: no weights, and only the bias has a gradient
        return (dx if need_dx else None), np.zeros((F, C, KH, KW), dtype=dtype), np.asarray(dout).sum(axis=(0, 2, 3))
    dws = np.zeros((nt, F, K), dtype=dtype)
    bufs = np.empty((nt, K, R * Wo), dtype=dtype)
    sums = np.empty((N, F), dtype=np.float64)   # each image's sums of dout per channel (for db)
    cdef double[:, ::1] sumsv = sums
    cdef floating[:, :, :, ::1] dxv = dx
    cdef floating[:, :, ::1] dwv = dws
    cdef floating[:, :, ::1] bv = bufs
    cdef floating one = 1, zero = 0
    for n in prange(N, nogil=True, schedule="static", num_threads=nt):
        t = threadid()
        oh0 = 0
        while oh0 < Ho:
            oh1 = oh0 + R
            if oh1 > Ho:
                oh1 = Ho
            cnt = (oh1 - oh0) * Wo
            _im2col_rows(x[n], &bv[t, 0, 0], R * Wo, KH, KW, pad, stride, Wo, oh0, oh1)
            # dw (F, K) += dout_band (F, cnt) @ cols^T (cnt, K)
            _gemm(False, True, <int>F, <int>K, <int>cnt, one, <floating *>&dout[n, 0, 0, 0] + oh0 * Wo, <int>P,
                  &bv[t, 0, 0], <int>(R * Wo), one, &dwv[t, 0, 0], <int>K)
            if need_dx:
                # dcols (K, cnt) = w^T (K, F) @ dout_band (F, cnt), written over the columns
                _gemm(True, False, <int>K, <int>cnt, <int>F, one, <floating *>&w[0, 0, 0, 0], <int>K,
                      <floating *>&dout[n, 0, 0, 0] + oh0 * Wo, <int>P, zero, &bv[t, 0, 0], <int>(R * Wo))
                _col2im_rows(&bv[t, 0, 0], R * Wo, dxv[n], KH, KW, pad, stride, Wo, oh0, oh1)
            oh0 = oh1
        plane_sums(&dout[n, 0, 0, 0], F, P, &sumsv[n, 0])
    dw = dws[0] if nt == 1 else dws.sum(axis=0)
    return (dx if need_dx else None), dw.reshape(F, C, KH, KW), sums.sum(axis=0).astype(dtype)


cdef bint _has_nan(const floating *p, Py_ssize_t n) noexcept nogil:
    # does p[0:n] hold a NaN? (branch-free, so that the compiler vectorises it)
    cdef int f = 0
    cdef Py_ssize_t s
    for s in range(n):
        f |= p[s] != p[s]
    return f != 0


cdef void _pool_plane_nan(const floating *x, floating *out, int *arg, Py_ssize_t W, Py_ssize_t Ho, Py_ssize_t Wo,
                          Py_ssize_t ph, Py_ssize_t pw, Py_ssize_t stride) noexcept nogil:
    # max pooling of one plane in which a NaN beats every number and the first NaN of a window wins
    cdef Py_ssize_t oh, ow, i, j, k, best_i
    cdef floating best, v
    for oh in range(Ho):
        for ow in range(Wo):
            best_i = oh * stride * W + ow * stride
            best = x[best_i]
            for i in range(ph):
                for j in range(pw):
                    k = (oh * stride + i) * W + ow * stride + j
                    v = x[k]
                    if best == best and not v <= best:      # v > best, or v is the window's first NaN
                        best = v; best_i = k
            out[oh * Wo + ow] = best
            arg[oh * Wo + ow] = <int>best_i

def max_pool_forward(const floating[:, :, :, ::1] x, Py_ssize_t ph, Py_ssize_t pw, Py_ssize_t stride):
    """Max pooling over (ph, pw) windows with the given stride (no padding), recording where each maximum was.

    Returns out (N, C, Ho, Wo) and argmax (N, C, Ho, Wo) int32: the flat index h*W + w, within its (H, W) plane,
    of the first maximal input of each window (row-major scan), which is where the backward pass sends the gradient.
    A NaN counts as larger than any number (as in np.max and np.argmax): a window holding a NaN gives NaN, and its
    argmax is the first NaN.
    """
    cdef Py_ssize_t N = x.shape[0], C = x.shape[1], H = x.shape[2], W = x.shape[3]
    cdef Py_ssize_t Ho = _out_size(H, ph, 0, stride, "pool_height")
    cdef Py_ssize_t Wo = _out_size(W, pw, 0, stride, "pool_width")
    cdef Py_ssize_t NC = N * C, q, oh, ow, i, j, h0, w0, best_i
    cdef floating best, v
    if H * W >= 2**31:
        raise ValueError(f"max_pool_forward: an (H, W) plane of {H}x{W} does not fit the int32 argmax")
    dtype = np.float32 if floating is float else np.float64
    out = np.empty((N, C, Ho, Wo), dtype=dtype)
    arg = np.empty((N, C, Ho, Wo), dtype=np.int32)
    cdef const floating[:, :, ::1] xv = np.asarray(x).reshape(NC, H, W)
    cdef floating[:, :, ::1] ov = out.reshape(NC, Ho, Wo)
    cdef int[:, :, ::1] av = arg.reshape(NC, Ho, Wo)
    cdef floating a, bb, c, d, acc
    cdef int ia, nan
    for q in prange(NC, nogil=True, schedule="static"):
        nan = 0
        if ph == 2 and pw == 2 and stride == 2 and floating is float:   # one SSE register per window (pool.h)
            nan = dlnb_pool2x2_plane_f(<const float *>&xv[q, 0, 0], <float *>&ov[q, 0, 0], &av[q, 0, 0], W, Ho, Wo)
        elif ph == 2 and pw == 2 and stride == 2:
            for oh in range(Ho):
                h0 = 2 * oh
                for ow in range(Wo):
                    w0 = 2 * ow
                    a = xv[q, h0, w0]; bb = xv[q, h0, w0 + 1]
                    c = xv[q, h0 + 1, w0]; d = xv[q, h0 + 1, w0 + 1]
                    best = a; ia = <int>(h0 * W + w0)
                    if bb > best:
                        best = bb; ia = <int>(h0 * W + w0 + 1)
                    if c > best:
                        best = c; ia = <int>((h0 + 1) * W + w0)
                    if d > best:
                        best = d; ia = <int>((h0 + 1) * W + w0 + 1)
                    ov[q, oh, ow] = best
                    av[q, oh, ow] = ia
                    acc = a + bb + c + d              # NaN if the window holds a NaN (or both infinities)
                    nan = nan | (acc != acc)
        else:
            for oh in range(Ho):
                h0 = oh * stride
                for ow in range(Wo):
                    w0 = ow * stride
                    best = xv[q, h0, w0]; best_i = h0 * W + w0
                    for i in range(ph):
                        for j in range(pw):
                            v = xv[q, h0 + i, w0 + j]
                            if v > best:
                                best = v; best_i = (h0 + i) * W + w0 + j
                    ov[q, oh, ow] = best
                    av[q, oh, ow] = <int>best_i
            nan = _has_nan(&xv[q, 0, 0], H * W)
        # `>` never picks a NaN: a plane holding one (rare; found by pool.h's unordered comparison, by the sums of the
        # 2x2 windows, or by a vectorised pass over the plane, which is in cache) is scanned again so that the first NaN of a window wins, as in
        # np.max and np.argmax
        if nan:
            _pool_plane_nan(&xv[q, 0, 0], &ov[q, 0, 0], &av[q, 0, 0], W, Ho, Wo, ph, pw, stride)
    return out, arg


def max_pool_backward(const floating[:, :, :, ::1] dout, const int[:, :, :, ::1] argmax, Py_ssize_t H, Py_ssize_t W):
    """Send each upstream gradient to the input that won its window (adding up where windows overlap).

    argmax holds flat indices into (H, W) planes; an index outside [0, H*W) raises ValueError (nothing is written
    out of bounds: each index is checked before its write)."""
    cdef Py_ssize_t N = dout.shape[0], C = dout.shape[1], Ho = dout.shape[2], Wo = dout.shape[3]
    cdef Py_ssize_t NC = N * C, q, o, P = Ho * Wo, HW = H * W, bad = 0, i
    if argmax.shape[0] != N or argmax.shape[1] != C or argmax.shape[2] != Ho or argmax.shape[3] != Wo:
        raise ValueError(f"dout has shape {tuple(dout.shape)[:4]} but the cached argmax has shape {tuple(argmax.shape)[:4]}")
    if H < 0 or W < 0:
        raise ValueError(f"need H >= 0 and W >= 0, got H={H}, W={W}")
    dtype = np.float32 if floating is float else np.float64
    dx = np.empty((N, C, H, W), dtype=dtype)   # each plane is zeroed by the thread that fills it, just before
    cdef floating[:, ::1] dxv = dx.reshape(NC, H * W)
    cdef const floating[:, ::1] dv = np.asarray(dout).reshape(NC, P)
    cdef const int[:, ::1] av = np.asarray(argmax).reshape(NC, P)
    for q in prange(NC, nogil=True, schedule="static"):
        if HW > 0:   # zeroed here, so that the plane is in this thread's cache when the scatter below adds into it
            memset(&dxv[q, 0], 0, HW * sizeof(floating))
        for o in range(P):
            i = av[q, o]
            if i < 0 or i >= HW:
                bad += 1
            else:
                dxv[q, i] += dv[q, o]
    if bad:
        a = np.asarray(argmax)
        raise ValueError(f"max_pool_backward: {bad} argmax indices lie outside [0, H*W) = [0, {HW}) "
                         f"(from {a.min()} to {a.max()}): the cache was not made by max_pool_forward for this input")
    return dx
