//===- Passes.td - passes private to the lowering pipeline -*- tablegen -*-===//
//
// Steps of `mpc-lower-to-llvm` that are not mpc -> linalg proper. They are
// registered with mpc-opt (registerMpcPipelines) so lit can run each alone.
//
//===----------------------------------------------------------------------===//
#ifndef MPC_CONVERSION_PASSES_TD
#define MPC_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def CheckLoweredToLLVMPass : Pass<"mpc-check-lowered-to-llvm", "::mlir::ModuleOp"> {
  let summary = "Fail on any op left outside the LLVM dialect";
  let description = [{
    Some conversions leave ops they cannot handle in place and still succeed
    (fp8 arith.truncf is one); the JIT would then fail far from the cause.
    This pass names every such op and its location instead.
  }];
}

def EmulateNarrowFloatsPass : Pass<"mpc-emulate-narrow-floats"> {
  let summary = "bf16 arithmetic and f16/bf16 math via f32 with per-op rounding; fp8 casts as bit arithmetic";
  let description = [{
    Scalar arith ops on bf16 and math ops on f16/bf16 compute in f32 and
    round each result back (arith-expand then lowers the bf16 casts to
    integer operations), so no bf16 value reaches LLVM's legalizer and its
    libgcc calls, and no f16/bf16 math reaches libm. extf/truncf
    between fp8 (f8E4M3FN, f8E5M2) and other floats become integer bit
    arithmetic rounding to nearest even; E4M3FN overflow gives NaN (it has
    no infinity) and E5M2 overflow infinity, as arith.truncf defines.
    Saturation is the caller's clamp (mpc.cast's lowering does it).
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect"];
}

def LowerStridedCopiesPass : Pass<"mpc-lower-strided-copies", "::mlir::func::FuncOp"> {
  let summary = "Turn memref.copy between non-contiguous buffers into linalg.copy";
  let description = [{
    finalize-memref-to-llvm lowers contiguous copies to memcpy but strided
    ones (padding, concat into a subview) to a call into MLIR's C runner
    library; as loops they need no library at all.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect"];
}

#endif // MPC_CONVERSION_PASSES_TD
