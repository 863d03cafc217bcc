//===- Passes.td - mpc passes -----------------------------*- tablegen -*-===//
#ifndef MPC_PASSES_TD
#define MPC_PASSES_TD

include "mlir/Pass/PassBase.td"

//===----------------------------------------------------------------------===//
// Precision
//===----------------------------------------------------------------------===//

def AssignPrecisionPass : Pass<"mpc-assign-precision", "::mlir::ModuleOp"> {
  let summary = "Choose a compute precision for every mpc op";
  let description = [{
    Annotates every op that implements PrecisionOpInterface with
    `mpc.precision` (the element type it will compute and store in),
    `mpc.reason` (why), and, for accumulating ops, `acc_type`. Types are not
    changed; `mpc-insert-casts` does that.

    Policy fp32 keeps everything in f32. Policies fp16/bf16: compute-bound ops
    run in the low type with f32 accumulation; numerically sensitive ops stay
    in f32. Parameters and constants are cast once, so they never hold an op
    in f32. Followers and data movement are placed by the strategy:

    - `mincut` (default): exactly minimizes estimated op time plus cast cost
      over the two precisions, as an s-t minimum cut (docs/precision-policy.md
      describes the cost model);
    - `greedy`: the TF-AMP-style baseline, in program order: a follower takes
      the low type when every float operand produced at run time is already
      low; data movement takes the precision of its data.

    A policy file (`policy-file`, JSON, docs/precision-policy.md) pins ops by
    op name, node-name glob or region; its rules beat categories and the cut.

    Value ranges (`input-ranges`, `calibration-data`, parameters, constants)
    are propagated through every op; an op whose values may overflow (or
    entirely underflow) the low type is forced to f32, a hard constraint that
    only a policy-file override beats (docs/precision-range.md).
  }];
  let options = [
    Option<"policy", "policy", "std::string", /*default=*/"\"fp32\"",
           "precision policy: fp32, fp16 or bf16">,
    Option<"strategy", "strategy", "std::string", /*default=*/"\"mincut\"",
           "how followers are placed: mincut (cost-optimal) or greedy">,
    Option<"policyFile", "policy-file", "std::string", /*default=*/"\"\"",
           "JSON file of overrides (docs/precision-policy.md)">,
    Option<"inputRanges", "input-ranges", "std::string", /*default=*/"\"\"",
           "NAME:LO:HI,... value ranges of graph inputs (docs/precision-range.md)">,
    Option<"calibrationData", "calibration-data", "std::string", /*default=*/"\"\"",
           "directory of NAME.npy, or comma-separated .npy files, giving graph "
           "inputs their observed ranges">,
  ];
}

def InsertCastsPass : Pass<"mpc-insert-casts", "::mlir::ModuleOp"> {
  let summary = "Retype ops to their assigned precision and insert mpc.cast";
  let description = [{
    Every float operand of an op is cast to the op's `mpc.precision`, its float
    results take that element type, and function results are cast back to the
    function's declared types, so the function signature never changes.
  }];
}

def FoldCastsPass : Pass<"mpc-fold-casts", "::mlir::ModuleOp"> {
  let summary = "Remove casts whose removal cannot change any value";
  let description = [{
    Folds identity casts, chains A->B->C where A->B is lossless (f16->f32->f16
    becomes nothing; f32->f16->f32 is kept), and casts of constants.
  }];
}

