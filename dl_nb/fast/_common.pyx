# cython: language_level=3
"""What the compiled kernels share (hand-written; nbdev does not touch this file): the BLAS matrix product, and
the transposes of _common.pxd.

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
