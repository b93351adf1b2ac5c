/* Kernel template (see _common.h), included once per element type T, in blocks of B x B (one SSE register of T a row):
   dst[j*ldd + i] = src[i*lds + j] (+ bias[j] unless bias is NULL) for i < rows, j < cols, the transposes between NCHW
   and channels-innermost. The blocks are visited along the rows of dst when dst_rows is true (so that a far, large dst
   is written a few rows at a time), along the rows of src otherwise (so that a far src is read a few rows at a time). */
#define T DLNB_T
#define B ((ptrdiff_t)(16 / sizeof(T)))
static void DLNB_NAME(transpose)(const T *src, ptrdiff_t lds, T *dst, ptrdiff_t ldd, ptrdiff_t rows, ptrdiff_t cols,
                                 const T *bias, int dst_rows) {
    ptrdiff_t rb = rows - rows % B, cb = cols - cols % B, i, j;
    if (dst_rows) {
        for (j = 0; j < cb; j += B)
            for (i = 0; i < rb; i += B) DLNB_NAME(tblock)(src + i * lds + j, lds, dst + j * ldd + i, ldd, bias ? bias + j : 0);
    } else {
        for (i = 0; i < rb; i += B)
            for (j = 0; j < cb; j += B) DLNB_NAME(tblock)(src + i * lds + j, lds, dst + j * ldd + i, ldd, bias ? bias + j : 0);
    }
    for (i = rb; i < rows; i++)                     /* the edges */
        for (j = 0; j < cols; j++) dst[j * ldd + i] = src[i * lds + j] + (bias ? bias[j] : (T)0);
    for (i = 0; i < rb; i++)
        for (j = cb; j < cols; j++) dst[j * ldd + i] = src[i * lds + j] + (bias ? bias[j] : (T)0);
}
#undef T
#undef B
