//===- Memory.cpp - Device memory and host <-> device copies --------------===//

#include "Driver.h"

#include "mpc/Runtime/CUDA/Mgpu.h"
#include "mpc/Runtime/CUDA/Runtime.h"

#include <algorithm>
#include <cstring>
#include <mutex>
#include <unordered_set>

using namespace mpc::runtime::cuda;

namespace {

std::string bytesText(size_t bytes) {
  return std::to_string(bytes) + " bytes (" +
         std::to_string(bytes >> 20) + " MiB)";
}

// Managed (host-shared) blocks bypass the cache: the host may touch them
// once they are freed and handed out again.
struct ManagedBlocks {
  std::mutex mutex;
  std::unordered_set<void *> blocks;
};

ManagedBlocks &managed() {
  static ManagedBlocks *instance = new ManagedBlocks;
  return *instance;
}

// One pinned buffer: copies from pageable memory are synchronous and slow.
// `ready` is recorded after the last copy that reads or writes it.
struct Staging {
  std::mutex mutex;
  void *buffer = nullptr;
  size_t capacity = 0;
  CUevent ready = nullptr;
  bool pending = false;
};

Staging &staging() {
  static Staging *instance = new Staging;
  return *instance;
}

// Bigger transfers go through in pieces of this size.
constexpr size_t kStagingLimit = size_t(64) << 20;

// With the staging lock held: a buffer of at least min(bytes, limit) that no
// queued copy still uses.
size_t acquireStaging(Staging &s, size_t bytes) {
  const DriverApi &api = driver();
  if (s.pending) {
    check(api.cuEventSynchronize(s.ready), "cuEventSynchronize",
          "staging buffer");
    s.pending = false;
  }
  if (!s.ready)
    check(api.cuEventCreate(&s.ready, CU_EVENT_DISABLE_TIMING),
          "cuEventCreate");
  size_t want = std::min(std::max(bytes, size_t(1) << 20), kStagingLimit);
  if (s.capacity < want) {
    if (s.buffer)
      check(api.cuMemFreeHost(s.buffer), "cuMemFreeHost");
    s.buffer = nullptr;
    s.capacity = 0;
    check(api.cuMemHostAlloc(&s.buffer, want, 0), "cuMemHostAlloc",
          "pinned staging buffer of " + bytesText(want));
    s.capacity = want;
  }
  return s.capacity;
}

void markStagingBusy(Staging &s) {
  check(driver().cuEventRecord(s.ready, theStream()), "cuEventRecord");
  s.pending = true;
}

} // namespace

extern "C" void *mgpuMemAlloc(uint64_t sizeBytes, void *, bool isHostShared) {
  if (isHostShared) {
    CUdeviceptr block = 0;
    check(driver().cuMemAllocManaged(&block, std::max<uint64_t>(sizeBytes, 1),
                                     CU_MEM_ATTACH_GLOBAL),
          "cuMemAllocManaged", bytesText(sizeBytes));
    void *pointer = reinterpret_cast<void *>(block);
    ManagedBlocks &m = managed();
    std::lock_guard<std::mutex> lock(m.mutex);
    m.blocks.insert(pointer);
    return pointer;
  }
  return mpcCudaAlloc(sizeBytes);
}

extern "C" void mgpuMemFree(void *ptr, void *) {
  if (!ptr || shuttingDown())
    return;
  {
    ManagedBlocks &m = managed();
    std::lock_guard<std::mutex> lock(m.mutex);
    if (m.blocks.erase(ptr)) {
      mpcCudaSynchronize();
      check(driver().cuMemFree(reinterpret_cast<CUdeviceptr>(ptr)),
            "cuMemFree", "managed memory");
      return;
    }
  }
  mpcCudaFree(ptr);
}

extern "C" void *mpcCudaAlloc(size_t bytes) {
  driver();
  uintptr_t block = deviceAllocator().allocate(bytes);
  if (!block) {
    CachingAllocatorStats stats = deviceAllocator().stats();
    fatal("out of GPU memory: cuMemAlloc of " + bytesText(bytes) +
          " failed with " + bytesText(stats.bytesInUse) +
          " in use by this program (peak " +
          bytesText(stats.peakBytesReserved) +
          "); use a smaller batch, or a GPU with more memory");
  }
  return reinterpret_cast<void *>(block);
}

extern "C" void mpcCudaFree(void *device) {
  if (!device || shuttingDown())
    return;
  if (!deviceAllocator().deallocate(reinterpret_cast<uintptr_t>(device)))
    fatal("freeing GPU memory the runtime did not allocate (pointer " +
          std::to_string(reinterpret_cast<uintptr_t>(device)) + ")");
}

