//===- OnnxSignature.cpp - an ONNX model's graph inputs and outputs -------===//
// Built with exceptions: protobuf may throw.
#include "OnnxSignature.h"

#include "onnx/onnx_pb.h"

#include <fstream>
#include <iterator>
#include <set>

namespace mpc::tool {
namespace {
struct TypeEntry {
  int onnxType;
  runtime::ElementKind kind;
};
constexpr TypeEntry kTypes[] = {
    {onnx::TensorProto::FLOAT, runtime::ElementKind::F32},
    {onnx::TensorProto::DOUBLE, runtime::ElementKind::F64},
    {onnx::TensorProto::FLOAT16, runtime::ElementKind::F16},
    {onnx::TensorProto::BFLOAT16, runtime::ElementKind::BF16},
    // FLOAT8E4M3FN and FLOAT8E5M2 (ONNX 1.14); Debian's ONNX 1.12 lacks the names.
    {17, runtime::ElementKind::F8E4M3FN},
    {19, runtime::ElementKind::F8E5M2},
    {onnx::TensorProto::INT64, runtime::ElementKind::I64},
    {onnx::TensorProto::INT32, runtime::ElementKind::I32},
    {onnx::TensorProto::INT8, runtime::ElementKind::I8},
    {onnx::TensorProto::UINT8, runtime::ElementKind::U8},
    {onnx::TensorProto::BOOL, runtime::ElementKind::Bool},
    {onnx::TensorProto::INT16, runtime::ElementKind::I16},
    {onnx::TensorProto::UINT16, runtime::ElementKind::U16},
    {onnx::TensorProto::UINT32, runtime::ElementKind::U32},
    {onnx::TensorProto::UINT64, runtime::ElementKind::U64},
};

std::optional<runtime::ElementKind> hostKind(int onnxType) {
  for (const TypeEntry &entry : kTypes)
    if (entry.onnxType == onnxType)
      return entry.kind;
  return std::nullopt;
}

OnnxValue describe(const onnx::ValueInfoProto &info) {
  OnnxValue value;
  value.name = info.name();
  const onnx::TypeProto &type = info.type();
  value.onnxType = type.tensor_type().elem_type();
  value.kind = hostKind(value.onnxType);
  if (!type.has_tensor_type() || !type.tensor_type().has_shape())
    return value;
  value.dims.emplace();
  for (const onnx::TensorShapeProto::Dimension &dim : type.tensor_type().shape().dim()) {
    if (value.dims->empty() && dim.has_dim_param())
      value.firstDimParam = dim.dim_param();
    value.dims->push_back(dim.has_dim_value() ? std::optional<int64_t>(dim.dim_value()) : std::nullopt);
  }
  return value;
}
} // namespace

std::string OnnxValue::typeName() const {
  if (kind)
    return std::string(runtime::elementName(*kind));
  // Debian's ONNX 1.12 headers know no name past bfloat16.
  static const char *const kNames[] = {
      "undefined",      "float",      "uint8",          "int8",       "uint16",    "int16",
      "int32",          "int64",      "string",         "bool",       "float16",   "double",
      "uint32",         "uint64",     "complex64",      "complex128", "bfloat16",  "float8e4m3fn",
      "float8e4m3fnuz", "float8e5m2", "float8e5m2fnuz", "uint4",      "int4",      "float4e2m1",
      "float8e8m0",     "uint2",      "int2",           "float6e2m3", "float6e3m2"};
  if (onnxType >= 0 && onnxType < int(std::size(kNames)))
    return kNames[onnxType];
  return "ONNX data type " + std::to_string(onnxType);
}

bool readOnnxModel(const std::string &path, onnx::ModelProto &model, std::string &error) {
  try {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      error = "cannot open '" + path + "'";
      return false;
    }
    if (!model.ParseFromIstream(&in)) {
      error = "'" + path + "' is not a valid ONNX model (it does not parse as a ModelProto)";
      return false;
    }
    return true;
  } catch (const std::exception &e) {
    error = "reading '" + path + "' failed: " + e.what();
  } catch (...) {
    error = "reading '" + path + "' failed";
  }
  return false;
}

bool readOnnxSignature(const std::string &path, OnnxSignature &signature, std::string &error) {
  // Parsing is what may throw (readOnnxModel catches it); reading the parsed
  // graph's fields does not.
  onnx::ModelProto model;
  if (!readOnnxModel(path, model, error))
    return false;
  std::set<std::string> initializers;
  for (const onnx::TensorProto &tensor : model.graph().initializer())
    initializers.insert(tensor.name());
  for (const onnx::ValueInfoProto &input : model.graph().input())
    if (!initializers.count(input.name()))
      signature.inputs.push_back(describe(input));
  for (const onnx::ValueInfoProto &output : model.graph().output())
    signature.outputs.push_back(describe(output));
  return true;
}

} // namespace mpc::tool
