//===- Device.cpp - where a compiled entry point's buffers live -----------===//
#include "mpc/Trainer/Device.h"

#include "mpc/Runtime/ManifestKeys.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <map>
#include <utility>
#include <vector>

namespace mpc::trainer {
namespace {
class PassedFence final : public Device::Fence {
public:
  bool record() override { return true; }
  bool wait() override { return true; }
};
} // namespace

std::unique_ptr<Device::Fence> Device::createFence() { return std::make_unique<PassedFence>(); }

void *Device::allocPinned(size_t bytes) { return std::aligned_alloc(64, (bytes + 63) / 64 * 64); }

void Device::freePinned(void *host) { std::free(host); }

bool Device::uploadAsync(void *device, const void *host, size_t bytes) { return upload(device, host, bytes); }

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
///
/// An asynchronous upload copies at once (a real device copies before any
/// later queued work, which is all that can read the destination) but
/// stays pending, as on a real device, until a fence recorded after it is
/// waited for, or synchronize() or a download returns. It must read live
/// pinned memory, and the pinned bytes it read must be unchanged when it
/// completes and must not be freed before: a device copying later would
/// have read the new bytes.
class HostCopyDevice final : public Device {
public:
  ~HostCopyDevice() override {
    complete(queued_);
    size_t bytes = 0;
    for (const auto *buffers : {&live_, &pinned_})
      for (const auto &[start, size] : *buffers) {
        bytes += size;
        std::free(reinterpret_cast<void *>(start));
      }
    if (size_t count = live_.size() + pinned_.size())
      std::fprintf(stderr, "warning: %s device: %zu buffers (%zu bytes) were never freed\n", name(),
                   count, bytes);
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
    complete(queued_);
    std::memcpy(host, device, bytes);
    return true;
  }
  bool synchronize() override {
    complete(queued_);
    return true;
  }
  std::string lastError() const override { return error_; }

  std::unique_ptr<Fence> createFence() override { return std::make_unique<HostCopyFence>(*this); }
  void *allocPinned(size_t bytes) override {
    void *pointer = std::aligned_alloc(64, (bytes + 63) / 64 * 64);
    if (!pointer) {
      error_ = "out of memory";
      return nullptr;
    }
    std::memset(pointer, 0xFF, bytes);
    pinned_[reinterpret_cast<uintptr_t>(pointer)] = bytes;
    return pointer;
  }
  void freePinned(void *host) override {
    auto it = pinned_.find(reinterpret_cast<uintptr_t>(host));
    if (it == pinned_.end())
      misuse("free of a pointer that is no pinned buffer");
    for (const PendingUpload &upload : pending_)
      if (upload.host >= it->first && upload.host < it->first + it->second)
        misuse("pinned buffer freed while an upload from it is still pending");
    std::memset(host, 0xFF, it->second);
    std::free(host);
    pinned_.erase(it);
  }
  bool uploadAsync(void *device, const void *host, size_t bytes) override {
    checkRange(device, bytes, "asynchronous upload");
    if (!inside(pinned_, host, bytes))
      misuse("asynchronous upload of " + std::to_string(bytes) + " bytes from memory that is not pinned");
    std::memcpy(device, host, bytes);
    const auto *from = static_cast<const char *>(host);
    pending_.push_back({reinterpret_cast<uintptr_t>(host), std::string(from, from + bytes)});
    ++queued_;
    return true;
  }

private:
  struct PendingUpload {
    uintptr_t host;
    std::string bytes; // what the copy read
  };
  /// Remembers how many uploads were queued when it was recorded.
  class HostCopyFence final : public Fence {
  public:
    explicit HostCopyFence(HostCopyDevice &device) : device_(device) {}
    bool record() override {
      point_ = device_.queued_;
      return true;
    }
    bool wait() override {
      device_.complete(point_);
      return true;
    }

  private:
    HostCopyDevice &device_;
    size_t point_ = 0;
  };

  /// Completes the uploads among the first `point` queued that are pending.
  void complete(size_t point) {
    size_t done = queued_ - pending_.size();
    for (; done < point && !pending_.empty(); ++done) {
      const PendingUpload &upload = pending_.front();
      if (std::memcmp(reinterpret_cast<const void *>(upload.host), upload.bytes.data(), upload.bytes.size()))
        misuse("pinned memory changed while an upload from it was still pending (wait for a fence "
               "recorded after the upload first)");
      pending_.pop_front();
    }
  }
  static bool inside(const std::map<uintptr_t, size_t> &buffers, const void *pointer, size_t bytes) {
    auto address = reinterpret_cast<uintptr_t>(pointer);
    auto it = buffers.upper_bound(address);
    return it != buffers.begin() && address + bytes <= std::prev(it)->first + std::prev(it)->second;
  }
  void checkRange(const void *device, size_t bytes, const char *what) const {
    if (!inside(live_, device, bytes))
      misuse(std::string(what) + " of " + std::to_string(bytes) + " bytes outside every live buffer");
  }
  [[noreturn]] void misuse(const std::string &what) const {
    std::fflush(stdout);
    std::fprintf(stderr, "error: %s device: %s (a bug of the runtime using it)\n", name(), what.c_str());
    std::_Exit(1);
  }

  std::map<uintptr_t, size_t> live_, pinned_; // start -> bytes asked for
  std::deque<PendingUpload> pending_;         // oldest first
  size_t queued_ = 0;                         // uploads queued so far
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
