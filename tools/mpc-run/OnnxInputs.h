//===- OnnxInputs.h - an ONNX model's graph inputs, as declared -*- C++ -*-===//
//
// mpc-run checks the user's --input data against these before importing, so
// that a missing, unknown or mistyped input is reported in mpc-run's terms
// (the importer would report the dynamic dim it cannot fix instead).
//
//===----------------------------------------------------------------------===//
#ifndef MPC_TOOLS_MPCRUN_ONNXINPUTS_H
#define MPC_TOOLS_MPCRUN_ONNXINPUTS_H

#include "mpc/Runtime/HostArray.h"

#include <optional>
#include <string>
#include <vector>

namespace mpc::run {
struct DeclaredInput {
  std::string name;
  /// Unset when the element type has no host representation.
  std::optional<runtime::ElementKind> kind;
  std::string typeName;
  /// -1 for a dynamic dim; unset when the model declares no shape.
  std::optional<std::vector<int64_t>> dims;
};

/// The graph inputs that are not initializers. False (and `error`) when the
/// file cannot be read or parsed.
bool readOnnxInputs(const std::string &path, std::vector<DeclaredInput> &inputs, std::string &error);
} // namespace mpc::run

#endif // MPC_TOOLS_MPCRUN_ONNXINPUTS_H
