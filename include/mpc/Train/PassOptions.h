//===- PassOptions.h - enum types of the training options -------*- C++ -*-===//
//
// Passes.td spells these values for the command line (`loss=mse`);
// mpc-compile sets them directly, converting its own flags (`--loss mse`)
// and writing them into the trainer's manifest with the functions below.
//
//===----------------------------------------------------------------------===//
#ifndef MPC_TRAIN_PASSOPTIONS_H
#define MPC_TRAIN_PASSOPTIONS_H

#include "mpc/Pass/EnumOption.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/ErrorHandling.h"

#include <optional>

namespace mpc {

/// mpc-append-loss's `loss`.
enum class LossKind { CrossEntropy, MSE };

/// mpc-loss-scaling's `mode`.
enum class LossScalingMode { Dynamic, Static, None };

/// mpc-optimizer's `optimizer`.
enum class OptimizerKind { SGD, AdamW };

/// "cross_entropy" or "mse", as `loss=` spells it.
inline llvm::StringRef stringifyLossKind(LossKind loss) {
  switch (loss) {
  case LossKind::CrossEntropy:
    return "cross_entropy";
  case LossKind::MSE:
    return "mse";
  }
  llvm_unreachable("unknown loss");
}

/// "dynamic", "static" or "none", as `mode=` spells it.
inline llvm::StringRef stringifyLossScalingMode(LossScalingMode mode) {
  switch (mode) {
  case LossScalingMode::Dynamic:
    return "dynamic";
  case LossScalingMode::Static:
    return "static";
  case LossScalingMode::None:
    return "none";
  }
  llvm_unreachable("unknown loss-scaling mode");
}

/// "sgd" or "adamw", as `optimizer=` spells it.
inline llvm::StringRef stringifyOptimizerKind(OptimizerKind optimizer) {
  switch (optimizer) {
  case OptimizerKind::SGD:
    return "sgd";
  case OptimizerKind::AdamW:
    return "adamw";
  }
  llvm_unreachable("unknown optimizer");
}

/// The loss `name` spells, or none.
inline std::optional<LossKind> parseLossKind(llvm::StringRef name) {
  for (LossKind loss : {LossKind::CrossEntropy, LossKind::MSE})
    if (stringifyLossKind(loss) == name)
      return loss;
  return std::nullopt;
}

/// The optimizer `name` spells, or none.
inline std::optional<OptimizerKind> parseOptimizerKind(llvm::StringRef name) {
  for (OptimizerKind optimizer : {OptimizerKind::SGD, OptimizerKind::AdamW})
    if (stringifyOptimizerKind(optimizer) == name)
      return optimizer;
  return std::nullopt;
}

} // namespace mpc

MPC_ENUM_OPTION(mpc::LossKind)
MPC_ENUM_OPTION(mpc::LossScalingMode)
MPC_ENUM_OPTION(mpc::OptimizerKind)

#endif // MPC_TRAIN_PASSOPTIONS_H
