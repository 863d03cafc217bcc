//===- CastElements.h - mpc.cast applied to stored data --------*- C++ -*-===//
#ifndef MPC_DIALECT_CASTELEMENTS_H
#define MPC_DIALECT_CASTELEMENTS_H

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"

namespace mpc {
/// `input` converted element by element into `type`'s element type, as
/// mpc.cast's folder does (docs/numerics.md, "Conversions"): round to
/// nearest even, fp8 saturating when `saturate`, float -> int truncating.
/// Null when some element has no image (and for float -> unsigned, which
/// is left to the compiled cast).
mlir::Attribute castElements(mlir::DenseElementsAttr input, mlir::ShapedType type, bool saturate);
} // namespace mpc

#endif // MPC_DIALECT_CASTELEMENTS_H
