//===- CudaDevice.cpp - the runner's "cuda" device over lib/Runtime/CUDA --===//
//
// A CUDA executable's object calls mpc_cuda_register_device() from a
// constructor (mpc-compile adds it), which also pulls this file out of its
// archive; the runner or trainer then makes the device its manifest's
// "target" names (--device picks the GPU).
//
//===----------------------------------------------------------------------===//
#include "mpc/Runtime/CUDA/Mgpu.h"
#include "mpc/Runtime/CUDA/Runtime.h"
#include "mpc/Trainer/Device.h"

namespace mpc::trainer {
namespace {
/// An event on the one stream.
class EventFence final : public Device::Fence {
public:
  EventFence() : event(mgpuEventCreate()) {}
  EventFence(const EventFence &) = delete;
  EventFence &operator=(const EventFence &) = delete;
  ~EventFence() override { mgpuEventDestroy(event); }
  bool record() override {
    mgpuEventRecord(event, nullptr);
    return true;
  }
  bool wait() override {
    mgpuEventSynchronize(event);
    return true;
  }

private:
  void *event;
};

/// Device memory from the runtime's caching allocator; copies through its
/// pinned staging buffer on the one stream, asynchronous ones straight from
/// the caller's pinned memory. The runtime reports a CUDA error
/// itself (one line naming the operation) and exits 1, so these calls only
/// return on success.
class CudaDevice final : public Device {
public:
  explicit CudaDevice(std::string description) : description(std::move(description)) {}
  const char *name() const override { return description.c_str(); }
  bool isHost() const override { return false; }
  void *alloc(size_t bytes) override { return mpcCudaAlloc(bytes); }
  void free(void *pointer) override { mpcCudaFree(pointer); }
  bool upload(void *device, const void *host, size_t bytes) override {
    mpcCudaUpload(device, host, bytes);
    return true;
  }
  bool download(void *host, const void *device, size_t bytes) override {
    mpcCudaDownload(host, device, bytes);
    return true;
  }
  bool synchronize() override {
    mpcCudaSynchronize();
    return true;
  }
  std::string lastError() const override { return ""; }
  std::unique_ptr<Fence> createFence() override { return std::make_unique<EventFence>(); }
  void *allocPinned(size_t bytes) override { return mpcCudaHostAlloc(bytes); }
  void freePinned(void *host) override { mpcCudaHostFree(host); }
  bool uploadAsync(void *device, const void *host, size_t bytes) override {
    mpcCudaUploadAsync(device, host, bytes);
    return true;
  }

private:
  std::string description;
};

std::unique_ptr<Device> makeCudaDevice(int ordinal, std::string &error) {
  // Before anything starts the driver; it checks the ordinal when it starts
  // ("no CUDA device: device 3 requested, the driver sees 1").
  mgpuSetDefaultDevice(ordinal);
  std::string why;
  if (!mpcCudaAvailable(&why)) {
    error = why;
    return nullptr;
  }
  return std::make_unique<CudaDevice>(mpcCudaDeviceDescription());
}
} // namespace
} // namespace mpc::trainer

extern "C" void mpc_cuda_register_device() {
  mpc::trainer::registerDevice("cuda", mpc::trainer::makeCudaDevice);
}
