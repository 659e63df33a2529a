/* Force-included into every translation unit of a portable build (FHN_NATIVE=OFF; CMakeLists.txt):
 * on x86-64 glibc, calls of exp, log and pow bind to their GLIBC_2.2.5 symbol versions instead of
 * the GLIBC_2.29 ones that the headers of glibc 2.29 and newer select. Those newer versions only
 * drop the SVID error-handling wrapper around the same functions (which, in POSIX mode, returns
 * the same values and sets errno), so every result is the same; the portable wheel then needs no
 * glibc symbol newer than 2.27 and installs on glibc 2.28 (RHEL 8 and its rebuilds), which it
 * could not with those three symbols. A no-op elsewhere. */
#include <features.h>
#if defined(__x86_64__) && defined(__GLIBC__)
__asm__(".symver exp,exp@GLIBC_2.2.5");
__asm__(".symver log,log@GLIBC_2.2.5");
__asm__(".symver pow,pow@GLIBC_2.2.5");
#endif
