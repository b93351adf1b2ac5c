# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Fused kernels for the Transformer of chapters 11 and 12 (hand-written; nbdev does not touch this file).

Each of these passes is a handful of NumPy operations in the reference, every one a pass over memory with a
temporary array; here each is one pass (C in _transformer_rows.h, vectorised):

- GELU (tanh approximation) forward and backward, element-wise;
- the softmax over the last axis of a (B, R, K) array, with the attention's scale folded in and an optional (R, K)
  boolean mask shared by the B problems, forward and backward;
- layer normalisation over the rows of an (M, D) array, forward and backward.

They follow the NumPy reference of nbs/11_attention.ipynb operation for operation (dl_nb.attention dispatches to
them and chapter 11 checks both against each other), so float64 results agree to rounding and float32 results to a
few units in the last place (in float the tanh and the exponential are polynomial approximations, vectorised inside
the passes, within a few units in the last place of the exact functions; in double they are libm's). Rows run in parallel (OpenMP); each row, and each column sum, is reduced in a fixed order whatever the
number of threads, so results do not depend on it.
"""
from cython cimport floating
from cython.parallel cimport prange
import numpy as np
from dl_nb.fast._common import openmp_threads

cdef Py_ssize_t _PARALLEL_MIN = 1 << 16     # below this many elements one thread beats waking (and waiting for) a team
cdef Py_ssize_t _CHUNK = 1 << 12            # elements per parallel chunk of the element-wise loops
cdef int _COLUMN_PARTS = 8                  # layer norm's column sums: this many partial sums, added in order


cdef int _threads(Py_ssize_t work):
    "Threads for a loop over `work` elements: the OpenMP team as it is now (threadpoolctl can limit it), one for small ones."
    return 1 if work < _PARALLEL_MIN else openmp_threads()


cdef extern from "transformer.h" nogil:
    void dlnb_gelu_fused(const void *x, void *t, void *out, Py_ssize_t n, double c, double ca, size_t size)
    void dlnb_gelu_bwd(const void *d, const void *x, const void *t, void *dx, Py_ssize_t n, double c, double c3a,
                       size_t size)
    int dlnb_softmax_shift_row(const void *s, const unsigned char *keep, Py_ssize_t koff, void *p, Py_ssize_t K,
                               double scale, size_t size)
    void dlnb_exp_normalize_row(void *p, Py_ssize_t K, size_t size)
    void dlnb_softmax_bwd_row(const void *d, const void *p, void *dx, Py_ssize_t K, double scale, size_t size)
    double dlnb_layernorm_row(const void *x, const void *g, const void *b, void *xhat, void *out, Py_ssize_t D,
                              double eps, size_t size)
    void dlnb_layernorm_bwd_row(const void *d, const void *xhat, double std, const void *g, void *dx, Py_ssize_t D,
                                double *sg, double *sb, size_t size)


def gelu_forward(const floating[::1] x, double c, double ca):
    """out = 0.5 x (1 + t) with t = tanh((x^2 ca + c) x), over a flat array (c = sqrt(2/pi), ca = c * 0.044715).
    Returns out and t, flat, in the dtype of x; one pass."""
    cdef Py_ssize_t n = x.shape[0], i, lo, hi
    dtype = np.float32 if floating is float else np.float64
    out_a, t_a = np.empty(n, dtype=dtype), np.empty(n, dtype=dtype)
    cdef floating[::1] ov = out_a, tv = t_a
    if n == 0:
        return out_a, t_a
    cdef Py_ssize_t nchunks = (n + _CHUNK - 1) // _CHUNK
    cdef int nt = _threads(n)
    for i in prange(nchunks, nogil=True, schedule="static", num_threads=nt):
        lo = i * _CHUNK
        hi = min(lo + _CHUNK, n)
        dlnb_gelu_fused(&x[lo], &tv[lo], &ov[lo], hi - lo, c, ca, sizeof(floating))
    return out_a, t_a


def gelu_backward(const floating[::1] dout, const floating[::1] x, const floating[::1] t, double c, double c3a):
    """dx = dout (0.5 (1 + t) + 0.5 x (1 - t^2)(x^2 c3a + c)), flat (c3a = 3 * 0.044715 * c)."""
    cdef Py_ssize_t n = x.shape[0], i, lo, hi
    if dout.shape[0] != n or t.shape[0] != n:
        raise ValueError(f"gelu_backward: dout, x and t must have the same size, got {dout.shape[0]}, {n}, {t.shape[0]}")
    dtype = np.float32 if floating is float else np.float64
    dx_a = np.empty(n, dtype=dtype)
    cdef floating[::1] dv = dx_a
    if n == 0:
        return dx_a
    cdef Py_ssize_t nchunks = (n + _CHUNK - 1) // _CHUNK
    cdef int nt = _threads(n)
    for i in prange(nchunks, nogil=True, schedule="static", num_threads=nt):
        lo = i * _CHUNK
        hi = min(lo + _CHUNK, n)
        dlnb_gelu_bwd(&dout[lo], &x[lo], &t[lo], &dv[lo], hi - lo, c, c3a, sizeof(floating))
    return dx_a


def softmax_forward(const floating[:, :, ::1] s, keep, double scale, floating[:, :, ::1] out):
    """out[b, r] = softmax(scale * s[b, r]) over the entries where keep[r] (keep: None, or (R, K) uint8 shared by every
    b); masked entries 0, a row keeping nothing all zeros. `out` may be `s` (in place). Raises ValueError if a kept
    score is NaN or +inf."""
    cdef Py_ssize_t B = s.shape[0], R = s.shape[1], K = s.shape[2], b, r, i
    if out.shape[0] != B or out.shape[1] != R or out.shape[2] != K:
        raise ValueError(f"softmax_forward: out {tuple(out.shape)[:3]} must have the shape of s {tuple(s.shape)[:3]}")
    cdef const unsigned char[:, ::1] kv
    cdef const unsigned char *kp = NULL
    if keep is not None:
        kv = keep
        if kv.shape[0] != R or kv.shape[1] != K:
            raise ValueError(f"softmax_forward: the mask must have shape ({R}, {K}), got {tuple(kv.shape)[:2]}")
        if R * K:
            kp = &kv[0, 0]
    cdef int bad = 0
    if B * R * K == 0:
        return
    cdef int nt = _threads(B * R * K)
    for i in prange(B * R, nogil=True, schedule="static", num_threads=nt):
        b = i // R
        r = i - b * R
        bad += dlnb_softmax_shift_row(&s[b, r, 0], kp, r * K, &out[b, r, 0], K, scale, sizeof(floating))
    if bad:
        raise ValueError("softmax_forward: x contains NaN or +inf among the kept scores; they must be finite or -inf")
    for i in prange(B * R, nogil=True, schedule="static", num_threads=nt):
        b = i // R
        r = i - b * R
        dlnb_exp_normalize_row(&out[b, r, 0], K, sizeof(floating))


def softmax_backward(const floating[:, :, ::1] dout, const floating[:, :, ::1] p, double scale,
                     floating[:, :, ::1] out):
    """out = scale * p * (dout - sum(dout * p)) over the last axis; `out` may be `dout` (in place)."""
    cdef Py_ssize_t B = p.shape[0], R = p.shape[1], K = p.shape[2], b, r, i
    if (dout.shape[0] != B or dout.shape[1] != R or dout.shape[2] != K or out.shape[0] != B or out.shape[1] != R
            or out.shape[2] != K):
        raise ValueError(f"softmax_backward: dout {tuple(dout.shape)[:3]} and out {tuple(out.shape)[:3]} must have "
                         f"the shape of p {tuple(p.shape)[:3]}")
    cdef int nt = _threads(B * R * K)
    for i in prange(B * R, nogil=True, schedule="static", num_threads=nt):
        b = i // R
        r = i - b * R
        dlnb_softmax_bwd_row(&dout[b, r, 0], &p[b, r, 0], &out[b, r, 0], K, scale, sizeof(floating))


def layernorm_forward(const floating[:, ::1] x, const floating[::1] gamma, const floating[::1] beta, double eps):
    """Layer normalisation of the rows of x (M, D): returns out (M, D), xhat (M, D) and std (M, 1), dtype of x."""
    cdef Py_ssize_t M = x.shape[0], D = x.shape[1], m
    if gamma.shape[0] != D or beta.shape[0] != D:
        raise ValueError(f"layernorm_forward: gamma and beta must have shape ({D},), got ({gamma.shape[0]},) and "
                         f"({beta.shape[0]},)")
    if D == 0:
        raise ValueError("layernorm_forward: rows of zero features")
    dtype = np.float32 if floating is float else np.float64
    out_a, xhat_a, std_a = np.empty((M, D), dtype=dtype), np.empty((M, D), dtype=dtype), np.empty((M, 1), dtype=dtype)
    cdef floating[:, ::1] ov = out_a, hv = xhat_a, sv = std_a
    cdef int nt = _threads(M * D)
    for m in prange(M, nogil=True, schedule="static", num_threads=nt):
        sv[m, 0] = <floating>dlnb_layernorm_row(&x[m, 0], &gamma[0], &beta[0], &hv[m, 0], &ov[m, 0], D, eps,
                                                sizeof(floating))
    return out_a, xhat_a, std_a


def layernorm_backward(const floating[:, ::1] dout, const floating[:, ::1] xhat, const floating[:, ::1] std,
                       const floating[::1] gamma):
    """Backward pass of layernorm_forward: dx (M, D), dgamma (D,), dbeta (D,) in the dtype of x; the column sums are
    accumulated in double, in _COLUMN_PARTS fixed runs of rows added in order."""
    cdef Py_ssize_t M = xhat.shape[0], D = xhat.shape[1], m, part, lo, hi, j
    if (dout.shape[0] != M or dout.shape[1] != D or std.shape[0] != M or std.shape[1] != 1 or gamma.shape[0] != D):
        raise ValueError(f"layernorm_backward: dout {tuple(dout.shape)[:2]}, std {tuple(std.shape)[:2]} and gamma "
                         f"({gamma.shape[0]},) do not match xhat {tuple(xhat.shape)[:2]}")
    dtype = np.float32 if floating is float else np.float64
    dx_a = np.empty((M, D), dtype=dtype)
    sums = np.zeros((_COLUMN_PARTS, 2, D))
    cdef floating[:, ::1] dxv = dx_a
    cdef double[:, :, ::1] sm = sums
    cdef Py_ssize_t per = (M + _COLUMN_PARTS - 1) // _COLUMN_PARTS
    if D == 0:
        return dx_a, np.zeros(0, dtype=dtype), np.zeros(0, dtype=dtype)
    cdef int nt = _threads(M * D)
    for part in prange(_COLUMN_PARTS, nogil=True, schedule="static", num_threads=nt):
        lo = part * per
        hi = min(lo + per, M)
        for m in range(lo, hi):
            dlnb_layernorm_bwd_row(&dout[m, 0], &xhat[m, 0], std[m, 0], &gamma[0], &dxv[m, 0], D,
                                   &sm[part, 0, 0], &sm[part, 1, 0], sizeof(floating))
    total = sums[0].copy()
    for j in range(1, _COLUMN_PARTS):
        total += sums[j]
    return dx_a, total[0].astype(dtype), total[1].astype(dtype)
