//===- CachingAllocator.cpp - Size-class cache of device blocks -----------===//

#include "mpc/Runtime/CUDA/CachingAllocator.h"

#include <algorithm>

namespace mpc::runtime::cuda {

size_t CachingAllocator::sizeClass(size_t bytes) {
  constexpr size_t minClass = 256, pow2Limit = size_t(1) << 20;
  if (bytes <= minClass)
    return minClass;
  size_t pow2 = minClass;
  while (pow2 < bytes)
    pow2 <<= 1;
  if (pow2 <= pow2Limit)
    return pow2;
  // bytes lies in (pow2/2, pow2]: round up to a multiple of pow2/8.
  size_t step = pow2 / 8;
  return (bytes + step - 1) / step * step;
}

uintptr_t CachingAllocator::allocate(size_t bytes) {
  size_t cls = sizeClass(bytes);
  std::lock_guard<std::mutex> lock(mutex);
  ++counters.allocations;
  uintptr_t block = 0;
  auto cached = cache.find(cls);
  if (cached != cache.end() && !cached->second.empty()) {
    block = cached->second.back();
    cached->second.pop_back();
    counters.bytesCached -= cls;
    ++counters.cacheHits;
  } else {
    block = backend.allocate(cls);
    if (!block && counters.bytesCached) {
      ++counters.trims;
      releaseCacheLocked();
      block = backend.allocate(cls);
    }
    if (!block)
      return 0;
    ++counters.backendAllocations;
  }
  live.emplace(block, cls);
  counters.bytesInUse += cls;
  counters.peakBytesReserved =
      std::max(counters.peakBytesReserved,
               counters.bytesInUse + counters.bytesCached);
  return block;
}

bool CachingAllocator::deallocate(uintptr_t block) {
  std::lock_guard<std::mutex> lock(mutex);
  auto it = live.find(block);
  if (it == live.end())
    return false;
  size_t cls = it->second;
  live.erase(it);
  cache[cls].push_back(block);
  counters.bytesInUse -= cls;
  counters.bytesCached += cls;
  return true;
}

void CachingAllocator::releaseCacheLocked() {
  for (auto &[cls, blocks] : cache)
    for (uintptr_t block : blocks)
      backend.release(block, cls);
  cache.clear();
  counters.bytesCached = 0;
}

void CachingAllocator::releaseCache() {
  std::lock_guard<std::mutex> lock(mutex);
  releaseCacheLocked();
}

void CachingAllocator::releaseAll() {
  std::lock_guard<std::mutex> lock(mutex);
  releaseCacheLocked();
  for (auto &[block, cls] : live)
    backend.release(block, cls);
  live.clear();
  counters.bytesInUse = 0;
}

CachingAllocatorStats CachingAllocator::stats() const {
  std::lock_guard<std::mutex> lock(mutex);
  return counters;
}

} // namespace mpc::runtime::cuda
