//===- TrainerPipeline.h - @train_step and @eval_step from a model -*- C++ -*-===//
//
// Runs the training passes of docs/training.md on one import of the model
// and the inference passes on another, then gathers both functions in one
// module (the form `--emit=mlir` prints and `.mlir` input must have).
//
//===----------------------------------------------------------------------===//
#ifndef MPC_TOOLS_COMPILE_TRAINERPIPELINE_H
#define MPC_TOOLS_COMPILE_TRAINERPIPELINE_H

#include "mpc/Precision/PassOptions.h"
#include "mpc/Train/PassOptions.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/LLVM.h"

#include <string>

namespace mpc::compile {

inline constexpr llvm::StringLiteral kTrainStep = "train_step";
inline constexpr llvm::StringLiteral kEvalStep = "eval_step";

struct TrainOptions {
  LossKind loss = LossKind::CrossEntropy;
  std::string label;  // name of the label input
  std::string output; // model output the loss is taken on ("" = the only one)
  PrecisionPolicy precision = PrecisionPolicy::FP32;
  std::string policyFile;
  OptimizerKind optimizer = OptimizerKind::SGD;
  double lr = 0, momentum = 0, weightDecay = 0, beta1 = 0, beta2 = 0, eps = 0;
  bool nesterov = false;
  LossScalingMode lossScaleMode = LossScalingMode::None;
  double lossScale = 0; // initial (dynamic) or fixed (static) scale
};

/// @main -> @train_step: loss, batch-norm training, precision, parameters to
/// arguments, autodiff, loss scaling, optimizer.
mlir::LogicalResult buildTrainStep(mlir::ModuleOp module, const TrainOptions &options);

/// @main -> @eval_step: precision and parameters to arguments; state
/// arguments first, then the inputs (role "input"); results role "output".
mlir::LogicalResult buildEvalStep(mlir::ModuleOp module, const TrainOptions &options);

/// Moves @eval_step (and the parameters it references that `train` lacks)
/// from `eval` into `train`.
mlir::LogicalResult mergeEvalStep(mlir::ModuleOp train, mlir::ModuleOp eval);

/// Checks that `module` holds @train_step and @eval_step in the contract's
/// form (names and roles everywhere; a loss and a finite result; every
/// state argument of @eval_step also one of @train_step, whose role it takes).
/// Emits an error naming what is missing.
mlir::LogicalResult checkTrainerModule(mlir::ModuleOp module);

/// Checks that `module` holds @eval_step in the contract's form for an
/// inference build (names and roles everywhere; state arguments, those with
/// `mpc.param`, have a state role). Emits an error naming what is missing.
mlir::LogicalResult checkInferenceModule(mlir::ModuleOp module);

} // namespace mpc::compile

#endif // MPC_TOOLS_COMPILE_TRAINERPIPELINE_H
