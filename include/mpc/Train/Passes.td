//===- Passes.td - training passes -------------------------*- tablegen -*-===//
//
// Training: loss, autodiff, loss scaling, optimizer (docs/training.md: the IR
// contract between these passes).
//
//===----------------------------------------------------------------------===//
#ifndef MPC_TRAIN_PASSES_TD
#define MPC_TRAIN_PASSES_TD

include "mlir/Pass/PassBase.td"

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
    Option<"loss", "loss", "::mpc::LossKind", /*default=*/"::mpc::LossKind::CrossEntropy",
           "the loss", [{::llvm::cl::values(
             clEnumValN(::mpc::LossKind::CrossEntropy, "cross_entropy",
                        "softmax cross-entropy over the last axis, int64 class ids"),
             clEnumValN(::mpc::LossKind::MSE, "mse", "mean squared error"))}]>,
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

def FuseCrossEntropyPass : Pass<"mpc-fuse-cross-entropy", "::mlir::ModuleOp"> {
  let summary = "Compute the cross-entropy loss and its gradient together";
  let description = [{
    Replaces an `mpc.softmax_cross_entropy` and the
    `mpc.softmax_cross_entropy_grad` mpc-autodiff built for it (same logits,
    labels and block) by one `mpc.softmax_cross_entropy_with_grad` at the
    gradient's place, so that the loss and the logits' gradient come from one
    pass over the logits and the probabilities are never stored. A pair is
    left as it is when a user of the loss comes before the gradient (then
    `dloss` could depend on the loss) or when the two ops accumulate in
    different types.
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
    Option<"mode", "mode", "::mpc::LossScalingMode", /*default=*/"::mpc::LossScalingMode::None",
           "loss scaling", [{::llvm::cl::values(
             clEnumValN(::mpc::LossScalingMode::Dynamic, "dynamic", "GradScaler's adaptive scale"),
             clEnumValN(::mpc::LossScalingMode::Static, "static", "a fixed init-scale"),
             clEnumValN(::mpc::LossScalingMode::None, "none",
                        "no scaling, only the finite check"))}]>,
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
    Option<"optimizer", "optimizer", "::mpc::OptimizerKind",
           /*default=*/"::mpc::OptimizerKind::SGD",
           "the update rule", [{::llvm::cl::values(
             clEnumValN(::mpc::OptimizerKind::SGD, "sgd", "PyTorch SGD"),
             clEnumValN(::mpc::OptimizerKind::AdamW, "adamw", "PyTorch AdamW"))}]>,
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

#endif // MPC_TRAIN_PASSES_TD
