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

#define GEN_PASS_DECL
#include "ConversionPasses.h.inc"

#define GEN_PASS_REGISTRATION
#include "ConversionPasses.h.inc"
} // namespace mpc

#endif // MPC_LIB_CONVERSION_CONVERSIONPASSES_H
