/* The C of transformer.pyx (hand-written): the row kernels of _transformer_rows.h in float and double, and the entry
   points transformer.pyx calls (see DLNB_BY_SIZE in _common.h). */
#ifndef DLNB_TRANSFORMER_H
#define DLNB_TRANSFORMER_H
#include "_common.h"
/* The row kernels are _fastmath.h's vectorised functions: an SSE2 and an AVX2 + FMA copy, the loader picks one. */
#define DLNB_NOINLINE DLNB_VECTORISED

/* GCC keeps a loop with a float comparison branchy (so unvectorised) when comparisons may trap; nothing here reads the
   floating-point exception flags, so the kernels of this header are compiled without that assumption (Clang's
   default already). */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC push_options
#pragma GCC optimize("no-trapping-math")
#endif

#include "_fastmath.h"
#define DLNB_TEMPLATE "_transformer_rows.h"
#include "_both_types.h"

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC pop_options
#endif

/* The scalars come as doubles and are rounded to the data's type before the call (Cython passes them so). */
static inline void dlnb_gelu_fused(const void *x, void *t, void *out, ptrdiff_t n, double c, double ca,
                                   size_t size) {
    DLNB_BY_SIZE(size, dlnb_gelu_fused, x, t, out, n, c, ca);
}
static inline void dlnb_exp_normalize_row(void *p, ptrdiff_t K, size_t size) {
    DLNB_BY_SIZE(size, dlnb_exp_normalize_row, p, K);
}
static inline void dlnb_gelu_bwd(const void *d, const void *x, const void *t, void *dx, ptrdiff_t n, double c,
                                 double c3a, size_t size) {
    DLNB_BY_SIZE(size, dlnb_gelu_bwd, d, x, t, dx, n, c, c3a);
}
/* keep: NULL (no mask) or the mask, whose row for this call starts at keep + koff. */
static inline int dlnb_softmax_shift_row(const void *s, const unsigned char *keep, ptrdiff_t koff, void *p, ptrdiff_t K,
                                         double scale, size_t size) {
    if (keep) keep += koff;
    return size == sizeof(float) ? dlnb_softmax_shift_row_f(s, keep, p, K, (float)scale)
                                 : dlnb_softmax_shift_row_d(s, keep, p, K, scale);
}
static inline void dlnb_softmax_bwd_row(const void *d, const void *p, void *dx, ptrdiff_t K, double scale, size_t size) {
    DLNB_BY_SIZE(size, dlnb_softmax_bwd_row, d, p, dx, K, scale);
}
static inline double dlnb_layernorm_row(const void *x, const void *g, const void *b, void *xhat, void *out, ptrdiff_t D,
                                        double eps, size_t size) {
    return size == sizeof(float) ? (double)dlnb_layernorm_row_f(x, g, b, xhat, out, D, (float)eps)
                                 : dlnb_layernorm_row_d(x, g, b, xhat, out, D, eps);
}
static inline void dlnb_layernorm_bwd_row(const void *d, const void *xhat, double std, const void *g, void *dx,
                                          ptrdiff_t D, double *sg, double *sb, size_t size) {
    DLNB_BY_SIZE(size, dlnb_layernorm_bwd_row, d, xhat, std, g, dx, D, sg, sb);
}
#endif
