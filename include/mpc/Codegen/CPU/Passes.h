//===- Passes.h - CPU code generation ---------------------------*- C++ -*-===//
#ifndef MPC_CODEGEN_CPU_PASSES_H
#define MPC_CODEGEN_CPU_PASSES_H

#include "mlir/Pass/Pass.h"

namespace mlir {
class RewritePatternSet;
} // namespace mlir

namespace mpc {
/// Unit attribute on an scf.for whose iterations write disjoint parts of
/// their results and read nothing another iteration writes (set by the
/// lowering that builds the loop, which knows it). mpc-parallelize-loops may
/// run such a loop's iterations on several threads.
inline constexpr char kIndependentIterationsAttr[] = "mpc.independent_iterations";

/// Integer attribute on a kernel function mpc-outline-kernels took out of a
/// loop whose iterations may run on several threads (an scf.parallel, or a
/// kIndependentIterationsAttr scf.for): the largest trip count of such a
/// loop around any of its calls. mpc-parallelize-loops keeps the kernel's
/// own loops sequential when that loop is the one that runs in parallel:
/// tasks dispatched from inside another loop's tasks only add overhead.
inline constexpr char kCalledInIndependentLoopAttr[] = "mpc.called_in_independent_loop";

#define GEN_PASS_DECL
#include "mpc/Codegen/CPU/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "mpc/Codegen/CPU/Passes.h.inc"

/// arith.extf / arith.truncf between fp8 (f8E4M3FN, f8E5M2) and other floats
/// as integer bit arithmetic (round to nearest even), so that fp8 needs no
/// runtime library.
void populateExpandFloat8CastPatterns(mlir::RewritePatternSet &patterns);

/// arith.extf / arith.truncf between bf16 and f32, scalar or vector, as
/// integer operations (round to nearest even, NaN to 0x7FC0).
void populateExpandBFloat16CastPatterns(mlir::RewritePatternSet &patterns);

/// Arith ops on bf16 (and f16 with `includeF16`) and math ops on f16/bf16,
/// scalar or vector, rebuilt on f32, each narrow result rounded back (one
/// rounding per op, none folded away).
void populateEmulateNarrowFloatPatterns(mlir::RewritePatternSet &patterns, bool includeF16);
} // namespace mpc

#endif // MPC_CODEGEN_CPU_PASSES_H
