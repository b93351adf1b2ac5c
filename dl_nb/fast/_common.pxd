# What the compiled kernels share (hand-written; see _common.pyx): the BLAS matrix product, and transposes.
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


cdef extern from *:
    """
    /* dst[j*ldd + i] = src[i*lds + j] (+ bias[j] unless bias is NULL), for i < rows, j < cols: the transposes between
       NCHW and channels-innermost, in 4 x 4 (float) or 2 x 2 (double) blocks held in SSE registers where available.
       The blocks are visited along the rows of dst when dst_rows is true (so that a far, large dst is written a few
       rows at a time), along the rows of src otherwise (so that a far src is read a few rows at a time). */
    #if defined(__SSE2__)
    #include <emmintrin.h>
    #endif
    static inline void tblock_f(const float *src, ptrdiff_t lds, float *dst, ptrdiff_t ldd, const float *bias) {
    #if defined(__SSE2__)
        __m128 r0 = _mm_loadu_ps(src), r1 = _mm_loadu_ps(src + lds);
        __m128 r2 = _mm_loadu_ps(src + 2 * lds), r3 = _mm_loadu_ps(src + 3 * lds);
        _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
        if (bias) {
            r0 = _mm_add_ps(r0, _mm_set1_ps(bias[0]));
            r1 = _mm_add_ps(r1, _mm_set1_ps(bias[1]));
            r2 = _mm_add_ps(r2, _mm_set1_ps(bias[2]));
            r3 = _mm_add_ps(r3, _mm_set1_ps(bias[3]));
        }
        _mm_storeu_ps(dst, r0);
        _mm_storeu_ps(dst + ldd, r1);
        _mm_storeu_ps(dst + 2 * ldd, r2);
        _mm_storeu_ps(dst + 3 * ldd, r3);
    #else
        for (int j = 0; j < 4; j++)
            for (int i = 0; i < 4; i++) dst[j * ldd + i] = src[i * lds + j] + (bias ? bias[j] : 0.0f);
    #endif
    }
    static inline void tblock_d(const double *src, ptrdiff_t lds, double *dst, ptrdiff_t ldd, const double *bias) {
    #if defined(__SSE2__)
        __m128d r0 = _mm_loadu_pd(src), r1 = _mm_loadu_pd(src + lds);
        __m128d c0 = _mm_unpacklo_pd(r0, r1), c1 = _mm_unpackhi_pd(r0, r1);
        if (bias) {
            c0 = _mm_add_pd(c0, _mm_set1_pd(bias[0]));
            c1 = _mm_add_pd(c1, _mm_set1_pd(bias[1]));
        }
        _mm_storeu_pd(dst, c0);
        _mm_storeu_pd(dst + ldd, c1);
    #else
        for (int j = 0; j < 2; j++)
            for (int i = 0; i < 2; i++) dst[j * ldd + i] = src[i * lds + j] + (bias ? bias[j] : 0.0);
    #endif
    }
    #define DL_NB_TRANSPOSE(T, S, B)                                                                                  \
    static void transpose_##S(const T *src, ptrdiff_t lds, T *dst, ptrdiff_t ldd, ptrdiff_t rows, ptrdiff_t cols,    \
                              const T *bias, int dst_rows) {                                                          \
        ptrdiff_t rb = rows - rows % B, cb = cols - cols % B, i, j;                                                   \
        if (dst_rows) {                                                                                               \
            for (j = 0; j < cb; j += B)                                                                               \
                for (i = 0; i < rb; i += B) tblock_##S(src + i * lds + j, lds, dst + j * ldd + i, ldd, bias ? bias + j : 0);\
        } else {                                                                                                      \
            for (i = 0; i < rb; i += B)                                                                               \
                for (j = 0; j < cb; j += B) tblock_##S(src + i * lds + j, lds, dst + j * ldd + i, ldd, bias ? bias + j : 0);\
        }                                                                                                             \
        for (i = rb; i < rows; i++)                     /* the edges */                                               \
            for (j = 0; j < cols; j++) dst[j * ldd + i] = src[i * lds + j] + (bias ? bias[j] : (T)0);                 \
        for (i = 0; i < rb; i++)                                                                                      \
            for (j = cb; j < cols; j++) dst[j * ldd + i] = src[i * lds + j] + (bias ? bias[j] : (T)0);                \
    }
    DL_NB_TRANSPOSE(float, f, 4)
    DL_NB_TRANSPOSE(double, d, 2)
    """
    void transpose_f(const float *src, Py_ssize_t lds, float *dst, Py_ssize_t ldd, Py_ssize_t rows, Py_ssize_t cols,
                     const float *bias, int dst_rows) nogil
    void transpose_d(const double *src, Py_ssize_t lds, double *dst, Py_ssize_t ldd, Py_ssize_t rows,
                     Py_ssize_t cols, const double *bias, int dst_rows) nogil


cdef inline void transpose(const floating *src, Py_ssize_t lds, floating *dst, Py_ssize_t ldd, Py_ssize_t rows,
                            Py_ssize_t cols, bint dst_rows, const floating *bias=NULL) noexcept nogil:
    # dst[j*ldd + i] = src[i*lds + j] (+ bias[j]) for i < rows, j < cols (dst_rows: see transpose_f)
    if floating is float:
        transpose_f(src, lds, dst, ldd, rows, cols, bias, dst_rows)
    else:
        transpose_d(src, lds, dst, ldd, rows, cols, bias, dst_rows)
