//===- TrainStep.cpp - the compiled train step bound to a device ----------===//
#include "TrainStep.h"

#include "mpc/Runtime/ManifestKeys.h"

#include <algorithm>
#include <cstring>

namespace mpc::trainer {
using runtime::HostArray;

namespace {
/// Bytes of one ring slot's loss or finite flag: a result's own alignment,
/// whatever the compiled code assumes of it.
constexpr size_t kSlotHalf = 64;
} // namespace

bool TrainStep::prepare(int64_t ringSlots, std::string &error) {
  size_t numArgs = train_.args.size(), numResults = train_.results.size();
  slots_ = device_.isHost() ? 1 : ringSlots;
  lossIndex_ = train_.resultIndexOfRole(manifest::role::kLoss);
  finiteIndex_ = train_.resultIndexOfRole(manifest::role::kFinite);
  for (int index : {lossIndex_, finiteIndex_})
    if (train_.results[index].numElements() * runtime::elementSize(train_.results[index].kind) >
        kSlotHalf) {
      error = "the compiled step's '" + train_.results[index].name + "' result is not a scalar";
      return false;
    }
  stateOfArg_.assign(numArgs, -1);
  dataOfArg_.assign(numArgs, -1);
  resultOfArg_.assign(numArgs, -1);
  argHost_.resize(numArgs);
  resultHost_.resize(numResults);
  args_.resize(numArgs);
  results_.resize(numResults);
  for (size_t i = 0, s = 0; i < numArgs; ++i) {
    const TensorDesc &arg = train_.args[i];
    if (arg.isState()) {
      stateOfArg_[i] = static_cast<int>(s++);
      resultOfArg_[i] = train_.resultIndex(arg.name);
      if (!args_[i].bind(device_, state_.arrays[stateOfArg_[i]], "state '" + arg.name + "'",
                         error) ||
          !args_[i].upload(error))
        return false;
      continue;
    }
    for (size_t d = 0; d < data_.specs.size(); ++d)
      if (data_.specs[d] == &arg)
        dataOfArg_[i] = static_cast<int>(d);
    argHost_[i] = HostArray(arg.kind, arg.shape);
    // Uploaded now too: an argument no data file feeds stays zero.
    if (!args_[i].bind(device_, argHost_[i], "batch '" + arg.name + "'", error) ||
        !args_[i].upload(error))
      return false;
  }
  if (!device_.isHost() && !prepareStaging(error))
    return false;
  // Results only the device reads (the new state, outputs) need no host
  // storage unless the device is the host.
  for (size_t r = 0; r < numResults; ++r) {
    const TensorDesc &result = train_.results[r];
    if (static_cast<int>(r) == lossIndex_ || static_cast<int>(r) == finiteIndex_)
      continue;
    if (device_.isHost())
      resultHost_[r] = HostArray(result.kind, result.shape);
    size_t bytes = static_cast<size_t>(result.numElements()) * runtime::elementSize(result.kind);
    if (!results_[r].bind(device_, resultHost_[r], bytes, "result '" + result.name + "'", error))
      return false;
  }
  ringHost_ = HostArray(runtime::ElementKind::U8, {slots_ * 2 * static_cast<int64_t>(kSlotHalf)});
  std::memset(ringHost_.data(), 0, ringHost_.sizeInBytes());
  if (!ring_.bind(device_, ringHost_, "the step's loss and finite flag", error))
    return false;
  for (size_t i = 0; i < numArgs; ++i)
    call_.add(args_[i].data(), train_.args[i].shape);
  for (size_t r = 0; r < numResults; ++r)
    call_.add(static_cast<int>(r) == lossIndex_ || static_cast<int>(r) == finiteIndex_
                  ? ring_.data()
                  : results_[r].data(),
              train_.results[r].shape);
  return true;
}

TrainStep::Staging::~Staging() {
  if (!memory)
    return;
  uploaded->wait();
  device->freePinned(memory);
}

bool TrainStep::prepareStaging(std::string &error) {
  size_t bytes = 0;
  stagingOffset_.assign(train_.args.size(), 0);
  for (size_t i = 0; i < train_.args.size(); ++i)
    if (dataOfArg_[i] >= 0) {
      stagingOffset_[i] = bytes;
      bytes += (argHost_[i].sizeInBytes() + 63) / 64 * 64;
    }
  for (Staging &staging : staging_) {
    staging.memory = device_.allocPinned(std::max<size_t>(bytes, 1));
    if (!staging.memory) {
      error = "cannot allocate " + std::to_string(bytes) + " bytes of pinned host memory for " +
              device_.name() + "'s batches: " + device_.lastError();
      return false;
    }
    staging.device = &device_;
    staging.uploaded = device_.createFence();
  }
  return true;
}

bool TrainStep::stageBatch(const std::vector<int64_t> &rows, std::string &error) {
  if (device_.isHost()) {
    for (size_t i = 0; i < train_.args.size(); ++i)
      if (dataOfArg_[i] >= 0)
        gatherRows(data_, static_cast<size_t>(dataOfArg_[i]), rows, argHost_[i]);
    return true;
  }
  Staging &staging = staging_[nextStaging_];
  nextStaging_ ^= 1;
  // The uploads from this buffer were queued before the previous step: once
  // they have read it, it may be overwritten.
  if (!staging.uploaded->wait()) {
    error = std::string("cannot wait for an upload to ") + device_.name() + ": " + device_.lastError();
    return false;
  }
  for (size_t i = 0; i < train_.args.size(); ++i) {
    if (dataOfArg_[i] < 0)
      continue;
    char *batch = static_cast<char *>(staging.memory) + stagingOffset_[i];
    gatherRows(data_, static_cast<size_t>(dataOfArg_[i]), rows, batch);
    // The previous step may still be reading args_[i]: the device's one
    // queue runs this copy after it, so one set of batch buffers does.
    if (!device_.uploadAsync(args_[i].data(), batch, argHost_[i].sizeInBytes())) {
      error = "cannot copy " + args_[i].what() + " to " + device_.name() + ": " + device_.lastError();
      return false;
    }
  }
  if (!staging.uploaded->record()) {
    error = std::string("cannot mark an upload to ") + device_.name() + ": " + device_.lastError();
    return false;
  }
  return true;
}

bool TrainStep::run(runtime::PackedFunction function, const std::vector<int64_t> &rows,
                    std::string &error) {
  if (!stageBatch(rows, error))
    return false;
  char *slot = static_cast<char *>(ring_.data()) + pending_ * 2 * kSlotHalf;
  size_t numArgs = train_.args.size();
  call_.rebind(numArgs + lossIndex_, slot);
  call_.rebind(numArgs + finiteIndex_, slot + kSlotHalf);
  call_.call(function);
  ++pending_;
  // The new state becomes the state; the old one's storage takes the next
  // step's results.
  for (size_t i = 0; i < numArgs; ++i) {
    if (stateOfArg_[i] < 0)
      continue;
    int r = resultOfArg_[i];
    swapStorage(args_[i], results_[r]);
    call_.rebind(i, args_[i].data());
    call_.rebind(numArgs + r, results_[r].data());
  }
  return true;
}

bool TrainStep::readMetrics(std::vector<StepMetrics> &out, std::string &error) {
  if (!pending_)
    return true;
  if (!ring_.download(error, static_cast<size_t>(pending_) * 2 * kSlotHalf))
    return false;
  const char *ring = static_cast<const char *>(ringHost_.data());
  for (int64_t i = 0; i < pending_; ++i) {
    StepMetrics metrics;
    std::memcpy(&metrics.loss, ring + i * 2 * kSlotHalf, sizeof(float));
    metrics.finite = (ring[i * 2 * kSlotHalf + kSlotHalf] & 1) != 0;
    out.push_back(metrics);
  }
  pending_ = 0;
  return true;
}

bool TrainStep::downloadState(int index, std::string &error) {
  for (size_t i = 0; i < train_.args.size(); ++i)
    if (stateOfArg_[i] >= 0 && (index < 0 || stateOfArg_[i] == index) && !args_[i].download(error))
      return false;
  return true;
}

void *TrainStep::stateData(const std::string &name) const {
  int index = train_.argIndex(name);
  return index >= 0 && stateOfArg_[index] >= 0 ? args_[index].data() : nullptr;
}

} // namespace mpc::trainer
