//===- MpcTrainOps.td - losses and gradient ops -----------*- tablegen -*-===//
//
// Ops that exist for training: the losses mpc-append-loss adds and the ops
// gradient rules build (convolution and pooling backward, scatter-add for
// gather). Included from MpcOps.td; they use its base classes.
//
//===----------------------------------------------------------------------===//
#ifndef MPC_TRAIN_OPS_TD
#define MPC_TRAIN_OPS_TD

//===----------------------------------------------------------------------===//
// Losses
//===----------------------------------------------------------------------===//

def Mpc_SoftmaxCrossEntropyOp : Mpc_SensitiveOp<"softmax_cross_entropy", [InferTypeOpAdaptor, Mpc_Accumulates]> {
  let summary = "mean softmax cross-entropy of logits (class axis last) and int class ids";
  let description = [{
    `logits` has shape `(..., C)`, `labels` the same shape without the last
    axis. The result is the rank-0 f32 mean over all labels of
    `logsumexp(logits[i, :]) - logits[i, labels[i]]`, which is PyTorch's
    `CrossEntropyLoss()` for `(N, C)` logits. The log-sum-exp subtracts the
    row maximum and everything accumulates in f32 (whatever the logits' type),
    so large logits neither overflow nor lose the small terms.

    A label outside `[0, C)` is clamped into range (no memory is read out of
    bounds, but the loss is then meaningless): the trainer validates labels
    before a step.

    `%l = mpc.softmax_cross_entropy %logits, %labels : (tensor<32x10xf32>, tensor<32xi64>) -> tensor<f32>`
  }];
  let arguments = (ins Mpc_FloatTensor:$logits, Mpc_IndexTensor:$labels);
  let results = (outs StaticShapeTensorOf<[F32]>:$result);
  let assemblyFormat = "$logits `,` $labels attr-dict `:` functional-type(operands, results)";
}

def Mpc_SoftmaxCrossEntropyGradOp
    : Mpc_SensitiveOp<"softmax_cross_entropy_grad", [InferTypeOpAdaptor, Mpc_Accumulates]> {
  let summary = "gradient of mpc.softmax_cross_entropy with respect to the logits";
  let description = [{
    `(softmax(logits) - onehot(labels)) * dloss / count`, with `count` the
    number of labels and `dloss` the rank-0 f32 gradient of the loss; the
    result has the logits' type. Computed in f32; labels are clamped as in the
    forward op.

    `%g = mpc.softmax_cross_entropy_grad %logits, %labels, %dloss : (tensor<32x10xf32>, tensor<32xi64>, tensor<f32>) -> tensor<32x10xf32>`
  }];
  let arguments = (ins Mpc_FloatTensor:$logits, Mpc_IndexTensor:$labels,
                       StaticShapeTensorOf<[F32]>:$dloss);
  let results = (outs Mpc_FloatTensor:$result);
  let assemblyFormat = "$logits `,` $labels `,` $dloss attr-dict `:` functional-type(operands, results)";
}

def Mpc_SoftmaxCrossEntropyWithGradOp
    : Mpc_SensitiveOp<"softmax_cross_entropy_with_grad", [InferTypeOpAdaptor, Mpc_Accumulates]> {
  let summary = "mpc.softmax_cross_entropy and its gradient from one pass over the logits";
  let description = [{
    The results of `mpc.softmax_cross_entropy %logits, %labels` (the rank-0
    f32 mean loss) and of `mpc.softmax_cross_entropy_grad %logits, %labels,
    %dloss` (the logits' gradient, in the logits' type), computed together:
    each row's maximum and sum of exponentials serve both, and the
    probabilities are never stored. `dloss` must not depend on the loss,
    which holds for the backward seed mpc-fuse-cross-entropy passes (the loss
    scale). Labels are clamped as in the separate ops.

    `%l, %g = mpc.softmax_cross_entropy_with_grad %logits, %labels, %dloss : (tensor<32x10xbf16>, tensor<32xi64>, tensor<f32>) -> (tensor<f32>, tensor<32x10xbf16>)`
  }];
  let arguments = (ins Mpc_FloatTensor:$logits, Mpc_IndexTensor:$labels,
                       StaticShapeTensorOf<[F32]>:$dloss);
  let results = (outs StaticShapeTensorOf<[F32]>:$loss, Mpc_FloatTensor:$grad);
  let assemblyFormat = "$logits `,` $labels `,` $dloss attr-dict `:` functional-type(operands, results)";
}

def Mpc_MseLossOp : Mpc_SensitiveOp<"mse_loss", [InferTypeOpAdaptor, Mpc_Accumulates]> {
  let summary = "mean squared error of two tensors of the same type";
  let description = [{
    `mean((pred - target)^2)` over all elements, as PyTorch's `MSELoss()`;
    the rank-0 result is f32 and the sum accumulates in f32.

    `%l = mpc.mse_loss %pred, %target : (tensor<32x1xf32>, tensor<32x1xf32>) -> tensor<f32>`
  }];
  let arguments = (ins Mpc_FloatTensor:$pred, Mpc_FloatTensor:$target);
  let results = (outs StaticShapeTensorOf<[F32]>:$result);
  let assemblyFormat = "$pred `,` $target attr-dict `:` functional-type(operands, results)";
}

//===----------------------------------------------------------------------===//
// Convolution backward
//===----------------------------------------------------------------------===//

def Mpc_ConvGradInputOp : Mpc_ComputeBoundOp<"conv_grad_input"> {
  let summary = "gradient of mpc.conv with respect to its input";
  let description = [{
    `dy` is the gradient of the conv's result, `weight` its weight; the
    attributes are the conv's. The result type is the conv input's type (the
    input's spatial size cannot be recovered from `dy` alone, so it is
    spelled out and checked: a conv of that input shape must give `dy`'s
    shape). Accumulates in `acc_type` (f32 for narrow types when unset).

    `%dx = mpc.conv_grad_input %dy, %w {strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x4x4x4xf32>, tensor<4x3x3x3xf32>) -> tensor<1x3x8x8xf32>`
  }];
  let arguments = (ins Mpc_FloatTensor:$dy, Mpc_FloatTensor:$weight,
                       DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$pads,
                       DenseI64ArrayAttr:$dilations, I64Attr:$group,
                       OptionalAttr<TypeAttr>:$acc_type);
  let results = (outs Mpc_FloatTensor:$result);
  let assemblyFormat = "$dy `,` $weight attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Mpc_ConvGradFilterOp : Mpc_ComputeBoundOp<"conv_grad_filter"> {
  let summary = "gradient of mpc.conv with respect to its weight";
  let description = [{
    `input` is the conv's input, `dy` the gradient of its result; the
    attributes are the conv's and the result type is the weight's type
    (checked: a conv of `input` with that weight must give `dy`'s shape).
    Accumulates in `acc_type` (f32 for narrow types when unset).

    `%dw = mpc.conv_grad_filter %x, %dy {strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x3x8x8xf32>, tensor<1x4x4x4xf32>) -> tensor<4x3x3x3xf32>`
  }];
  let arguments = (ins Mpc_FloatTensor:$input, Mpc_FloatTensor:$dy,
                       DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$pads,
                       DenseI64ArrayAttr:$dilations, I64Attr:$group,
                       OptionalAttr<TypeAttr>:$acc_type);
  let results = (outs Mpc_FloatTensor:$result);
  let assemblyFormat = "$input `,` $dy attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Pooling backward
//===----------------------------------------------------------------------===//

def Mpc_MaxPoolGradOp : Mpc_FollowOp<"max_pool_grad", [InferTypeOpAdaptor]> {
  let summary = "gradient of mpc.max_pool with respect to its input";
  let description = [{
    Each element of `dy` goes to the first position (row-major within the
    window) holding its window's maximum, as PyTorch does; positions in
    several windows sum their contributions. Padding never receives any.
    `input` is the pool's input; the attributes are the pool's.

    `%dx = mpc.max_pool_grad %x, %dy {kernel_shape = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, ceil_mode = false} : (tensor<1x4x8x8xf32>, tensor<1x4x4x4xf32>) -> tensor<1x4x8x8xf32>`
  }];
  let arguments = (ins Mpc_FloatTensor:$input, Mpc_FloatTensor:$dy,
                       DenseI64ArrayAttr:$kernel_shape, DenseI64ArrayAttr:$strides,
                       DenseI64ArrayAttr:$pads, DenseI64ArrayAttr:$dilations,
                       DefaultValuedAttr<BoolAttr, "false">:$ceil_mode);
  let results = (outs Mpc_FloatTensor:$result);
  let assemblyFormat = "$input `,` $dy attr-dict `:` functional-type(operands, results)";
}

def Mpc_AvgPoolGradOp : Mpc_FollowOp<"avg_pool_grad", [Mpc_Accumulates]> {
  let summary = "gradient of mpc.avg_pool with respect to its input";
  let description = [{
    Every input position receives `dy / count` of each window it lies in,
    with the window's `count` as the forward op divides by
    (`count_include_pad`, `ceil_mode`). The result type is the pool input's
    type (checked against `dy`'s shape).

    `%dx = mpc.avg_pool_grad %dy {kernel_shape = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, count_include_pad = false, ceil_mode = false} : (tensor<1x4x4x4xf32>) -> tensor<1x4x8x8xf32>`
  }];
  let arguments = (ins Mpc_FloatTensor:$dy, DenseI64ArrayAttr:$kernel_shape,
                       DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$pads,
                       DefaultValuedAttr<BoolAttr, "false">:$count_include_pad,
                       DefaultValuedAttr<BoolAttr, "false">:$ceil_mode,
                       OptionalAttr<TypeAttr>:$acc_type);
  let results = (outs Mpc_FloatTensor:$result);
  let assemblyFormat = "$dy attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Gather backward
//===----------------------------------------------------------------------===//

def Mpc_GatherGradOp : Mpc_FollowOp<"gather_grad"> {
  let summary = "gradient of mpc.gather with respect to its data (scatter-add)";
  let description = [{
    The result (the gather data's type) is zero except that every slice of
    `dy` is added at the index `indices` gave gather: repeated indices
    accumulate (embedding gradients), negative indices count from the end and
    out-of-range ones are clamped, exactly as the forward gather reads.

    `%d = mpc.gather_grad %dy, %ids {axis = 0 : i64} : (tensor<2x5x16xf32>, tensor<2x5xi64>) -> tensor<100x16xf32>`
  }];
  let arguments = (ins Mpc_FloatTensor:$dy, Mpc_IndexTensor:$indices, I64Attr:$axis);
  let results = (outs Mpc_FloatTensor:$result);
  let assemblyFormat = "$dy `,` $indices attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

#endif // MPC_TRAIN_OPS_TD
