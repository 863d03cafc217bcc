//===- TransposeElements.h - permute constant data at compile time -*- C++ -*-===//
#ifndef MPC_DIALECT_TRANSPOSEELEMENTS_H
#define MPC_DIALECT_TRANSPOSEELEMENTS_H

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"

#include <optional>

namespace mpc {
/// `value` permuted into `resultType`: result dimension i is input dimension
/// perm[i]. The stored bytes move, so any element type whose elements are
/// whole bytes moves bit for bit. Empty for data it cannot move (elements
/// narrower than a byte, e.g. bit-packed i1) and for empty data.
std::optional<mlir::DenseElementsAttr> transposeElements(mlir::DenseElementsAttr value,
                                                         mlir::RankedTensorType resultType,
                                                         llvm::ArrayRef<int64_t> perm);
} // namespace mpc

#endif // MPC_DIALECT_TRANSPOSEELEMENTS_H
