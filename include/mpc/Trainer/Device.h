//===- Device.h - where a compiled entry point's buffers live ---*- C++ -*-===//
//
// The inference runner (Runner.h) passes the entry point memref descriptors
// that point into the memory of the manifest's "target": host memory for
// "cpu", device memory for an accelerator target whose compiled entry point
// takes device buffers (same packed ABI, same manifest). A Device is the
// little the runner needs of such memory. The host device is built in and
// costs nothing: the runner sees isHost() and points the descriptors straight
// at its host arrays, with no allocation, upload or download.
//
// Another target plugs in by registering a factory under its manifest name
// (registerDevice("cuda", ...)) before the runner starts, e.g. from main()
// or a static initializer of an object the executable links.
//
// The trainer (Trainer.h) uses the same interface: on a device other than
// the host its state stays in device buffers for the whole run.
//
// For testing those copies without an accelerator, MPC_TEST_DEVICE=host-copy
// makes a CPU build run on the "host-copy" device: separate host allocations
// (poisoned when allocated and freed) reached only through upload and
// download, so that every copy a real device needs is made and checked;
// its asynchronous uploads check that their pinned source is left alone
// until a fence says the copy is done.
//
//===----------------------------------------------------------------------===//
#ifndef MPC_TRAINER_DEVICE_H
#define MPC_TRAINER_DEVICE_H

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace mpc::trainer {

class Device {
public:
  virtual ~Device() = default;
  /// Named in messages and the timing line ("cpu", "cuda:0", ...).
  virtual const char *name() const = 0;
  /// True when the entry point reads and writes host memory: the runner then
  /// passes host pointers and never calls alloc/free/upload/download.
  virtual bool isHost() const = 0;
  /// `bytes` (> 0) bytes of device memory, aligned to at least 64 bytes;
  /// nullptr on failure (lastError() says why).
  virtual void *alloc(size_t bytes) = 0;
  virtual void free(void *pointer) = 0;
  /// Copies host -> device and device -> host; false on failure.
  virtual bool upload(void *device, const void *host, size_t bytes) = 0;
  virtual bool download(void *host, const void *device, size_t bytes) = 0;
  /// Waits until everything queued on the device, entry-point calls
  /// included, has finished; false on failure. The runner calls it after
  /// every timed call.
  virtual bool synchronize() = 0;

  /// A point in the device's queue (on CUDA an event): record() moves it to
  /// the end of what is queued now; wait() blocks until everything queued
  /// before that point has finished (at once if it was never recorded).
  class Fence {
  public:
    virtual ~Fence() = default;
    virtual bool record() = 0;
    virtual bool wait() = 0;
  };
  /// A fence must not outlive its device. The defaults below suit a device
  /// whose copies finish before they return: its fences have nothing to
  /// wait for, its pinned memory is plain host memory and uploadAsync is
  /// upload.
  virtual std::unique_ptr<Fence> createFence();
  /// `bytes` (> 0) of host memory that uploadAsync may copy from (page-locked
  /// on CUDA); nullptr on failure.
  virtual void *allocPinned(size_t bytes);
  virtual void freePinned(void *host);
  /// Queues a host -> device copy from pinned memory and may return before
  /// it is made: until a fence recorded after this call has been waited
  /// for (or synchronize() or a download has returned), `host` must be
  /// neither changed nor freed. The copy is ordered after everything
  /// queued before it (entry-point calls included) and before everything
  /// queued after it.
  virtual bool uploadAsync(void *device, const void *host, size_t bytes);
  /// Why the last failing call failed.
  virtual std::string lastError() const = 0;
};

/// Makes device number `ordinal` (>= 0) of a target; nullptr with `error`
/// set on failure (e.g. no such device).
using DeviceFactory = std::unique_ptr<Device> (*)(int ordinal, std::string &error);

/// Makes device `ordinal` (--device) for manifest target `target` ("cpu" is
/// built in and has device 0 only); an unknown or unregistered target is an
/// error naming it. With MPC_TEST_DEVICE=host-copy a "cpu" target gets the
/// host-copy test device instead.
std::unique_ptr<Device> createDevice(std::string_view target, int ordinal, std::string &error);

/// Registers (or replaces) the factory of `target`.
void registerDevice(std::string_view target, DeviceFactory factory);

} // namespace mpc::trainer

#endif // MPC_TRAINER_DEVICE_H
