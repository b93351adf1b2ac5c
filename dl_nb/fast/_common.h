/* What the compiled kernels share in C (hand-written; included through _common.pxd): the OpenMP team size, the
   naming of the kernel templates' float and double copies, and the transposes between NCHW and channels-innermost. */
#ifndef DLNB_COMMON_H
#define DLNB_COMMON_H
#if defined(_MSC_VER)          /* MSVC spells C99's restrict as __restrict */
#define restrict __restrict
#endif
#include <stddef.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* A kernel template is a header written once in terms of the element type T (= DLNB_T) and included once per type by
   _both_types.h, which sets DLNB_T to float and DLNB_SFX to f, then to double and d; DLNB_NAME(x) names the copies
   x_f and x_d. */
#define DLNB_CAT2(a, b) a##_##b
#define DLNB_CAT(a, b) DLNB_CAT2(a, b)
#define DLNB_NAME(x) DLNB_CAT(x, DLNB_SFX)

/* Cython cannot give a C function a fused-type signature, so each entry point Cython calls takes untyped pointers and
   the element size, and calls the float or the double copy (the size is a constant in each of Cython's fused
   specialisations, so the test folds away). The typed Cython wrappers around the entry points keep the types checked. */
#define DLNB_BY_SIZE(size, fn, ...) \
    do { if ((size) == sizeof(float)) fn##_f(__VA_ARGS__); else fn##_d(__VA_ARGS__); } while (0)

/* The threads a parallel loop gets now: the OpenMP team size, which omp_set_num_threads (threadpoolctl) changes. */
static inline int dlnb_max_threads(void) {
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

/* One block of the transpose dst[j*ldd + i] = src[i*lds + j] (+ bias[j] unless bias is NULL): 4 x 4 floats or 2 x 2
   doubles, held in SSE registers where available (the two are different instructions, not one template). */
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

#define DLNB_TEMPLATE "_transpose.h"
#include "_both_types.h"

static inline void dlnb_transpose(const void *src, ptrdiff_t lds, void *dst, ptrdiff_t ldd, ptrdiff_t rows,
                                  ptrdiff_t cols, const void *bias, int dst_rows, size_t size) {
    DLNB_BY_SIZE(size, transpose, src, lds, dst, ldd, rows, cols, bias, dst_rows);
}

#define DLNB_TEMPLATE "_plane_sums.h"
#include "_both_types.h"

static inline void dlnb_plane_sums(const void *src, ptrdiff_t planes, ptrdiff_t size, double *out, size_t itemsize) {
    DLNB_BY_SIZE(itemsize, plane_sums, src, planes, size, out);
}
#endif
