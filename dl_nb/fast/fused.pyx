# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Fused kernels for the CNNs of chapters 08 and 13 (hand-written; nbdev does not touch this file).

- Spatial batch normalisation followed by a ReLU, forward and backward, in one pass per channel over an
  (N, C, H, W) batch: the statistics, the normalisation, the scale and shift and the ReLU never build an
  intermediate array, and the backward pass recomputes the normalised input from the cached input instead
  of storing it. Sums are accumulated in double precision whatever the dtype of the data.
- Spatial batch normalisation followed by a GELU (tanh form), the same way: the forward pass keeps the GELU's tanh,
  the backward pass recomputes the batch norm's output from the cached input (chapter 13's network). These passes run
  image by image (see bn_gelu_forward).
- Random crop (with reflect padding) and horizontal flip of a batch, the data augmentation of chapter 08,
  written straight into the output buffer.

The maths (and the NumPy references these kernels are checked against) is in nbs/08_cifar10_cnn.ipynb (ReLU) and
nbs/13_fast_recipe_parts.ipynb (GELU).
Channels (batch norm + ReLU) or images (batch norm + GELU) run in parallel (OpenMP); every sum is taken in an
order fixed by the shapes alone, so results do not depend on the number of threads.
"""
from cython cimport floating
from cython.parallel cimport prange
from libc.math cimport sqrt
import numpy as np
from dl_nb.fast._common import openmp_threads

cdef Py_ssize_t _PARALLEL_MIN = 1 << 16     # below this many elements one thread beats waking (and waiting for) a team


cdef int _threads(Py_ssize_t work):
    "Threads for a loop over `work` elements: the OpenMP team as it is now (threadpoolctl can limit it), one for small ones."
    return 1 if work < _PARALLEL_MIN else openmp_threads()


cdef extern from "fused.h" nogil:
    # the row kernels, for either dtype (C in _fused_rows.h); a floating scalar passed as a double is exact
    void dlnb_row_moments(const void *p, Py_ssize_t S, double k, double *s1, double *s2, size_t size)
    void dlnb_row_affine_relu(const void *p, void *o, Py_ssize_t S, double m, double a, double b, size_t size)
    void dlnb_row_grad_sums(const void *d, const void *x, const void *y, Py_ssize_t S, double k, double *sg,
                            double *sgx, size_t size)
    void dlnb_row_dx(const void *d, const void *x, const void *y, void *o, Py_ssize_t S, double m, double k,
                     double k0, double k1, size_t size)
    void dlnb_row_affine_gelu(const void *x, void *t, void *o, Py_ssize_t S, double m, double a, double b, double c,
                              double ca, size_t size)
    void dlnb_row_gelu_grad_sums(const void *d, const void *x, const void *t, void *g, Py_ssize_t S, double m,
                                 double a, double b, double c, double c3a, double *sg, double *sgx, size_t size)
    void dlnb_row_bn_dx_inplace(void *g, const void *x, Py_ssize_t S, double m, double k, double k0, double k1,
                                size_t size)


cdef inline void _row_moments(const floating *p, Py_ssize_t S, floating k, double *s1, double *s2) noexcept nogil:
    dlnb_row_moments(p, S, k, s1, s2, sizeof(floating))


cdef inline void _row_affine_relu(const floating *p, floating *o, Py_ssize_t S, floating m, floating a,
                                  floating b) noexcept nogil:
    dlnb_row_affine_relu(p, o, S, m, a, b, sizeof(floating))


cdef inline void _row_grad_sums(const floating *d, const floating *x, const floating *y, Py_ssize_t S,
                                floating k, double *sg, double *sgx) noexcept nogil:
    dlnb_row_grad_sums(d, x, y, S, k, sg, sgx, sizeof(floating))


cdef inline void _row_dx(const floating *d, const floating *x, const floating *y, floating *o, Py_ssize_t S,
                         floating m, floating k, floating k0, floating k1) noexcept nogil:
    dlnb_row_dx(d, x, y, o, S, m, k, k0, k1, sizeof(floating))


cdef inline void _channel_moments(const floating[:, :, ::1] xv, Py_ssize_t c, double eps, double *mean, double *var,
                                  double *inv_std) noexcept nogil:
    "Mean, biased variance and 1 / sqrt(var + eps) of channel c of xv (N, C, S): sums in double of the data shifted by its first value."
    cdef Py_ssize_t n, N = xv.shape[0], S = xv.shape[2]
    cdef double s1 = 0, s2 = 0, m, v, M = <double>(N * S)
    cdef floating k = xv[0, c, 0]
    for n in range(N):
        _row_moments(&xv[n, c, 0], S, k, &s1, &s2)
    _moments_from_sums(s1, s2, M, k, eps, mean, var, inv_std)


cdef inline void _moments_from_sums(double s1, double s2, double M, double k, double eps, double *mean, double *var,
                                    double *inv_std) noexcept nogil:
    "Mean, biased variance and 1 / sqrt(var + eps) from the sums of x - k and (x - k)^2 over M values."
    cdef double m = s1 / M, v = s2 / M - m * m
    if v < 0:
        v = 0
    mean[0] = m + k
    var[0] = v
    inv_std[0] = 1.0 / sqrt(v + eps)


cdef inline void _affine_coefficients(double gamma, double beta, double mean, double inv_std, floating *fm, floating *a,
                                      floating *b) noexcept nogil:
    """z = a (x - fm) + b equals gamma (x - mean) inv_std + beta, with fm the mean rounded to the data's dtype and b
    correcting for that rounding: subtracting the mean before scaling keeps the precision when |mean| >> std."""
    fm[0] = <floating>mean
    a[0] = <floating>(gamma * inv_std)
    b[0] = <floating>(beta - gamma * inv_std * (mean - fm[0]))


cdef inline void _dx_coefficients(double gamma, double mean, floating fm, double inv, double sg, double sgx, double M,
                                  bint train, floating *k, floating *k0, floating *k1) noexcept nogil:
    """dx = k g + k0 + k1 (x - fm), from sg = sum g and sgx = sum g xhat (g: the gradient at batch norm's output):
    k = gamma inv_std, and in train mode k1 = -gamma inv_std^2 sgx / M, k0 = -gamma inv_std sg / M + k1 (fm - mean)
    (the statistics of the batch), else 0 (fixed statistics)."""
    k[0] = <floating>(gamma * inv)
    if train:
        k1[0] = <floating>(-gamma * inv * inv * sgx / M)
        k0[0] = <floating>(-gamma * inv * sg / M - gamma * inv * inv * sgx / M * (fm - mean))
    else:
        k0[0] = 0
        k1[0] = 0


def _check_backward_shapes(dout, x, cached, str what):
    "ValueError unless dout and the array cached by the forward pass have the input's shape (N, C, H, W)."
    shape = tuple(x.shape)[:4]
    if tuple(dout.shape)[:4] != shape or tuple(cached.shape)[:4] != shape:
        raise ValueError(f"dout {tuple(dout.shape)[:4]} and the cached {what} {tuple(cached.shape)[:4]} must have "
                         f"the input's shape {shape}")


def _gradients_like(x, dtype):
    "Uninitialised dx (the shape of x) and dgamma, dbeta (C,), in dtype."
    C = x.shape[1]
    return np.empty(tuple(x.shape)[:4], dtype=dtype), np.empty(C, dtype=dtype), np.empty(C, dtype=dtype)


def bn_relu_forward_train(const floating[:, :, :, ::1] x, const floating[::1] gamma, const floating[::1] beta,
                          double eps):
    """Batch statistics per channel, then out = max(0, gamma * (x - mean) / sqrt(var + eps) + beta).

    Returns out (N, C, H, W) in the dtype of x, and the per-channel batch mean and (biased) variance and
    1 / sqrt(var + eps), as float64 arrays of shape (C,). A NaN stays NaN through the ReLU (as np.maximum keeps it),
    so a channel holding a NaN or inf comes out NaN, as in the NumPy reference. The variance is computed from data shifted by one of
    the channel's own values, which avoids the cancellation of E[x^2] - E[x]^2 when the mean is large."""
    cdef Py_ssize_t N = x.shape[0], C = x.shape[1], S = x.shape[2] * x.shape[3], n, c
    if gamma.shape[0] != C or beta.shape[0] != C:
        raise ValueError(f"gamma and beta must have shape ({C},), got ({gamma.shape[0]},) and ({beta.shape[0]},)")
    if N * S == 0:
        raise ValueError("empty batch")
    if not eps > 0:
        raise ValueError(f"eps must be > 0, got {eps}")
    dtype = np.float32 if floating is float else np.float64
    out = np.empty((N, C, x.shape[2], x.shape[3]), dtype=dtype)
    mean_a, var_a, inv_a = np.empty(C), np.empty(C), np.empty(C)
    cdef floating[:, :, ::1] ov = out.reshape(N, C, S)
    cdef const floating[:, :, ::1] xv = np.asarray(x).reshape(N, C, S)
    cdef double[::1] mv = mean_a, vv = var_a, iv = inv_a
    cdef floating a, b, fm
    cdef int nt = _threads(N * C * S)
    for c in prange(C, nogil=True, schedule="static", num_threads=nt):
        _channel_moments(xv, c, eps, &mv[c], &vv[c], &iv[c])
        _affine_coefficients(gamma[c], beta[c], mv[c], iv[c], &fm, &a, &b)   # out = max(0, a * (x - fm) + b)
        for n in range(N):
            _row_affine_relu(&xv[n, c, 0], &ov[n, c, 0], S, fm, a, b)
    return out, mean_a, var_a, inv_a


def bn_relu_forward_test(const floating[:, :, :, ::1] x, const floating[::1] gamma, const floating[::1] beta,
                         const double[::1] mean, const double[::1] inv_std):
    """out = max(0, gamma * (x - mean) * inv_std + beta) with given per-channel mean and inv_std (test mode)."""
    cdef Py_ssize_t N = x.shape[0], C = x.shape[1], S = x.shape[2] * x.shape[3], n, c
    if gamma.shape[0] != C or beta.shape[0] != C or mean.shape[0] != C or inv_std.shape[0] != C:
        raise ValueError(f"gamma, beta, mean and inv_std must have shape ({C},)")
    dtype = np.float32 if floating is float else np.float64
    out = np.empty((N, C, x.shape[2], x.shape[3]), dtype=dtype)
    cdef floating[:, :, ::1] ov = out.reshape(N, C, S)
    cdef const floating[:, :, ::1] xv = np.asarray(x).reshape(N, C, S)
    cdef floating a, b, fm
    cdef int nt = _threads(N * C * S)
    for c in prange(C, nogil=True, schedule="static", num_threads=nt):
        _affine_coefficients(gamma[c], beta[c], mean[c], inv_std[c], &fm, &a, &b)
        for n in range(N):
            _row_affine_relu(&xv[n, c, 0], &ov[n, c, 0], S, fm, a, b)
    return out


def bn_relu_backward(const floating[:, :, :, ::1] dout, const floating[:, :, :, ::1] x,
                     const floating[:, :, :, ::1] out, const floating[::1] gamma,
                     const double[::1] mean, const double[::1] inv_std, bint train):
    """Backward pass of the fused layer. g = dout * (out > 0) is the gradient at the batch-norm output; with
    xhat = (x - mean) * inv_std, dbeta = sum g, dgamma = sum g * xhat, and dx is
    gamma * inv_std * (g - dbeta / M - xhat * dgamma / M) in train mode (statistics of the batch),
    gamma * inv_std * g in test mode (fixed statistics). Returns dx, dgamma, dbeta in the dtype of x."""
    cdef Py_ssize_t N = x.shape[0], C = x.shape[1], S = x.shape[2] * x.shape[3], n, c
    _check_backward_shapes(dout, x, out, 'output')
    if gamma.shape[0] != C or mean.shape[0] != C or inv_std.shape[0] != C:
        raise ValueError(f"gamma, mean and inv_std must have shape ({C},)")
    dtype = np.float32 if floating is float else np.float64
    dx, dg_a, db_a = _gradients_like(x, dtype)
    cdef floating[:, :, ::1] dxv = dx.reshape(N, C, S)
    cdef const floating[:, :, ::1] dv = np.asarray(dout).reshape(N, C, S)
    cdef const floating[:, :, ::1] xv = np.asarray(x).reshape(N, C, S)
    cdef const floating[:, :, ::1] yv = np.asarray(out).reshape(N, C, S)
    cdef floating[::1] dgv = dg_a, dbv = db_a
    cdef double sg, sgx, m, inv, M = <double>(N * S)
    cdef floating k, k0, k1, fm
    cdef int nt = _threads(N * C * S)
    for c in prange(C, nogil=True, schedule="static", num_threads=nt):
        m = mean[c]
        inv = inv_std[c]
        fm = <floating>m
        sg = 0
        sgx = 0
        for n in range(N):
            _row_grad_sums(&dv[n, c, 0], &xv[n, c, 0], &yv[n, c, 0], S, fm, &sg, &sgx)
        sgx = (sgx + sg * (fm - m)) * inv               # sum g * xhat (the shift by the rounded mean corrected)
        dbv[c] = <floating>sg
        dgv[c] = <floating>sgx
        _dx_coefficients(gamma[c], m, fm, inv, sg, sgx, M, train, &k, &k0, &k1)
        for n in range(N):
            _row_dx(&dv[n, c, 0], &xv[n, c, 0], &yv[n, c, 0], &dxv[n, c, 0], S, fm, k, k0, k1)
    return dx, dg_a, db_a


cdef Py_ssize_t _CHUNK_IMAGES = 8    # batch norm + GELU: images per block of partial sums (fixed: results do not depend on threads)


def bn_gelu_forward(const floating[:, :, :, ::1] x, const floating[::1] gamma, const floating[::1] beta, double eps,
                    mean, inv_std, double c, double ca):
    """out = GELU(z), z = gamma * (x - mean) * inv_std + beta, GELU(z) = 0.5 z (1 + tanh((z^2 ca + c) z)).

    With mean and inv_std None (train mode) the statistics are the batch's, per channel; else they are the given
    float64 arrays of shape (C,) (test mode). Returns out and the tanh t (N, C, H, W) in the dtype of x, and the
    float64 (C,) mean, variance (None in test mode) and inv_std. c = sqrt(2/pi), ca = 0.044715 c.

    The passes run image by image, so that memory is read in order (a channel's rows lie N times C*H*W apart): the
    statistics as partial sums over fixed blocks of _CHUNK_IMAGES images (in parallel), added block by block in order;
    then the normalisation and the GELU, images in parallel."""
    cdef Py_ssize_t N = x.shape[0], C = x.shape[1], S = x.shape[2] * x.shape[3], n, ch, blk, lo, hi
    if gamma.shape[0] != C or beta.shape[0] != C:
        raise ValueError(f"gamma and beta must have shape ({C},), got ({gamma.shape[0]},) and ({beta.shape[0]},)")
    if N * S == 0:
        raise ValueError("empty batch")
    cdef bint train = mean is None
    if train:
        if not eps > 0:
            raise ValueError(f"eps must be > 0, got {eps}")
        mean_a, var_a, inv_a = np.empty(C), np.empty(C), np.empty(C)
    else:
        mean_a, var_a, inv_a = np.ascontiguousarray(mean, np.float64), None, np.ascontiguousarray(inv_std, np.float64)
        if mean_a.shape != (C,) or inv_a.shape != (C,):
            raise ValueError(f"mean and inv_std must have shape ({C},), got {mean_a.shape} and {inv_a.shape}")
    dtype = np.float32 if floating is float else np.float64
    out = np.empty((N, C, x.shape[2], x.shape[3]), dtype=dtype)
    t = np.empty_like(out)
    cdef floating[:, :, ::1] ov = out.reshape(N, C, S), tv = t.reshape(N, C, S)
    cdef const floating[:, :, ::1] xv = np.asarray(x).reshape(N, C, S)
    cdef double[::1] mv = mean_a, iv = inv_a
    cdef Py_ssize_t nblk = (N + _CHUNK_IMAGES - 1) // _CHUNK_IMAGES
    cdef double[:, ::1] p1, p2
    cdef double[::1] vv
    cdef double s1, s2, M = <double>(N * S)
    coef = np.empty((3, C), dtype=dtype)                 # per channel: the rounded mean fm, a and b of z = a (x - fm) + b
    cdef floating[:, ::1] cf = coef
    cdef int nt = _threads(N * C * S)
    if train:   # sums of x - k per channel (k: the channel's first value), in double, per block of images
        p1, p2, vv = np.zeros((nblk, C)), np.zeros((nblk, C)), var_a
        for ch in range(C):
            cf[0, ch] = xv[0, ch, 0]
        for blk in prange(nblk, nogil=True, schedule="static", num_threads=nt):
            lo = blk * _CHUNK_IMAGES
            hi = min(lo + _CHUNK_IMAGES, N)
            for n in range(lo, hi):
                for ch in range(C):
                    _row_moments(&xv[n, ch, 0], S, cf[0, ch], &p1[blk, ch], &p2[blk, ch])
        for ch in range(C):
            s1 = 0
            s2 = 0
            for blk in range(nblk):
                s1 = s1 + p1[blk, ch]
                s2 = s2 + p2[blk, ch]
            _moments_from_sums(s1, s2, M, cf[0, ch], eps, &mv[ch], &vv[ch], &iv[ch])
    for ch in range(C):   # z = a (x - fm) + b
        _affine_coefficients(gamma[ch], beta[ch], mv[ch], iv[ch], &cf[0, ch], &cf[1, ch], &cf[2, ch])
    for n in prange(N, nogil=True, schedule="static", num_threads=nt):
        for ch in range(C):
            dlnb_row_affine_gelu(&xv[n, ch, 0], &tv[n, ch, 0], &ov[n, ch, 0], S, cf[0, ch], cf[1, ch], cf[2, ch], c, ca,
                                 sizeof(floating))
    return out, t, mean_a, var_a, inv_a


def bn_gelu_backward(const floating[:, :, :, ::1] dout, const floating[:, :, :, ::1] x, const floating[:, :, :, ::1] t,
                     const floating[::1] gamma, const floating[::1] beta, const double[::1] mean,
                     const double[::1] inv_std, bint train, double c, double c3a):
    """Backward pass of bn_gelu_forward. g = dout * GELU'(z) is the gradient at the batch-norm output (z recomputed
    from x, the tanh t from the forward pass; c3a = 3 * 0.044715 c); dbeta = sum g, dgamma = sum g xhat, and dx is
    gamma inv_std (g - dbeta / M - xhat dgamma / M) in train mode, gamma inv_std g in test mode. Two passes, image by
    image as in the forward pass: g and its partial sums per block of images (g written into dx's buffer), then dx
    from g in place. Returns dx, dgamma, dbeta in the dtype of x."""
    cdef Py_ssize_t N = x.shape[0], C = x.shape[1], S = x.shape[2] * x.shape[3], n, ch, blk, lo, hi
    _check_backward_shapes(dout, x, t, 'tanh')
    if gamma.shape[0] != C or beta.shape[0] != C or mean.shape[0] != C or inv_std.shape[0] != C:
        raise ValueError(f"gamma, beta, mean and inv_std must have shape ({C},)")
    dtype = np.float32 if floating is float else np.float64
    dx, dg_a, db_a = _gradients_like(x, dtype)
    cdef floating[:, :, ::1] dxv = dx.reshape(N, C, S)
    cdef const floating[:, :, ::1] dv = np.asarray(dout).reshape(N, C, S)
    cdef const floating[:, :, ::1] xv = np.asarray(x).reshape(N, C, S)
    cdef const floating[:, :, ::1] tv = np.asarray(t).reshape(N, C, S)
    cdef floating[::1] dgv = dg_a, dbv = db_a
    cdef Py_ssize_t nblk = (N + _CHUNK_IMAGES - 1) // _CHUNK_IMAGES
    cdef double[:, ::1] p1 = np.zeros((nblk, C)), p2 = np.zeros((nblk, C))
    cdef double sg, sgx, M = <double>(N * S)
    coef = np.empty((6, C), dtype=dtype)                 # per channel: fm, a, b of z; k, k0, k1 of dx
    cdef floating[:, ::1] cf = coef
    cdef int nt = _threads(N * C * S)
    for ch in range(C):
        _affine_coefficients(gamma[ch], beta[ch], mean[ch], inv_std[ch], &cf[0, ch], &cf[1, ch], &cf[2, ch])
    for blk in prange(nblk, nogil=True, schedule="static", num_threads=nt):
        lo = blk * _CHUNK_IMAGES
        hi = min(lo + _CHUNK_IMAGES, N)
        for n in range(lo, hi):
            for ch in range(C):
                dlnb_row_gelu_grad_sums(&dv[n, ch, 0], &xv[n, ch, 0], &tv[n, ch, 0], &dxv[n, ch, 0], S, cf[0, ch],
                                        cf[1, ch], cf[2, ch], c, c3a, &p1[blk, ch], &p2[blk, ch], sizeof(floating))
    for ch in range(C):
        sg = 0
        sgx = 0
        for blk in range(nblk):
            sg = sg + p1[blk, ch]
            sgx = sgx + p2[blk, ch]
        sgx = (sgx + sg * (cf[0, ch] - mean[ch])) * inv_std[ch]   # sum g * xhat (the shift by the rounded mean corrected)
        dbv[ch] = <floating>sg
        dgv[ch] = <floating>sgx
        _dx_coefficients(gamma[ch], mean[ch], cf[0, ch], inv_std[ch], sg, sgx, M, train, &cf[3, ch], &cf[4, ch], &cf[5, ch])
    for n in prange(N, nogil=True, schedule="static", num_threads=nt):
        for ch in range(C):
            dlnb_row_bn_dx_inplace(&dxv[n, ch, 0], &xv[n, ch, 0], S, cf[0, ch], cf[3, ch], cf[4, ch], cf[5, ch],
                                   sizeof(floating))
    return dx, dg_a, db_a


def crop_flip(const floating[:, :, :, ::1] x, const int[::1] dy, const int[::1] dx, const unsigned char[::1] flip,
              Py_ssize_t pad):
    """out[n] = the H x W window at offset (dy[n], dx[n]) of x[n] reflect-padded by `pad`, mirrored left-right
    where flip[n]. Offsets lie in [0, 2 * pad]; reflection does not repeat the edge pixel (as np.pad 'reflect')."""
    cdef Py_ssize_t N = x.shape[0], C = x.shape[1], H = x.shape[2], W = x.shape[3], n, c, i, j, si, sj
    if dy.shape[0] != N or dx.shape[0] != N or flip.shape[0] != N:
        raise ValueError(f"need one offset pair and one flip flag per image ({N}), got {dy.shape[0]}, "
                         f"{dx.shape[0]} and {flip.shape[0]}")
    if pad < 0 or pad >= H or pad >= W:
        raise ValueError(f"pad must be in [0, {min(H, W) - 1}] for {H}x{W} images, got {pad}")
    for n in range(N):
        if dy[n] < 0 or dy[n] > 2 * pad or dx[n] < 0 or dx[n] > 2 * pad:
            raise ValueError(f"offsets must lie in [0, {2 * pad}], got ({dy[n]}, {dx[n]}) for image {n}")
    dtype = np.float32 if floating is float else np.float64
    out = np.empty((N, C, H, W), dtype=dtype)
    cdef floating[:, :, :, ::1] ov = out
    cdef int nt = _threads(N * C * H * W)
    for n in prange(N, nogil=True, schedule="static", num_threads=nt):
        for c in range(C):
            for i in range(H):
                si = i + dy[n] - pad
                if si < 0:
                    si = -si
                elif si >= H:
                    si = 2 * H - 2 - si
                for j in range(W):
                    sj = (W - 1 - j if flip[n] else j) + dx[n] - pad
                    if sj < 0:
                        sj = -sj
                    elif sj >= W:
                        sj = 2 * W - 2 - sj
                    ov[n, c, i, j] = x[n, c, si, sj]
    return out
