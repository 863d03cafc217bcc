//===- Weights.h - the model's state from a weights file --------*- C++ -*-===//
//
// `RUNNER --weights FILE`: the state tensors of an inference build come from
// an ONNX model's initializers or a safetensors file (a trainer's
// --checkpoint, for one) instead of the executable's blob. Every state
// tensor is matched by name; shapes must be equal and dtypes equal or
// exactly convertible (docs/mpc-compile.md, "Weights files").
//
//===----------------------------------------------------------------------===//
#ifndef MPC_TRAINER_WEIGHTS_H
#define MPC_TRAINER_WEIGHTS_H

#include "mpc/Trainer/Manifest.h"
#include "mpc/Trainer/TrainState.h"

#include <string>

namespace mpc::trainer {

/// Replaces every tensor of `state` with the one of that name in `path`
/// (.onnx or .safetensors; other names are sniffed). On failure returns
/// false with `error` a sentence naming `path` and the tensor at fault.
bool loadWeights(const Manifest &manifest, const std::string &path, TrainState &state, std::string &error);

} // namespace mpc::trainer

#endif // MPC_TRAINER_WEIGHTS_H
