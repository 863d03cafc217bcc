//===- ImportLoss.cpp - NegativeLogLikelihoodLoss, SoftmaxCrossEntropyLoss ===//
//
// Both losses become a class mask (target == class index, a constant iota)
// that selects each element's log-probability and weight, then the ONNX
// reduction. Built from differentiable ops, they train like the rest of the
// graph; a target equal to ignore_index (in range or not) weighs zero.
//
//===----------------------------------------------------------------------===//
#include "Importer.h"

using namespace mlir;
using namespace mpc::importer;

namespace {
enum class Reduction { None, Sum, Mean };

struct LossSpec {
  Reduction reduction = Reduction::Mean;
  std::optional<int64_t> ignoreIndex;
  /// Input indices of the scores/log-probabilities, target and weight.
  size_t input = 0, target = 1, weight = 2;
};

template <typename OpTy> FailureOr<Value> binary(NodeImporter &n, Value lhs, Value rhs) {
  return n.createOrFold<OpTy>(n.inferred(), lhs, rhs);
}

FailureOr<Value> sumOver(NodeImporter &n, Value x, ArrayRef<int64_t> axes) {
  if (axes.empty())
    return x;
  return n.createOrFold<mpc::ReduceSumOp>(n.inferred(), x, axes, false, TypeAttr());
}

SmallVector<int64_t> allAxes(Value x) {
  return llvm::to_vector(llvm::seq<int64_t>(0, cast<RankedTensorType>(x.getType()).getRank()));
}

FailureOr<LossSpec> readSpec(NodeImporter &n) {
  FailureOr<std::string> reduction = n.stringAttr("reduction", "mean");
  if (failed(reduction))
    return failure();
  LossSpec spec;
  if (*reduction == "none")
    spec.reduction = Reduction::None;
  else if (*reduction == "sum")
    spec.reduction = Reduction::Sum;
  else if (*reduction != "mean")
    return n.error() << "reduction must be 'none', 'sum' or 'mean', got '" << *reduction << "'";
  if (n.attr("ignore_index")) {
    FailureOr<int64_t> ignore = n.intAttr("ignore_index", std::nullopt);
    if (failed(ignore))
      return failure();
    spec.ignoreIndex = *ignore;
  }
  return spec;
}

/// Input (N, C, d1...), target (N, d1...) of int32/int64, weight (C).
LogicalResult checkShapes(NodeImporter &n, const LossSpec &spec) {
  if (failed(n.require(spec.input, "input")) || failed(n.require(spec.target, "target")))
    return failure();
  ArrayRef<int64_t> shape = n.shapeOf(spec.input);
  if (shape.size() < 2 || !isFloatDType(n.dtypeOf(spec.input)))
    return n.error() << "input must be a float tensor of shape N x C x d1..., got "
                     << dtypeName(n.dtypeOf(spec.input)) << " " << shapeString(shape);
  Shape expected{shape[0]};
  llvm::append_range(expected, shape.drop_front(2));
  if (n.shapeOf(spec.target) != ArrayRef<int64_t>(expected))
    return n.error() << "target must have shape " << shapeString(expected) << ", got "
                     << shapeString(n.shapeOf(spec.target));
  int32_t targetType = n.dtypeOf(spec.target);
  if (targetType != kInt32 && targetType != kInt64)
    return n.error() << "target must be int32 or int64, got " << dtypeName(targetType);
  if (n.hasInput(spec.weight) && (n.shapeOf(spec.weight) != ArrayRef<int64_t>{shape[1]} ||
                                  n.dtypeOf(spec.weight) != n.dtypeOf(spec.input)))
    return n.error() << "weight must be a " << dtypeName(n.dtypeOf(spec.input)) << " vector of the "
                     << shape[1] << " classes, got " << dtypeName(n.dtypeOf(spec.weight)) << " "
                     << shapeString(n.shapeOf(spec.weight));
  return success();
}

/// (target reshaped to N x 1 x d1...) == (0..C-1 shaped 1 x C x 1...).
FailureOr<Value> classMask(NodeImporter &n, Value target, ArrayRef<int64_t> inputShape) {
  int64_t classes = inputShape[1];
  Shape iotaShape(inputShape.size(), 1);
  iotaShape[1] = classes;
  HostTensor iota = HostTensor::fromInts(llvm::to_vector(llvm::seq<int64_t>(0, classes)), iotaShape,
                                         dtypeFor(getElementTypeOrSelf(target)));
  Shape targetShape(inputShape);
  targetShape[1] = 1;
  FailureOr<Value> classes1 = n.graph.makeConstant(iota, n.loc(), n.name());
  FailureOr<Value> expanded =
      failed(classes1) ? FailureOr<Value>(failure()) : n.reshape(target, targetShape);
  if (failed(expanded))
    return failure();
  return binary<mpc::EqualOp>(n, *expanded, *classes1);
}

/// Each element's weight: weight[target] (null without weights: all 1),
/// zeroed where the target is ignore_index.
FailureOr<Value> elementWeights(NodeImporter &n, const LossSpec &spec, Value mask, Value target,
                                Value zero) {
  Value weights;
  if (n.hasInput(spec.weight)) {
    Shape columnShape(cast<RankedTensorType>(mask.getType()).getRank(), 1);
    columnShape[1] = n.shapeOf(spec.weight)[0];
    FailureOr<Value> weight = n.value(spec.weight);
    FailureOr<Value> column = failed(weight) ? weight : n.reshape(*weight, columnShape);
    FailureOr<Value> chosen =
        failed(column) ? column : n.createOrFold<mpc::WhereOp>(n.inferred(), mask, *column, zero);
    FailureOr<Value> summed = failed(chosen) ? chosen : sumOver(n, *chosen, {1});
    if (failed(summed))
      return failure();
    weights = *summed;
  }
  int32_t targetType = dtypeFor(getElementTypeOrSelf(target));
  // An int32 target never equals an ignore_index outside the int32 range.
  if (!spec.ignoreIndex ||
      (targetType == kInt32 && int32_t(*spec.ignoreIndex) != *spec.ignoreIndex))
    return weights;
  FailureOr<Value> ignoreValue = n.graph.makeConstant(
      HostTensor::fromInts({*spec.ignoreIndex}, {}, targetType), n.loc(), n.name());
  FailureOr<Value> ignored =
      failed(ignoreValue) ? ignoreValue : binary<mpc::EqualOp>(n, target, *ignoreValue);
  FailureOr<Value> kept = failed(ignored) || weights ? FailureOr<Value>(weights)
                                                     : n.scalar(getElementTypeOrSelf(zero), 1.0);
  if (failed(ignored) || failed(kept))
    return failure();
  return n.createOrFold<mpc::WhereOp>(n.inferred(), *ignored, zero, *kept);
}

/// loss = -input[target] * weight[target], then the reduction; the mean
/// divides by the sum of the weights (not the count) as ONNX defines it.
FailureOr<Value> buildLoss(NodeImporter &n, const LossSpec &spec, Value logProb) {
  auto inputType = cast<RankedTensorType>(logProb.getType());
  FailureOr<Value> target = n.value(spec.target);
  FailureOr<Value> mask = failed(target) ? target : classMask(n, *target, inputType.getShape());
  FailureOr<Value> zero = failed(mask) ? mask : n.scalar(inputType.getElementType(), 0.0);
  FailureOr<Value> selected =
      failed(zero) ? zero : n.createOrFold<mpc::WhereOp>(n.inferred(), *mask, logProb, *zero);
  FailureOr<Value> picked = failed(selected) ? selected : sumOver(n, *selected, {1});
  FailureOr<Value> loss =
      failed(picked) ? picked : n.createOrFold<mpc::NegOp>(picked->getType(), *picked);
  FailureOr<Value> weights = failed(loss) ? loss : elementWeights(n, spec, *mask, *target, *zero);
  if (failed(weights))
    return failure();
  if (*weights)
    loss = binary<mpc::MulOp>(n, *loss, *weights);
  if (failed(loss) || spec.reduction == Reduction::None)
    return loss;
  SmallVector<int64_t> axes = allAxes(*loss);
  if (spec.reduction == Reduction::Mean && !*weights)
    return axes.empty() ? loss
                        : n.createOrFold<mpc::ReduceMeanOp>(
                              n.inferred(), *loss, ArrayRef<int64_t>(axes), false, TypeAttr());
  FailureOr<Value> total = sumOver(n, *loss, axes);
  if (failed(total) || spec.reduction == Reduction::Sum)
    return total;
  FailureOr<Value> weightSum = sumOver(n, *weights, axes);
  if (failed(weightSum))
    return failure();
  return binary<mpc::DivOp>(n, *total, *weightSum);
}

LogicalResult importNegativeLogLikelihoodLoss(NodeImporter &n) {
  FailureOr<LossSpec> spec = readSpec(n);
  if (failed(spec) || failed(checkShapes(n, *spec)))
    return failure();
  FailureOr<Value> input = n.value(spec->input);
  FailureOr<Value> loss = failed(input) ? input : buildLoss(n, *spec, *input);
  if (failed(loss))
    return failure();
  return n.setOutput(0, *loss);
}

/// The log-probabilities are LogSoftmax over the classes (axis 1), also the
/// optional second output.
LogicalResult importSoftmaxCrossEntropyLoss(NodeImporter &n) {
  FailureOr<LossSpec> spec = readSpec(n);
  if (failed(spec) || failed(checkShapes(n, *spec)))
    return failure();
  FailureOr<Value> scores = n.value(spec->input);
  FailureOr<Value> logProb =
      failed(scores)
          ? scores
          : n.createOrFold<mpc::LogSoftmaxOp>(scores->getType(), *scores, uint64_t(1), TypeAttr());
  FailureOr<Value> loss = failed(logProb) ? logProb : buildLoss(n, *spec, *logProb);
  if (failed(loss) || failed(n.setOutput(0, *loss)))
    return failure();
  return n.setOutput(1, *logProb);
}

const OpImportInfo kTable[] = {
    {"NegativeLogLikelihoodLoss", 13, kMaxOpset, importNegativeLogLikelihoodLoss,
     "mpc.equal + mpc.where + mpc.reduce_sum (+ mpc.mul, mpc.div / mpc.reduce_mean)",
     "input N x C x d1...; reduction none/sum/mean, weight, ignore_index"},
    {"SoftmaxCrossEntropyLoss", 13, kMaxOpset, importSoftmaxCrossEntropyLoss,
     "mpc.log_softmax + the NegativeLogLikelihoodLoss ops",
     "as NegativeLogLikelihoodLoss; the optional log_prob output"},
};
} // namespace

ArrayRef<OpImportInfo> mpc::importer::lossOpTable() { return kTable; }
