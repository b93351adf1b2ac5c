/* Kernel template (see _common.h), included once per element type by fused.h: the row kernels of the fused
   batch-norm + GELU layer (chapter 13). z = a (x - m) + b is the batch norm's output, recomputed from the cached input
   wherever it is needed; t = tanh(c (z + 0.044715 z^3)) is the GELU's tanh, kept from the forward pass. The GELU's
   steps follow gelu_forward and gelu_backward of chapter 11 (same order of operations), the tanh is _fastmath.h's. */
#define T DLNB_T

/* out = 0.5 z (1 + t), and t, for one row. */
static DLNB_VECTORISED void DLNB_NAME(dlnb_row_affine_gelu)(const T *restrict x, T *restrict t, T *restrict o, ptrdiff_t S,
                                                            T m, T a, T b, T c, T ca) {
    for (ptrdiff_t s = 0; s < S; s++) {
        T z = a * (x[s] - m) + b, ts = DLNB_TANH(T, (z * z * ca + c) * z);
        t[s] = ts;
        o[s] = (ts + 1) * z * (T)0.5;
    }
}

/* g = dout * GELU'(z) written to g, and its sums: sg += sum g, sgx += sum g (x - m) (eight partial sums each). */
static DLNB_VECTORISED void DLNB_NAME(dlnb_row_gelu_grad_sums)(const T *restrict d, const T *restrict x, const T *restrict t,
                                                               T *restrict g, ptrdiff_t S, T m, T a, T b, T c, T c3a,
                                                               double *sg, double *sgx) {
    T A[8] = {0}, Q[8] = {0};
    ptrdiff_t s = 0;
    for (; s + 8 <= S; s += 8)
        for (int k = 0; k < 8; k++) {
            T xm = x[s + k] - m, z = a * xm + b, ts = t[s + k];
            T gg = ((z * z * c3a + c) * z * ((T)1 - ts * ts) + ts + (T)1) * (T)0.5 * d[s + k];
            g[s + k] = gg; A[k] += gg; Q[k] += gg * xm;
        }
    for (; s < S; s++) {
        T xm = x[s] - m, z = a * xm + b, ts = t[s];
        T gg = ((z * z * c3a + c) * z * ((T)1 - ts * ts) + ts + (T)1) * (T)0.5 * d[s];
        g[s] = gg; A[0] += gg; Q[0] += gg * xm;
    }
    T SA = 0, SQ = 0;
    for (int k = 0; k < 8; k++) { SA += A[k]; SQ += Q[k]; }
    *sg += SA; *sgx += SQ;
}

/* g = k g + k0 + k1 (x - m) in place: batch norm's input gradient from the gradient at its output. */
static DLNB_VECTORISED void DLNB_NAME(dlnb_row_bn_dx_inplace)(T *restrict g, const T *restrict x, ptrdiff_t S, T m, T k,
                                                              T k0, T k1) {
    for (ptrdiff_t s = 0; s < S; s++) g[s] = k * g[s] + k0 + k1 * (x[s] - m);
}
#undef T
