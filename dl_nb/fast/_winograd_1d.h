/* Kernel template (see _common.h), included once per element type by winograd.h: the 1-D Winograd transforms, each
   applied to n columns at once. Input k of column i is dk[i], output k goes to o[k*s + i] (b6a, b4a: added to it).
   F(4x4, 3x3): bt6 = B^T (6 -> 6), at6 = A^T (6 -> 4), a4 = A (4 -> 6), b6 = B (6 -> 6).
   F(2x2, 3x3): bt4 = B^T (4 -> 4), at4 = A^T (4 -> 2), a2 = A (2 -> 4), b4 = B (4 -> 4).
   The filter transform G (3 -> a) and its adjoint G^T (a -> 3): g6, gt6 and g4, gt4.
   The matrices of chapter 05 with their zeros skipped, in loops that `omp simd` lets the compiler vectorise (inputs and
   outputs never overlap). Constants are cast to T, so float32 arithmetic stays float32. */
#define T DLNB_T

static void DLNB_NAME(bt6)(const T *d0, const T *d1, const T *d2, const T *d3, const T *d4, const T *d5,
                    T *o, ptrdiff_t s, ptrdiff_t n) {
    #pragma omp simd
    for (ptrdiff_t i = 0; i < n; i++) {
        T p = d4[i] - (T)4 * d2[i], q = d3[i] - (T)4 * d1[i], r = d4[i] - d2[i], u = (T)2 * (d3[i] - d1[i]);
        o[i] = (T)4 * d0[i] - (T)5 * d2[i] + d4[i];
        o[s + i] = -p - q;
        o[2 * s + i] = q - p;
        o[3 * s + i] = r + u;
        o[4 * s + i] = r - u;
        o[5 * s + i] = (T)4 * d1[i] - (T)5 * d3[i] + d5[i];
    }
}
static void DLNB_NAME(at6)(const T *m0, const T *m1, const T *m2, const T *m3, const T *m4, const T *m5,
                    T *o, ptrdiff_t s, ptrdiff_t n) {
    #pragma omp simd
    for (ptrdiff_t i = 0; i < n; i++) {
        T s1 = m1[i] + m2[i], d1 = m1[i] - m2[i], s2 = m3[i] + m4[i], d2 = m3[i] - m4[i];
        o[i] = m0[i] + s1 + s2;
        o[s + i] = d1 + (T)2 * d2;
        o[2 * s + i] = s1 + (T)4 * s2;
        o[3 * s + i] = d1 + (T)8 * d2 + m5[i];
    }
}
static void DLNB_NAME(a4)(const T *y0, const T *y1, const T *y2, const T *y3, T *o, ptrdiff_t s, ptrdiff_t n) {
    #pragma omp simd
    for (ptrdiff_t i = 0; i < n; i++) {
        T a = y0[i], b = y1[i], c = y2[i], d = y3[i];
        T e = a + c, f = b + d, e2 = a + (T)4 * c, f2 = (T)2 * b + (T)8 * d;
        o[i] = a;
        o[s + i] = e + f;
        o[2 * s + i] = e - f;
        o[3 * s + i] = e2 + f2;
        o[4 * s + i] = e2 - f2;
        o[5 * s + i] = d;
    }
}
static void DLNB_NAME(b6)(const T *v0, const T *v1, const T *v2, const T *v3, const T *v4, const T *v5,
                   T *o, ptrdiff_t s, ptrdiff_t n) {
    #pragma omp simd
    for (ptrdiff_t i = 0; i < n; i++) {
        T p = v1[i] + v2[i], q = v1[i] - v2[i], r = v3[i] + v4[i], u = v3[i] - v4[i];
        o[i] = (T)4 * v0[i];
        o[s + i] = (T)4 * (v5[i] + q) - (T)2 * u;
        o[2 * s + i] = (T)4 * p - (T)5 * v0[i] - r;
        o[3 * s + i] = (T)2 * u - q - (T)5 * v5[i];
        o[4 * s + i] = v0[i] - p + r;
        o[5 * s + i] = v5[i];
    }
}
static void DLNB_NAME(b6a)(const T *v0, const T *v1, const T *v2, const T *v3, const T *v4, const T *v5,
                   T *o, ptrdiff_t s, ptrdiff_t n) {
    #pragma omp simd
    for (ptrdiff_t i = 0; i < n; i++) {
        T p = v1[i] + v2[i], q = v1[i] - v2[i], r = v3[i] + v4[i], u = v3[i] - v4[i];
        o[i] += (T)4 * v0[i];
        o[s + i] += (T)4 * (v5[i] + q) - (T)2 * u;
        o[2 * s + i] += (T)4 * p - (T)5 * v0[i] - r;
        o[3 * s + i] += (T)2 * u - q - (T)5 * v5[i];
        o[4 * s + i] += v0[i] - p + r;
        o[5 * s + i] += v5[i];
    }
}
static void DLNB_NAME(bt4)(const T *d0, const T *d1, const T *d2, const T *d3, T *o, ptrdiff_t s, ptrdiff_t n) {
    #pragma omp simd
    for (ptrdiff_t i = 0; i < n; i++) {
        o[i] = d0[i] - d2[i];
        o[s + i] = d1[i] + d2[i];
        o[2 * s + i] = d2[i] - d1[i];
        o[3 * s + i] = d1[i] - d3[i];
    }
}
static void DLNB_NAME(at4)(const T *m0, const T *m1, const T *m2, const T *m3, T *o, ptrdiff_t s, ptrdiff_t n) {
    #pragma omp simd
    for (ptrdiff_t i = 0; i < n; i++) {
        o[i] = m0[i] + m1[i] + m2[i];
        o[s + i] = m1[i] - m2[i] - m3[i];
    }
}
static void DLNB_NAME(a2)(const T *y0, const T *y1, T *o, ptrdiff_t s, ptrdiff_t n) {
    #pragma omp simd
    for (ptrdiff_t i = 0; i < n; i++) {
        T a = y0[i], b = y1[i];
        o[i] = a;
        o[s + i] = a + b;
        o[2 * s + i] = a - b;
        o[3 * s + i] = -b;
    }
}
static void DLNB_NAME(b4)(const T *v0, const T *v1, const T *v2, const T *v3, T *o, ptrdiff_t s, ptrdiff_t n) {
    #pragma omp simd
    for (ptrdiff_t i = 0; i < n; i++) {
        o[i] = v0[i];
        o[s + i] = v1[i] - v2[i] + v3[i];
        o[2 * s + i] = v1[i] + v2[i] - v0[i];
        o[3 * s + i] = -v3[i];
    }
}
static void DLNB_NAME(b4a)(const T *v0, const T *v1, const T *v2, const T *v3, T *o, ptrdiff_t s, ptrdiff_t n) {
    #pragma omp simd
    for (ptrdiff_t i = 0; i < n; i++) {
        o[i] += v0[i];
        o[s + i] += v1[i] - v2[i] + v3[i];
        o[2 * s + i] += v1[i] + v2[i] - v0[i];
        o[3 * s + i] -= v3[i];
    }
}
static void DLNB_NAME(g6)(const T *g0, const T *g1, const T *g2, T *o, ptrdiff_t s, ptrdiff_t n) {
    #pragma omp simd
    for (ptrdiff_t i = 0; i < n; i++) {
        T e = g0[i] + g2[i], h = g0[i] / (T)24 + g2[i] / (T)6, q = g1[i] / (T)12;
        o[i] = g0[i] / (T)4;
        o[s + i] = (e + g1[i]) / (T)6;
        o[2 * s + i] = (e - g1[i]) / (T)6;
        o[3 * s + i] = h + q;
        o[4 * s + i] = h - q;
        o[5 * s + i] = g2[i];
    }
}
static void DLNB_NAME(gt6)(const T *u0, const T *u1, const T *u2, const T *u3, const T *u4, const T *u5,
                    T *o, ptrdiff_t s, ptrdiff_t n) {
    #pragma omp simd
    for (ptrdiff_t i = 0; i < n; i++) {
        T p = (u1[i] + u2[i]) / (T)6, q = (u3[i] + u4[i]) / (T)24;
        o[i] = u0[i] / (T)4 + p + q;
        o[s + i] = (u1[i] - u2[i]) / (T)6 + (u3[i] - u4[i]) / (T)12;
        o[2 * s + i] = p + (T)4 * q + u5[i];
    }
}
static void DLNB_NAME(g4)(const T *g0, const T *g1, const T *g2, T *o, ptrdiff_t s, ptrdiff_t n) {
    #pragma omp simd
    for (ptrdiff_t i = 0; i < n; i++) {
        T e = g0[i] + g2[i];
        o[i] = g0[i];
        o[s + i] = (e + g1[i]) / (T)2;
        o[2 * s + i] = (e - g1[i]) / (T)2;
        o[3 * s + i] = g2[i];
    }
}
static void DLNB_NAME(gt4)(const T *u0, const T *u1, const T *u2, const T *u3, T *o, ptrdiff_t s, ptrdiff_t n) {
    #pragma omp simd
    for (ptrdiff_t i = 0; i < n; i++) {
        T p = (u1[i] + u2[i]) / (T)2;
        o[i] = u0[i] + p;
        o[s + i] = (u1[i] - u2[i]) / (T)2;
        o[2 * s + i] = p + u3[i];
    }
}

