//===- ImportNormalization.cpp - InstanceNorm, LRN, MVN, RMSNorm ---------===//
//
// All are built from reductions, pooling and elementwise ops: the
// statistics accumulate in the reductions' precision (f32 under mixed
// precision) and gradients come with the parts.
//
//===----------------------------------------------------------------------===//
#include "Importer.h"

using namespace mlir;
using namespace mpc::importer;

namespace {
template <typename OpTy> FailureOr<Value> binary(NodeImporter &n, Value lhs, FailureOr<Value> rhs) {
  return failed(rhs) ? rhs : n.createOrFold<OpTy>(n.inferred(), lhs, *rhs);
}

template <typename OpTy> FailureOr<Value> unary(NodeImporter &n, FailureOr<Value> x) {
  return failed(x) ? x : n.createOrFold<OpTy>(x->getType(), *x);
}

FailureOr<Value> mean(NodeImporter &n, FailureOr<Value> x, ArrayRef<int64_t> axes) {
  return failed(x) ? x
                   : n.createOrFold<mpc::ReduceMeanOp>(n.inferred(), *x, axes, true, TypeAttr());
}

/// A float tensor N x C x d1... with rank >= `minRank`.
LogicalResult checkInput(NodeImporter &n, int64_t minRank) {
  if (failed(n.require(0, "X")))
    return failure();
  if (n.rankOf(0) < minRank || !isFloatDType(n.dtypeOf(0)))
    return n.error() << "X must be a float tensor N x C x d1... of rank >= " << minRank << ", got "
                     << dtypeName(n.dtypeOf(0)) << " " << shapeString(n.shapeOf(0));
  return success();
}

/// (x - mean) / sqrt(var + epsilon) * scale + B, the statistics over each
/// (n, c)'s spatial dims; scale and B are per channel.
LogicalResult importInstanceNormalization(NodeImporter &n) {
  FailureOr<double> epsilon = n.floatAttr("epsilon", 1e-5);
  if (failed(epsilon) || failed(checkInput(n, 3)) || failed(n.require(1, "scale")) ||
      failed(n.require(2, "B")))
    return failure();
  int64_t rank = n.rankOf(0), channels = n.shapeOf(0)[1];
  for (size_t i : {1, 2})
    if (n.shapeOf(i) != ArrayRef<int64_t>{channels} || n.dtypeOf(i) != n.dtypeOf(0))
      return n.error() << (i == 1 ? "scale" : "B") << " must be a " << dtypeName(n.dtypeOf(0))
                       << " vector of the " << channels << " channels, got "
                       << dtypeName(n.dtypeOf(i)) << " " << shapeString(n.shapeOf(i));
  SmallVector<int64_t> spatial = llvm::to_vector(llvm::seq<int64_t>(2, rank));
  Shape perChannel(rank, 1);
  perChannel[1] = channels;
  FailureOr<Value> x = n.value(0);
  FailureOr<Value> centered = failed(x) ? x : binary<mpc::SubOp>(n, *x, mean(n, *x, spatial));
  if (failed(centered))
    return failure();
  FailureOr<Value> variance = mean(n, binary<mpc::MulOp>(n, *centered, *centered), spatial);
  Type elementType = getElementTypeOrSelf(*x);
  FailureOr<Value> eps = failed(variance) ? variance : n.scalar(elementType, *epsilon);
  FailureOr<Value> stddev =
      failed(eps) ? eps : unary<mpc::SqrtOp>(n, binary<mpc::AddOp>(n, *variance, *eps));
  FailureOr<Value> normalized = failed(stddev) ? stddev : binary<mpc::DivOp>(n, *centered, *stddev);
  FailureOr<Value> scale = failed(normalized) ? normalized : n.value(1);
  FailureOr<Value> bias = failed(scale) ? scale : n.value(2);
  if (failed(bias))
    return failure();
  FailureOr<Value> scaled = binary<mpc::MulOp>(n, *normalized, n.reshape(*scale, perChannel));
  FailureOr<Value> result =
      failed(scaled) ? scaled : binary<mpc::AddOp>(n, *scaled, n.reshape(*bias, perChannel));
  if (failed(result))
    return failure();
  return n.setOutput(0, *result);
}

/// x / (bias + alpha / size * sum of x^2 over a window of `size` channels)^beta.
/// The window sum is an average pool (padding counted) over the channels of
/// x^2 viewed as N x 1 x C x (the rest), times size.
LogicalResult importLRN(NodeImporter &n) {
  FailureOr<double> alpha = n.floatAttr("alpha", 1e-4);
  FailureOr<double> beta = n.floatAttr("beta", 0.75);
  FailureOr<double> bias = n.floatAttr("bias", 1.0);
  FailureOr<int64_t> size = n.intAttr("size", std::nullopt);
  if (failed(alpha) || failed(beta) || failed(bias) || failed(size) || failed(checkInput(n, 3)))
    return failure();
  ArrayRef<int64_t> shape = n.shapeOf(0);
  if (*size < 1)
    return n.error() << "size must be >= 1, got " << *size;
  int64_t rest = checkedNumElements(shape.drop_front(2));
  Shape pooledShape{shape[0], 1, shape[1], rest};
  int64_t before = (*size - 1) / 2, after = *size - 1 - before;
  SmallVector<int64_t> kernel{*size, 1}, strides{1, 1}, pads{before, 0, after, 0};
  FailureOr<Value> x = n.value(0);
  FailureOr<Value> squares = failed(x) ? x : binary<mpc::MulOp>(n, *x, *x);
  FailureOr<Value> viewed = failed(squares) ? squares : n.reshape(*squares, pooledShape);
  FailureOr<Value> windowMean =
      failed(viewed)
          ? viewed
          : n.createOrFold<mpc::AvgPoolOp>(n.inferred(), *viewed, ArrayRef<int64_t>(kernel),
                                           ArrayRef<int64_t>(strides), ArrayRef<int64_t>(pads),
                                           true, false, TypeAttr());
  FailureOr<Value> back = failed(windowMean) ? windowMean : n.reshape(*windowMean, shape);
  if (failed(back))
    return failure();
  Type elementType = getElementTypeOrSelf(*x);
  FailureOr<Value> scaled = binary<mpc::MulOp>(n, *back, n.scalar(elementType, *alpha));
  FailureOr<Value> shifted =
      failed(scaled) ? scaled : binary<mpc::AddOp>(n, *scaled, n.scalar(elementType, *bias));
  FailureOr<Value> denominator =
      failed(shifted) ? shifted : binary<mpc::PowOp>(n, *shifted, n.scalar(elementType, *beta));
  FailureOr<Value> result =
      failed(denominator) ? denominator : binary<mpc::DivOp>(n, *x, *denominator);
  if (failed(result))
    return failure();
  return n.setOutput(0, *result);
}

/// The ONNX function body: (X - mean) / (sqrt(mean(X^2) - mean^2) + 1e-9),
/// the statistics over `axes`. The variance is clamped at 0: rounding can
/// make mean(X^2) - mean^2 slightly negative on a (near) constant slice,
/// where the function body gives NaN.
LogicalResult importMeanVarianceNormalization(NodeImporter &n) {
  FailureOr<std::optional<SmallVector<int64_t>>> given = n.intsAttr("axes");
  if (failed(given) || failed(n.require(0, "X")))
    return failure();
  if (!isFloatDType(n.dtypeOf(0)))
    return n.error() << "X must be a float tensor, got " << dtypeName(n.dtypeOf(0));
  SmallVector<int64_t> axes = given->value_or(SmallVector<int64_t>{0, 2, 3});
  FailureOr<SmallVector<int64_t>> sorted = n.normalizeAxes(axes, n.rankOf(0), "axes");
  if (failed(sorted))
    return failure();
  FailureOr<Value> x = n.value(0);
  FailureOr<Value> average = mean(n, x, *sorted);
  FailureOr<Value> centered = failed(average) ? average : binary<mpc::SubOp>(n, *x, average);
  FailureOr<Value> squares = failed(centered) ? centered : binary<mpc::MulOp>(n, *x, x);
  FailureOr<Value> meanSquare = mean(n, squares, *sorted);
  FailureOr<Value> squareMean =
      failed(meanSquare) ? meanSquare : binary<mpc::MulOp>(n, *average, average);
  FailureOr<Value> variance =
      failed(squareMean) ? squareMean : binary<mpc::SubOp>(n, *meanSquare, squareMean);
  if (failed(variance))
    return failure();
  Type elementType = getElementTypeOrSelf(*x);
  FailureOr<Value> clamped = binary<mpc::MaxOp>(n, *variance, n.scalar(elementType, 0.0));
  FailureOr<Value> stddev = unary<mpc::SqrtOp>(n, clamped);
  FailureOr<Value> denominator =
      failed(stddev) ? stddev : binary<mpc::AddOp>(n, *stddev, n.scalar(elementType, 1e-9));
  FailureOr<Value> result =
      failed(denominator) ? denominator : binary<mpc::DivOp>(n, *centered, denominator);
  if (failed(result))
    return failure();
  return n.setOutput(0, *result);
}

/// The float type RMSNormalization's statistics are computed in; null (with
/// the error reported) for a stash_type that is not a float type.
Type rmsStashType(NodeImporter &n) {
  FailureOr<int64_t> stash = n.intAttr("stash_type", kFloat);
  if (failed(stash))
    return {};
  if (!isFloatDType(int32_t(*stash))) {
    n.error() << "attribute 'stash_type' is " << *stash << " (" << dtypeName(int32_t(*stash))
              << "); it must name a float type (1 = float)";
    return {};
  }
  return elementTypeFor(int32_t(*stash), n.builder().getContext());
}

/// X / sqrt(mean(X^2) + epsilon) * scale, the mean over the dims from
/// `axis` on, computed in stash_type (f32 by default, so a bf16/fp16 model
/// keeps f32 statistics as LayerNormalization does) and cast back to X's type.
LogicalResult importRMSNormalization(NodeImporter &n) {
  FailureOr<int64_t> axisAttr = n.intAttr("axis", -1);
  FailureOr<double> epsilon = n.floatAttr("epsilon", 1e-5);
  if (failed(axisAttr) || failed(epsilon) || failed(n.require(0, "X")) ||
      failed(n.require(1, "scale")))
    return failure();
  if (!isFloatDType(n.dtypeOf(0)) || n.dtypeOf(1) != n.dtypeOf(0))
    return n.error() << "X and scale must be tensors of the same float type, got "
                     << dtypeName(n.dtypeOf(0)) << " and " << dtypeName(n.dtypeOf(1));
  FailureOr<int64_t> axis = n.normalizeAxis(*axisAttr, n.rankOf(0), "axis");
  Type stash = failed(axis) ? Type() : rmsStashType(n);
  if (!stash)
    return failure();
  // Y = normalized X * scale, a broadcasting product of X's shape (as
  // onnxruntime computes it, also for a scale of higher rank than the
  // normalized dims).
  if (!rules::broadcastsTo(n.shapeOf(1), n.shapeOf(0)))
    return n.error() << "scale of shape " << shapeString(n.shapeOf(1))
                     << " does not broadcast to X's shape " << shapeString(n.shapeOf(0));
  SmallVector<int64_t> axes = llvm::to_vector(llvm::seq<int64_t>(*axis, n.rankOf(0)));
  FailureOr<Value> x = n.value(0);
  FailureOr<Value> wide = failed(x) ? x : n.castTo(*x, stash);
  FailureOr<Value> meanSquare =
      failed(wide) ? wide : mean(n, binary<mpc::MulOp>(n, *wide, *wide), axes);
  FailureOr<Value> variance =
      failed(meanSquare) ? meanSquare
                         : binary<mpc::AddOp>(n, *meanSquare, n.scalar(stash, *epsilon));
  FailureOr<Value> inverse = unary<mpc::ReciprocalOp>(n, unary<mpc::SqrtOp>(n, variance));
  FailureOr<Value> scaled = failed(inverse) ? inverse : binary<mpc::MulOp>(n, *wide, inverse);
  FailureOr<Value> narrow = failed(scaled) ? scaled : n.castTo(*scaled, getElementTypeOrSelf(*x));
  FailureOr<Value> result = failed(narrow) ? narrow : binary<mpc::MulOp>(n, *narrow, n.value(1));
  if (failed(result))
    return failure();
  return n.setOutput(0, *result);
}

const OpImportInfo kTable[] = {
    {"InstanceNormalization", 13, kMaxOpset, importInstanceNormalization,
     "mpc.reduce_mean + mpc.sub + mpc.mul + mpc.sqrt + mpc.div + mpc.add",
     "statistics over the spatial dims of each (n, c)"},
    {"LRN", 13, kMaxOpset, importLRN, "mpc.mul + mpc.avg_pool + mpc.pow + mpc.div",
     "the channel window as an average pool over x^2 (padding counted)"},
    {"MeanVarianceNormalization", 13, kMaxOpset, importMeanVarianceNormalization,
     "mpc.reduce_mean + mpc.mul + mpc.sub + mpc.max + mpc.sqrt + mpc.div",
     "axes (default 0, 2, 3); (X - mean) / (sqrt(max(mean(X^2) - mean^2, 0)) + 1e-9)"},
    {"RMSNormalization", 23, kMaxOpset, importRMSNormalization,
     "mpc.mul + mpc.reduce_mean + mpc.add + mpc.sqrt + mpc.reciprocal (+ mpc.cast)",
     "axis, epsilon; X / sqrt(mean(X^2) + epsilon) * scale with the statistics in stash_type "
     "(float by default); X and scale of one float type"},
};
} // namespace

ArrayRef<OpImportInfo> mpc::importer::normalizationOpTable() { return kTable; }
