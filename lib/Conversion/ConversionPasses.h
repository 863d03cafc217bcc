//===- ConversionPasses.h - passes private to the lowering pipeline -------===//
#ifndef MPC_LIB_CONVERSION_CONVERSIONPASSES_H
#define MPC_LIB_CONVERSION_CONVERSIONPASSES_H

#include "mlir/Pass/Pass.h"

namespace mlir::func {
class FuncOp;
} // namespace mlir::func

namespace mpc {
#define GEN_PASS_DECL
#include "ConversionPasses.h.inc"

#define GEN_PASS_REGISTRATION
#include "ConversionPasses.h.inc"
} // namespace mpc

#endif // MPC_LIB_CONVERSION_CONVERSIONPASSES_H
