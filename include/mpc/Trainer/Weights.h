//===- Weights.h - the model's state from a weights file --------*- C++ -*-===//
//
// `RUNNER --weights FILE`, `TRAINER --weights FILE`: the model's weights
// come from an ONNX model's initializers or a safetensors file (a trainer's
// --checkpoint, for one) instead of the executable's blob. Every weight is
// matched by name; shapes must be equal and dtypes equal or exactly
// convertible (docs/mpc-compile.md, "Weights files"). The weights are every
// state tensor of an inference build, and the parameters and buffers
// (running statistics) of a trainer, whose optimizer and loss-scale state
// start as compiled.
//
//===----------------------------------------------------------------------===//
#ifndef MPC_TRAINER_WEIGHTS_H
#define MPC_TRAINER_WEIGHTS_H

#include "mpc/Trainer/Manifest.h"
#include "mpc/Trainer/TrainState.h"

#include <string>

namespace mpc::trainer {

/// Replaces every weight of `state` with the tensor of that name in `path`
/// (.onnx or .safetensors; other names are sniffed). On failure returns
/// false with `error` a sentence naming `path` and the tensor at fault.
bool loadWeights(const Manifest &manifest, const std::string &path, TrainState &state, std::string &error);

} // namespace mpc::trainer

#endif // MPC_TRAINER_WEIGHTS_H
