# The BLAS matrix product shared by the compiled kernels (hand-written; see _gemm.pyx).
from cython cimport floating

cdef void sgemm_rm(bint ta, bint tb, int M, int N, int K, float alpha, const float *A, int lda,
                   const float *B, int ldb, float beta, float *C, int ldc) noexcept nogil
cdef void dgemm_rm(bint ta, bint tb, int M, int N, int K, double alpha, const double *A, int lda,
                   const double *B, int ldb, double beta, double *C, int ldc) noexcept nogil


cdef inline void gemm(bint ta, bint tb, int M, int N, int K, floating alpha, const floating *A, int lda,
                      const floating *B, int ldb, floating beta, floating *C, int ldc) noexcept nogil:
    """Row-major C (M, N) = alpha * op(A) @ op(B) + beta * C, with op(A) (M, K) and op(B) (K, N)."""
    if floating is float:
        sgemm_rm(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc)
    else:
        dgemm_rm(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc)
