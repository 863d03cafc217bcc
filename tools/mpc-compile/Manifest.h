//===- Manifest.h - the trainer's manifest JSON and data blob ---*- C++ -*-===//
//
// Describes @train_step and @eval_step to the runtime (docs/training.md,
// "Manifest"): every argument and result with its name, role, dtype and
// shape, where each state argument's initial value is (bytes of the blob or
// a constant fill), the run configuration and the ONNX pieces `--save`
// reassembles the trained model from.
//
//===----------------------------------------------------------------------===//
#ifndef MPC_TOOLS_COMPILE_MANIFEST_H
#define MPC_TOOLS_COMPILE_MANIFEST_H

#include "OnnxModel.h"

#include "mlir/IR/BuiltinOps.h"

#include <optional>
#include <string>
#include <vector>

namespace mpc::compile {

struct RunConfig {
  std::string mode = "train"; // "train" or "infer"
  std::string target = "cpu";
  bool externalWeights = false; // infer: the parameters' bytes stay out of the blob
  std::string model; // file name, as given
  int64_t batch = 0;
  std::string precision, loss, label;
  std::string optimizer;
  double lr = 0, momentum = 0, weightDecay = 0, beta1 = 0, beta2 = 0, eps = 0;
  bool nesterov = false;
  std::string lossScaleMode;
  double lossScale = 0;
};

struct OnnxPieces {
  std::string head, graph;
  std::vector<OnnxInitializer> initializers;
};

struct TrainerData {
  std::string manifest; // JSON, without the terminating NUL
  std::string blob;
};

/// Builds the manifest and blob for `module` (checked by
/// checkTrainerModule, or checkInferenceModule when `config.mode` is infer). Emits an error and returns nullopt when a state
/// argument has no initial value or one that cannot be stored.
std::optional<TrainerData> buildTrainerData(mlir::ModuleOp module, const RunConfig &config,
                                            const std::optional<OnnxPieces> &onnx);

/// Names of the state arguments of @train_step (without one, @eval_step)
/// initialised from a parameter (`mpc.param`): the ONNX initializers that
/// become state.
std::vector<std::string> parameterStateNames(mlir::ModuleOp module);

} // namespace mpc::compile

#endif // MPC_TOOLS_COMPILE_MANIFEST_H