/* The transforms of n columns whose k-th entries are d[k*ld + i], for tiles of m = 4 (a = 6) or m = 2 (a = 4). */
static inline void DLNB_NAME(wino_bt)(const T *d, ptrdiff_t ld, T *o, ptrdiff_t s, ptrdiff_t n, int m) {
    if (m == 4) DLNB_NAME(bt6)(d, d + ld, d + 2 * ld, d + 3 * ld, d + 4 * ld, d + 5 * ld, o, s, n);
    else DLNB_NAME(bt4)(d, d + ld, d + 2 * ld, d + 3 * ld, o, s, n);
}
static inline void DLNB_NAME(wino_at)(const T *d, ptrdiff_t ld, T *o, ptrdiff_t s, ptrdiff_t n, int m) {
    if (m == 4) DLNB_NAME(at6)(d, d + ld, d + 2 * ld, d + 3 * ld, d + 4 * ld, d + 5 * ld, o, s, n);
    else DLNB_NAME(at4)(d, d + ld, d + 2 * ld, d + 3 * ld, o, s, n);
}
static inline void DLNB_NAME(wino_a)(const T *d, ptrdiff_t ld, T *o, ptrdiff_t s, ptrdiff_t n, int m) {
    if (m == 4) DLNB_NAME(a4)(d, d + ld, d + 2 * ld, d + 3 * ld, o, s, n);
    else DLNB_NAME(a2)(d, d + ld, o, s, n);
}
static inline void DLNB_NAME(wino_b)(const T *d, ptrdiff_t ld, T *o, ptrdiff_t s, ptrdiff_t n, int m, int add) {
    if (m == 4 && add) DLNB_NAME(b6a)(d, d + ld, d + 2 * ld, d + 3 * ld, d + 4 * ld, d + 5 * ld, o, s, n);
    else if (m == 4) DLNB_NAME(b6)(d, d + ld, d + 2 * ld, d + 3 * ld, d + 4 * ld, d + 5 * ld, o, s, n);
    else if (add) DLNB_NAME(b4a)(d, d + ld, d + 2 * ld, d + 3 * ld, o, s, n);
    else DLNB_NAME(b4)(d, d + ld, d + 2 * ld, d + 3 * ld, o, s, n);
}
static inline void DLNB_NAME(wino_g)(const T *d, ptrdiff_t ld, T *o, ptrdiff_t s, ptrdiff_t n, int m) {
    if (m == 4) DLNB_NAME(g6)(d, d + ld, d + 2 * ld, o, s, n);
    else DLNB_NAME(g4)(d, d + ld, d + 2 * ld, o, s, n);
}
static inline void DLNB_NAME(wino_gt)(const T *d, ptrdiff_t ld, T *o, ptrdiff_t s, ptrdiff_t n, int m) {
    if (m == 4) DLNB_NAME(gt6)(d, d + ld, d + 2 * ld, d + 3 * ld, d + 4 * ld, d + 5 * ld, o, s, n);
    else DLNB_NAME(gt4)(d, d + ld, d + 2 * ld, d + 3 * ld, o, s, n);
}
#undef T
