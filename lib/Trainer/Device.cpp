//===- Device.cpp - where a compiled entry point's buffers live -----------===//
#include "mpc/Trainer/Device.h"

#include "mpc/Runtime/ManifestKeys.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
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

/// MPC_TEST_DEVICE=host-copy: CPU-compiled code run as if on an accelerator.
/// Its buffers are host allocations of their own, filled with 0xFF bytes
/// (NaN in every float type) when allocated and again when freed, so that
/// reading a buffer that was never uploaded or written, or one already
/// freed, shows up as NaN losses and skipped steps. Copies must lie inside
/// a live buffer; anything else is a bug of the caller, reported and fatal.
class HostCopyDevice final : public Device {
public:
  ~HostCopyDevice() override {
    size_t bytes = 0;
    for (const auto &[start, size] : live_) {
      bytes += size;
      std::free(reinterpret_cast<void *>(start));
    }
    if (!live_.empty())
      std::fprintf(stderr, "warning: %s device: %zu buffers (%zu bytes) were never freed\n", name(),
                   live_.size(), bytes);
  }
  const char *name() const override { return "host-copy"; }
  bool isHost() const override { return false; }
  void *alloc(size_t bytes) override {
    size_t rounded = (bytes + 63) / 64 * 64;
    void *pointer = std::aligned_alloc(64, rounded);
    if (!pointer) {
      error_ = "out of memory";
      return nullptr;
    }
    std::memset(pointer, 0xFF, rounded);
    live_[reinterpret_cast<uintptr_t>(pointer)] = bytes;
    return pointer;
  }
  void free(void *pointer) override {
    auto it = live_.find(reinterpret_cast<uintptr_t>(pointer));
    if (it == live_.end())
      misuse("free of a pointer that is no live buffer");
    std::memset(pointer, 0xFF, it->second);
    std::free(pointer);
    live_.erase(it);
  }
  bool upload(void *device, const void *host, size_t bytes) override {
    checkRange(device, bytes, "upload");
    std::memcpy(device, host, bytes);
    return true;
  }
  bool download(void *host, const void *device, size_t bytes) override {
    checkRange(device, bytes, "download");
    std::memcpy(host, device, bytes);
    return true;
  }
  bool synchronize() override { return true; }
  std::string lastError() const override { return error_; }

private:
  void checkRange(const void *device, size_t bytes, const char *what) const {
    auto address = reinterpret_cast<uintptr_t>(device);
    auto it = live_.upper_bound(address);
    if (it == live_.begin() || address + bytes > std::prev(it)->first + std::prev(it)->second)
      misuse(std::string(what) + " of " + std::to_string(bytes) + " bytes outside every live buffer");
  }
  [[noreturn]] void misuse(const std::string &what) const {
    std::fflush(stdout);
    std::fprintf(stderr, "error: %s device: %s (a bug of the runtime using it)\n", name(), what.c_str());
    std::_Exit(1);
  }

  std::map<uintptr_t, size_t> live_; // start -> bytes asked for
  std::string error_;
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

/// The device MPC_TEST_DEVICE asks for; nullptr with `error` empty when it
/// is unset.
std::unique_ptr<Device> createTestDevice(std::string_view target, int ordinal, std::string &error) {
  const char *test = std::getenv("MPC_TEST_DEVICE");
  if (!test || !*test)
    return nullptr;
  if (std::string_view(test) != "host-copy")
    error = "MPC_TEST_DEVICE: unknown test device '" + std::string(test) + "' (there is host-copy)";
  else if (target != manifest::target::kCpu)
    error = "MPC_TEST_DEVICE=host-copy runs CPU builds only; this one targets '" + std::string(target) +
            "' (unset MPC_TEST_DEVICE)";
  else if (checkHostOrdinal(ordinal, error))
    return std::make_unique<HostCopyDevice>();
  return nullptr;
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
  error.clear();
  if (std::unique_ptr<Device> test = createTestDevice(target, ordinal, error); test || !error.empty())
    return test;
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