extern "C" void mgpuMemcpy(void *dst, void *src, size_t sizeBytes, void *) {
  check(driver().cuMemcpyAsync(reinterpret_cast<CUdeviceptr>(dst),
                               reinterpret_cast<CUdeviceptr>(src), sizeBytes,
                               theStream()),
        "cuMemcpyAsync", bytesText(sizeBytes));
}

extern "C" void mgpuMemset32(void *dst, uint32_t value, size_t count, void *) {
  check(driver().cuMemsetD32Async(reinterpret_cast<CUdeviceptr>(dst), value,
                                  count, theStream()),
        "cuMemsetD32Async");
}

extern "C" void mgpuMemset16(void *dst, uint16_t value, size_t count, void *) {
  check(driver().cuMemsetD16Async(reinterpret_cast<CUdeviceptr>(dst), value,
                                  count, theStream()),
        "cuMemsetD16Async");
}

namespace {

// The first byte and the extent of a memref's buffer, from its descriptor.
std::pair<char *, size_t> memrefExtent(int64_t rank, void *descriptor,
                                       int64_t elementSizeBytes) {
  auto *pointers = static_cast<char **>(descriptor);
  auto *fields = reinterpret_cast<int64_t *>(pointers + 2);
  int64_t offset = fields[0];
  const int64_t *sizes = fields + 1, *strides = fields + 1 + rank;
  int64_t lastElement = 0;
  for (int64_t d = 0; d < rank; ++d) {
    if (sizes[d] == 0)
      return {pointers[1] + offset * elementSizeBytes, 0};
    lastElement += (sizes[d] - 1) * strides[d];
  }
  return {pointers[1] + offset * elementSizeBytes,
          size_t(lastElement + 1) * size_t(elementSizeBytes)};
}

} // namespace

extern "C" void mgpuMemHostRegisterMemRef(int64_t rank, void *descriptor,
                                          int64_t elementSizeBytes) {
  auto [begin, bytes] = memrefExtent(rank, descriptor, elementSizeBytes);
  if (bytes)
    check(driver().cuMemHostRegister(begin, bytes, 0), "cuMemHostRegister",
          bytesText(bytes));
}

extern "C" void mgpuMemHostUnregisterMemRef(int64_t rank, void *descriptor,
                                            int64_t elementSizeBytes) {
  auto [begin, bytes] = memrefExtent(rank, descriptor, elementSizeBytes);
  if (bytes && !shuttingDown())
    check(driver().cuMemHostUnregister(begin), "cuMemHostUnregister");
}

extern "C" void mpcCudaUpload(void *device, const void *host, size_t bytes) {
  Staging &s = staging();
  std::lock_guard<std::mutex> lock(s.mutex);
  const DriverApi &api = driver();
  for (size_t done = 0; done < bytes;) {
    size_t piece = std::min(bytes - done, acquireStaging(s, bytes - done));
    std::memcpy(s.buffer, static_cast<const char *>(host) + done, piece);
    check(api.cuMemcpyHtoDAsync(reinterpret_cast<CUdeviceptr>(device) + done,
                                s.buffer, piece, theStream()),
          "cuMemcpyHtoDAsync", "upload of " + bytesText(bytes));
    markStagingBusy(s);
    done += piece;
  }
}

extern "C" void mpcCudaDownload(void *host, const void *device, size_t bytes) {
  Staging &s = staging();
  std::lock_guard<std::mutex> lock(s.mutex);
  const DriverApi &api = driver();
  for (size_t done = 0; done < bytes;) {
    size_t piece = std::min(bytes - done, acquireStaging(s, bytes - done));
    check(api.cuMemcpyDtoHAsync(s.buffer,
                                reinterpret_cast<CUdeviceptr>(device) + done,
                                piece, theStream()),
          "cuMemcpyDtoHAsync", "download of " + bytesText(bytes));
    markStagingBusy(s);
    check(api.cuEventSynchronize(s.ready), "cuEventSynchronize",
          "download of " + bytesText(bytes));
    s.pending = false;
    std::memcpy(static_cast<char *>(host) + done, s.buffer, piece);
    done += piece;
  }
}

extern "C" void *mpcCudaHostAlloc(size_t bytes) {
  void *host = nullptr;
  check(driver().cuMemHostAlloc(&host, std::max<size_t>(bytes, 1), 0),
        "cuMemHostAlloc", "pinned host memory of " + bytesText(bytes));
  return host;
}

extern "C" void mpcCudaHostFree(void *host) {
  if (host && !shuttingDown())
    check(driver().cuMemFreeHost(host), "cuMemFreeHost");
}

extern "C" void mpcCudaUploadAsync(void *device, const void *host,
                                   size_t bytes) {
  check(driver().cuMemcpyHtoDAsync(reinterpret_cast<CUdeviceptr>(device), host,
                                   bytes, theStream()),
        "cuMemcpyHtoDAsync", "asynchronous upload of " + bytesText(bytes));
}
