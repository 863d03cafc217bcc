//===- Allocator.cpp - malloc settings for programs that run models -------===//
#include "mpc/Runtime/Allocator.h"

// Any C library header defines __GLIBC__ (through <features.h>); without
// one before the check below, the settings were compiled out.
#include <cstdlib>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace mpc::runtime {

void keepFreedBuffersForReuse() {
#if defined(__GLIBC__)
  // Blocks up to 32 MiB (glibc's largest mmap threshold on 64-bit hosts)
  // come from the heap, and up to 1 GiB of free heap top stays mapped.
  // Setting either turns glibc's dynamic thresholds off.
  mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);
  mallopt(M_TRIM_THRESHOLD, 1024 * 1024 * 1024);
#endif
}

} // namespace mpc::runtime
