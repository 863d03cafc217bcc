//===- TrainStep.h - the compiled train step bound to a device --*- C++ -*-===//
//
// Everything the trainer's loop does with buffers: the state lives where the
// step reads it for the whole run (on the host device the TrainState's own
// arrays; elsewhere device buffers, uploaded once and downloaded only for
// checkpoints, --save and the loss scale a log line shows), each step's
// batch is gathered on the host and uploaded, and each step's loss and
// finite flag are written by the step into a ring of slots that is read back
// only when the trainer asks (--log-every).
//
// Off the host the device runs behind the host: the compiled step returns
// with its work queued (a CUDA trainer's entry points end without a wait),
// and nothing here waits for it but the downloads, which are queued behind
// every step before them. Meanwhile the next batch is gathered into one of
// two pinned buffers, in turn, and its upload queued from there; a buffer
// is gathered into again only once the upload that read it has completed
// (a fence recorded after it, two steps earlier), which also bounds the
// queue: the host queues step k+2 only once step k-1 has finished.
//
//===----------------------------------------------------------------------===//
#ifndef MPC_LIB_TRAINER_TRAINSTEP_H
#define MPC_LIB_TRAINER_TRAINSTEP_H

#include "mpc/Runtime/PackedCall.h"
#include "mpc/Trainer/DataSet.h"
#include "mpc/Trainer/DeviceArray.h"
#include "mpc/Trainer/TrainState.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace mpc::trainer {

/// One step's metrics as the step wrote them.
struct StepMetrics {
  float loss = 0;
  bool finite = true;
};

class TrainStep {
public:
  TrainStep(const Manifest &manifest, const DataSet &data, TrainState &state, Device &device)
      : train_(manifest.train), data_(data), state_(state), device_(device) {}
  TrainStep(const TrainStep &) = delete;
  TrainStep &operator=(const TrainStep &) = delete;

  /// Allocates every buffer and uploads the state; the ring holds the
  /// metrics of up to `ringSlots` steps between reads (1 on the host
  /// device, whose reads cost nothing). False with `error`.
  bool prepare(int64_t ringSlots, std::string &error);

  /// Uploads the batch of rows `rows` and runs `function` once; the new
  /// state becomes the state. Needs a free ring slot (pending() <
  /// capacity()).
  bool run(runtime::PackedFunction function, const std::vector<int64_t> &rows, std::string &error);

  int64_t pending() const { return pending_; }
  int64_t capacity() const { return slots_; }

  /// Appends the pending steps' metrics, oldest first, and empties the ring.
  bool readMetrics(std::vector<StepMetrics> &out, std::string &error);

  /// Brings state tensor `index` (all of them: -1) to the TrainState's
  /// host arrays; nothing to do on the host device.
  bool downloadState(int index, std::string &error);

  /// The entry-point pointer of state tensor `name` now (it changes with
  /// every step); null when there is none.
  void *stateData(const std::string &name) const;

private:
  /// Pinned memory holding one batch (every fed argument, 64-byte aligned)
  /// and the fence recorded after the uploads from it.
  struct Staging {
    Staging() = default;
    Staging(const Staging &) = delete;
    Staging &operator=(const Staging &) = delete;
    ~Staging();
    Device *device = nullptr;
    void *memory = nullptr;
    std::unique_ptr<Device::Fence> uploaded;
  };

  bool prepareStaging(std::string &error);
  /// Gathers the batch of rows `rows` where the step reads it: the argument
  /// arrays on the host device, else the next staging buffer, whose upload
  /// it queues.
  bool stageBatch(const std::vector<int64_t> &rows, std::string &error);

  const Signature &train_;
  const DataSet &data_;
  TrainState &state_;
  Device &device_;
  std::vector<runtime::HostArray> argHost_,
      resultHost_; // batch staging; results (host device only)
  std::vector<DeviceArray> args_, results_;
  std::vector<int> stateOfArg_, dataOfArg_,
      resultOfArg_; // index into state_ / data_ / results, or -1
  runtime::HostArray ringHost_;
  DeviceArray ring_; // per slot: the loss (64 bytes), then the finite flag (64 bytes)
  int lossIndex_ = -1, finiteIndex_ = -1;
  int64_t slots_ = 1, pending_ = 0;
  runtime::PackedCall call_;
  // After args_: destroyed first, once the uploads into them have completed.
  std::vector<size_t> stagingOffset_; // of each fed argument
  Staging staging_[2];
  int nextStaging_ = 0;
};

} // namespace mpc::trainer

#endif // MPC_LIB_TRAINER_TRAINSTEP_H
