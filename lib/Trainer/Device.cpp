//===- Device.cpp - where a compiled entry point's buffers live -----------===//
#include "mpc/Trainer/Device.h"

#include "mpc/Runtime/ManifestKeys.h"

#include <cstdlib>
#include <cstring>
#include <utility>
#include <vector>

namespace mpc::trainer {
namespace {
/// The CPU target: buffers are host memory. The runner passes host arrays
/// directly (isHost), so only a caller that ignores isHost() reaches the
/// copies below.
class HostDevice final : public Device {
public:
  const char *name() const override { return manifest::target::kCpu; }
  bool isHost() const override { return true; }
  void *alloc(size_t bytes) override { return std::aligned_alloc(64, (bytes + 63) / 64 * 64); }
  void free(void *pointer) override { std::free(pointer); }
  bool upload(void *device, const void *host, size_t bytes) override {
    std::memcpy(device, host, bytes);
    return true;
  }
  bool download(void *host, const void *device, size_t bytes) override {
    std::memcpy(host, device, bytes);
    return true;
  }
  bool synchronize() override { return true; }
  std::string lastError() const override { return "out of memory"; }
};

bool checkHostOrdinal(int ordinal, std::string &error) {
  if (ordinal == 0)
    return true;
  error = "--device " + std::to_string(ordinal) + ": a CPU build runs on the host, which is device 0 only";
  return false;
}

std::unique_ptr<Device> makeHostDevice(int ordinal, std::string &error) {
  if (!checkHostOrdinal(ordinal, error))
    return nullptr;
  return std::make_unique<HostDevice>();
}

std::vector<std::pair<std::string, DeviceFactory>> &registry() {
  static std::vector<std::pair<std::string, DeviceFactory>> factories{
      {manifest::target::kCpu, makeHostDevice}};
  return factories;
}
} // namespace

void registerDevice(std::string_view target, DeviceFactory factory) {
  for (auto &[name, existing] : registry())
    if (name == target) {
      existing = factory;
      return;
    }
  registry().emplace_back(std::string(target), factory);
}

std::unique_ptr<Device> createDevice(std::string_view target, int ordinal, std::string &error) {
  for (const auto &[name, factory] : registry())
    if (name == target) {
      std::unique_ptr<Device> device = factory(ordinal, error);
      if (!device && error.empty())
        error = "cannot open the '" + name + "' device";
      return device;
    }
  std::string known;
  for (const auto &entry : registry())
    known += (known.empty() ? "" : ", ") + entry.first;
  error = "the compiled model targets '" + std::string(target) + "', which this runner cannot run (it knows " +
          known + ")";
  return nullptr;
}

} // namespace mpc::trainer
