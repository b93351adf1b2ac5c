# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Direct convolution forward, float32, stride 1, held in AVX-512 registers (hand-written; nbdev does not touch
this file; dl_nb.conv's conv_forward_fast dispatches to it, chapter 05 explains when and why).

im2col + GEMM copies every input pixel KH*KW times into a column matrix, then hands BLAS a product whose inner
dimension is only C*KH*KW (147 for a 7x7 filter on RGB). Both halves are poor when C is small: the copy is as
large as the product's operand, and the product is thin. A direct convolution needs no
copy at all. For one image, with `xp` the zero-padded input,

    out[f, oh, ow] = b[f] + sum over (c, i, j) of w[f, c, i, j] * xp[c, oh + i, ow + j]

and for a fixed tap (c, i, j) the 16 outputs ow..ow+15 of one row read 16 *consecutive* floats of xp: one
unaligned vector load. The kernel keeps an 8 x 3 block of accumulators -- 8 output channels times 3 vectors
of 16 output pixels, 24 of the 32 zmm registers -- and for each of the K = C*KH*KW taps loads the 3 input
vectors once, broadcasts the 8 weights once, and issues 24 fused multiply-adds. Nothing but the final sums is
ever written, so for first layers the loop runs from the L1 cache at the FMA units' rate (on CPUs with two 512-bit
FMA units, 2 x 16 lanes per cycle); with many channels the rows it reads outgrow L1 and it slows down.

The 16-wide vectors run along output rows; a row whose width is not a multiple of 16 ends in a masked store, so
lanes are wasted when Wo is small (Wo = 8 uses half of them; dl_nb.conv's measured rule sends narrow layers
to another kernel where one is faster).
Output channels are padded to a multiple of 8 with zero filters, whose sums are never stored.

The kernel (C in direct.h) is compiled for AVX-512F through a function attribute, so the module builds with any GCC or Clang on
x86-64 and imports on any CPU; `has_avx512()` says whether this CPU can run it and `conv_forward` refuses
(RuntimeError) if it cannot. On other compilers or architectures the kernel is not built at all and
`has_avx512()` is False.
"""
from cython.parallel cimport prange, threadid
from libc.string cimport memcpy
import numpy as np
from dl_nb.fast._common import openmp_threads, _out_size

cdef extern from "direct.h":
    int dlnb_has_avx512() nogil
    int DLNB_FB
    void dlnb_direct_image(const float *xp, Py_ssize_t ldx, const Py_ssize_t *offs, Py_ssize_t K, const float *wt,
                           const float *bias, float *out, int F, int Ho, int Wo) nogil


def has_avx512():
    "True if this build has the AVX-512 kernel and this CPU (and its operating system) can run it."
    return bool(dlnb_has_avx512())


def conv_forward(const float[:, :, :, ::1] x, const float[:, :, :, ::1] w, const float[::1] b, Py_ssize_t pad):
    """Direct convolution forward, stride 1: x (N, C, H, W), w (F, C, KH, KW), b (F,), C-contiguous float32.

    Returns out (N, F, Ho, Wo) float32 with Ho = H + 2*pad - KH + 1 (and likewise Wo). The images of the batch are
    shared among the OpenMP threads; each thread pads its image into its own buffer first.
    """
    cdef Py_ssize_t N = x.shape[0], C = x.shape[1], H = x.shape[2], W = x.shape[3]
    cdef Py_ssize_t F = w.shape[0], KH = w.shape[2], KW = w.shape[3]
    if not dlnb_has_avx512():
        raise RuntimeError("the direct convolution kernel needs a CPU with AVX-512F (dl_nb.fast.has_avx512() is False)")
    if w.shape[1] != C or b.shape[0] != F:
        raise ValueError(f"x {tuple(x.shape)[:4]}, w {tuple(w.shape)[:4]} and b {tuple(b.shape)[:1]} do not fit together")
    cdef Py_ssize_t Ho = _out_size(H, KH, pad, 1, "kh"), Wo = _out_size(W, KW, pad, 1, "kw")
    out = np.empty((N, F, Ho, Wo), dtype=np.float32)
    if N == 0 or F == 0:
        return out
    if C == 0:                                            # no inputs: the output is the bias
        out[...] = np.asarray(b)[:, None, None]
        return out
    # the padded image: rows wide enough for the last vector's 16 lanes plus the filter's reach. The furthest load
    # ends at column ldx - 2 of row H + 2*pad - 1, so the last column and the spare row per channel are a margin
    cdef Py_ssize_t ldx = (Wo + 15) // 16 * 16 + KW, Hx = H + 2 * pad + 1
    cdef Py_ssize_t K = C * KH * KW, Fb = (F + DLNB_FB - 1) // DLNB_FB, n, c, i, t
    cdef int nt = min(openmp_threads(), N)
    wpad = np.zeros((Fb * DLNB_FB, K), dtype=np.float32)
    wpad[:F] = np.asarray(w).reshape(F, K)
    cdef const float[:, :, ::1] wt = np.ascontiguousarray(wpad.reshape(Fb, DLNB_FB, K).transpose(0, 2, 1))
    cdef const Py_ssize_t[::1] offs = ((np.arange(C)[:, None, None] * Hx + np.arange(KH)[:, None]) * ldx
                                       + np.arange(KW)).astype(np.intp).ravel()
    bufs = np.zeros((nt, C, Hx, ldx), dtype=np.float32)   # the borders stay zero; each image fills the inside
    cdef float[:, :, :, ::1] ov = out
    cdef float[:, :, :, ::1] bv = bufs
    for n in prange(N, nogil=True, schedule="static", num_threads=nt):
        t = threadid()
        for c in range(C):
            for i in range(H):
                memcpy(&bv[t, c, i + pad, pad], &x[n, c, i, 0], W * sizeof(float))
        dlnb_direct_image(&bv[t, 0, 0, 0], ldx, &offs[0], K, &wt[0, 0, 0], &b[0], &ov[n, 0, 0, 0], <int>F,
                          <int>Ho, <int>Wo)
    return out
