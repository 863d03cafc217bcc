//===- ImportNN.cpp - matmul, conv, pooling, normalization, reductions ----===//
#include "Building.h"

using namespace mlir;
using namespace mpc::importer;

namespace {
template <typename OpTy> FailureOr<Value> binary(NodeImporter &n, Value lhs, Value rhs) {
  return n.createOrFold<OpTy>(n.inferred(), lhs, rhs);
}

FailureOr<Value> matmul(NodeImporter &n, Value lhs, Value rhs) {
  Type lt = cast<RankedTensorType>(lhs.getType()).getElementType();
  Type rt = cast<RankedTensorType>(rhs.getType()).getElementType();
  if (lt != rt)
    return n.error() << "operand element types differ (" << typeName(lt) << " and " << typeName(rt)
                     << ")";
  return n.createOrFold<mpc::MatmulOp>(n.inferred(), lhs, rhs, TypeAttr());
}

/// numpy matmul: a 1-D operand is promoted to a matrix (a row on the left,
/// a column on the right) and the promoted dim is dropped from the result.
LogicalResult importMatMul(NodeImporter &n) {
  if (failed(n.require(0, "A")) || failed(n.require(1, "B")))
    return failure();
  Shape lhsShape(n.shapeOf(0)), rhsShape(n.shapeOf(1));
  if (lhsShape.empty() || rhsShape.empty())
    return n.error() << "operands must have rank >= 1, got shapes " << shapeString(lhsShape)
                     << " and " << shapeString(rhsShape);
  bool lhsVector = lhsShape.size() == 1, rhsVector = rhsShape.size() == 1;
  if (lhsVector)
    lhsShape.insert(lhsShape.begin(), 1);
  if (rhsVector)
    rhsShape.push_back(1);
  std::string message;
  FailureOr<Shape> result = rules::matmul(lhsShape, rhsShape, message);
  if (failed(result))
    return n.shapeError(message);
  Shape finalShape = *result;
  if (rhsVector)
    finalShape.pop_back();
  if (lhsVector)
    finalShape.erase(finalShape.end() - (rhsVector ? 1 : 2));
  FailureOr<Value> lhs = n.value(0);
  lhs = failed(lhs) ? FailureOr<Value>(failure()) : n.reshape(*lhs, lhsShape);
  FailureOr<Value> rhs = failed(lhs) ? FailureOr<Value>(failure()) : n.value(1);
  rhs = failed(rhs) ? FailureOr<Value>(failure()) : n.reshape(*rhs, rhsShape);
  FailureOr<Value> product = failed(rhs) ? FailureOr<Value>(failure()) : matmul(n, *lhs, *rhs);
  FailureOr<Value> out =
      failed(product) ? FailureOr<Value>(failure()) : n.reshape(*product, finalShape);
  if (failed(out))
    return failure();
  return n.setOutput(0, *out);
}

FailureOr<Value> transpose2D(NodeImporter &n, Value x) {
  int64_t perm[] = {1, 0};
  return n.createOrFold<mpc::TransposeOp>(n.inferred(), x, ArrayRef(perm));
}

/// Y = alpha * A' B' + beta * C.
LogicalResult importGemm(NodeImporter &n) {
  FailureOr<int64_t> transA = n.intAttr("transA", 0), transB = n.intAttr("transB", 0);
  FailureOr<double> alpha = n.floatAttr("alpha", 1.0), beta = n.floatAttr("beta", 1.0);
  if (failed(transA) || failed(transB) || failed(alpha) || failed(beta) ||
      failed(n.require(0, "A")) || failed(n.require(1, "B")))
    return failure();
  if (n.rankOf(0) != 2 || n.rankOf(1) != 2)
    return n.error() << "A and B must be matrices, got shapes " << shapeString(n.shapeOf(0))
                     << " and " << shapeString(n.shapeOf(1));
  FailureOr<Value> a = n.value(0);
  if (succeeded(a) && *transA)
    a = transpose2D(n, *a);
  FailureOr<Value> b = failed(a) ? FailureOr<Value>(failure()) : n.value(1);
  if (succeeded(b) && *transB)
    b = transpose2D(n, *b);
  if (failed(b))
    return failure();
  auto aType = cast<RankedTensorType>(a->getType());
  auto bType = cast<RankedTensorType>(b->getType());
  std::string message;
  FailureOr<Shape> mn = rules::matmul(aType.getShape(), bType.getShape(), message);
  if (failed(mn))
    return n.shapeError(message);
  FailureOr<Value> y = matmul(n, *a, *b);
  Type elementType = aType.getElementType();
  if (succeeded(y) && *alpha != 1.0) {
    FailureOr<Value> scale = n.scalar(elementType, *alpha);
    y = failed(scale) ? FailureOr<Value>(failure()) : binary<mpc::MulOp>(n, *y, *scale);
  }
  if (n.hasInput(2) && !rules::broadcastsTo(n.shapeOf(2), *mn))
    return n.error() << "C of shape " << shapeString(n.shapeOf(2))
                     << " does not broadcast to the product's shape " << shapeString(*mn);
  if (succeeded(y) && n.hasInput(2) && *beta != 0.0) {
    FailureOr<Value> c = n.value(2);
    if (succeeded(c) && *beta != 1.0) {
      FailureOr<Value> scale = n.scalar(elementType, *beta);
      c = failed(scale) ? FailureOr<Value>(failure()) : binary<mpc::MulOp>(n, *c, *scale);
    }
    y = failed(c) ? FailureOr<Value>(failure()) : binary<mpc::AddOp>(n, *y, *c);
  }
  if (failed(y))
    return failure();
  return n.setOutput(0, *y);
}

/// Attributes shared by Conv and the pools, with defaults filled and
/// auto_pad resolved into explicit pads.
struct WindowAttrs {
  SmallVector<int64_t> kernel, strides, pads, dilations;
  bool ceilMode = false;
};

} // namespace

