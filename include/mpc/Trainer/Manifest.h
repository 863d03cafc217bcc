//===- Manifest.h - what the compiled model says about itself ---*- C++ -*-===//
//
// The JSON manifest mpc-compile embeds next to the train and eval functions
// (docs/training.md, "The compiled trainer"), parsed and checked once so that
// the rest of the trainer can trust it.
//
//===----------------------------------------------------------------------===//
#ifndef MPC_TRAINER_MANIFEST_H
#define MPC_TRAINER_MANIFEST_H

#include "mpc/Runtime/HostArray.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mpc::trainer {

/// A byte range of the blob.
struct BlobRange {
  uint64_t offset = 0;
  uint64_t bytes = 0;
};

/// One argument or result of a compiled function.
struct TensorDesc {
  std::string name;
  std::string role;
  runtime::ElementKind kind = runtime::ElementKind::F32;
  std::vector<int64_t> shape;
  std::optional<BlobRange> init; // initial value of a state argument
  double fill = 0;               // initial value of a state argument without `init`
  bool external = false;         // the value comes from a weights file (--weights)

  bool isState() const;
  int64_t numElements() const;
};

struct Signature {
  std::string symbol;
  std::vector<TensorDesc> args;
  std::vector<TensorDesc> results;

  /// Index of the first argument/result with this name, or -1.
  int argIndex(std::string_view name) const;
  int resultIndex(std::string_view name) const;
  int resultIndexOfRole(std::string_view role) const;
};

struct OnnxInitializer {
  std::string name;
  int64_t onnxDtype = 1;
  std::vector<int64_t> shape;
};

struct Manifest {
  int64_t format = 1;
  std::string mode = "train";   // "train" or "infer" (absent: train)
  std::string target = "cpu";   // where the entry points' buffers live (absent: cpu)
  std::string weights = "embedded"; // "embedded" or "external"
  std::string model;
  int64_t batch = 0;
  std::string precision;
  std::string loss;   // "cross_entropy" or "mse"
  std::string label;  // name of the label argument
  std::string output; // name of the output the loss reads (optional field)
  std::string lossScaleMode = "none";
  double staticLossScale = 1; // loss_scale.scale in static mode
  /// The `optimizer` object as compact JSON with its members sorted by key
  /// ("" when absent): the trainer does not read it, but a checkpoint's state
  /// schema records it (StateSchema.h).
  std::string optimizer;
  Signature train; // empty in infer mode
  std::optional<Signature> eval; // always present in infer mode
  std::optional<BlobRange> onnxHead, onnxGraph;
  std::vector<OnnxInitializer> initializers;
  /// FNV-1a of the manifest text: checkpoints record it (and, written before
  /// they recorded a state schema, resume only where it matches).
  std::string fingerprint;

  /// The train result the loss reads (`output`, else the first `output` result).
  const TensorDesc *lossOutput() const;
  bool isInference() const;
  /// The signature whose state arguments are the model's state: train's, or
  /// eval's in infer mode.
  const Signature &stateSignature() const;
};

/// Parses and checks the manifest against docs/training.md (both modes);
/// `blobSize` bounds every blob range. On failure sets `error` to a sentence.
bool parseManifest(std::string_view text, uint64_t blobSize, Manifest &manifest, std::string &error);

/// "f32" -> F32 etc. (MLIR's spelling, as runtime::elementName writes it).
std::optional<runtime::ElementKind> elementKindNamed(std::string_view name);

/// Hex FNV-1a 64 of `bytes`.
std::string fingerprintOf(std::string_view bytes);

} // namespace mpc::trainer

#endif // MPC_TRAINER_MANIFEST_H
