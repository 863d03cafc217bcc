//===- Passes.td - mpc -> linalg ---------------------------*- tablegen -*-===//
//
// mpc -> linalg, tensor, arith and math on tensors (every target starts here).
//
//===----------------------------------------------------------------------===//
#ifndef MPC_CONVERSION_MPCTOLINALG_PASSES_TD
#define MPC_CONVERSION_MPCTOLINALG_PASSES_TD

include "mlir/Pass/PassBase.td"

def LowerToLinalgPass : Pass<"mpc-lower-to-linalg", "::mlir::ModuleOp"> {
  let summary = "Lower mpc ops to linalg, tensor, arith and math on tensors";
  let description = [{
    Parameters become constants (inference). Every mpc op is rewritten; an op
    without a lowering is an error naming it.
  }];
  let dependentDialects = [
    "::mlir::linalg::LinalgDialect", "::mlir::tensor::TensorDialect",
    "::mlir::arith::ArithDialect", "::mlir::math::MathDialect",
    "::mlir::scf::SCFDialect", "::mlir::bufferization::BufferizationDialect",
  ];
}

#endif // MPC_CONVERSION_MPCTOLINALG_PASSES_TD
