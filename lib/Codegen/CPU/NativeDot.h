//===- NativeDot.h - bf16 contractions on vdpbf16ps ---------------*- C++ -*-===//
//
// mpc-tile-and-vectorize's `native-bf16-dot` path: a bf16 x bf16 -> f32
// contraction computed with AVX512-BF16's pair dot products instead of
// exact f32 FMAs. Not bit-exact (docs/numerics.md, "Native bf16 dot
// products"): only behind the tools' --native-dot-products.
//
//===----------------------------------------------------------------------===//
#ifndef MPC_LIB_CODEGEN_CPU_NATIVEDOT_H
#define MPC_LIB_CODEGEN_CPU_NATIVEDOT_H

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/PatternMatch.h"

namespace mpc {

struct RegisterTile;

/// Replaces the contraction `op` (a candidate of mpc-tile-and-vectorize
/// whose loop dims `reduction`, `columns` and `rows` are those of its
/// register tiles) by x86vector.avx512.dot code when both operands are bf16
/// widened to f32 in the body (possibly after a fused rounding, which is
/// then done once per element into a bf16 buffer) and the columns are a
/// multiple of 4. The column operand is packed per panel of columns as
/// [pairs of reduction steps][columns][2] bf16 (an odd reduction padded
/// with a zero); each register tile of `tile.rows` rows keeps its
/// accumulators in registers over a block of the packed panel and
/// broadcasts the row operand's pair (k, k+1) as one 32-bit value.
/// Returns failure, `op` untouched, when it does not fit. The loops over
/// panels and rows (or over the outer parallel dims) are scf.parallel when
/// `parallel`, those inside a batch element only when its own work is at
/// least `minParallelMacs`.
mlir::LogicalResult lowerToNativeBf16Dot(mlir::RewriterBase &rewriter, mlir::linalg::GenericOp op,
                                         int64_t reduction, int64_t columns, int64_t rows,
                                         const RegisterTile &tile, bool parallel, int64_t minParallelMacs);

/// Replaces each x86vector.avx512.dot in `root` by its arithmetic on any
/// CPU: per f32 lane, acc = fma(a_odd, b_odd, acc), then fma(a_even,
/// b_even, ...) (the products of bf16 values are exact in f32, so each FMA
/// rounds as vdpbf16ps's addition does), with no flushing of denormals.
void emulateBf16DotProducts(mlir::Operation *root);

} // namespace mpc

#endif // MPC_LIB_CODEGEN_CPU_NATIVEDOT_H
