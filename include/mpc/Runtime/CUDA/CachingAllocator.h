//===- CachingAllocator.h - Size-class cache of device blocks ----*- C++ -*-===//
//
// cuMemAlloc/cuMemFree synchronize the device and cost tens of microseconds;
// a compiled program allocates and frees its intermediate buffers on every
// run. Freed blocks are kept, by size class, and handed out again. With one
// stream, a block freed after a kernel was queued that reads it can be
// reused at once: whatever reuses it is queued after that kernel.
//
// The memory itself comes from a backend (the driver, or a fake in tests).
//
//===----------------------------------------------------------------------===//
#ifndef MPC_RUNTIME_CUDA_CACHINGALLOCATOR_H
#define MPC_RUNTIME_CUDA_CACHINGALLOCATOR_H

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace mpc::runtime::cuda {

/// Where blocks come from. allocate returns 0 when out of memory (any other
/// failure is the backend's to report).
class DeviceMemoryBackend {
public:
  virtual ~DeviceMemoryBackend() = default;
  virtual uintptr_t allocate(size_t bytes) = 0;
  virtual void release(uintptr_t block, size_t bytes) = 0;
};

struct CachingAllocatorStats {
  size_t bytesInUse = 0;      // handed out, by size class
  size_t bytesCached = 0;     // freed, kept for reuse
  size_t peakBytesReserved = 0; // max of in use + cached
  size_t allocations = 0;     // allocate() calls
  size_t cacheHits = 0;       // served from the cache
  size_t backendAllocations = 0;
  size_t trims = 0;           // cache released to retry an allocation
};

class CachingAllocator {
public:
  explicit CachingAllocator(DeviceMemoryBackend &backend) : backend(backend) {}
  ~CachingAllocator() { releaseCache(); }
  CachingAllocator(const CachingAllocator &) = delete;
  CachingAllocator &operator=(const CachingAllocator &) = delete;

  /// The size class a request is served from: at least 256 bytes; powers of
  /// two up to 1 MiB; above, four classes per power of two (waste < 25%).
  static size_t sizeClass(size_t bytes);

  /// A block of at least `bytes` (0 gets a block too), or 0 when the backend
  /// is out of memory even after the cache was released.
  uintptr_t allocate(size_t bytes);
  /// Returns false for a pointer this allocator did not hand out.
  bool deallocate(uintptr_t block);
  /// Gives every cached block back to the backend.
  void releaseCache();
  /// Gives back cached and live blocks alike (at process exit).
  void releaseAll();

  CachingAllocatorStats stats() const;

private:
  void releaseCacheLocked();

  DeviceMemoryBackend &backend;
  mutable std::mutex mutex;
  std::unordered_map<uintptr_t, size_t> live;           // block -> class
  std::unordered_map<size_t, std::vector<uintptr_t>> cache; // class -> blocks
  CachingAllocatorStats counters;
};

} // namespace mpc::runtime::cuda

#endif // MPC_RUNTIME_CUDA_CACHINGALLOCATOR_H
