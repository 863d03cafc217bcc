//===- OnnxModel.h - the ONNX pieces mpc-compile keeps for --save -*- C++ -*-===//
//
// What the trainer keeps of the ONNX model besides the compiled code, for
// `--save`: the model split into a head (ModelProto without its graph) and a
// graph without the initializers that become trained state. (The graph's
// inputs, checked before import, come from tools/common/OnnxSignature.h.)
// Kept apart from the MLIR code because protobuf may throw (this file is
// built with exceptions and catches everything).
//
//===----------------------------------------------------------------------===//
#ifndef MPC_TOOLS_COMPILE_ONNXMODEL_H
#define MPC_TOOLS_COMPILE_ONNXMODEL_H

#include <cstdint>
#include <set>
#include <string>
#include <vector>

namespace mpc::compile {

/// An initializer that became trained state: re-appended by `--save`.
struct OnnxInitializer {
  std::string name;
  int32_t dataType = 0;
  std::vector<int64_t> dims;
};

/// Serializes the model without its graph (`head`) and the graph without the
/// initializers named in `state` (`graph`); `removed` lists those, in graph
/// order. False with `error` set on failure.
bool splitOnnxModel(const std::string &path, const std::set<std::string> &state, std::string &head,
                    std::string &graph, std::vector<OnnxInitializer> &removed, std::string &error);

} // namespace mpc::compile

#endif // MPC_TOOLS_COMPILE_ONNXMODEL_H
