/* The C of winograd.pyx (hand-written): the 1-D transforms of _winograd_1d.h in float and double, and the entry
   points winograd.pyx calls (see DLNB_BY_SIZE in _common.h). o[k*s + i] = (X d[:, i])[k] for the n columns whose
   k-th entries are d[k*ld + i]: X = B^T (bt), A^T (at), A (a), B (b; added to o if add), G (g), G^T (gt). */
#ifndef DLNB_WINOGRAD_H
#define DLNB_WINOGRAD_H
#include "_common.h"

#define DLNB_TEMPLATE "_winograd_1d.h"
#include "_both_types.h"

static inline void dlnb_wino_bt(const void *d, ptrdiff_t ld, void *o, ptrdiff_t s, ptrdiff_t n, int m, size_t size) {
    DLNB_BY_SIZE(size, wino_bt, d, ld, o, s, n, m);
}
static inline void dlnb_wino_at(const void *d, ptrdiff_t ld, void *o, ptrdiff_t s, ptrdiff_t n, int m, size_t size) {
    DLNB_BY_SIZE(size, wino_at, d, ld, o, s, n, m);
}
static inline void dlnb_wino_a(const void *d, ptrdiff_t ld, void *o, ptrdiff_t s, ptrdiff_t n, int m, size_t size) {
    DLNB_BY_SIZE(size, wino_a, d, ld, o, s, n, m);
}
static inline void dlnb_wino_b(const void *d, ptrdiff_t ld, void *o, ptrdiff_t s, ptrdiff_t n, int m, int add,
                               size_t size) {
    DLNB_BY_SIZE(size, wino_b, d, ld, o, s, n, m, add);
}
static inline void dlnb_wino_g(const void *d, ptrdiff_t ld, void *o, ptrdiff_t s, ptrdiff_t n, int m, size_t size) {
    DLNB_BY_SIZE(size, wino_g, d, ld, o, s, n, m);
}
static inline void dlnb_wino_gt(const void *d, ptrdiff_t ld, void *o, ptrdiff_t s, ptrdiff_t n, int m, size_t size) {
    DLNB_BY_SIZE(size, wino_gt, d, ld, o, s, n, m);
}
#endif
