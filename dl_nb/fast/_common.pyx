# cython: language_level=3
"""What the compiled kernels share (hand-written; nbdev does not touch this file): the BLAS matrix product, the
transposes of _common.pxd (C in _common.h), the OpenMP team size, and the output-size check of every window.

The products go to the BLAS that SciPy ships, through the function pointers SciPy exports for Cython
(scipy.linalg.cython_blas); we look them up when this module is imported, so SciPy is a run-time
dependency only (it is already one of scikit-learn's). Fortran BLAS is column-major: a row-major product
C = op(A) @ op(B) is the column-major product C^T = op(B)^T @ op(A)^T, which is what the wrappers below do.
Other kernel modules use them with `from dl_nb.fast._common cimport gemm` (see _common.pxd); the BLAS keeps
whatever configuration the user gave it (threads, kernels).
"""
from cpython.pycapsule cimport PyCapsule_GetPointer, PyCapsule_GetName

ctypedef void (*sgemm_ptr)(char *transa, char *transb, int *m, int *n, int *k, float *alpha, float *a, int *lda,
                           float *b, int *ldb, float *beta, float *c, int *ldc) noexcept nogil
ctypedef void (*dgemm_ptr)(char *transa, char *transb, int *m, int *n, int *k, double *alpha, double *a, int *lda,
                           double *b, int *ldb, double *beta, double *c, int *ldc) noexcept nogil

cdef sgemm_ptr _sgemm_f = NULL
cdef dgemm_ptr _dgemm_f = NULL


def _load_blas():
    global _sgemm_f, _dgemm_f
    from scipy.linalg import cython_blas
    cap = cython_blas.__pyx_capi__["sgemm"]
    _sgemm_f = <sgemm_ptr>PyCapsule_GetPointer(cap, PyCapsule_GetName(cap))
    cap = cython_blas.__pyx_capi__["dgemm"]
    _dgemm_f = <dgemm_ptr>PyCapsule_GetPointer(cap, PyCapsule_GetName(cap))

_load_blas()


cdef void sgemm_rm(bint ta, bint tb, int M, int N, int K, float alpha, const float *A, int lda,
                   const float *B, int ldb, float beta, float *C, int ldc) noexcept nogil:
    cdef char ca = b'T' if ta else b'N'
    cdef char cb = b'T' if tb else b'N'
    _sgemm_f(&cb, &ca, &N, &M, &K, &alpha, <float *>B, &ldb, <float *>A, &lda, &beta, C, &ldc)


cdef void dgemm_rm(bint ta, bint tb, int M, int N, int K, double alpha, const double *A, int lda,
                   const double *B, int ldb, double beta, double *C, int ldc) noexcept nogil:
    cdef char ca = b'T' if ta else b'N'
    cdef char cb = b'T' if tb else b'N'
    _dgemm_f(&cb, &ca, &N, &M, &K, &alpha, <double *>B, &ldb, <double *>A, &lda, &beta, C, &ldc)


def openmp_threads():
    """Number of threads a `prange` loop in these kernels gets now (1 when built without OpenMP).

    The OpenMP team size: OMP_NUM_THREADS when the process starts, then whatever omp_set_num_threads sets (for example
    threadpoolctl's `threadpool_limits`). Asked of the OpenMP runtime on each call, which costs no parallel region.
    """
    return dlnb_max_threads()


def _out_size(Py_ssize_t size, Py_ssize_t k, Py_ssize_t pad, Py_ssize_t stride, str what):
    "Output length of a window of length k sliding with `stride` over `size` inputs padded by `pad` on both sides."
    if k <= 0 or stride <= 0 or pad < 0:
        raise ValueError(f"need kernel size > 0, stride > 0 and pad >= 0, got {what}={k}, stride={stride}, pad={pad}")
    if size + 2 * pad < k:
        raise ValueError(f"window of {what}={k} does not fit an input of size {size} with pad={pad}")
    return (size + 2 * pad - k) // stride + 1
