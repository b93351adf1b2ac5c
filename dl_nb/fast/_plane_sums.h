/* Kernel template (see _common.h), included once per element type T: out[f] = the sum of src[f*size + i] over
   i < size, accumulated in double, for f < planes: one image's sum per channel (a bias gradient). Eight partial sums,
   each over every eighth element, are added in a fixed order at the end, so the order of the additions is set by this
   code, not by the vector width the compiler picks (it keeps the eight in vector registers). */
#define T DLNB_T
static void DLNB_NAME(plane_sums)(const T *src, ptrdiff_t planes, ptrdiff_t size, double *out) {
    ptrdiff_t f, i, j, body = size - size % 8;
    for (f = 0; f < planes; f++) {
        const T *p = src + f * size;
        double s[8] = {0, 0, 0, 0, 0, 0, 0, 0}, total = 0;
        for (i = 0; i < body; i += 8)
            for (j = 0; j < 8; j++) s[j] += p[i + j];
        for (j = 0; j < 8; j++) total += s[j];
        for (i = body; i < size; i++) total += p[i];
        out[f] = total;
    }
}
#undef T
