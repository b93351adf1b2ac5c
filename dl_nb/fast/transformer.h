/* The C of transformer.pyx (hand-written): the row kernels of _transformer_rows.h in float and double, and the entry
   points transformer.pyx calls (see DLNB_BY_SIZE in _common.h). */
#ifndef DLNB_TRANSFORMER_H
#define DLNB_TRANSFORMER_H
#include <math.h>
#include <stdint.h>
#include <string.h>
#include "_common.h"
/* The row kernels are compiled twice on x86-64 with GCC: for the baseline (SSE2) and for AVX2 with FMA, and the loader
   picks the one this CPU runs (GCC's target_clones): twice the lanes. The AVX2 copy is named by the ISA level
   x86-64-v3 (GCC 11 and later), which the loader recognises on any vendor's processor; "arch=haswell", the older
   spelling, is only chosen on Intel's. Elsewhere, one baseline copy. They are never inlined (inlined into the OpenMP region, GCC stops
   vectorising). */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__) && __GNUC__ >= 11
#define DLNB_NOINLINE __attribute__((noinline, target_clones("arch=x86-64-v3", "default")))
#elif defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define DLNB_NOINLINE __attribute__((noinline, target_clones("arch=haswell", "default")))
#elif defined(__GNUC__)
#define DLNB_NOINLINE __attribute__((noinline))
#else
#define DLNB_NOINLINE
#endif

/* GCC keeps a loop with a float comparison branchy (so unvectorised) when comparisons may trap; nothing here reads the
   floating-point exception flags, so the kernels of this header are compiled without that assumption (Clang's
   default already). */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC push_options
#pragma GCC optimize("no-trapping-math")
#endif

/* The float exponential and tanh of the fused passes, in plain arithmetic that the compiler vectorises (a call to
   libm's expf or tanhf would keep each loop scalar). exp: x = k ln2 + r with k = round(x / ln2) (rounded by adding and
   subtracting 1.5 * 2^23) and |r| <= ln2 / 2, e^r by its Taylor polynomial to r^7 (truncation below 5e-9 relative),
   2^k by writing k + 127 into the exponent bits; exact 0 below -87.3 (where e^x is no longer a normal float) and for
   -inf. tanh: for |u| < 0.55 its odd Taylor series to u^15 (truncation below 5e-8 relative), else
   1 - 2 / (e^{2|u|} + 1), which has no cancellation there (the result exceeds 1/2); |u| clamped to 9, where
   tanh = 1 in float; the sign restored last. Both are within a few units in the last place of the exact values
   (chapter 11 measures it). Double precision uses libm's exp and tanh. */
/* Inlined into the target clones of the passes below, whose loops then vectorise them (a call would stop that). */
#if defined(__GNUC__)
#define DLNB_ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define DLNB_ALWAYS_INLINE inline
#endif
static DLNB_ALWAYS_INLINE float dlnb_expf_poly(float x) {
    const float big = 12582912.0f;                                   /* 1.5 * 2^23: adding it rounds to an integer */
    float xc = x < -87.3f ? -87.3f : x;
    float kf = (xc * 1.44269504088896341f + big) - big;
    float r = (xc - kf * 0.693145751953125f) - kf * 1.42860682030941723e-6f;   /* ln2 in two parts: r exact */
    float p = 1.0f + r * (1.0f + r * (0.5f + r * (1.0f / 6 + r * (1.0f / 24 + r * (1.0f / 120 + r * (1.0f / 720
              + r * (1.0f / 5040)))))));
    int32_t bits = ((int32_t)kf + 127) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return x < -87.3f ? 0.0f : p * scale;
}
static DLNB_ALWAYS_INLINE float dlnb_tanhf_poly(float u) {
    float a = fabsf(u);
    a = a > 9.0f ? 9.0f : a;
    float a2 = a * a;
    float small = a + a * a2 * (-1.0f / 3 + a2 * (2.0f / 15 + a2 * (-17.0f / 315 + a2 * (62.0f / 2835
                  + a2 * (-1382.0f / 155925 + a2 * (21844.0f / 6081075 + a2 * (-929569.0f / 638512875)))))));
    float large = 1.0f - 2.0f / (dlnb_expf_poly(2.0f * a) + 1.0f);
    float t = a < 0.55f ? small : large;
    return copysignf(t, u);
}
/* The element type's own: the polynomial ones above for float, libm's for double (constant-folded per copy). */
#define DLNB_EXP(T, x) (sizeof(T) == sizeof(float) ? (T)dlnb_expf_poly((float)(x)) : (T)exp((double)(x)))
#define DLNB_TANH(T, u) (sizeof(T) == sizeof(float) ? (T)dlnb_tanhf_poly((float)(u)) : (T)tanh((double)(u)))
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
