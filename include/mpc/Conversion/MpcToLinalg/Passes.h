//===- Passes.h - mpc -> linalg on tensors ----------------------*- C++ -*-===//
#ifndef MPC_CONVERSION_MPCTOLINALG_PASSES_H
#define MPC_CONVERSION_MPCTOLINALG_PASSES_H

#include "mlir/Pass/Pass.h"

namespace mlir {
class RewritePatternSet;
} // namespace mlir

namespace mpc {
#define GEN_PASS_DECL
#include "mpc/Conversion/MpcToLinalg/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "mpc/Conversion/MpcToLinalg/Passes.h.inc"

/// One pattern per mpc op family, rewriting mpc ops on tensors into linalg,
/// tensor, arith and math ops that compute in the op's own element types
/// (accumulating ops in their accumulator type); each training op's
/// lowering sits beside its forward op's. mpc.get_parameter is not among
/// them: it needs the symbol table (the pass handles it).
void populateMpcToLinalgPatterns(mlir::RewritePatternSet &patterns);
} // namespace mpc

#endif // MPC_CONVERSION_MPCTOLINALG_PASSES_H
