//===- OnnxModel.cpp - the ONNX head/graph split for --save ---------------===//
// Built with exceptions: protobuf may throw.
#include "OnnxModel.h"

#include "OnnxSignature.h"

#include "onnx/onnx_pb.h"

namespace mpc::compile {

bool splitOnnxModel(const std::string &path, const std::set<std::string> &state, std::string &head,
                    std::string &graph, std::vector<OnnxInitializer> &removed, std::string &error) {
  try {
    onnx::ModelProto model;
    if (!tool::readOnnxModel(path, model, error))
      return false;
    onnx::GraphProto kept = model.graph();
    kept.clear_initializer();
    for (const onnx::TensorProto &tensor : model.graph().initializer()) {
      if (!state.count(tensor.name())) {
        *kept.add_initializer() = tensor;
        continue;
      }
      removed.push_back({tensor.name(), tensor.data_type(),
                         std::vector<int64_t>(tensor.dims().begin(), tensor.dims().end())});
    }
    model.clear_graph();
    if (!model.SerializeToString(&head) || !kept.SerializeToString(&graph)) {
      error = "cannot re-serialize the ONNX model '" + path + "'";
      return false;
    }
    return true;
  } catch (const std::exception &e) {
    error = "reading the ONNX model '" + path + "' failed: " + e.what();
    return false;
  } catch (...) {
    error = "reading the ONNX model '" + path + "' failed";
    return false;
  }
}

} // namespace mpc::compile
