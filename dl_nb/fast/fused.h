/* The C of fused.pyx (hand-written): the row kernels of _fused_rows.h (batch norm + ReLU) and _bn_gelu_rows.h
   (batch norm + GELU) in float and double, and the entry points fused.pyx calls (see DLNB_BY_SIZE in _common.h). */
#ifndef DLNB_FUSED_H
#define DLNB_FUSED_H
#include "_common.h"
#if defined(__GNUC__)
#define DLNB_NOINLINE __attribute__((noinline))   /* inlined into the OpenMP region, GCC stops vectorising */
#else
#define DLNB_NOINLINE
#endif

#define DLNB_TEMPLATE "_fused_rows.h"
#include "_both_types.h"

/* The GELU rows are compiled as transformer.h's are: without trapping math (so that the tanh's selects vectorise),
   with an AVX2 + FMA copy besides the baseline one (_fastmath.h's DLNB_VECTORISED). */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC push_options
#pragma GCC optimize("no-trapping-math")
#endif
#include "_fastmath.h"
#define DLNB_TEMPLATE "_bn_gelu_rows.h"
#include "_both_types.h"
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC pop_options
#endif

/* The scalars come as doubles and are rounded to the data's type before the call (Cython passes them so). */
static inline void dlnb_row_moments(const void *p, ptrdiff_t S, double k, double *s1, double *s2, size_t size) {
    DLNB_BY_SIZE(size, dlnb_row_moments, p, S, k, s1, s2);
}
static inline void dlnb_row_affine_relu(const void *p, void *o, ptrdiff_t S, double m, double a, double b, size_t size) {
    DLNB_BY_SIZE(size, dlnb_row_affine_relu, p, o, S, m, a, b);
}
static inline void dlnb_row_grad_sums(const void *d, const void *x, const void *y, ptrdiff_t S, double k, double *sg,
                                      double *sgx, size_t size) {
    DLNB_BY_SIZE(size, dlnb_row_grad_sums, d, x, y, S, k, sg, sgx);
}
static inline void dlnb_row_dx(const void *d, const void *x, const void *y, void *o, ptrdiff_t S, double m, double k,
                               double k0, double k1, size_t size) {
    DLNB_BY_SIZE(size, dlnb_row_dx, d, x, y, o, S, m, k, k0, k1);
}
static inline void dlnb_row_affine_gelu(const void *x, void *t, void *o, ptrdiff_t S, double m, double a, double b,
                                        double c, double ca, size_t size) {
    DLNB_BY_SIZE(size, dlnb_row_affine_gelu, x, t, o, S, m, a, b, c, ca);
}
static inline void dlnb_row_gelu_grad_sums(const void *d, const void *x, const void *t, void *g, ptrdiff_t S, double m,
                                           double a, double b, double c, double c3a, double *sg, double *sgx,
                                           size_t size) {
    DLNB_BY_SIZE(size, dlnb_row_gelu_grad_sums, d, x, t, g, S, m, a, b, c, c3a, sg, sgx);
}
static inline void dlnb_row_bn_dx_inplace(void *g, const void *x, ptrdiff_t S, double m, double k, double k0, double k1,
                                          size_t size) {
    DLNB_BY_SIZE(size, dlnb_row_bn_dx_inplace, g, x, S, m, k, k0, k1);
}
#endif
