/* The C of im2col.pyx's 2x2, stride-2 max pooling of float planes (hand-written). Each window's four entries go into one
   SSE register; their maximum, spread to every lane by two shuffles, is compared with them, and the lowest set bit of
   the comparison's mask is the window's first maximal entry in row-major order (a, b, then c, d), as np.argmax picks
   it, with no branch to mispredict. The output is read back at that index, so that of two tied zeros the first one's
   sign is kept. A NaN defeats the comparison: the kernel reports whether a window held one, and the caller scans such
   a plane again with the NaN rule. Without SSE2, the same rule in plain C. */
#ifndef DLNB_POOL_H
#define DLNB_POOL_H
#include <stddef.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* The Ho x Wo windows of one H x W plane x: out[oh*Wo + ow] their maxima, arg the flat indices of the maxima in x.
   Returns nonzero if a window held a NaN. */
static int dlnb_pool2x2_plane_f(const float *x, float *out, int *arg, ptrdiff_t W, ptrdiff_t Ho, ptrdiff_t Wo) {
    int nan = 0;
    for (ptrdiff_t oh = 0; oh < Ho; oh++) {
        const float *r0 = x + 2 * oh * W, *r1 = r0 + W;
        float *o_ = out + oh * Wo;
        int *g = arg + oh * Wo;
        ptrdiff_t i0 = 2 * oh * W;
        for (ptrdiff_t o = 0; o < Wo; o++) {
#if defined(__SSE2__)
            double ab, cd;                           /* two floats each, copied as 8 bytes (one load; no aliasing) */
            memcpy(&ab, r0 + 2 * o, sizeof ab);
            memcpy(&cd, r1 + 2 * o, sizeof cd);
            __m128 top = _mm_castpd_ps(_mm_set_sd(ab)), bot = _mm_castpd_ps(_mm_set_sd(cd));   /* a, b, 0, 0 and c, d, 0, 0 */
            __m128 v = _mm_movelh_ps(top, bot);                                          /* a, b, c, d */
            __m128 m = _mm_max_ps(v, _mm_shuffle_ps(v, v, _MM_SHUFFLE(2, 3, 0, 1)));
            m = _mm_max_ps(m, _mm_shuffle_ps(m, m, _MM_SHUFFLE(1, 0, 3, 2)));
            int k = __builtin_ctz((unsigned)_mm_movemask_ps(_mm_cmpeq_ps(v, m)) | 16u) & 3;
            nan |= _mm_movemask_ps(_mm_cmpunord_ps(v, v));
#else
            float a = r0[2 * o], b = r0[2 * o + 1], c = r1[2 * o], d = r1[2 * o + 1], best = a;
            int k = 0;
            if (b > best) { best = b; k = 1; }
            if (c > best) { best = c; k = 2; }
            if (d > best) { k = 3; }
            nan |= (a != a) | (b != b) | (c != c) | (d != d);
#endif
            ptrdiff_t i = i0 + 2 * o + (k & 1) + (k >> 1) * W;
            o_[o] = x[i];
            g[o] = (int)i;
        }
    }
    return nan;
}
#endif
