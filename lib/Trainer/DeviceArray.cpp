//===- DeviceArray.cpp - host arrays as a Device's compiled code sees them -===//
#include "mpc/Trainer/DeviceArray.h"

#include <algorithm>
#include <utility>

namespace mpc::trainer {

bool allocateBuffer(Device &device, size_t bytes, const std::string &what, DeviceBuffer &out,
                    std::string &error) {
  void *pointer = device.alloc(std::max<size_t>(bytes, 1));
  if (!pointer) {
    error = "cannot allocate " + std::to_string(bytes) + " bytes on " + device.name() + " for " +
            what + ": " + device.lastError();
    return false;
  }
  out = DeviceBuffer(device, pointer);
  return true;
}

bool DeviceArray::bind(Device &device, runtime::HostArray &host, std::string what,
                       std::string &error) {
  return bind(device, host, host.sizeInBytes(), std::move(what), error);
}

bool DeviceArray::bind(Device &device, runtime::HostArray &host, size_t bytes, std::string what,
                       std::string &error) {
  device_ = &device;
  host_ = &host;
  what_ = std::move(what);
  buffer_ = DeviceBuffer();
  return device.isHost() || allocateBuffer(device, bytes, what_, buffer_, error);
}

bool DeviceArray::upload(std::string &error) const {
  size_t bytes = host_->sizeInBytes();
  if (!buffer_.get() || !bytes || device_->upload(buffer_.get(), host_->data(), bytes))
    return true;
  error = "cannot copy " + what_ + " to " + device_->name() + ": " + device_->lastError();
  return false;
}

bool DeviceArray::download(std::string &error, size_t bytes) const {
  bytes = std::min(bytes, host_->sizeInBytes());
  if (!buffer_.get() || !bytes || device_->download(host_->data(), buffer_.get(), bytes))
    return true;
  error = "cannot copy " + what_ + " from " + device_->name() + ": " + device_->lastError();
  return false;
}

void swapStorage(DeviceArray &a, DeviceArray &b) {
  if (a.buffer_.get() || b.buffer_.get())
    swap(a.buffer_, b.buffer_);
  else
    std::swap(*a.host_, *b.host_);
}

} // namespace mpc::trainer
