//===- ImportResize.cpp - Resize and ConvTranspose ------------------------===//
//
// Resize is separable: each resized axis is a gather at host-computed
// source indices (nearest) or two (linear) or four (cubic) gathers blended
// with host-computed weights, so it lowers and differentiates like any
// gather.
// ConvTranspose is the input gradient of the convolution whose weight it
// holds, so it becomes mpc.conv_grad_input with the conv's attributes.
//
//===----------------------------------------------------------------------===//
#include "Building.h"

#include <array>
#include <cmath>

using namespace mlir;
using namespace mpc::importer;

namespace {
LogicalResult setResult(NodeImporter &n, FailureOr<Value> value) {
  if (failed(value))
    return failure();
  return n.setOutput(0, *value);
}

//===----------------------------------------------------------------------===//
// Resize
//===----------------------------------------------------------------------===//

struct ResizeAttrs {
  std::string mode, transform, nearestMode;
  double cubicA = -0.75;
  bool excludeOutside = false;
};

/// One resized axis: where output position `o` reads in the input.
struct AxisPlan {
  int64_t in, out;
  double scale;
};

/// The input coordinate of output position `x` (ONNX's
/// coordinate_transformation_mode).
double sourceCoordinate(const ResizeAttrs &a, const AxisPlan &p, double x) {
  // ONNX takes the resized length as scale * in, unrounded, even where the
  // output has floor() of it.
  double length = p.scale * double(p.in);
  if (a.transform == "asymmetric")
    return x / p.scale;
  if (a.transform == "align_corners")
    return length == 1 ? 0.0 : x * double(p.in - 1) / (length - 1);
  if (a.transform == "pytorch_half_pixel" && length <= 1)
    return 0.0;
  if (a.transform == "half_pixel_symmetric") {
    double adjustment = double(p.out) / (p.scale * double(p.in));
    double offset = double(p.in) / 2 * (1 - adjustment);
    return offset + (x + 0.5) / p.scale - 0.5;
  }
  return (x + 0.5) / p.scale - 0.5;
}

int64_t nearestIndex(const std::string &mode, double x) {
  double lower = std::floor(x);
  if (mode == "floor")
    return int64_t(lower);
  if (mode == "ceil")
    return int64_t(std::ceil(x));
  if (x - lower == 0.5)
    return int64_t(mode == "round_prefer_ceil" ? lower + 1 : lower);
  return int64_t(std::round(x));
}

int64_t clampIndex(int64_t i, int64_t size) { return std::min(std::max<int64_t>(i, 0), size - 1); }

FailureOr<Value> gatherAxis(NodeImporter &n, Value x, ArrayRef<int64_t> indices, int64_t axis) {
  FailureOr<Value> idx = hostConstant(
      n, HostTensor::fromInts(indices, {int64_t(indices.size())}));
  if (failed(idx))
    return failure();
  return n.createOrFold<mpc::GatherOp>(n.inferred(), x, *idx, uint64_t(axis));
}

/// What each output position reads along one axis: tap t is input index
/// idx[t][o] with weight w[t][o] (nearest: one tap, no weight).
struct Taps {
  SmallVector<SmallVector<int64_t>> idx;
  SmallVector<SmallVector<double>> w;
};

/// sum over taps of x[idx_t] * w_t along `axis`, each weight vector
/// broadcast over the other dims.
FailureOr<Value> blend(NodeImporter &n, Value x, const Taps &taps, int64_t axis) {
  auto type = cast<RankedTensorType>(x.getType());
  SmallVector<int64_t> weightShape(type.getRank(), 1);
  weightShape[axis] = int64_t(taps.idx[0].size());
  int32_t dtype = dtypeFor(type.getElementType());
  FailureOr<Value> sum = Value();
  for (size_t t = 0; t < taps.idx.size() && succeeded(sum); ++t) {
    FailureOr<Value> g = gatherAxis(n, x, taps.idx[t], axis);
    FailureOr<Value> w =
        failed(g) ? g : hostConstant(n, HostTensor::fromDoubles(taps.w[t], weightShape, dtype));
    FailureOr<Value> term =
        failed(w) ? w : n.createOrFold<mpc::MulOp>(n.inferred(), *g, *w);
    sum = failed(term) || !*sum ? term : n.createOrFold<mpc::AddOp>(n.inferred(), *sum, *term);
  }
  return sum;
}

/// Keys' cubic convolution weights of the four neighbours at offsets -1..2
/// from the left one, `ratio` in (0, 1] past it.
std::array<double, 4> cubicWeights(double ratio, double a) {
  auto far = [a](double d) { return ((a * d - 5 * a) * d + 8 * a) * d - 4 * a; };
  auto near = [a](double d) { return ((a + 2) * d - (a + 3)) * d * d + 1; };
  return {far(ratio + 1), near(ratio), near(1 - ratio), far(2 - ratio)};
}

/// The four cubic taps of `src`: ONNX counts an integral coordinate as
/// ratio 1 past the index before it; neighbours outside the input read the
/// edge, or (exclude_outside) get weight 0 and the rest are renormalized.
void addCubicTaps(const ResizeAttrs &a, const AxisPlan &p, double src, Taps &taps) {
  double ratio = src == std::floor(src) ? 1.0 : src - std::floor(src);
  int64_t left = int64_t(src - ratio);
  std::array<double, 4> w = cubicWeights(ratio, a.cubicA);
  double total = 0;
  for (int64_t t = 0; t < 4; ++t) {
    int64_t i = left - 1 + t;
    if (a.excludeOutside && (i < 0 || i >= p.in))
      w[t] = 0;
    total += w[t];
  }
  for (int64_t t = 0; t < 4; ++t) {
    taps.idx[t].push_back(clampIndex(left - 1 + t, p.in));
    taps.w[t].push_back(a.excludeOutside ? w[t] / total : w[t]);
  }
}

FailureOr<Value> resizeAxis(NodeImporter &n, const ResizeAttrs &a, const AxisPlan &p, Value x,
                            int64_t axis) {
  size_t count = a.mode == "nearest" ? 1 : a.mode == "linear" ? 2 : 4;
  Taps taps{SmallVector<SmallVector<int64_t>>(count), SmallVector<SmallVector<double>>(count)};
  for (int64_t o = 0; o < p.out; ++o) {
    double src = sourceCoordinate(a, p, double(o));
    if (a.mode == "nearest") {
      taps.idx[0].push_back(clampIndex(nearestIndex(a.nearestMode, src), p.in));
    } else if (a.mode == "linear") {
      double lower = std::floor(src);
      taps.idx[0].push_back(clampIndex(int64_t(lower), p.in));
      taps.idx[1].push_back(clampIndex(int64_t(lower) + 1, p.in));
      taps.w[0].push_back(1 - (src - lower));
      taps.w[1].push_back(src - lower);
    } else {
      addCubicTaps(a, p, src, taps);
    }
  }
  if (a.mode == "nearest")
    return gatherAxis(n, x, taps.idx[0], axis);
  return blend(n, x, taps, axis);
}

LogicalResult checkResizeAttrs(NodeImporter &n, const ResizeAttrs &a) {
  if (a.mode != "nearest" && a.mode != "linear" && a.mode != "cubic")
    return n.error() << "unsupported mode \"" << a.mode << "\" (nearest, linear and cubic are)";
  static const char *transforms[] = {"half_pixel", "half_pixel_symmetric", "pytorch_half_pixel",
                                     "align_corners", "asymmetric"};
  if (!llvm::is_contained(transforms, a.transform))
    return n.error() << "unsupported coordinate_transformation_mode \"" << a.transform << "\"";
  static const char *nearestModes[] = {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"};
  if (!llvm::is_contained(nearestModes, a.nearestMode))
    return n.error() << "unsupported nearest_mode \"" << a.nearestMode << "\"";
  return success();
}

/// The axes Resize's scales/sizes refer to (attribute `axes`, opset 18+).
FailureOr<SmallVector<int64_t>> resizeAxes(NodeImporter &n, int64_t rank) {
  FailureOr<std::optional<SmallVector<int64_t>>> given =
      n.opset() >= 18 ? n.intsAttr("axes")
                      : FailureOr<std::optional<SmallVector<int64_t>>>(std::nullopt);
  if (failed(given))
    return failure();
  if (!*given)
    return llvm::to_vector(llvm::seq<int64_t>(0, rank));
  SmallVector<int64_t> axes;
  for (int64_t axis : **given) {
    FailureOr<int64_t> a = n.normalizeAxis(axis, rank, "axes");
    if (failed(a))
      return failure();
    axes.push_back(*a);
  }
  return axes;
}

/// Scale and output size of every axis, from the constant scales or sizes.
FailureOr<SmallVector<AxisPlan>> resizePlan(NodeImporter &n, ArrayRef<int64_t> axes) {
  ArrayRef<int64_t> in = n.shapeOf(0);
  SmallVector<AxisPlan> plan;
  for (int64_t d : in)
    plan.push_back({d, d, 1.0});
  bool hasSizes = n.hasInput(3) && checkedNumElements(n.shapeOf(3)) > 0;
  bool hasScales = n.hasInput(2) && checkedNumElements(n.shapeOf(2)) > 0;
  if (hasSizes == hasScales)
    return n.error() << "exactly one of 'scales' and 'sizes' must be given";
  FailureOr<HostTensor> given = n.hostValues(hasSizes ? 3 : 2, hasSizes ? "sizes" : "scales");
  if (failed(given))
    return failure();
  const HostTensor &values = *given;
  if (size_t(values.size()) != axes.size())
    return n.error() << (hasSizes ? "'sizes'" : "'scales'") << " has " << values.size()
                     << " entries for " << axes.size() << " axes";
  FailureOr<std::string> policy = n.opset() >= 18 ? n.stringAttr("keep_aspect_ratio_policy",
                                                                 std::string("stretch"))
                                                  : FailureOr<std::string>(std::string("stretch"));
  if (failed(policy))
    return failure();
  if (*policy != "stretch" && *policy != "not_larger" && *policy != "not_smaller")
    return n.error() << "unsupported keep_aspect_ratio_policy \"" << *policy << "\"";
  std::optional<double> common;
  for (auto [i, axis] : llvm::enumerate(axes)) {
    double v = values.getDouble(int64_t(i));
    if (!(v > 0) || !std::isfinite(v) || v > double(kMaxResizedDim))
      return n.error() << "scales and sizes must be positive, got " << v;
    double ratio = v / double(plan[axis].in);
    if (hasSizes && *policy != "stretch")
      common = !common                   ? ratio
               : *policy == "not_larger" ? std::min(*common, ratio)
                                         : std::max(*common, ratio);
  }
  for (auto [i, axis] : llvm::enumerate(axes)) {
    AxisPlan &p = plan[axis];
    double v = values.getDouble(int64_t(i));
    // Sizes under a keep-aspect policy: one scale for every axis, and the
    // sizes it gives rounded half up.
    p.scale = common ? *common : hasSizes ? v / double(p.in) : v;
    double out = common     ? std::floor(*common * double(p.in) + 0.5)
                 : hasSizes ? v
                            : std::floor(double(p.in) * v);
    if (!(out >= 1) || out > double(kMaxResizedDim))
      return n.error() << "resized dim " << axis << " would have " << out << " elements";
    p.out = int64_t(out);
  }
  return plan;
}

LogicalResult importResize(NodeImporter &n) {
  ResizeAttrs a;
  FailureOr<std::string> mode = n.stringAttr("mode", std::string("nearest"));
  FailureOr<std::string> transform =
      n.stringAttr("coordinate_transformation_mode", std::string("half_pixel"));
  FailureOr<std::string> nearestMode = n.stringAttr("nearest_mode", std::string("round_prefer_floor"));
  FailureOr<int64_t> antialias = n.opset() >= 18 ? n.intAttr("antialias", 0) : FailureOr<int64_t>(0);
  if (failed(mode) || failed(transform) || failed(nearestMode) || failed(antialias) ||
      failed(n.require(0, "X")))
    return failure();
  FailureOr<double> cubicA = n.floatAttr("cubic_coeff_a", -0.75);
  FailureOr<int64_t> excludeOutside = n.intAttr("exclude_outside", 0);
  if (failed(cubicA) || failed(excludeOutside))
    return failure();
  a = {*mode, *transform, *nearestMode, *cubicA, *excludeOutside != 0};
  if (failed(checkResizeAttrs(n, a)))
    return failure();
  FailureOr<SmallVector<int64_t>> axes = resizeAxes(n, n.rankOf(0));
  FailureOr<SmallVector<AxisPlan>> plan = failed(axes) ? FailureOr<SmallVector<AxisPlan>>(failure())
                                                       : resizePlan(n, *axes);
  if (failed(plan))
    return failure();
  bool downsamples = llvm::any_of(*plan, [](const AxisPlan &p) { return p.out < p.in; });
  if (*antialias && a.mode != "nearest" && downsamples)
    return n.error() << "antialias=1 is not supported when downsampling";
  FailureOr<Value> x = n.value(0);
  if (failed(x))
    return failure();
  if (a.mode != "nearest" && !isa<FloatType>(getElementTypeOrSelf(x->getType())))
    return n.error() << a.mode << " mode needs float data";
  for (auto [axis, p] : llvm::enumerate(*plan)) {
    if (p.in == p.out && p.scale == 1.0)
      continue;
    x = resizeAxis(n, a, p, *x, int64_t(axis));
    if (failed(x))
      return failure();
  }
  return setResult(n, *x);
}

//===----------------------------------------------------------------------===//
// ConvTranspose
//===----------------------------------------------------------------------===//

struct TransposeAttrs {
  SmallVector<int64_t> strides, dilations, outputPadding, pads, kernel;
};

/// The output size ConvTranspose gives without pads.
int64_t unpaddedSize(const TransposeAttrs &t, int64_t in, size_t i) {
  return t.strides[i] * (in - 1) + t.outputPadding[i] + (t.kernel[i] - 1) * t.dilations[i] + 1;
}

/// Pads from auto_pad or output_shape, split as ONNX does (the odd one at
/// the end for SAME_UPPER, at the start otherwise).
LogicalResult derivePads(NodeImporter &n, TransposeAttrs &t, ArrayRef<int64_t> in,
                         StringRef autoPad, std::optional<SmallVector<int64_t>> outputShape) {
  size_t spatial = in.size();
  t.pads.assign(2 * spatial, 0);
  for (size_t i = 0; i < spatial; ++i) {
    int64_t out = outputShape ? (*outputShape)[i] : in[i] * t.strides[i];
    int64_t total = unpaddedSize(t, in[i], i) - out;
    int64_t half = total >= 0 ? total / 2 : -((-total + 1) / 2); // floor division
    t.pads[i] = autoPad == "SAME_UPPER" ? half : total - half;
    t.pads[i + spatial] = total - t.pads[i];
    // A larger output than the input gives grows at the end, like
    // output_padding (which the conv it inverts ignores).
    if (t.pads[i + spatial] < 0) {
      t.outputPadding[i] -= t.pads[i + spatial];
      t.pads[i + spatial] = 0;
    }
    if (t.pads[i] < 0 || t.outputPadding[i] >= t.strides[i])
      return n.error() << "output size " << out << " is out of reach for input size " << in[i]
                       << " (at most " << unpaddedSize(t, in[i], i) - t.outputPadding[i] +
                                              t.strides[i] - 1
                       << ")";
  }
  return success();
}

LogicalResult transposeAttrs(NodeImporter &n, TransposeAttrs &t, ArrayRef<int64_t> in) {
  size_t spatial = in.size();
  FailureOr<SmallVector<int64_t>> strides = windowList(n, "strides", spatial, 1, 1);
  FailureOr<SmallVector<int64_t>> dilations = windowList(n, "dilations", spatial, 1, 1);
  FailureOr<SmallVector<int64_t>> outputPadding = windowList(n, "output_padding", spatial, 0, 0);
  FailureOr<std::string> autoPad = n.stringAttr("auto_pad", std::string("NOTSET"));
  FailureOr<std::optional<SmallVector<int64_t>>> outputShape = n.intsAttr("output_shape");
  if (failed(strides) || failed(dilations) || failed(outputPadding) || failed(autoPad) ||
      failed(outputShape))
    return failure();
  t.strides = *strides;
  t.dilations = *dilations;
  t.outputPadding = *outputPadding;
  for (size_t i = 0; i < spatial; ++i)
    if (in[i] > kMaxTensorElements / t.strides[i])
      return n.error() << "spatial dim " << i << " of " << in[i] << " is too large";
  for (size_t i = 0; i < spatial; ++i)
    if (t.outputPadding[i] >= t.strides[i])
      return n.error() << "output_padding " << t.outputPadding[i]
                       << " must be smaller than the stride " << t.strides[i];
  std::optional<SmallVector<int64_t>> shape = *outputShape;
  if (shape && shape->size() > spatial)
    shape->erase(shape->begin(), shape->end() - spatial);
  if (shape && shape->size() != spatial)
    return n.error() << "attribute 'output_shape' must have " << spatial << " entries";
  if (*autoPad != "NOTSET" && *autoPad != "SAME_UPPER" && *autoPad != "SAME_LOWER" &&
      *autoPad != "VALID")
    return n.error() << "unsupported auto_pad value \"" << *autoPad << "\"";
  if (shape || *autoPad == "SAME_UPPER" || *autoPad == "SAME_LOWER") {
    if (n.attr("pads"))
      return n.error() << "attribute 'pads' cannot be combined with auto_pad or output_shape";
    return derivePads(n, t, in, *autoPad, shape);
  }
  FailureOr<SmallVector<int64_t>> pads = windowList(n, "pads", 2 * spatial, 0, 0);
  if (failed(pads))
    return failure();
  t.pads = *pads;
  return success();
}

FailureOr<Value> addChannelBias(NodeImporter &n, Value y) {
  int64_t rank = cast<RankedTensorType>(y.getType()).getRank();
  SmallVector<int64_t> shape(rank - 1, 1);
  shape[0] = n.shapeOf(2)[0];
  FailureOr<Value> b = n.value(2);
  FailureOr<Value> r = failed(b) ? b : n.reshape(*b, shape);
  return failed(r) ? r : n.createOrFold<mpc::AddOp>(n.inferred(), y, *r);
}

LogicalResult importConvTranspose(NodeImporter &n) {
  if (failed(n.require(0, "X")) || failed(n.require(1, "W")))
    return failure();
  ArrayRef<int64_t> x = n.shapeOf(0), w = n.shapeOf(1);
  if (x.size() < 3 || x.size() > 5 || w.size() != x.size())
    return n.error() << "input must be N x C x D1 [x D2 [x D3]] with a weight of the same rank, "
                     << "got " << shapeString(x) << " and " << shapeString(w);
  FailureOr<int64_t> group = n.intAttr("group", 1);
  if (failed(group))
    return failure();
  if (*group < 1 || x[1] != w[0] || w[0] % *group != 0)
    return n.error() << "weight " << shapeString(w) << " does not fit input channels " << x[1]
                     << " in " << *group << " groups";
  TransposeAttrs t;
  t.kernel.assign(w.begin() + 2, w.end());
  if (failed(transposeAttrs(n, t, x.drop_front(2))))
    return failure();

  SmallVector<int64_t> out{x[0], w[1] * *group};
  for (size_t i = 0; i + 2 < x.size(); ++i) {
    int64_t size = unpaddedSize(t, x[i + 2], i) - t.pads[i] - t.pads[i + x.size() - 2];
    if (size < 1)
      return n.error() << "spatial dim " << i << " of the result would be " << size;
    out.push_back(size);
  }
  if (n.hasInput(2) && n.shapeOf(2) != ArrayRef<int64_t>{out[1]})
    return n.error() << "bias must have shape " << out[1] << ", got " << shapeString(n.shapeOf(2));
  FailureOr<Value> input = n.value(0);
  FailureOr<Value> weight = failed(input) ? input : n.value(1);
  if (failed(weight))
    return failure();
  auto type = RankedTensorType::get(out, getElementTypeOrSelf(input->getType()));
  FailureOr<Value> y = n.createOrFold<mpc::ConvGradInputOp>(
      type, *input, *weight, ArrayRef<int64_t>(t.strides), ArrayRef<int64_t>(t.pads),
      ArrayRef<int64_t>(t.dilations), uint64_t(*group), TypeAttr());
  if (succeeded(y) && n.hasInput(2))
    y = addChannelBias(n, *y);
  return setResult(n, y);
}

const OpImportInfo kTable[] = {
    {"ConvTranspose", 13, kMaxOpset, importConvTranspose, "mpc.conv_grad_input (+ mpc.add)",
     "1-D/2-D/3-D, groups, strides, dilations, output_padding, output_shape, auto_pad"},
    {"Resize", 13, kMaxOpset, importResize, "mpc.gather (+ mpc.mul, mpc.add)",
     "nearest (every nearest_mode), linear and cubic (cubic_coeff_a, exclude_outside); "
     "half_pixel, half_pixel_symmetric, "
     "pytorch_half_pixel, align_corners, asymmetric; scales or sizes constant; axes; "
     "keep_aspect_ratio_policy; antialias only when upsampling"},
};
} // namespace

ArrayRef<OpImportInfo> mpc::importer::resizeOpTable() { return kTable; }
