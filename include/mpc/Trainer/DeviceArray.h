//===- DeviceArray.h - host arrays as a Device's compiled code sees them -*- C++ -*-===//
//
// The runner and the trainer pass the compiled entry points buffers on the
// manifest target's Device (Device.h). A DeviceArray pairs a host array with
// what the entry point gets for it: on the host device the array's own
// memory (zero-copy: upload and download do nothing), elsewhere a device
// buffer of the same size that upload and download copy to and from it.
//
//===----------------------------------------------------------------------===//
#ifndef MPC_TRAINER_DEVICEARRAY_H
#define MPC_TRAINER_DEVICEARRAY_H

#include "mpc/Runtime/HostArray.h"
#include "mpc/Trainer/Device.h"

#include <cstddef>
#include <cstdint>
#include <string>

namespace mpc::trainer {

/// Device memory, freed with its owner.
class DeviceBuffer {
public:
  DeviceBuffer() = default;
  DeviceBuffer(Device &device, void *pointer) : device_(&device), pointer_(pointer) {}
  DeviceBuffer(DeviceBuffer &&other) noexcept { swap(*this, other); }
  DeviceBuffer &operator=(DeviceBuffer &&other) noexcept {
    if (this == &other)
      return *this;
    DeviceBuffer old(std::move(*this));
    swap(*this, other);
    return *this;
  }
  DeviceBuffer(const DeviceBuffer &) = delete;
  DeviceBuffer &operator=(const DeviceBuffer &) = delete;
  ~DeviceBuffer() {
    if (pointer_)
      device_->free(pointer_);
  }
  void *get() const { return pointer_; }

  friend void swap(DeviceBuffer &a, DeviceBuffer &b) noexcept {
    std::swap(a.device_, b.device_);
    std::swap(a.pointer_, b.pointer_);
  }

private:
  Device *device_ = nullptr;
  void *pointer_ = nullptr;
};

/// `bytes` of device memory for the tensor `what`; false with `error` naming
/// it, the size and the device.
bool allocateBuffer(Device &device, size_t bytes, const std::string &what, DeviceBuffer &out,
                    std::string &error);

class DeviceArray {
public:
  DeviceArray() = default;
  /// Binds `host` (which must stay where it is) for tensor `what`, the name
  /// errors give; allocates its device buffer unless `device` is the host.
  bool bind(Device &device, runtime::HostArray &host, std::string what, std::string &error);
  /// The same for a buffer of `bytes` the host never reads (a result only
  /// the device uses): `host` may then be empty unless the device is the
  /// host, whose entry point gets `host`'s memory.
  bool bind(Device &device, runtime::HostArray &host, size_t bytes, std::string what,
            std::string &error);

  /// What the entry point is given.
  void *data() const { return buffer_.get() ? buffer_.get() : host_->data(); }
  runtime::HostArray &host() const { return *host_; }
  const std::string &what() const { return what_; }

  /// Host -> device and device -> host (the first `bytes`, default all);
  /// nothing on the host device.
  bool upload(std::string &error) const;
  bool download(std::string &error, size_t bytes = SIZE_MAX) const;

  /// Exchanges what `a` and `b` hand the entry point, each staying bound to
  /// its own host array: the device buffers, or on the host device the two
  /// arrays' contents. After a training step this makes the step's results
  /// the state without a copy.
  friend void swapStorage(DeviceArray &a, DeviceArray &b);

private:
  Device *device_ = nullptr;
  runtime::HostArray *host_ = nullptr;
  DeviceBuffer buffer_; // none on the host device
  std::string what_;
};

} // namespace mpc::trainer

#endif // MPC_TRAINER_DEVICEARRAY_H
