/* Kernel template (see _common.h), included once per element type by fused.h: the row kernels of the fused
   batch-norm + ReLU layer, in plain C so that the compiler vectorises them (restrict pointers, branch-free selects,
   eight independent partial sums per reduction). */
#define T DLNB_T
static DLNB_NOINLINE void DLNB_NAME(dlnb_row_moments)(const T *restrict p, ptrdiff_t S, T k, double *s1, double *s2) {
    T a[8] = {0}, q[8] = {0}; ptrdiff_t s = 0;
    for (; s + 8 <= S; s += 8)
        for (int t = 0; t < 8; t++) { T v = p[s + t] - k; a[t] += v; q[t] += v * v; }
    for (; s < S; s++) { T v = p[s] - k; a[0] += v; q[0] += v * v; }
    T A = 0, Q = 0; for (int t = 0; t < 8; t++) { A += a[t]; Q += q[t]; }
    *s1 += A; *s2 += Q;
}
static DLNB_NOINLINE void DLNB_NAME(dlnb_row_affine_relu)(const T *restrict p, T *restrict o, ptrdiff_t S, T m, T a, T b) {
    for (ptrdiff_t s = 0; s < S; s++) { T z = a * (p[s] - m) + b; o[s] = z <= 0 ? (T)0 : z; }
}
static DLNB_NOINLINE void DLNB_NAME(dlnb_row_grad_sums)(const T *restrict d, const T *restrict x, const T *restrict y,
                                     ptrdiff_t S, T k, double *sg, double *sgx) {
    T a[8] = {0}, q[8] = {0}; ptrdiff_t s = 0;
    for (; s + 8 <= S; s += 8)
        for (int t = 0; t < 8; t++) {
            T dd = d[s + t], g = y[s + t] > 0 ? dd : (T)0; a[t] += g; q[t] += g * (x[s + t] - k); }
    for (; s < S; s++) { T dd = d[s], g = y[s] > 0 ? dd : (T)0; a[0] += g; q[0] += g * (x[s] - k); }
    T A = 0, Q = 0; for (int t = 0; t < 8; t++) { A += a[t]; Q += q[t]; }
    *sg += A; *sgx += Q;
}
static DLNB_NOINLINE void DLNB_NAME(dlnb_row_dx)(const T *restrict d, const T *restrict x, const T *restrict y,
                              T *restrict o, ptrdiff_t S, T m, T k, T k0, T k1) {
    for (ptrdiff_t s = 0; s < S; s++) { T dd = d[s], g = y[s] > 0 ? dd : (T)0; o[s] = k * g + k0 + k1 * (x[s] - m); }
}
#undef T