FailureOr<SmallVector<int64_t>> mpc::importer::windowList(NodeImporter &n, StringRef name,
                                                          size_t size, int64_t dflt,
                                                          int64_t minValue) {
  FailureOr<std::optional<SmallVector<int64_t>>> given = n.intsAttr(name);
  if (failed(given))
    return failure();
  if (!*given)
    return SmallVector<int64_t>(size, dflt);
  if ((*given)->size() != size)
    return n.error() << "attribute '" << name << "' has " << (*given)->size()
                     << " entries, expected " << size;
  for (int64_t v : **given)
    if (v < minValue || v > kMaxWindowSize)
      return n.error() << "attribute '" << name << "' has value " << v << ", expected " << minValue
                       << " to " << kMaxWindowSize;
  return **given;
}

namespace {

/// `kernel` comes from the weight (Conv) or the attribute (pools).
LogicalResult windowAttrs(NodeImporter &n, ArrayRef<int64_t> inputShape, WindowAttrs &w,
                          bool hasDilations, bool hasCeilMode) {
  size_t spatial = inputShape.size() - 2;
  FailureOr<SmallVector<int64_t>> strides = windowList(n, "strides", spatial, 1, 1);
  FailureOr<SmallVector<int64_t>> dilations =
      hasDilations ? windowList(n, "dilations", spatial, 1, 1)
                   : FailureOr<SmallVector<int64_t>>(SmallVector<int64_t>(spatial, 1));
  FailureOr<std::string> autoPad = n.stringAttr("auto_pad", std::string("NOTSET"));
  FailureOr<int64_t> ceilMode = hasCeilMode ? n.intAttr("ceil_mode", 0) : FailureOr<int64_t>(0);
  if (failed(strides) || failed(dilations) || failed(autoPad) || failed(ceilMode))
    return failure();
  w.strides = *strides;
  w.dilations = *dilations;
  w.ceilMode = *ceilMode != 0;
  for (size_t i = 0; i < spatial; ++i)
    if (w.kernel[i] < 1 || w.kernel[i] > kMaxWindowSize)
      return n.error() << "kernel size " << w.kernel[i] << " is out of range (1 to "
                       << kMaxWindowSize << ")";
  if (*autoPad == "NOTSET") {
    FailureOr<SmallVector<int64_t>> pads = windowList(n, "pads", 2 * spatial, 0, 0);
    if (failed(pads))
      return failure();
    w.pads = *pads;
    return success();
  }
  if (n.attr("pads"))
    return n.error() << "attribute 'pads' cannot be combined with auto_pad=" << *autoPad;
  w.pads.assign(2 * spatial, 0);
  if (*autoPad == "VALID")
    return success();
  if (*autoPad != "SAME_UPPER" && *autoPad != "SAME_LOWER")
    return n.error() << "unsupported auto_pad value \"" << *autoPad
                     << "\" (expected NOTSET, SAME_UPPER, SAME_LOWER or VALID)";
  for (size_t i = 0; i < spatial; ++i) {
    int64_t in = inputShape[i + 2];
    int64_t extent = (w.kernel[i] - 1) * w.dilations[i] + 1;
    int64_t out = (in + w.strides[i] - 1) / w.strides[i];
    int64_t total = std::max<int64_t>(0, (out - 1) * w.strides[i] + extent - in);
    int64_t small = total / 2, large = total - small;
    w.pads[i] = *autoPad == "SAME_UPPER" ? small : large;
    w.pads[i + spatial] = *autoPad == "SAME_UPPER" ? large : small;
  }
  return success();
}

LogicalResult checkSpatialRank(NodeImporter &n, ArrayRef<int64_t> shape) {
  if (shape.size() < 3 || shape.size() > 5)
    return n.error() << "input must be N x C x D1 [x D2 [x D3]] (1 to 3 spatial dims), got shape "
                     << shapeString(shape);
  return success();
}

LogicalResult importConv(NodeImporter &n) {
  if (failed(n.require(0, "X")) || failed(n.require(1, "W")))
    return failure();
  ArrayRef<int64_t> xShape = n.shapeOf(0), wShape = n.shapeOf(1);
  if (failed(checkSpatialRank(n, xShape)))
    return failure();
  if (wShape.size() != xShape.size())
    return n.error() << "weight rank " << wShape.size() << " differs from input rank "
                     << xShape.size();
  WindowAttrs w;
  w.kernel.assign(wShape.begin() + 2, wShape.end());
  FailureOr<std::optional<SmallVector<int64_t>>> kernelAttr = n.intsAttr("kernel_shape");
  FailureOr<int64_t> group = n.intAttr("group", 1);
  if (failed(kernelAttr) || failed(group))
    return failure();
  if (*kernelAttr && ArrayRef<int64_t>(**kernelAttr) != ArrayRef<int64_t>(w.kernel))
    return n.error() << "attribute 'kernel_shape' does not match the weight's spatial dims "
                     << shapeString(w.kernel);
  if (*group < 1)
    return n.error() << "attribute 'group' must be >= 1, got " << *group;
  if (failed(windowAttrs(n, xShape, w, /*hasDilations=*/true, /*hasCeilMode=*/false)))
    return failure();
  std::string message;
  if (failed(rules::conv(xShape, wShape, w.strides, w.pads, w.dilations, *group, message)))
    return n.shapeError(message);
  if (n.hasInput(2) && n.shapeOf(2) != ArrayRef<int64_t>{wShape[0]})
    return n.error() << "bias must have shape " << wShape[0] << ", got "
                     << shapeString(n.shapeOf(2));
  FailureOr<Value> x = n.value(0);
  FailureOr<Value> weight = failed(x) ? FailureOr<Value>(failure()) : n.value(1);
  FailureOr<Value> bias = failed(weight)  ? FailureOr<Value>(failure())
                          : n.hasInput(2) ? n.value(2)
                                          : FailureOr<Value>(Value());
  if (failed(bias))
    return failure();
  FailureOr<Value> result = n.createOrFold<mpc::ConvOp>(
      n.inferred(), *x, *weight, *bias, ArrayRef<int64_t>(w.strides), ArrayRef<int64_t>(w.pads),
      ArrayRef<int64_t>(w.dilations), uint64_t(*group), TypeAttr());
  if (failed(result))
    return failure();
  return n.setOutput(0, *result);
}

/// MaxPool and AveragePool share everything but their op and attributes.
FailureOr<WindowAttrs> poolAttrs(NodeImporter &n, bool hasDilations) {
  if (failed(n.require(0, "X")) || failed(checkSpatialRank(n, n.shapeOf(0))))
    return failure();
  ArrayRef<int64_t> xShape = n.shapeOf(0);
  WindowAttrs w;
  FailureOr<std::optional<SmallVector<int64_t>>> kernel = n.intsAttr("kernel_shape");
  if (failed(kernel))
    return failure();
  if (!*kernel)
    return n.error() << "missing required attribute 'kernel_shape'";
  if ((*kernel)->size() != xShape.size() - 2 ||
      llvm::any_of(**kernel, [](int64_t k) { return k < 1; }))
    return n.error() << "attribute 'kernel_shape' must hold " << xShape.size() - 2
                     << " positive sizes";
  w.kernel = **kernel;
  if (failed(windowAttrs(n, xShape, w, hasDilations, /*hasCeilMode=*/true)))
    return failure();
  std::string message;
  if (failed(rules::pool(xShape, w.kernel, w.strides, w.pads, w.dilations, w.ceilMode, message)))
    return n.shapeError(message);
  return w;
}

LogicalResult importMaxPool(NodeImporter &n) {
  if (failed(n.rejectUsedOutputs(1, "Indices")))
    return failure();
  FailureOr<WindowAttrs> w = poolAttrs(n, /*hasDilations=*/true);
  FailureOr<Value> x = failed(w) ? FailureOr<Value>(failure()) : n.value(0);
  if (failed(x))
    return failure();
  FailureOr<Value> result = n.createOrFold<mpc::MaxPoolOp>(
      n.inferred(), *x, ArrayRef<int64_t>(w->kernel), ArrayRef<int64_t>(w->strides),
      ArrayRef<int64_t>(w->pads), ArrayRef<int64_t>(w->dilations), w->ceilMode);
  if (failed(result))
    return failure();
  return n.setOutput(0, *result);
}

LogicalResult importAveragePool(NodeImporter &n) {
  FailureOr<WindowAttrs> w = poolAttrs(n, /*hasDilations=*/n.opset() >= 19);
  FailureOr<int64_t> countIncludePad =
      failed(w) ? FailureOr<int64_t>(failure()) : n.intAttr("count_include_pad", 0);
  if (failed(countIncludePad))
    return failure();
  if (llvm::any_of(w->dilations, [](int64_t d) { return d != 1; }))
    return n.error() << "dilated average pooling is not supported (attribute 'dilations' must be "
                        "all 1)";
  FailureOr<Value> x = n.value(0);
  if (failed(x))
    return failure();
  FailureOr<Value> result = n.createOrFold<mpc::AvgPoolOp>(
      n.inferred(), *x, ArrayRef<int64_t>(w->kernel), ArrayRef<int64_t>(w->strides),
      ArrayRef<int64_t>(w->pads), *countIncludePad != 0, w->ceilMode, TypeAttr());
  if (failed(result))
    return failure();
  return n.setOutput(0, *result);
}

/// GlobalAveragePool / GlobalMaxPool: a keepdims reduction over the spatial
/// dims.
template <typename OpTy> LogicalResult importGlobalPool(NodeImporter &n) {
  if (failed(n.require(0, "X")))
    return failure();
  int64_t rank = n.rankOf(0);
  if (rank < 3)
    return n.error() << "input must be N x C x D1 ..., got shape " << shapeString(n.shapeOf(0));
  SmallVector<int64_t> axes;
  for (int64_t i = 2; i < rank; ++i)
    axes.push_back(i);
  std::string message;
  if (failed(rules::reduce(n.shapeOf(0), axes, true, message)))
    return n.shapeError(message);
  FailureOr<Value> x = n.value(0);
  if (failed(x))
    return failure();
  FailureOr<Value> result = n.createOrFold<OpTy>(n.inferred(), *x, ArrayRef<int64_t>(axes), true, TypeAttr());
  if (failed(result))
    return failure();
  return n.setOutput(0, *result);
}

template <typename OpTy> LogicalResult importSoftmax(NodeImporter &n) {
  FailureOr<int64_t> axisAttr = n.intAttr("axis", -1);
  if (failed(axisAttr) || failed(n.require(0, "input")))
    return failure();
  FailureOr<int64_t> axis = n.normalizeAxis(*axisAttr, n.rankOf(0), "axis");
  FailureOr<Value> x = failed(axis) ? FailureOr<Value>(failure()) : n.value(0);
  if (failed(x))
    return failure();
  FailureOr<Value> result = n.createOrFold<OpTy>(x->getType(), *x, uint64_t(*axis), TypeAttr());
  if (failed(result))
    return failure();
  return n.setOutput(0, *result);
}

/// LayerNormalization's optional outputs, computed beside mpc.layer_norm in
/// the stash type (f32): Mean and 1/sqrt(Var + epsilon) over the normalized
/// dims, which stay as size-1 dims.
LogicalResult importLayerNormStatistics(NodeImporter &n, Value x, int64_t axis, double epsilon) {
  FailureOr<int64_t> stash = n.intAttr("stash_type", kFloat);
  if (failed(stash))
    return failure();
  if (*stash != kFloat)
    return n.error() << "stash_type " << dtypeName(int32_t(*stash))
                     << " is not supported for the Mean/InvStdDev outputs (only float)";
  int64_t rank = cast<RankedTensorType>(x.getType()).getRank();
  SmallVector<int64_t> axes;
  for (int64_t d = axis; d < rank; ++d)
    axes.push_back(d);
  auto mean = [&](Value v) {
    return n.createOrFold<mpc::ReduceMeanOp>(n.inferred(), v, ArrayRef<int64_t>(axes), true,
                                             TypeAttr());
  };
  Type f32 = n.builder().getF32Type();
  FailureOr<Value> wide = n.castTo(x, f32);
  FailureOr<Value> mu = failed(wide) ? wide : mean(*wide);
  if (failed(mu) || failed(n.setOutput(1, *mu)))
    return failure();
  if (n.numOutputs() < 3)
    return success();
  FailureOr<Value> centered = n.createOrFold<mpc::SubOp>(n.inferred(), *wide, *mu);
  if (failed(centered))
    return failure();
  FailureOr<Value> variance = n.createOrFold<mpc::MulOp>(n.inferred(), *centered, *centered);
  if (succeeded(variance))
    variance = mean(*variance);
  FailureOr<Value> eps = failed(variance) ? variance : n.scalar(f32, epsilon);
  if (failed(eps))
    return failure();
  FailureOr<Value> inverse = n.createOrFold<mpc::AddOp>(n.inferred(), *variance, *eps);
  if (succeeded(inverse))
    inverse = n.createOrFold<mpc::SqrtOp>(inverse->getType(), *inverse);
  if (succeeded(inverse))
    inverse = n.createOrFold<mpc::ReciprocalOp>(inverse->getType(), *inverse);
  if (failed(inverse))
    return failure();
  return n.setOutput(2, *inverse);
}

LogicalResult importLayerNormalization(NodeImporter &n) {
  FailureOr<int64_t> axisAttr = n.intAttr("axis", -1);
  FailureOr<double> epsilon = n.floatAttr("epsilon", 1e-5);
  if (failed(axisAttr) || failed(epsilon) || failed(n.require(0, "X")) ||
      failed(n.require(1, "Scale")))
    return failure();
  FailureOr<int64_t> axis = n.normalizeAxis(*axisAttr, n.rankOf(0), "axis");
  if (failed(axis))
    return failure();
  ArrayRef<int64_t> normalized = n.shapeOf(0).drop_front(*axis);
  for (size_t i : {1, 2})
    if (n.hasInput(i) && !rules::broadcastsTo(n.shapeOf(i), normalized))
      return n.error() << (i == 1 ? "Scale" : "B") << " of shape " << shapeString(n.shapeOf(i))
                       << " does not broadcast to the normalized dims " << shapeString(normalized);
  FailureOr<Value> x = n.value(0);
  FailureOr<Value> scale = failed(x) ? FailureOr<Value>(failure()) : n.value(1);
  FailureOr<Value> bias = failed(scale)   ? FailureOr<Value>(failure())
                          : n.hasInput(2) ? n.value(2)
                                          : FailureOr<Value>(Value());
  if (failed(bias))
    return failure();
  FailureOr<Value> result = n.createOrFold<mpc::LayerNormOp>(
      n.inferred(), *x, *scale, *bias, uint64_t(*axis), APFloat(*epsilon), TypeAttr());
  if (failed(result) || failed(n.setOutput(0, *result)))
    return failure();
  if (!n.outputUsed(1) && !n.outputUsed(2))
    return success();
  return importLayerNormStatistics(n, *x, *axis, *epsilon);
}

LogicalResult importBatchNormalization(NodeImporter &n) {
  FailureOr<double> epsilon = n.floatAttr("epsilon", 1e-5);
  FailureOr<double> momentum = n.floatAttr("momentum", 0.9);
  FailureOr<int64_t> training =
      n.opset() >= 14 ? n.intAttr("training_mode", 0) : FailureOr<int64_t>(0);
  if (failed(epsilon) || failed(momentum) || failed(training))
    return failure();
  if (*training)
    return n.error() << "training_mode=1 is not supported yet; export the model in eval mode";
  if (failed(n.rejectUsedOutputs(1, "running statistics (training only)")))
    return failure();
  static const char *const names[] = {"X", "scale", "B", "input_mean", "input_var"};
  for (size_t i = 0; i < 5; ++i)
    if (failed(n.require(i, names[i])))
      return failure();
  if (n.rankOf(0) < 2)
    return n.error() << "X must be N x C x ..., got shape " << shapeString(n.shapeOf(0));
  int64_t channels = n.shapeOf(0)[1];
  for (size_t i = 1; i < 5; ++i)
    if (n.shapeOf(i) != ArrayRef<int64_t>{channels})
      return n.error() << names[i] << " must have shape " << channels
                       << " (the channel count), got " << shapeString(n.shapeOf(i));
  SmallVector<Value> operands;
  for (size_t i = 0; i < 5; ++i) {
    FailureOr<Value> v = n.value(i);
    if (failed(v))
      return failure();
    operands.push_back(*v);
  }
  FailureOr<Value> result = n.createOrFold<mpc::BatchNormOp>(n.inferred(), operands[0], operands[1], operands[2], operands[3],
                                 operands[4], APFloat(*epsilon), APFloat(*momentum), TypeAttr());
  if (failed(result))
    return failure();
  return n.setOutput(0, *result);
}

/// ReduceSum takes its axes as an input since opset 13, the other Reduce*
/// ops since opset 18 (an attribute before).
/// Float sums and products of constants are evaluated on the host (in
/// double; see HostReduce): their folders leave them to run time.
template <typename OpTy> std::optional<HostReduce> hostReduceKind() {
  if (std::is_same_v<OpTy, mpc::ReduceSumOp>)
    return HostReduce::Sum;
  if (std::is_same_v<OpTy, mpc::ReduceMeanOp>)
    return HostReduce::Mean;
  if (std::is_same_v<OpTy, mpc::ReduceProdOp>)
    return HostReduce::Prod;
  return std::nullopt;
}

template <typename OpTy> LogicalResult importReduce(NodeImporter &n) {
  FailureOr<ReduceSpec> spec =
      readReduceSpec(n, std::is_same_v<OpTy, mpc::ReduceSumOp> || n.opset() >= 18);
  if (failed(spec))
    return failure();
  if (spec->axes.empty())
    return n.aliasOutput(0, 0);
  std::optional<HostReduce> onHost = hostReduceKind<OpTy>();
  int64_t count = checkedNumElements(n.shapeOf(0));
  if (onHost && n.isConstant(0) && isFloatDType(n.dtypeOf(0)) && count >= 0 &&
      count <= kMaxHostElements)
    return n.setOutput(0, hostReduce(*onHost, n.host(0), spec->axes, spec->keepdims));
  if (n.dtypeOf(0) == kBool)
    return n.error() << "data has element type bool, which is not supported by the reductions; "
                        "cast it to int32 in the model";
  FailureOr<Value> x = n.value(0);
  if (failed(x))
    return failure();
  FailureOr<Value> result = n.createOrFold<OpTy>(n.inferred(), *x, ArrayRef<int64_t>(spec->axes), spec->keepdims, TypeAttr());
  if (failed(result))
    return failure();
  return n.setOutput(0, *result);
}

const char *kReduce = "axes: attribute before opset 18, compile-time input from 18; keepdims, "
                      "noop_with_empty_axes (18+)";
const char *kReduceFloat = "axes: attribute before opset 18, compile-time input from 18; keepdims, "
                           "noop_with_empty_axes (18+); a float constant is evaluated at import "
                           "(in double)";
const char *kReduceSum = "axes: compile-time input; keepdims, noop_with_empty_axes; a float "
                         "constant is evaluated at import (in double)";

const OpImportInfo kTable[] = {
    {"AveragePool", 13, kMaxOpset, importAveragePool, "mpc.avg_pool",
     "auto_pad, ceil_mode, count_include_pad; dilations must be 1"},
    {"BatchNormalization", 13, kMaxOpset, importBatchNormalization, "mpc.batch_norm",
     "inference only: training_mode=1 or used statistics outputs are errors"},
    {"Conv", 13, kMaxOpset, importConv, "mpc.conv",
     "1-D/2-D/3-D, groups, dilations, auto_pad NOTSET/SAME_UPPER/SAME_LOWER/VALID"},
    {"Gemm", 13, kMaxOpset, importGemm, "mpc.matmul (+ mpc.transpose, mpc.mul, mpc.add)",
     "transA/transB become transposes; alpha/beta != 1 become multiplies"},
    {"GlobalAveragePool", 13, kMaxOpset, importGlobalPool<mpc::ReduceMeanOp>, "mpc.reduce_mean",
     "over the spatial dims, keepdims"},
    {"GlobalMaxPool", 13, kMaxOpset, importGlobalPool<mpc::ReduceMaxOp>, "mpc.reduce_max",
     "over the spatial dims, keepdims"},
    {"LayerNormalization", 17, kMaxOpset, importLayerNormalization, "mpc.layer_norm",
     "Mean/InvStdDev outputs (stash_type float) are computed beside it by reductions"},
    {"LogSoftmax", 13, kMaxOpset, importSoftmax<mpc::LogSoftmaxOp>, "mpc.log_softmax",
     "single axis"},
    {"MatMul", 13, kMaxOpset, importMatMul, "mpc.matmul",
     "numpy semantics: 1-D operands are reshaped around the matmul"},
    {"MaxPool", 13, kMaxOpset, importMaxPool, "mpc.max_pool",
     "auto_pad, ceil_mode, dilations; the Indices output must be unused"},
    {"ReduceMax", 13, kMaxOpset, importReduce<mpc::ReduceMaxOp>, "mpc.reduce_max",
     kReduce},
    {"ReduceMean", 13, kMaxOpset, importReduce<mpc::ReduceMeanOp>,
     "mpc.reduce_mean", kReduceFloat},
    {"ReduceMin", 13, kMaxOpset, importReduce<mpc::ReduceMinOp>, "mpc.reduce_min",
     kReduce},
    {"ReduceProd", 13, kMaxOpset, importReduce<mpc::ReduceProdOp>,
     "mpc.reduce_prod", kReduceFloat},
    {"ReduceSum", 13, kMaxOpset, importReduce<mpc::ReduceSumOp>, "mpc.reduce_sum",
     kReduceSum},
    {"Softmax", 13, kMaxOpset, importSoftmax<mpc::SoftmaxOp>, "mpc.softmax",
     "single axis (opset 13 semantics)"},
};
} // namespace