def PrecisionReportPass : Pass<"mpc-precision-report", "::mlir::ModuleOp"> {
  let summary = "Report what precision assignment decided for every op, and why";
  let description = [{
    One row per op: name (the ONNX node name when known; a parameter read is
    named after its parameter, `@fc.weight`), op, precision, accumulator,
    category, reason, the mpc.cast ops around it and its FLOPs; then totals
    (ops per precision, casts, FLOPs in low precision, activation bytes and
    roofline time saved against all-f32). Formats: a text table, JSON (schema
    in docs/precision-report.md), Graphviz DOT and a self-contained HTML page.

    `--mpc-precision-report` prints the table to stdout;
    `--mpc-precision-report=FILE` (or `output=FILE`) writes FILE in the format
    its extension names: .txt, .json, .dot or .html. `format=` overrides the
    extension (and makes stdout JSON, say).
  }];
  let options = [
    Option<"output", "output", "std::string", /*default=*/"\"-\"",
           "file to write the report to ('-' for stdout)">,
    Option<"format", "format", "std::string", /*default=*/"\"\"",
           "text, json, dot or html (default: from the output file's extension)">,
  ];
}

//===----------------------------------------------------------------------===//
// Inference
//===----------------------------------------------------------------------===//

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

//===----------------------------------------------------------------------===//
// Training (docs/training.md: the IR contract between these passes)
//===----------------------------------------------------------------------===//

def AppendLossPass : Pass<"mpc-append-loss", "::mlir::ModuleOp"> {
  let summary = "Append a loss to @main's output and a label input";
  let description = [{
    Adds the label as a new last argument of @main (`mpc.name` = `label`,
    `mpc.role` = "label") and a loss on the model output the `output` option
    names (the only float output by default): `cross_entropy` (softmax
    cross-entropy over the last axis with int64 class ids; labels have the
    output's shape without its last axis; mean over all labels, as PyTorch's
    CrossEntropyLoss) or `mse` (mean squared error; the label has the output's
    shape and type). @main then returns the rank-0 f32 loss first
    (`mpc.role` = "loss", `mpc.name` = "loss"), followed by the model's
    outputs (`mpc.role` = "output").
  }];
  let options = [
    Option<"loss", "loss", "std::string", /*default=*/"\"cross_entropy\"",
           "cross_entropy or mse">,
    Option<"label", "label", "std::string", /*default=*/"\"label\"",
           "name of the new label input">,
    Option<"output", "output", "std::string", /*default=*/"\"\"",
           "model output the loss is taken on (default: the only float output)">,
  ];
}

