//===- OnnxSignature.h - an ONNX model's graph inputs and outputs -*- C++ -*-===//
//
// mpc-run and mpc-compile check their flags against the model's declared
// inputs before importing it, so that a missing, unknown or mistyped input or
// a missing --batch is reported in the tool's own terms (the importer would
// report the dynamic dim it cannot fix instead). Both read them here.
// Protobuf may throw: OnnxSignature.cpp is built with exceptions and lets
// none escape.
//
//===----------------------------------------------------------------------===//
#ifndef MPC_TOOLS_COMMON_ONNXSIGNATURE_H
#define MPC_TOOLS_COMMON_ONNXSIGNATURE_H

#include "mpc/Runtime/HostArray.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace onnx {
class ModelProto;
} // namespace onnx

namespace mpc::tool {

/// A graph input or output as the model declares it.
struct OnnxValue {
  std::string name;
  /// ONNX's TensorProto data type (0 when undefined or not a tensor).
  int32_t onnxType = 0;
  /// The host element type of `onnxType`; unset when it has none.
  std::optional<runtime::ElementKind> kind;
  /// Declared dims, nullopt for a dynamic one (symbolic or missing); unset
  /// when the model declares no shape.
  std::optional<std::vector<std::optional<int64_t>>> dims;
  /// The dim_param of a symbolic first dim, if any.
  std::string firstDimParam;

  /// MLIR's name of the element type ("f32", "ui8", ...), or ONNX's name of
  /// one that has no host type ("string", "complex64", ...).
  std::string typeName() const;
};

struct OnnxSignature {
  /// The graph inputs that are not initializers (before IR version 4
  /// initializers were listed as inputs too).
  std::vector<OnnxValue> inputs;
  std::vector<OnnxValue> outputs;
};

/// Parses the model at `path`. False with `error` ("cannot open 'P'", "'P'
/// is not a valid ONNX model ...") when the file cannot be read or parsed.
bool readOnnxModel(const std::string &path, onnx::ModelProto &model, std::string &error);

/// The signature of the model at `path`; false with `error` as readOnnxModel.
bool readOnnxSignature(const std::string &path, OnnxSignature &signature, std::string &error);

} // namespace mpc::tool

#endif // MPC_TOOLS_COMMON_ONNXSIGNATURE_H
