//===- PrecisionAttrs.h - reading what precision assignment wrote ---------===//
//
// The precision passes talk to each other only through the discardable
// attributes on the ops; these helpers are the one place that reads them.
//
//===----------------------------------------------------------------------===//
#ifndef MPC_LIB_PRECISION_PRECISIONATTRS_H
#define MPC_LIB_PRECISION_PRECISIONATTRS_H

#include "mpc/Dialect/MpcDialect.h"

namespace mpc {

/// The float type assigned by mpc-assign-precision, or null.
inline mlir::FloatType getAssignedPrecision(mlir::Operation *op) {
  auto attr = op->getAttrOfType<mlir::TypeAttr>(kPrecisionAttr);
  return attr ? llvm::dyn_cast<mlir::FloatType>(attr.getValue()) : mlir::FloatType();
}

/// Narrower than f32: the types whose use needs a reason and a wide accumulator.
inline bool isLowPrecision(mlir::Type type) {
  auto floatType = llvm::dyn_cast_or_null<mlir::FloatType>(type);
  return floatType && floatType.getWidth() < 32;
}

/// The operands whose element type follows the op's precision: the
/// interface's choice, or every float operand of an op without it.
inline llvm::SmallVector<unsigned> getPrecisionOperands(mlir::Operation *op) {
  if (auto precisionOp = llvm::dyn_cast<PrecisionOpInterface>(op))
    return precisionOp.getPrecisionOperandIndices();
  llvm::SmallVector<unsigned> indices;
  for (auto [index, value] : llvm::enumerate(op->getOperands()))
    if (llvm::isa<mlir::FloatType>(mlir::getElementTypeOrSelf(value.getType())))
      indices.push_back(index);
  return indices;
}

} // namespace mpc

#endif // MPC_LIB_PRECISION_PRECISIONATTRS_H
