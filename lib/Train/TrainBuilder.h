//===- TrainBuilder.h - small IR builders shared by the training passes ---===//
//
// The training passes compose their updates from plain mpc ops and rank-0
// arith.constant tensors, so that every later pass (precision, lowering)
// treats them like any model op. These helpers keep that terse.
//
//===----------------------------------------------------------------------===//
#ifndef MPC_LIB_TRAIN_TRAINBUILDER_H
#define MPC_LIB_TRAIN_TRAINBUILDER_H

#include "mpc/Dialect/MpcDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"

#include <string>

namespace mpc::train {

/// A rank-0 splat attribute of `element` holding `value` (floats are rounded
/// to the element type, integers truncated).
inline mlir::DenseElementsAttr scalarAttr(mlir::Type element, double value) {
  auto type = mlir::RankedTensorType::get({}, element);
  if (auto floatType = llvm::dyn_cast<mlir::FloatType>(element))
    return mlir::DenseElementsAttr::get(type, mlir::FloatAttr::get(floatType, value));
  return mlir::DenseElementsAttr::get(type,
                                      mlir::IntegerAttr::get(element, static_cast<int64_t>(value)));
}

/// arith.constant dense<value> : tensor<element>.
inline mlir::Value scalarConstant(mlir::OpBuilder &b, mlir::Location loc, mlir::Type element,
                                  double value) {
  return mlir::arith::ConstantOp::create(b, loc, scalarAttr(element, value));
}

/// `value` converted to `element` (an mpc.cast), or `value` when it has it.
inline mlir::Value castElements(mlir::OpBuilder &b, mlir::Location loc, mlir::Value value,
                                mlir::Type element) {
  auto type = llvm::cast<mlir::RankedTensorType>(value.getType());
  if (type.getElementType() == element)
    return value;
  return CastOp::create(b, loc, type.clone(element), value);
}

/// `updated` where the rank-0 i1 `keep` is true, else `old`: how a skipped
/// (non-finite) step leaves state untouched. No gate when `keep` is null.
inline mlir::Value gate(mlir::OpBuilder &b, mlir::Location loc, mlir::Value keep,
                        mlir::Value updated, mlir::Value old) {
  if (!keep)
    return updated;
  return WhereOp::create(b, loc, keep, updated, old);
}

/// "'mpc.batch_norm' (ONNX node 'bn1')" for diagnostics.
inline std::string describeOp(mlir::Operation *op) {
  std::string text = "'" + op->getName().getStringRef().str() + "'";
  if (auto node = op->getAttrOfType<mlir::StringAttr>(kNodeNameAttr))
    text += " (ONNX node '" + node.getValue().str() + "')";
  return text;
}

} // namespace mpc::train

#endif // MPC_LIB_TRAIN_TRAINBUILDER_H
