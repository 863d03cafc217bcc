//===- ExposedIntermediates.h - reading mpc-expose-intermediates back -*- C++ -*-===//
//
// mpc-expose-intermediates records on each result it exposes where the value
// comes from; this reads those records back, so that the results of a run
// can be matched to ops without a table kept beside the IR.
//
//===----------------------------------------------------------------------===//
#ifndef MPC_PRECISION_EXPOSEDINTERMEDIATES_H
#define MPC_PRECISION_EXPOSEDINTERMEDIATES_H

#include "mlir/Dialect/Func/IR/FuncOps.h"

#include <string>
#include <vector>

namespace mpc {

/// Function result attribute: the exposed value's record, a dictionary of
/// `index`, `node`, `op`, `result`, `type` and `producers`.
inline constexpr llvm::StringLiteral kIntermediateAttr = "mpc.intermediate";

/// One exposed value: result `resultIndex` of the op `op` of ONNX node `node`.
struct ExposedIntermediate {
  std::string node;
  std::string op;
  /// The element type the op computed it in, as printed ("f16").
  std::string precision;
  unsigned resultIndex = 0;
  /// The function result that returns it, cast to f32.
  unsigned functionResult = 0;
  /// Indices, in the same list, of the exposed values its op reads.
  std::vector<size_t> producers;
};

/// The values exposed in `func`, in program order; failure after a
/// diagnostic when a record is malformed.
mlir::FailureOr<std::vector<ExposedIntermediate>>
readExposedIntermediates(mlir::func::FuncOp func);

} // namespace mpc

#endif // MPC_PRECISION_EXPOSEDINTERMEDIATES_H
