//===- MpcToLinalg.h - mpc -> linalg/tensor/arith/math patterns -*- C++ -*-===//
#ifndef MPC_CONVERSION_MPCTOLINALG_H
#define MPC_CONVERSION_MPCTOLINALG_H

namespace mlir {
class DialectRegistry;
class RewritePatternSet;
} // namespace mlir

namespace mpc {
/// One pattern per mpc op family, rewriting mpc ops on tensors into linalg,
/// tensor, arith and math ops that compute in the op's own element types
/// (accumulating ops in their accumulator type). mpc.get_parameter is not
/// among them: it needs the symbol table (the pass handles it).
void populateMpcToLinalgPatterns(mlir::RewritePatternSet &patterns);

/// arith.extf / arith.truncf between fp8 (f8E4M3FN, f8E5M2) and other floats
/// as integer bit arithmetic (round to nearest even), so that fp8 needs no
/// runtime library.
void populateExpandFloat8CastPatterns(mlir::RewritePatternSet &patterns);

/// Scalar arith ops on bf16 and math ops on f16/bf16 rebuilt on f32, each
/// narrow result rounded back (one rounding per op, none folded away).
void populateEmulateNarrowFloatPatterns(mlir::RewritePatternSet &patterns);

/// Registers the conversion library's own passes (narrow-float emulation,
/// strided copies to loops, the LLVM legality check) with the global registry.
void registerConversionPasses();
} // namespace mpc

#endif // MPC_CONVERSION_MPCTOLINALG_H
