/* The float exponential and tanh that the vectorised element-wise passes share (hand-written; included by
   transformer.h and fused.h, each time inside a region compiled without trapping math, so that the always-inlined
   functions below have the options of the loops they are inlined into). */
#ifndef DLNB_FASTMATH_H
#define DLNB_FASTMATH_H
#include <math.h>
#include <stdint.h>
#include <string.h>

/* DLNB_VECTORISED marks a row kernel compiled twice on x86-64 with GCC: for the baseline (SSE2) and for AVX2 with
   FMA, and the loader picks the one this CPU runs (GCC's target_clones): twice the lanes. The AVX2 copy is named by the
   ISA level x86-64-v3 (GCC 11 and later), which the loader recognises on any vendor's processor; "arch=haswell", the
   older spelling, is only chosen on Intel's. Elsewhere, one baseline copy. Such kernels are never inlined (inlined
   into the OpenMP region, GCC stops vectorising). */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__) && __GNUC__ >= 11
#define DLNB_VECTORISED __attribute__((noinline, target_clones("arch=x86-64-v3", "default")))
#elif defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define DLNB_VECTORISED __attribute__((noinline, target_clones("arch=haswell", "default")))
#elif defined(__GNUC__)
#define DLNB_VECTORISED __attribute__((noinline))
#else
#define DLNB_VECTORISED
#endif

/* The float exponential and tanh of the fused passes, in plain arithmetic that the compiler vectorises (a call to
   libm's expf or tanhf would keep each loop scalar). exp: x = k ln2 + r with k = round(x / ln2) (rounded by adding and
   subtracting 1.5 * 2^23) and |r| <= ln2 / 2, e^r by its Taylor polynomial to r^7 (truncation below 5e-9 relative),
   2^k by writing k + 127 into the exponent bits; exact 0 below -87.3 (where e^x is no longer a normal float) and for
   -inf. tanh: for |u| < 0.55 its odd Taylor series to u^15 (truncation below 5e-8 relative), else
   1 - 2 / (e^{2|u|} + 1), which has no cancellation there (the result exceeds 1/2); |u| clamped to 10, where
   tanh rounds to exactly 1 in float (at 9 it still rounds to the float below 1, and a GELU's derivative multiplies
   1 - t^2 by z^3: one rounding there is a gradient of 0.4 at z = -400, where the true one is 0); the sign restored
   last. Both are within a few units in the last place of the exact values
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
    a = a > 10.0f ? 10.0f : a;
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
#endif
