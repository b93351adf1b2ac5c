/* Kernel template (see _common.h), included once per element type by transformer.h: the element-wise and row-wise
   passes of a Transformer block (GELU, the scaled and masked softmax over the last axis, layer normalisation). Plain C
   with restrict pointers, branch-free selects and eight partial sums per reduction, so that the compiler vectorises
   them. The operations and their order follow the NumPy reference of chapter 11, so both agree to the rounding of the
   element type; the tanh and the exponential are transformer.h's (polynomial in float, libm's in double). */
#define T DLNB_T

/* GELU in one pass: u = (x^2 ca + c) x, t = tanh(u) (kept for the backward pass), out = (t + 1) x 0.5. */
static DLNB_NOINLINE void DLNB_NAME(dlnb_gelu_fused)(const T *restrict x, T *restrict t, T *restrict out, ptrdiff_t n,
                                                     T c, T ca) {
    for (ptrdiff_t i = 0; i < n; i++) {
        T xi = x[i], ti = DLNB_TANH(T, (xi * xi * ca + c) * xi);
        t[i] = ti;
        out[i] = (ti + 1) * xi * (T)0.5;
    }
}

/* dx = dout (0.5 (1 + t) + 0.5 x (1 - t^2) c (1 + 3 a x^2)), with c3a = 3 a c. */
static DLNB_NOINLINE void DLNB_NAME(dlnb_gelu_bwd)(const T *restrict d, const T *restrict x, const T *restrict t,
                                                   T *restrict dx, ptrdiff_t n, T c, T c3a) {
    for (ptrdiff_t i = 0; i < n; i++) {
        T xi = x[i], ti = t[i];
        T g = (xi * xi * c3a + c) * xi * ((T)1 - ti * ti);
        dx[i] = (g + ti + (T)1) * (T)0.5 * d[i];
    }
}

static inline T DLNB_NAME(dlnb_row_max)(const T *restrict v, ptrdiff_t K) {
    T m[8]; ptrdiff_t j = 0;
    for (int s = 0; s < 8; s++) m[s] = -(T)INFINITY;
    for (; j + 8 <= K; j += 8)
        for (int s = 0; s < 8; s++) { T a = v[j + s]; m[s] = ((a > m[s]) | (a != a)) ? a : m[s]; }
    for (; j < K; j++) { T a = v[j]; m[0] = ((a > m[0]) | (a != a)) ? a : m[0]; }
    T r = m[0];
    for (int s = 1; s < 8; s++) r = ((m[s] > r) | (m[s] != m[s])) ? m[s] : r;
    return r;
}

static inline T DLNB_NAME(dlnb_row_sum)(const T *restrict v, ptrdiff_t K) {
    T a[8] = {0}; ptrdiff_t j = 0;
    for (; j + 8 <= K; j += 8)
        for (int s = 0; s < 8; s++) a[s] += v[j + s];
    for (; j < K; j++) a[0] += v[j];
    T r = 0; for (int s = 0; s < 8; s++) r += a[s];
    return r;
}

/* The softmax's first pass over one row of K scores: p = scale * s where keep[j] != 0 (keep NULL: everywhere) and -inf
   elsewhere, minus the row's maximum (0 if nothing is kept); p may be s. Then exp_normalize_row. Returns 1 if a kept score is NaN or +inf. */
static DLNB_NOINLINE int DLNB_NAME(dlnb_softmax_shift_row)(const T *s, const unsigned char *restrict keep, T *p,
                                                           ptrdiff_t K, T scale) {
    for (ptrdiff_t j = 0; j < K; j++) {
        T v = s[j] * scale;
        p[j] = (!keep || keep[j]) ? v : -(T)INFINITY;
    }
    T m = DLNB_NAME(dlnb_row_max)(p, K);
    if (m != m || m == (T)INFINITY) return 1;
    if (m == -(T)INFINITY) m = 0;               /* nothing kept: exp(-inf) = 0 everywhere */
    for (ptrdiff_t j = 0; j < K; j++) p[j] -= m;
    return 0;
}

/* The softmax's last pass with the exponential folded in: p = exp(p), then p /= sum(p) (a row of zeros stays zeros). */
static DLNB_NOINLINE void DLNB_NAME(dlnb_exp_normalize_row)(T *restrict p, ptrdiff_t K) {
    for (ptrdiff_t j = 0; j < K; j++) p[j] = DLNB_EXP(T, p[j]);
    T z = DLNB_NAME(dlnb_row_sum)(p, K);
    if (z == 0) z = 1;
    for (ptrdiff_t j = 0; j < K; j++) p[j] /= z;
}

/* One row of the softmax's backward pass: dx = scale * p * (d - sum(d * p)), written to dx (which may be d). */
static DLNB_NOINLINE void DLNB_NAME(dlnb_softmax_bwd_row)(const T *d, const T *restrict p, T *dx, ptrdiff_t K, T scale) {
    T a[8] = {0}; ptrdiff_t j = 0;
    for (; j + 8 <= K; j += 8)
        for (int s = 0; s < 8; s++) a[s] += d[j + s] * p[j + s];
    for (; j < K; j++) a[0] += d[j] * p[j];
    T dot = 0; for (int s = 0; s < 8; s++) dot += a[s];
    for (j = 0; j < K; j++) dx[j] = p[j] * (d[j] - dot) * scale;
}

/* One row of layer normalisation: xhat = (x - mean) / std, std = sqrt(mean((x - mean)^2) + eps), out = g xhat + b.
   Returns std. */
static DLNB_NOINLINE T DLNB_NAME(dlnb_layernorm_row)(const T *restrict x, const T *restrict g, const T *restrict b,
                                                     T *restrict xhat, T *restrict out, ptrdiff_t D, T eps) {
    T mean = DLNB_NAME(dlnb_row_sum)(x, D) / (T)D;
    for (ptrdiff_t j = 0; j < D; j++) { T c = x[j] - mean; xhat[j] = c * c; }
    T std = (T)sqrt(DLNB_NAME(dlnb_row_sum)(xhat, D) / (T)D + eps);
    for (ptrdiff_t j = 0; j < D; j++) { T h = (x[j] - mean) / std; xhat[j] = h; out[j] = g[j] * h + b[j]; }
    return std;
}

/* One row of layer normalisation's backward pass: h = d g, dx = (D h - sum h - xhat sum(h xhat)) / (D std); the
   row's d xhat and d are added to the column sums sg and sb (double). */
static DLNB_NOINLINE void DLNB_NAME(dlnb_layernorm_bwd_row)(const T *restrict d, const T *restrict xhat, T std,
                                                            const T *restrict g, T *restrict dx, ptrdiff_t D,
                                                            double *restrict sg, double *restrict sb) {
    T a[8] = {0}, q[8] = {0}; ptrdiff_t j = 0;
    for (; j + 8 <= D; j += 8)
        for (int s = 0; s < 8; s++) { T h = d[j + s] * g[j + s]; a[s] += h; q[s] += h * xhat[j + s]; }
    for (; j < D; j++) { T h = d[j] * g[j]; a[0] += h; q[0] += h * xhat[j]; }
    T sh = 0, shx = 0; for (int s = 0; s < 8; s++) { sh += a[s]; shx += q[s]; }
    T den = (T)D * std;
    for (j = 0; j < D; j++) {
        T h = d[j] * g[j];
        dx[j] = ((T)D * h - sh - xhat[j] * shx) / den;
        sg[j] += (double)(d[j] * xhat[j]);
        sb[j] += (double)d[j];
    }
}
#undef T
