/* Includes the kernel template named by DLNB_TEMPLATE twice, once per element type (see _common.h): with DLNB_T float
   and DLNB_SFX f, then with double and d. The includer defines DLNB_TEMPLATE; it is undefined afterwards. */
#define DLNB_T float
#define DLNB_SFX f
#include DLNB_TEMPLATE
#undef DLNB_T
#undef DLNB_SFX
#define DLNB_T double
#define DLNB_SFX d
#include DLNB_TEMPLATE
#undef DLNB_T
#undef DLNB_SFX
#undef DLNB_TEMPLATE
