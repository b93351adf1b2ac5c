# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""im2col / col2im kernels for float32 and float64 (hand-written; nbdev does not touch this file).

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
from libc.string cimport memset
import numpy as np


def _out_size(Py_ssize_t size, Py_ssize_t k, Py_ssize_t pad, Py_ssize_t stride, str what):
    if k <= 0 or stride <= 0 or pad < 0:
        raise ValueError(f"need kernel size > 0, stride > 0 and pad >= 0, got {what}={k}, stride={stride}, pad={pad}")
    if size + 2 * pad < k:
        raise ValueError(f"window of {what}={k} does not fit an input of size {size} with pad={pad}")
    return (size + 2 * pad - k) // stride + 1


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


cdef void _im2col_image(const floating[:, :, ::1] img, floating[:, ::1] out,
                        Py_ssize_t kh, Py_ssize_t kw, Py_ssize_t pad, Py_ssize_t stride,
                        Py_ssize_t Ho, Py_ssize_t Wo) noexcept nogil:
    cdef Py_ssize_t C = img.shape[0], H = img.shape[1], W = img.shape[2]
    cdef Py_ssize_t c, i, j, row, oh, ow, ih, ow0, ow1, base, iw0
    for c in range(C):
        for i in range(kh):
            for j in range(kw):
                row = (c * kh + i) * kw + j
                ow0 = _first_valid(j - pad, stride)
                ow1 = _end_valid(j - pad, stride, W, Wo)
                if ow1 < ow0:
                    ow1 = ow0
                for oh in range(Ho):
                    base = oh * Wo
                    ih = oh * stride - pad + i
                    if ih < 0 or ih >= H:
                        memset(&out[row, base], 0, Wo * sizeof(floating))
                        continue
                    for ow in range(ow0):
                        out[row, base + ow] = 0
                    iw0 = ow0 * stride - pad + j
                    if stride == 1:
                        for ow in range(ow0, ow1):
                            out[row, base + ow] = img[c, ih, iw0 + ow - ow0]
                    else:
                        for ow in range(ow0, ow1):
                            out[row, base + ow] = img[c, ih, iw0 + (ow - ow0) * stride]
                    for ow in range(ow1, Wo):
                        out[row, base + ow] = 0


cdef void _col2im_image(const floating[:, ::1] cols, floating[:, :, ::1] img,
                        Py_ssize_t kh, Py_ssize_t kw, Py_ssize_t pad, Py_ssize_t stride,
                        Py_ssize_t Ho, Py_ssize_t Wo) noexcept nogil:
    cdef Py_ssize_t C = img.shape[0], H = img.shape[1], W = img.shape[2]
    cdef Py_ssize_t c, i, j, row, oh, ow, ih, ow0, ow1, base, iw0
    for c in range(C):
        for i in range(kh):
            for j in range(kw):
                row = (c * kh + i) * kw + j
                ow0 = _first_valid(j - pad, stride)
                ow1 = _end_valid(j - pad, stride, W, Wo)
                for oh in range(Ho):
                    ih = oh * stride - pad + i
                    if ih < 0 or ih >= H:
                        continue
                    base = oh * Wo
                    iw0 = ow0 * stride - pad + j
                    for ow in range(ow0, ow1):
                        img[c, ih, iw0 + (ow - ow0) * stride] += cols[row, base + ow]


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


def openmp_threads():
    """Number of threads a `prange` loop in these kernels gets (1 when built without OpenMP).

    Controlled by the OMP_NUM_THREADS environment variable, read when the process starts.
    """
    ids = np.zeros(256, dtype=np.intc)
    cdef int[::1] iv = ids
    cdef Py_ssize_t i
    for i in prange(256, nogil=True, schedule="static", chunksize=1):
        iv[i] = threadid()
    return int(ids.max()) + 1
