/* The C of direct.pyx (hand-written): the direct convolution in AVX-512 registers, float32 (see direct.pyx). */
#ifndef DLNB_DIRECT_H
#define DLNB_DIRECT_H
#include <stddef.h>
#if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__)
#define DLNB_DIRECT 1
#include <immintrin.h>
#endif
#define DLNB_FB 8   /* output channels per register block */
#define DLNB_NV 3   /* 16-pixel vectors per register block */

static int dlnb_has_avx512(void) {
#ifdef DLNB_DIRECT
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") ? 1 : 0;
#else
    return 0;
#endif
}

#ifdef DLNB_DIRECT
/* One register block: output channels f0..f0+7 (filters wt, laid out (K, 8)) at the nv <= 3 output vectors
   whose top-left input pixels are xp + start[v]; the vectors' first outputs are at out + dst[v] (channel f0's
   plane), with mask[v] selecting the lanes that exist. offs[k] is tap k's offset in the padded image. */
__attribute__((target("avx512f"), always_inline))
static inline void dlnb_direct_block(const float *xp, const ptrdiff_t *offs, ptrdiff_t K, const float *wt,
                                     const float *bias, int nf, float *out, ptrdiff_t plane,
                                     const ptrdiff_t *start, const ptrdiff_t *dst, const __mmask16 *mask, int nv)
{
    __m512 acc[DLNB_FB][DLNB_NV];
    const float *src[DLNB_NV];
    for (int v = 0; v < DLNB_NV; v++) {
        src[v] = xp + start[v < nv ? v : 0];     /* a missing vector recomputes the first one, never stored */
        for (int f = 0; f < DLNB_FB; f++) acc[f][v] = _mm512_setzero_ps();
    }
    for (ptrdiff_t k = 0; k < K; k++) {
        __m512 in[DLNB_NV];
        for (int v = 0; v < DLNB_NV; v++) in[v] = _mm512_loadu_ps(src[v] + offs[k]);
        for (int f = 0; f < DLNB_FB; f++) {
            __m512 wf = _mm512_set1_ps(wt[k * DLNB_FB + f]);
            for (int v = 0; v < DLNB_NV; v++) acc[f][v] = _mm512_fmadd_ps(wf, in[v], acc[f][v]);
        }
    }
    for (int f = 0; f < nf; f++) {
        __m512 bf = _mm512_set1_ps(bias[f]);
        for (int v = 0; v < nv; v++)
            _mm512_mask_storeu_ps(out + f * plane + dst[v], mask[v], _mm512_add_ps(acc[f][v], bf));
    }
}

/* One image: xp is the zero-padded input (row stride ldx), wt the filters as (ceil(F/8), K, 8), out (F, Ho, Wo). */
__attribute__((target("avx512f")))
static void dlnb_direct_image(const float *xp, ptrdiff_t ldx, const ptrdiff_t *offs, ptrdiff_t K,
                              const float *wt, const float *bias, float *out, int F, int Ho, int Wo)
{
    int per_row = (Wo + 15) / 16, T = Ho * per_row;
    ptrdiff_t start[DLNB_NV], dst[DLNB_NV], plane = (ptrdiff_t)Ho * Wo;
    __mmask16 mask[DLNB_NV];
    for (int f0 = 0; f0 < F; f0 += DLNB_FB) {
        const float *wb = wt + (ptrdiff_t)(f0 / DLNB_FB) * K * DLNB_FB;
        int nf = F - f0 < DLNB_FB ? F - f0 : DLNB_FB;
        for (int t0 = 0; t0 < T; t0 += DLNB_NV) {
            int nv = T - t0 < DLNB_NV ? T - t0 : DLNB_NV;
            for (int v = 0; v < nv; v++) {
                int oh = (t0 + v) / per_row, ow = ((t0 + v) % per_row) * 16, left = Wo - ow;
                start[v] = (ptrdiff_t)oh * ldx + ow;
                dst[v] = (ptrdiff_t)oh * Wo + ow;
                mask[v] = left >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << left) - 1u);
            }
            dlnb_direct_block(xp, offs, K, wb, bias + f0, nf, out + f0 * plane, plane, start, dst, mask, nv);
        }
    }
}
#else
static void dlnb_direct_image(const float *xp, ptrdiff_t ldx, const ptrdiff_t *offs, ptrdiff_t K,
                              const float *wt, const float *bias, float *out, int F, int Ho, int Wo) {
    (void)xp; (void)ldx; (void)offs; (void)K; (void)wt; (void)bias; (void)out; (void)F; (void)Ho; (void)Wo;
}
#endif
#endif
