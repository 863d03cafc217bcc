//===- OnnxModel.cpp - ONNX inputs and the head/graph split for --save ----===//
// Built with exceptions: protobuf may throw.
#include "OnnxModel.h"

#include "onnx/onnx_pb.h"

#include <fstream>
#include <sstream>

namespace mpc::compile {
namespace {
bool parseModel(const std::string &path, onnx::ModelProto &model, std::string &error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = "cannot open '" + path + "'";
    return false;
  }
  std::stringstream bytes;
  bytes << in.rdbuf();
  if (!model.ParseFromString(bytes.str())) {
    error = "'" + path + "' is not a valid ONNX model";
    return false;
  }
  return true;
}
} // namespace

bool readOnnxSignature(const std::string &path, std::vector<OnnxInput> &inputs,
                       std::vector<OnnxOutput> &outputs) {
  try {
    onnx::ModelProto model;
    std::string error;
    if (!parseModel(path, model, error))
      return false;
    std::set<std::string> initializers;
    for (const onnx::TensorProto &tensor : model.graph().initializer())
      initializers.insert(tensor.name());
    for (const onnx::ValueInfoProto &value : model.graph().input()) {
      // Before IR version 4 initializers were listed as inputs too.
      if (initializers.count(value.name()))
        continue;
      OnnxInput input;
      input.name = value.name();
      const onnx::TypeProto &type = value.type();
      input.hasShape = type.has_tensor_type() && type.tensor_type().has_shape();
      if (input.hasShape)
        for (const onnx::TensorShapeProto::Dimension &dim : type.tensor_type().shape().dim()) {
          if (input.dims.empty() && dim.has_dim_param())
            input.firstDimParam = dim.dim_param();
          input.dims.push_back(dim.has_dim_value() ? std::optional<int64_t>(dim.dim_value())
                                                   : std::nullopt);
        }
      inputs.push_back(std::move(input));
    }
    for (const onnx::ValueInfoProto &value : model.graph().output()) {
      int32_t type = value.type().tensor_type().elem_type();
      outputs.push_back({value.name(), type == onnx::TensorProto::FLOAT ||
                                           type == onnx::TensorProto::FLOAT16 ||
                                           type == onnx::TensorProto::BFLOAT16 ||
                                           type == onnx::TensorProto::DOUBLE});
    }
    return true;
  } catch (...) {
    return false;
  }
}

bool splitOnnxModel(const std::string &path, const std::set<std::string> &state, std::string &head,
                    std::string &graph, std::vector<OnnxInitializer> &removed, std::string &error) {
  try {
    onnx::ModelProto model;
    if (!parseModel(path, model, error))
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
