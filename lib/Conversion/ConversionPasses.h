//===- ConversionPasses.h - passes private to the lowering pipeline -------===//
#ifndef MPC_LIB_CONVERSION_CONVERSIONPASSES_H
#define MPC_LIB_CONVERSION_CONVERSIONPASSES_H

#include "mlir/Pass/Pass.h"

namespace mlir::func {
class FuncOp;
} // namespace mlir::func

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
#include "ConversionPasses.h.inc"

#define GEN_PASS_REGISTRATION
#include "ConversionPasses.h.inc"
} // namespace mpc

#endif // MPC_LIB_CONVERSION_CONVERSIONPASSES_H
