//===- NarrowOperands.h - bf16/f16 operands of register tiles -------------===//
//
// Rewrites that let a register tile read bf16/f16 operands (and operands
// that a fused precision cast rounds to bf16/f16) as cheaply as f32 ones
// (mpc-tile-and-vectorize). Each widens the same values to the same f32
// values as before: the products and their order do not change.
//
//===----------------------------------------------------------------------===//
#ifndef MPC_LIB_CODEGEN_CPU_NARROWOPERANDS_H
#define MPC_LIB_CODEGEN_CPU_NARROWOPERANDS_H

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/PatternMatch.h"

namespace mpc {

/// The casts from body argument `index` to the f32 value the product reads
/// (in order), or none when the argument has other uses or ends elsewhere.
llvm::SmallVector<mlir::Operation *> castChain(mlir::linalg::GenericOp op, unsigned index);

/// A new buffer of `source`'s shape (of `chain`'s last result type) holding
/// `chain` applied to each of its elements (a casts-only generic, which
/// mpc-vectorize-generics turns into vector loads, casts and stores).
mlir::Value castCopy(mlir::RewriterBase &rewriter, mlir::Location loc, mlir::Value source,
                     llvm::ArrayRef<mlir::Operation *> chain);

/// Casts the contraction `op` (a candidate of mpc-tile-and-vectorize) does on
/// its operands once per operand element, into f32 buffers, instead of once
/// per register tile that reads the element:
/// - a row operand that the body rounds (a fused f32 -> bf16/f16 cast) is
///   rounded and widened whole into a buffer before the op;
/// - a column operand that the body widens or rounds is, for each panel of
///   `panelColumns` columns of loop dim `columns` (the register tiles'
///   columns; `panelColumns` divides its range) and each index of its other
///   parallel dims,
///   widened into a [reduction x panel] buffer that all row tiles of the
///   panel read. The loops over panels are parallel if `parallel` and there
///   are several; `parallel` is then cleared for the op left inside.
/// Returns the contraction left for the register tiles (`op` when nothing
/// was cast, the op inside the panels otherwise).
mlir::linalg::GenericOp widenNarrowOperands(mlir::RewriterBase &rewriter, mlir::linalg::GenericOp op,
                                            int64_t columns, int64_t panelColumns, int64_t tileRows,
                                            bool &parallel);

/// `vector.extract (arith.extf (vector.transfer_read ...))` ->
/// `arith.extf (vector.extract ...)` for bf16: a tile's row operand element,
/// broadcast across a row of accumulators, is then one narrow scalar load and
/// a widening (a shift for bf16), not a lane of a widened vector that LLVM
/// moves out with shuffles.
void populateExtractBeforeExtendPatterns(mlir::RewritePatternSet &patterns);

} // namespace mpc

#endif // MPC_LIB_CODEGEN_CPU_NARROWOPERANDS_H
