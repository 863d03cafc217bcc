//===- AllocatorTest.cpp - malloc settings of programs that run models ----===//
#include "mpc/Runtime/Allocator.h"

#include <cstdlib>
#include <cstring>

#include <gtest/gtest.h>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MPC_HAS_ASAN 1
#endif
#endif
#ifndef MPC_HAS_ASAN
#define MPC_HAS_ASAN 0
#endif

namespace {

// A 16 MiB buffer (above glibc's default 128 KiB mmap threshold) comes from
// the heap and stays mapped after free, so the next run that allocates it
// takes no page faults. The settings were once compiled out (__GLIBC__
// was tested before any header defined it) and every ResNet-18 run
// page-faulted its buffers in again.
TEST(Allocator, FreedBuffersStayMappedForTheNextRun) {
#if defined(__SANITIZE_ADDRESS__) || MPC_HAS_ASAN
  GTEST_SKIP() << "AddressSanitizer replaces malloc: glibc's settings do not apply";
#elif defined(__GLIBC__)
  mpc::runtime::keepFreedBuffersForReuse();
  constexpr size_t kSize = 16u << 20;
  struct mallinfo2 before = mallinfo2();
  void *buffer = std::malloc(kSize);
  ASSERT_NE(buffer, nullptr);
  std::memset(buffer, 1, kSize);
  struct mallinfo2 during = mallinfo2();
  EXPECT_EQ(during.hblkhd, before.hblkhd) << "the buffer was mmapped: it would be unmapped on free";
  std::free(buffer);
  struct mallinfo2 after = mallinfo2();
  EXPECT_GE(after.arena, kSize) << "the heap was trimmed after free";
  EXPECT_GE(after.fordblks, kSize) << "the freed buffer is not kept for reuse";
#else
  GTEST_SKIP() << "malloc settings are glibc's only";
#endif
}

} // namespace
