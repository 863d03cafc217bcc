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

/// Module attribute: what mpc-assign-precision has to say about the policy
/// file beyond the decisions (rules that name folded-away nodes), one
/// sentence each, for the report.
inline constexpr llvm::StringLiteral kPolicyNotesAttr = "mpc.policy_notes";

/// Replaces the module's policy notes (a rerun's notes replace the last).
inline void setPolicyNotes(mlir::ModuleOp module, llvm::ArrayRef<std::string> notes) {
  if (notes.empty()) {
    module->removeAttr(kPolicyNotesAttr);
    return;
  }
  llvm::SmallVector<mlir::Attribute> values;
  for (const std::string &note : notes)
    values.push_back(mlir::StringAttr::get(module.getContext(), note));
  module->setAttr(kPolicyNotesAttr, mlir::ArrayAttr::get(module.getContext(), values));
}

/// The notes setPolicyNotes left, in order.
inline std::vector<std::string> getPolicyNotes(mlir::ModuleOp module) {
  std::vector<std::string> notes;
  if (auto values = module->getAttrOfType<mlir::ArrayAttr>(kPolicyNotesAttr))
    for (auto value : values.getAsRange<mlir::StringAttr>())
      notes.push_back(value.str());
  return notes;
}

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
