//===- OnnxInputs.cpp - an ONNX model's graph inputs, as declared ---------===//
// Built with exceptions: protobuf may throw.
#include "OnnxInputs.h"

#include "onnx/onnx_pb.h"

#include <fstream>
#include <set>
#include <sstream>

namespace mpc::run {
namespace {
struct TypeEntry {
  int onnxType;
  runtime::ElementKind kind;
  const char *name;
};
constexpr TypeEntry kTypes[] = {
    {onnx::TensorProto::FLOAT, runtime::ElementKind::F32, "f32"},
    {onnx::TensorProto::DOUBLE, runtime::ElementKind::F64, "f64"},
    {onnx::TensorProto::FLOAT16, runtime::ElementKind::F16, "f16"},
    {onnx::TensorProto::BFLOAT16, runtime::ElementKind::BF16, "bf16"},
    // FLOAT8E4M3FN and FLOAT8E5M2 (ONNX 1.14); Debian's ONNX 1.12 lacks the names.
    {17, runtime::ElementKind::F8E4M3FN, "f8E4M3FN"},
    {19, runtime::ElementKind::F8E5M2, "f8E5M2"},
    {onnx::TensorProto::INT64, runtime::ElementKind::I64, "i64"},
    {onnx::TensorProto::INT32, runtime::ElementKind::I32, "i32"},
    {onnx::TensorProto::INT8, runtime::ElementKind::I8, "i8"},
    {onnx::TensorProto::UINT8, runtime::ElementKind::U8, "ui8"},
    {onnx::TensorProto::BOOL, runtime::ElementKind::Bool, "i1"},
};

/// ONNX's name for an element type mpc-run cannot feed, so that the error
/// says which one (Debian's ONNX 1.12 headers know none past bfloat16).
std::string unfeedableTypeName(int onnxType) {
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
} // namespace

bool readOnnxInputs(const std::string &path, std::vector<DeclaredInput> &inputs,
                    std::string &error) {
  try {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      error = "cannot open '" + path + "'";
      return false;
    }
    onnx::ModelProto model;
    if (!model.ParseFromIstream(&in)) {
      error = "'" + path + "' is not a valid ONNX model (it does not parse as a ModelProto)";
      return false;
    }
    std::set<std::string> initializers;
    for (const onnx::TensorProto &t : model.graph().initializer())
      initializers.insert(t.name());
    for (const onnx::ValueInfoProto &input : model.graph().input()) {
      if (initializers.count(input.name()))
        continue;
      const onnx::TypeProto::Tensor &tensor = input.type().tensor_type();
      DeclaredInput declared{input.name(), std::nullopt, unfeedableTypeName(tensor.elem_type()),
                             std::nullopt};
      for (const TypeEntry &entry : kTypes)
        if (entry.onnxType == tensor.elem_type()) {
          declared.kind = entry.kind;
          declared.typeName = entry.name;
        }
      if (tensor.has_shape()) {
        declared.dims.emplace();
        for (const onnx::TensorShapeProto::Dimension &dim : tensor.shape().dim())
          declared.dims->push_back(dim.has_dim_value() ? dim.dim_value() : -1);
      }
      inputs.push_back(std::move(declared));
    }
    return true;
  } catch (const std::exception &e) {
    error = "reading '" + path + "' failed: " + e.what();
  } catch (...) {
    error = "reading '" + path + "' failed";
  }
  return false;
}
} // namespace mpc::run
