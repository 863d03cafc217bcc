//===- CudaCachingAllocatorTest.cpp - The device allocator's cache --------===//

#include "mpc/Runtime/CUDA/CachingAllocator.h"

#include <gtest/gtest.h>

#include <map>

using namespace mpc::runtime::cuda;

namespace {

// Hands out addresses from a counter, up to a capacity.
class FakeBackend : public DeviceMemoryBackend {
public:
  explicit FakeBackend(size_t capacity) : capacity(capacity) {}
  uintptr_t allocate(size_t bytes) override {
    ++allocateCalls;
    if (used + bytes > capacity)
      return 0;
    used += bytes;
    uintptr_t block = next;
    next += (bytes + 4095) / 4096 * 4096 + 4096;
    blocks[block] = bytes;
    return block;
  }
  void release(uintptr_t block, size_t bytes) override {
    ASSERT_EQ(blocks.count(block), 1u);
    EXPECT_EQ(blocks[block], bytes);
    blocks.erase(block);
    used -= bytes;
  }
  size_t capacity, used = 0, allocateCalls = 0;
  uintptr_t next = 1 << 20;
  std::map<uintptr_t, size_t> blocks;
};

TEST(CudaCachingAllocator, SizeClasses) {
  EXPECT_EQ(CachingAllocator::sizeClass(0), 256u);
  EXPECT_EQ(CachingAllocator::sizeClass(1), 256u);
  EXPECT_EQ(CachingAllocator::sizeClass(256), 256u);
  EXPECT_EQ(CachingAllocator::sizeClass(257), 512u);
  EXPECT_EQ(CachingAllocator::sizeClass(1000), 1024u);
  EXPECT_EQ(CachingAllocator::sizeClass(1 << 20), size_t(1) << 20);
  // Above 1 MiB: four classes per power of two.
  size_t mib = size_t(1) << 20;
  EXPECT_EQ(CachingAllocator::sizeClass(mib + 1), 5 * mib / 4);
  EXPECT_EQ(CachingAllocator::sizeClass(3 * mib), 3 * mib);
  EXPECT_EQ(CachingAllocator::sizeClass(3 * mib + 1), 7 * mib / 2);
  for (size_t bytes = 1; bytes < (size_t(1) << 34); bytes = bytes * 3 + 7) {
    size_t cls = CachingAllocator::sizeClass(bytes);
    EXPECT_GE(cls, bytes);
    EXPECT_EQ(cls % 256, 0u) << bytes;
    EXPECT_EQ(CachingAllocator::sizeClass(cls), cls) << bytes;
    if (bytes > 256)
      EXPECT_LT(double(cls), bytes * 2.0);
    if (bytes > mib)
      EXPECT_LE(double(cls), bytes * 1.25);
  }
}

TEST(CudaCachingAllocator, ReusesFreedBlocksOfTheSameClass) {
  FakeBackend backend(size_t(1) << 30);
  CachingAllocator allocator(backend);
  uintptr_t a = allocator.allocate(1000);
  ASSERT_NE(a, 0u);
  EXPECT_TRUE(allocator.deallocate(a));
  EXPECT_EQ(allocator.allocate(700), a); // same 1024-byte class
  EXPECT_EQ(backend.allocateCalls, 1u);
  uintptr_t b = allocator.allocate(5000); // another class: a new block
  EXPECT_NE(b, a);
  EXPECT_EQ(backend.allocateCalls, 2u);
  CachingAllocatorStats stats = allocator.stats();
  EXPECT_EQ(stats.allocations, 3u);
  EXPECT_EQ(stats.cacheHits, 1u);
  EXPECT_EQ(stats.backendAllocations, 2u);
  EXPECT_EQ(stats.bytesInUse, 1024u + 8192u);
  EXPECT_EQ(stats.bytesCached, 0u);
}

TEST(CudaCachingAllocator, RejectsUnknownPointers) {
  FakeBackend backend(size_t(1) << 30);
  CachingAllocator allocator(backend);
  uintptr_t a = allocator.allocate(10);
  EXPECT_FALSE(allocator.deallocate(a + 8));
  EXPECT_TRUE(allocator.deallocate(a));
  EXPECT_FALSE(allocator.deallocate(a)); // twice
}

TEST(CudaCachingAllocator, ReleasesTheCacheAndRetriesWhenOutOfMemory) {
  FakeBackend backend(4096);
  CachingAllocator allocator(backend);
  uintptr_t a = allocator.allocate(2048);
  uintptr_t b = allocator.allocate(1024);
  ASSERT_NE(a, 0u);
  ASSERT_NE(b, 0u);
  allocator.deallocate(a);
  allocator.deallocate(b);
  EXPECT_EQ(allocator.stats().bytesCached, 3072u);
  // 4096 does not fit beside the cached 3072: the cache goes, then it fits.
  uintptr_t c = allocator.allocate(4096);
  EXPECT_NE(c, 0u);
  CachingAllocatorStats stats = allocator.stats();
  EXPECT_EQ(stats.trims, 1u);
  EXPECT_EQ(stats.bytesCached, 0u);
  EXPECT_EQ(stats.bytesInUse, 4096u);
  EXPECT_EQ(backend.used, 4096u);
  EXPECT_EQ(stats.peakBytesReserved, 4096u);
  // Nothing left to release: a plain failure.
  EXPECT_EQ(allocator.allocate(256), 0u);
  EXPECT_EQ(allocator.stats().trims, 1u);
}

TEST(CudaCachingAllocator, ReleaseAllReturnsEverything) {
  FakeBackend backend(size_t(1) << 30);
  {
    CachingAllocator allocator(backend);
    uintptr_t a = allocator.allocate(3 << 20);
    allocator.allocate(100);
    allocator.deallocate(a);
    EXPECT_EQ(backend.blocks.size(), 2u);
    allocator.releaseCache();
    EXPECT_EQ(backend.blocks.size(), 1u);
    allocator.releaseAll();
    EXPECT_TRUE(backend.blocks.empty());
    EXPECT_EQ(allocator.stats().bytesInUse, 0u);
    allocator.deallocate(allocator.allocate(100));
  }
  // The destructor gave the cached block back.
  EXPECT_TRUE(backend.blocks.empty());
}

} // namespace