def BatchNormTrainingPass : Pass<"mpc-batch-norm-training", "::mlir::ModuleOp"> {
  let summary = "Batch normalization in training mode: batch statistics, running-statistic updates";
  let description = [{
    Every mpc.batch_norm in @main normalizes with the statistics of its batch
    (biased variance), as PyTorch's train mode does, and @main gains one
    result per running-statistic parameter (`mpc.role` = "buffer",
    `mpc.name` = the parameter's name) holding its update:
    `running = momentum * running + (1 - momentum) * batch` with the op's
    ONNX momentum, using the unbiased batch variance for the running variance.
  }];
}

def ParametersToArgumentsPass : Pass<"mpc-parameters-to-arguments", "::mlir::ModuleOp"> {
  let summary = "Turn reads of the model's float parameters into function arguments";
  let description = [{
    Each non-frozen float `mpc.parameter` read by @main becomes one argument
    of @main, appended after the existing ones: `mpc.name` = the parameter's
    name, `mpc.param` = a reference to the parameter (its initial value), and
    `mpc.role` = "buffer" when @main already returns a result of that name with
    role "buffer" (running statistics), else "param". The parameter ops stay
    in the module as initial values.
  }];
}

def AutodiffPass : Pass<"mpc-autodiff", "::mlir::ModuleOp"> {
  let summary = "Reverse-mode autodiff of @main's loss with respect to its parameters";
  let description = [{
    Differentiates @main's result with `mpc.role` = "loss" (rank-0 float)
    with respect to every argument with `mpc.role` = "param", using each op's
    GradientOpInterface rule, and appends one result per parameter
    (`mpc.role` = "grad", `mpc.name` = the parameter's name, the parameter's
    type; zeros when the loss does not depend on it). The seed dL/dL is an
    `arith.constant dense<1.0>` marked `mpc.grad_seed`, for mpc-loss-scaling.
    An op on a path from a parameter to the loss without a gradient rule is
    an error naming the op and its ONNX node.
  }];
}

def LossScalingPass : Pass<"mpc-loss-scaling", "::mlir::ModuleOp"> {
  let summary = "Loss scaling (dynamic, static or none) and the non-finite step check";
  let description = [{
    Seeds the backward pass with the loss scale instead of 1, divides every
    "grad" result by it (in f32), and appends a rank-0 i1 result
    (`mpc.role` = "finite", `mpc.name` = "finite") that is true when the loss
    and every gradient are finite. `dynamic` adds the scaler state as
    arguments and results (`mpc.role` = "scaler": `loss_scale`, f32, and
    `loss_scale_good_steps`, i64) with GradScaler semantics: x`growth-factor`
    after `growth-interval` finite steps in a row, x`backoff-factor` on a
    non-finite step, clamped to [`min-scale`, `max-scale`]. `static` uses a
    fixed `init-scale`; `none` only adds the finite check.
  }];
  let options = [
    Option<"mode", "mode", "std::string", /*default=*/"\"none\"", "dynamic, static or none">,
    Option<"initScale", "init-scale", "double", /*default=*/"65536.0",
           "initial (dynamic) or fixed (static) loss scale">,
    Option<"growthFactor", "growth-factor", "double", /*default=*/"2.0", "">,
    Option<"backoffFactor", "backoff-factor", "double", /*default=*/"0.5", "">,
    Option<"growthInterval", "growth-interval", "int64_t", /*default=*/"2000", "">,
    Option<"minScale", "min-scale", "double", /*default=*/"1.0",
           "lower bound, so that repeated non-finite steps cannot drive the scale to 0">,
    Option<"maxScale", "max-scale", "double", /*default=*/"16777216.0", "upper bound">,
  ];
}

def OptimizerPass : Pass<"mpc-optimizer", "::mlir::ModuleOp"> {
  let summary = "Apply an optimizer update to the parameters; @main becomes @train_step";
  let description = [{
    Replaces each "grad" result by the parameter's updated value (f32 master
    weights) with PyTorch semantics: `sgd` (momentum, dampening 0, optional
    Nesterov, L2 weight decay added to the gradient) or `adamw` (decoupled
    weight decay, bias correction). Optimizer state becomes arguments and
    results (`mpc.role` = "opt", `mpc.init` = its initial value): SGD momentum
    buffers `NAME.momentum_buffer`, AdamW `NAME.exp_avg`, `NAME.exp_avg_sq` and
    the shared `step` counter. When @main has a "finite" result, every state
    update (parameters, buffers, optimizer and scaler state) is kept only if
    it is true: a non-finite step changes nothing. State arguments without an
    update are returned unchanged. The function is renamed @train_step and
    its results ordered: state (in argument order), loss, finite, outputs.
  }];
  let options = [
    Option<"optimizer", "optimizer", "std::string", /*default=*/"\"sgd\"", "sgd or adamw">,
    Option<"lr", "lr", "double", /*default=*/"0.01", "learning rate">,
    Option<"momentum", "momentum", "double", /*default=*/"0.0", "SGD momentum">,
    Option<"nesterov", "nesterov", "bool", /*default=*/"false", "SGD Nesterov momentum">,
    Option<"weightDecay", "weight-decay", "double", /*default=*/"0.0",
           "SGD: L2 penalty added to the gradient; AdamW: decoupled decay">,
    Option<"beta1", "beta1", "double", /*default=*/"0.9", "AdamW beta1">,
    Option<"beta2", "beta2", "double", /*default=*/"0.999", "AdamW beta2">,
    Option<"eps", "eps", "double", /*default=*/"1e-8", "AdamW epsilon">,
  ];
}

//===----------------------------------------------------------------------===//
// Conversion
//===----------------------------------------------------------------------===//

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

#endif // MPC_PASSES_TD
