//===- OnnxModel.h - what mpc-compile reads from and keeps of an ONNX file -===//
//
// The parts of the ONNX model the trainer needs besides the compiled code:
// its graph inputs (to check the batch size before import) and, for
// `--save`, the model split into a head (ModelProto without its graph) and a
// graph without the initializers that become trained state. Kept apart from
// the MLIR code because protobuf may throw (this file is built with
// exceptions and catches everything).
//
//===----------------------------------------------------------------------===//
#ifndef MPC_TOOLS_COMPILE_ONNXMODEL_H
#define MPC_TOOLS_COMPILE_ONNXMODEL_H

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace mpc::compile {

struct OnnxInput {
  std::string name;
  /// Declared dims; nullopt for a dynamic (symbolic or missing) one.
  std::vector<std::optional<int64_t>> dims;
  /// The dim_param of a symbolic first dim, if any.
  std::string firstDimParam;
  bool hasShape = false;
};

struct OnnxOutput {
  std::string name;
  /// A floating-point tensor: what a loss can be taken on.
  bool isFloat = false;
};

/// An initializer that became trained state: re-appended by `--save`.
struct OnnxInitializer {
  std::string name;
  int32_t dataType = 0;
  std::vector<int64_t> dims;
};

/// The graph inputs that are not initializers and the graph outputs.
/// False when the file cannot be read or parsed (the importer then reports
/// why, in its own words).
bool readOnnxSignature(const std::string &path, std::vector<OnnxInput> &inputs,
                       std::vector<OnnxOutput> &outputs);

/// Serializes the model without its graph (`head`) and the graph without the
/// initializers named in `state` (`graph`); `removed` lists those, in graph
/// order. False with `error` set on failure.
bool splitOnnxModel(const std::string &path, const std::set<std::string> &state, std::string &head,
                    std::string &graph, std::vector<OnnxInitializer> &removed, std::string &error);

} // namespace mpc::compile

#endif // MPC_TOOLS_COMPILE_ONNXMODEL_H
