# What the compiled kernels share (hand-written; see _common.pyx and _common.h): the BLAS matrix product, the
# transposes, the per-channel sums of an image, the OpenMP team size.
from cython cimport floating

cdef extern from "_common.h" nogil:
    int dlnb_max_threads()
    void dlnb_transpose(const void *src, Py_ssize_t lds, void *dst, Py_ssize_t ldd, Py_ssize_t rows, Py_ssize_t cols,
                        const void *bias, int dst_rows, size_t size)
    void dlnb_plane_sums(const void *src, Py_ssize_t planes, Py_ssize_t size, double *out, size_t itemsize)

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


cdef inline void transpose(const floating *src, Py_ssize_t lds, floating *dst, Py_ssize_t ldd, Py_ssize_t rows,
                           Py_ssize_t cols, bint dst_rows, const floating *bias=NULL) noexcept nogil:
    # dst[j*ldd + i] = src[i*lds + j] (+ bias[j]) for i < rows, j < cols (dst_rows: see _transpose.h)
    dlnb_transpose(src, lds, dst, ldd, rows, cols, bias, dst_rows, sizeof(floating))


cdef inline void plane_sums(const floating *src, Py_ssize_t planes, Py_ssize_t size, double *out) noexcept nogil:
    # out[f] = sum of src[f*size : (f+1)*size] in double, f < planes, in a fixed order (_plane_sums.h)
    dlnb_plane_sums(src, planes, size, out, sizeof(floating))