FailureOr<ReduceSpec> mpc::importer::readReduceSpec(NodeImporter &n, bool axesInput) {
  if (failed(n.require(0, "data")))
    return failure();
  FailureOr<int64_t> keepdims = n.intAttr("keepdims", 1);
  FailureOr<int64_t> noop =
      axesInput ? n.intAttr("noop_with_empty_axes", 0) : FailureOr<int64_t>(0);
  if (failed(keepdims) || failed(noop))
    return failure();
  SmallVector<int64_t> axes;
  if (axesInput) {
    if (n.attr("axes"))
      return n.error() << "takes its axes as an input at opset " << n.opset()
                       << ", not as an attribute";
    if (n.hasInput(1)) {
      FailureOr<SmallVector<int64_t>> given = n.hostInts(1, "axes");
      if (failed(given))
        return failure();
      axes = *given;
    }
  } else {
    if (n.hasInput(1))
      return n.error() << "takes its axes as an attribute at opset " << n.opset()
                       << " (as an input only from opset 18)";
    FailureOr<std::optional<SmallVector<int64_t>>> given = n.intsAttr("axes");
    if (failed(given))
      return failure();
    if (*given)
      axes = **given;
  }
  int64_t rank = n.rankOf(0);
  ReduceSpec spec;
  spec.keepdims = *keepdims != 0;
  if (axes.empty()) {
    if (*noop)
      return spec;
    for (int64_t i = 0; i < rank; ++i)
      axes.push_back(i);
  }
  FailureOr<SmallVector<int64_t>> normalized = n.normalizeAxes(axes, rank, "axes");
  if (failed(normalized) || normalized->empty())
    return failed(normalized) ? FailureOr<ReduceSpec>(failure()) : FailureOr<ReduceSpec>(spec);
  std::string message;
  if (failed(rules::reduce(n.shapeOf(0), *normalized, spec.keepdims, message)))
    return n.shapeError(message);
  spec.axes = std::move(*normalized);
  return spec;
}

ArrayRef<OpImportInfo> mpc::importer::nnOpTable() { return kTable; }
