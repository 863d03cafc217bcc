//===- Passes.td - inference-only passes -------------------*- tablegen -*-===//
//
// Inference-only rewrites of the mpc dialect (never run when training).
//
//===----------------------------------------------------------------------===//
#ifndef MPC_INFERENCE_PASSES_TD
#define MPC_INFERENCE_PASSES_TD

include "mlir/Pass/PassBase.td"

def FoldBatchNormPass : Pass<"mpc-fold-batch-norm", "::mlir::ModuleOp"> {
  let summary = "Fold inference batch norms into the convolution they read";
  let description = [{
    Each mpc.batch_norm whose input is an mpc.conv read by nothing else is
    folded into that convolution: with s = scale / sqrt(variance + epsilon),
    the weight of output channel m is scaled by s[m] and the bias becomes
    (bias - mean) * s + batch-norm bias (a missing conv bias counts as 0).
    Computed in f64 from the stored f32/f64 values, so under a low-precision
    policy the folded weight is rounded once, and the layer's result once
    instead of twice. Applies only when the conv's weight and bias are
    constants or parameters that nothing else reads (they are rewritten in
    place) and the batch norm's operands are constants or parameters; any
    other batch norm is left as it is. The statistics' parameters are dropped
    when nothing reads them any more.

    For inference only (mpc-run, mpc-debug): in training the batch norm's
    parameters are trained and it normalizes with batch statistics.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect"];
}

def FoldParameterTransposesPass : Pass<"mpc-fold-parameter-transposes", "::mlir::ModuleOp"> {
  let summary = "Transpose constant weights once at compile time instead of on every run";
  let description = [{
    An mpc.transpose of a parameter or constant is data the program would
    move on every run: torch.onnx.export without constant folding writes
    Linear layers as MatMul(x, Transpose(W)), Gemm with transB, attention
    projections reshaped and transposed per head. Each such transpose becomes
    a read of the transposed values: the parameter itself is rewritten when
    this transpose is its only reader (its name is kept, so reports still
    name the weight), otherwise a new parameter `<name>.T<perm>` holds
    them and the original stays for its other readers. The values move
    bit for bit, in any element type of whole bytes (f32, bf16, fp8, ints).

    For inference only (mpc-run, mpc-debug): training updates parameters, so
    their transposes must be computed from the current values.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect"];
}

def FoldParameterCastsPass : Pass<"mpc-fold-parameter-casts", "::mlir::ModuleOp"> {
  let summary = "Round f32 weights to the policy's precision once at compile time instead of on every run";
  let description = [{
    Under a bf16/f16/fp8 policy the weights stay f32 parameters and an
    mpc.cast rounds them on every run. Each mpc.cast narrowing an f32
    parameter, and each mpc.transpose or mpc.reshape of a parameter (so
    that chains of them fold whole), becomes a read of the result,
    computed here with the cast folder's rounding (round to nearest even,
    the compiled cast's results for every non-NaN value): the program
    computes the same bits. Parameters holding a NaN are left to the cast
    at run time (the folder keeps a NaN's sign and payload, the compiled
    bf16 cast gives 0x7FC0). As in mpc-fold-parameter-transposes, the
    parameter itself is rewritten when the op is its only reader (its name
    is kept); a cast of a parameter read elsewhere too goes to a new
    parameter `<name>.<type>` (one per parameter and type) and the original
    stays for its other readers, while a transpose or reshape of such a
    parameter is left alone (a copy would only add memory); parameters
    nothing reads any more are dropped.

    For inference only (mpc-run, mpc-debug), after precision assignment:
    training updates parameters, so their casts must see the current values.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect"];
}

#endif // MPC_INFERENCE_PASSES_TD
