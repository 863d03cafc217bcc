//===- ManifestKeys.h - the trainer manifest's keys and roles ---*- C++ -*-===//
//
// The strings of the JSON manifest that mpc-compile writes
// (tools/mpc-compile/Manifest.cpp) and the trainer reads
// (lib/Trainer/Manifest.cpp), docs/training.md "Manifest (JSON)"; the roles
// are also what the training passes put in `mpc.role` (mpc/Train/TrainIR.h).
// Plain C++ on the lowest floor, so that all three can include it.
//
//===----------------------------------------------------------------------===//
#ifndef MPC_RUNTIME_MANIFESTKEYS_H
#define MPC_RUNTIME_MANIFESTKEYS_H

#include <string_view>

namespace mpc::manifest {

/// The "format" this writer and reader agree on.
inline constexpr int kFormatVersion = 1;

/// Object keys.
namespace key {
// The root object.
inline constexpr char kFormat[] = "format";
inline constexpr char kMode[] = "mode";       // also a key of "loss_scale"
inline constexpr char kTarget[] = "target";
inline constexpr char kWeights[] = "weights";
inline constexpr char kModel[] = "model";
inline constexpr char kBatch[] = "batch";
inline constexpr char kPrecision[] = "precision";
inline constexpr char kLoss[] = "loss";
inline constexpr char kLabel[] = "label";
inline constexpr char kOutput[] = "output";
inline constexpr char kOptimizer[] = "optimizer";
inline constexpr char kLossScale[] = "loss_scale";
inline constexpr char kTrain[] = "train";
inline constexpr char kEval[] = "eval";
inline constexpr char kOnnx[] = "onnx";
// "optimizer".
inline constexpr char kOptimizerName[] = "name";
inline constexpr char kLr[] = "lr";
inline constexpr char kWeightDecay[] = "weight_decay";
inline constexpr char kMomentum[] = "momentum";
inline constexpr char kNesterov[] = "nesterov";
inline constexpr char kBetas[] = "betas";
inline constexpr char kEps[] = "eps";
// "loss_scale" ("mode", above).
inline constexpr char kScale[] = "scale";
// "train" and "eval".
inline constexpr char kSymbol[] = "symbol";
inline constexpr char kArgs[] = "args";
inline constexpr char kResults[] = "results";
// An argument or result.
inline constexpr char kName[] = "name";
inline constexpr char kRole[] = "role";
inline constexpr char kDtype[] = "dtype";
inline constexpr char kShape[] = "shape";
inline constexpr char kInit[] = "init";
inline constexpr char kFill[] = "fill";
inline constexpr char kExternal[] = "external";
// A blob range ("init", "head", "graph").
inline constexpr char kOffset[] = "offset";
inline constexpr char kBytes[] = "bytes";
// "onnx".
inline constexpr char kHead[] = "head";
inline constexpr char kGraph[] = "graph";
inline constexpr char kInitializers[] = "initializers";
inline constexpr char kOnnxDtype[] = "onnx_dtype";
} // namespace key

/// The "role" of an argument or result.
namespace role {
// Of arguments.
inline constexpr char kInput[] = "input"; // batch data
inline constexpr char kLabel[] = "label"; // batch labels
// Of both arguments and results (state: same name in and out).
inline constexpr char kParam[] = "param";   // trained weights (f32 masters)
inline constexpr char kBuffer[] = "buffer"; // running statistics
inline constexpr char kOpt[] = "opt";       // optimizer moments, step
inline constexpr char kScaler[] = "scaler"; // loss scale state
// Of results.
inline constexpr char kLoss[] = "loss";     // rank-0 f32
inline constexpr char kGrad[] = "grad";     // d loss / d param
inline constexpr char kFinite[] = "finite"; // rank-0 i1
inline constexpr char kOutput[] = "output"; // model outputs

/// The roles of state: tensors a train step reads and returns under the
/// same name.
constexpr bool isState(std::string_view role) {
  return role == kParam || role == kBuffer || role == kOpt || role == kScaler;
}
} // namespace role

/// Values of the root's "mode": what the executable's main does.
namespace mode {
inline constexpr char kTrain[] = "train";
inline constexpr char kInfer[] = "infer";
} // namespace mode

/// Values of "target": where the entry points' buffers live.
namespace target {
inline constexpr char kCpu[] = "cpu";
} // namespace target

/// Values of "weights" (infer): where the state's values come from.
namespace weights {
inline constexpr char kEmbedded[] = "embedded";
inline constexpr char kExternal[] = "external";
} // namespace weights

/// Values of "loss".
namespace loss {
inline constexpr char kCrossEntropy[] = "cross_entropy";
inline constexpr char kMse[] = "mse";
} // namespace loss

/// Values of "loss_scale"."mode".
namespace scale_mode {
inline constexpr char kDynamic[] = "dynamic";
inline constexpr char kStatic[] = "static";
inline constexpr char kNone[] = "none";
} // namespace scale_mode

/// The name of the state tensor holding the dynamic loss scale, which the
/// trainer logs.
inline constexpr char kLossScaleState[] = "loss_scale";

/// Values of "symbol": the functions the compiled object defines
/// (lib/Trainer/Main.cpp declares them by these names).
inline constexpr char kTrainSymbol[] = "mpc_train_step";
inline constexpr char kEvalSymbol[] = "mpc_eval_step";

} // namespace mpc::manifest

#endif // MPC_RUNTIME_MANIFESTKEYS_H
