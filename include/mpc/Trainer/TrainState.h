//===- TrainState.h - the trained tensors and their checkpoints -*- C++ -*-===//
#ifndef MPC_TRAINER_TRAINSTATE_H
#define MPC_TRAINER_TRAINSTATE_H

#include "mpc/Runtime/HostArray.h"
#include "mpc/Trainer/Manifest.h"
#include "mpc/Trainer/Safetensors.h"

#include <string>
#include <vector>

namespace mpc::trainer {

/// Every state tensor of the train signature (infer mode: of the eval
/// signature), in argument order.
struct TrainState {
  std::vector<const TensorDesc *> specs;
  std::vector<runtime::HostArray> arrays;

  /// The array of state tensor `name`, or nullptr.
  const runtime::HostArray *find(const std::string &name) const;
  runtime::HostArray *find(const std::string &name);
  /// The index of state tensor `name` in `specs`, or -1.
  int indexOf(const std::string &name) const;
};

/// Initial values from the blob (`init`) or the constant (`fill`);
/// `external` tensors are left zero (the runner loads them, Weights.h).
bool initialState(const Manifest &manifest, const unsigned char *blob, TrainState &state, std::string &error);

/// Where a training run stands; checkpoints store it as safetensors metadata.
struct Progress {
  int64_t step = 0; // steps done
  int64_t skipped = 0;
  uint64_t seed = 0;
  bool shuffle = true;
  int64_t rows = 0;
  std::string plan; // "steps N" or "epochs E"
};

std::string serializeCheckpoint(const Manifest &manifest, const TrainState &state, const Progress &progress);

/// Replaces `state` with the checkpoint's tensors after checking that its
/// state schema is this manifest's (StateSchema.h; a checkpoint without one:
/// that its manifest fingerprint is this manifest's) and that it holds every
/// state tensor with its dtype and shape. Errors name `path`.
bool loadCheckpoint(const Manifest &manifest, const std::string &path, TrainState &state, Progress &progress,
                    std::string &error);

/// The input model with the trained initializers (docs/training.md, "--save").
bool buildTrainedModel(const Manifest &manifest, const unsigned char *blob, const TrainState &state,
                       std::string &model, std::string &error);

} // namespace mpc::trainer

#endif // MPC_TRAINER_TRAINSTATE_H
