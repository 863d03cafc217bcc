//===- ImportShape.cpp - shape, data-movement and constant ops ------------===//
//
// These ops make up the shape chains exporters write. Each becomes an mpc
// data-movement op with static attributes, which folds when its data is a
// constant; Shape, Size, Range and the constants themselves are made on the
// host.
//
//===----------------------------------------------------------------------===//
#include "Building.h"
#include "Importer.h"

using namespace mlir;
using namespace mpc::importer;

namespace {
/// Data (input 0) reshaped to `shape`.
LogicalResult reshapeOutput(NodeImporter &n, ArrayRef<int64_t> shape) {
  std::string message;
  if (failed(rules::reshape(n.shapeOf(0), shape, message)))
    return n.shapeError(message);
  FailureOr<Value> x = n.value(0);
  FailureOr<Value> result = failed(x) ? FailureOr<Value>(failure()) : n.reshape(*x, shape);
  if (failed(result))
    return failure();
  return n.setOutput(0, *result);
}

LogicalResult importReshape(NodeImporter &n) {
  FailureOr<int64_t> allowZero =
      n.opset() >= 14 ? n.intAttr("allowzero", 0) : FailureOr<int64_t>(0);
  if (failed(allowZero) || failed(n.require(0, "data")))
    return failure();
  FailureOr<SmallVector<int64_t>> requested = n.hostInts(1, "shape");
  if (failed(requested))
    return failure();
  ArrayRef<int64_t> in = n.shapeOf(0);
  SmallVector<int64_t> shape;
  std::optional<size_t> inferred;
  for (auto [i, d] : llvm::enumerate(*requested)) {
    if (d == 0 && !*allowZero) {
      if (i >= in.size())
        return n.error() << "shape[" << i << "] is 0 (copy the input dim) but the input "
                         << shapeString(in) << " has only " << in.size() << " dims";
      d = in[i];
    } else if (d == -1) {
      if (inferred)
        return n.error() << "shape " << shapeString(*requested) << " has more than one -1";
      inferred = i;
      d = 1;
    } else if (d < 0) {
      return n.error() << "shape[" << i << "] is " << d << "; only -1 may be negative";
    }
    shape.push_back(d);
  }
  if (inferred) {
    if (*allowZero && llvm::is_contained(*requested, 0))
      return n.error() << "with allowzero=1 the shape cannot hold both 0 and -1";
    int64_t known = checkedNumElements(shape), total = checkedNumElements(in);
    if (known <= 0 || total < 0 || total % known != 0)
      return n.error() << "cannot reshape " << shapeString(in) << " to " << shapeString(*requested)
                       << ": the -1 dim cannot be inferred";
    shape[*inferred] = total / known;
  }
  return reshapeOutput(n, shape);
}

LogicalResult importFlatten(NodeImporter &n) {
  FailureOr<int64_t> axisAttr = n.intAttr("axis", 1);
  if (failed(axisAttr) || failed(n.require(0, "input")))
    return failure();
  ArrayRef<int64_t> in = n.shapeOf(0);
  FailureOr<int64_t> axis = n.normalizeAxis(*axisAttr, int64_t(in.size()), "axis", true);
  if (failed(axis))
    return failure();
  int64_t shape[] = {checkedNumElements(in.take_front(*axis)),
                     checkedNumElements(in.drop_front(*axis))};
  return reshapeOutput(n, shape);
}

LogicalResult importTranspose(NodeImporter &n) {
  if (failed(n.require(0, "data")))
    return failure();
  FailureOr<std::optional<SmallVector<int64_t>>> given = n.intsAttr("perm");
  if (failed(given))
    return failure();
  int64_t rank = n.rankOf(0);
  SmallVector<int64_t> perm;
  if (*given)
    perm = **given;
  else
    for (int64_t i = rank - 1; i >= 0; --i)
      perm.push_back(i);
  std::string message;
  FailureOr<Shape> shape = rules::transpose(n.shapeOf(0), perm, message);
  if (failed(shape))
    return n.shapeError(message);
  SmallVector<int64_t> sorted(perm);
  llvm::sort(sorted);
  for (int64_t i = 0; i < rank; ++i)
    if (sorted[i] != i)
      return n.error() << "attribute 'perm' is not a permutation of 0.." << rank - 1;
  if (llvm::equal(perm, llvm::seq<int64_t>(0, rank)))
    return n.aliasOutput(0, 0);
  FailureOr<Value> x = n.value(0);
  FailureOr<Value> result = failed(x) ? FailureOr<Value>(failure())
                                      : n.createOrFold<mpc::TransposeOp>(
                                            n.inferred(), *x, ArrayRef<int64_t>(perm));
  if (failed(result))
    return failure();
  return n.setOutput(0, *result);
}

LogicalResult importConcat(NodeImporter &n) {
  FailureOr<int64_t> axisAttr = n.intAttr("axis", std::nullopt);
  if (failed(axisAttr))
    return failure();
  if (n.numInputs() == 0)
    return n.error() << "needs at least one input";
  SmallVector<ArrayRef<int64_t>> shapes;
  for (size_t i = 0; i < n.numInputs(); ++i) {
    if (failed(n.require(i, "input")))
      return failure();
    shapes.push_back(n.shapeOf(i));
  }
  FailureOr<int64_t> axis = n.normalizeAxis(*axisAttr, int64_t(shapes[0].size()), "axis");
  if (failed(axis))
    return failure();
  std::string message;
  FailureOr<Shape> shape = rules::concat(shapes, *axis, message);
  if (failed(shape))
    return n.shapeError(message);
  for (size_t i = 1; i < n.numInputs(); ++i)
    if (n.dtypeOf(i) != n.dtypeOf(0))
      return n.error() << "inputs have different element types (" << dtypeName(n.dtypeOf(0))
                       << " and " << dtypeName(n.dtypeOf(i)) << ")";
  if (n.numInputs() == 1)
    return n.aliasOutput(0, 0);
  SmallVector<Value> values;
  for (size_t i = 0; i < n.numInputs(); ++i) {
    FailureOr<Value> v = n.value(i);
    if (failed(v))
      return failure();
    values.push_back(*v);
  }
  FailureOr<Value> result = n.createOrFold<mpc::ConcatOp>(n.inferred(), values, uint64_t(*axis));
  if (failed(result))
    return failure();
  return n.setOutput(0, *result);
}

/// Data (input 0) restricted to a strided window.
FailureOr<Value> sliceValue(NodeImporter &n, Value x, ArrayRef<int64_t> offsets,
                            ArrayRef<int64_t> sizes, ArrayRef<int64_t> strides) {
  return n.createOrFold<mpc::SliceOp>(n.inferred(), x, offsets, sizes, strides);
}

LogicalResult sliceOutput(NodeImporter &n, size_t output, ArrayRef<int64_t> offsets,
                          ArrayRef<int64_t> sizes, ArrayRef<int64_t> strides) {
  std::string message;
  if (failed(rules::slice(n.shapeOf(0), offsets, sizes, strides, message)))
    return n.shapeError(message);
  if (sizes == n.shapeOf(0) && llvm::all_of(strides, [](int64_t s) { return s == 1; }))
    return n.aliasOutput(output, 0);
  FailureOr<Value> x = n.value(0);
  FailureOr<Value> result =
      failed(x) ? FailureOr<Value>(failure()) : sliceValue(n, *x, offsets, sizes, strides);
  if (failed(result))
    return failure();
  return n.setOutput(output, *result);
}

/// ONNX Slice semantics: negative starts/ends count from the end, then
/// clamp (differently for negative steps); the count rounds up.
LogicalResult importSlice(NodeImporter &n) {
  if (failed(n.require(0, "data")))
    return failure();
  FailureOr<SmallVector<int64_t>> starts = n.hostInts(1, "starts");
  FailureOr<SmallVector<int64_t>> ends =
      failed(starts) ? FailureOr<SmallVector<int64_t>>(failure()) : n.hostInts(2, "ends");
  if (failed(ends))
    return failure();
  ArrayRef<int64_t> in = n.shapeOf(0);
  int64_t rank = int64_t(in.size());
  SmallVector<int64_t> axes, steps(starts->size(), 1);
  if (n.hasInput(3)) {
    FailureOr<SmallVector<int64_t>> given = n.hostInts(3, "axes");
    if (failed(given))
      return failure();
    axes = *given;
  } else {
    for (size_t i = 0; i < starts->size(); ++i)
      axes.push_back(int64_t(i));
  }
  if (n.hasInput(4)) {
    FailureOr<SmallVector<int64_t>> given = n.hostInts(4, "steps");
    if (failed(given))
      return failure();
    steps = *given;
  }
  if (ends->size() != starts->size() || axes.size() != starts->size() ||
      steps.size() != starts->size())
    return n.error() << "starts, ends, axes and steps must have the same length (got "
                     << starts->size() << ", " << ends->size() << ", " << axes.size() << ", "
                     << steps.size() << ")";
  SmallVector<int64_t> offsets(rank, 0), sizes(in), strides(rank, 1);
  SmallVector<bool> seen(rank, false);
  for (size_t k = 0; k < axes.size(); ++k) {
    FailureOr<int64_t> axis = n.normalizeAxis(axes[k], rank, "axis");
    if (failed(axis))
      return failure();
    if (seen[*axis])
      return n.error() << "axes repeat axis " << *axis;
    seen[*axis] = true;
    int64_t d = in[*axis], step = steps[k];
    if (step == 0)
      return n.error() << "steps must not be 0";
    int64_t start = (*starts)[k], end = (*ends)[k];
    if (start < 0)
      start += d;
    if (end < 0)
      end += d;
    int64_t count = 0;
    if (d > 0 && step > 0) {
      start = std::clamp<int64_t>(start, 0, d);
      end = std::clamp<int64_t>(end, 0, d);
      step = std::min(step, d);
      count = end > start ? (end - start + step - 1) / step : 0;
    } else if (d > 0) {
      start = std::clamp<int64_t>(start, 0, d - 1);
      end = std::clamp<int64_t>(end, -1, d - 1);
      step = std::max(step, -d);
      count = start > end ? (start - end - step - 1) / -step : 0;
    }
    offsets[*axis] = count ? start : 0;
    sizes[*axis] = count;
    strides[*axis] = count ? step : 1;
  }
  return sliceOutput(n, 0, offsets, sizes, strides);
}

/// Split into slices along `axis`: sizes from the `split` input, from
/// num_outputs (opset 18+, the last chunk smaller), or equal parts.
LogicalResult importSplit(NodeImporter &n) {
  FailureOr<int64_t> axisAttr = n.intAttr("axis", 0);
  if (failed(axisAttr) || failed(n.require(0, "input")))
    return failure();
  ArrayRef<int64_t> in = n.shapeOf(0);
  FailureOr<int64_t> axis = n.normalizeAxis(*axisAttr, int64_t(in.size()), "axis");
  if (failed(axis))
    return failure();
  int64_t d = in[*axis], outputs = int64_t(n.numOutputs());
  if (outputs == 0)
    return success();
  SmallVector<int64_t> parts;
  if (n.hasInput(1)) {
    FailureOr<SmallVector<int64_t>> split = n.hostInts(1, "split");
    if (failed(split))
      return failure();
    parts = *split;
  } else {
    FailureOr<int64_t> numOutputs =
        n.opset() >= 18 ? n.intAttr("num_outputs", outputs) : FailureOr<int64_t>(outputs);
    if (failed(numOutputs))
      return failure();
    if (*numOutputs != outputs)
      return n.error() << "attribute 'num_outputs' is " << *numOutputs << " but the node has "
                       << outputs << " outputs";
    bool uneven = n.opset() >= 18 && n.attr("num_outputs");
    if (!uneven && d % outputs != 0)
      return n.error() << "cannot split dim " << d << " into " << outputs << " equal parts";
    int64_t chunk = (d + outputs - 1) / outputs;
    for (int64_t i = 0; i < outputs; ++i)
      parts.push_back(std::clamp<int64_t>(d - i * chunk, 0, chunk));
  }
  if (int64_t(parts.size()) != outputs)
    return n.error() << "split has " << parts.size() << " entries but the node has " << outputs
                     << " outputs";
  int64_t offset = 0;
  for (int64_t p : parts) {
    if (p < 0 || p > d - offset)
      return n.error() << "split sizes must be non-negative and sum to " << d << " (dim " << *axis
                       << ")";
    offset += p;
  }
  if (offset != d)
    return n.error() << "split sizes sum to " << offset << ", expected " << d;
  int64_t rank = int64_t(in.size());
  SmallVector<int64_t> offsets(rank, 0), sizes(in), strides(rank, 1);
  for (int64_t i = 0, start = 0; i < outputs; start += parts[i], ++i) {
    if (!n.outputUsed(size_t(i)))
      continue;
    offsets[*axis] = parts[i] ? start : 0;
    sizes[*axis] = parts[i];
    if (failed(sliceOutput(n, size_t(i), offsets, sizes, strides)))
      return failure();
  }
  return success();
}

/// Squeeze/Unsqueeze take axes as an input since opset 13.
FailureOr<SmallVector<int64_t>> optionalAxes(NodeImporter &n) {
  if (n.attr("axes"))
    return n.error() << "takes its axes as an input at opset " << n.opset()
                     << ", not as an attribute";
  if (!n.hasInput(1))
    return SmallVector<int64_t>();
  return n.hostInts(1, "axes");
}

LogicalResult importSqueeze(NodeImporter &n) {
  if (failed(n.require(0, "data")))
    return failure();
  FailureOr<SmallVector<int64_t>> given = optionalAxes(n);
  if (failed(given))
    return failure();
  ArrayRef<int64_t> in = n.shapeOf(0);
  SmallVector<int64_t> axes;
  if (given->empty()) {
    for (auto [i, d] : llvm::enumerate(in))
      if (d == 1)
        axes.push_back(int64_t(i));
  } else {
    FailureOr<SmallVector<int64_t>> normalized =
        n.normalizeAxes(*given, int64_t(in.size()), "axes");
    if (failed(normalized))
      return failure();
    axes = *normalized;
  }
  SmallVector<int64_t> shape;
  for (auto [i, d] : llvm::enumerate(in)) {
    if (!llvm::is_contained(axes, int64_t(i))) {
      shape.push_back(d);
      continue;
    }
    if (d != 1)
      return n.error() << "cannot squeeze dim " << i << " of size " << d << " (shape "
                       << shapeString(in) << ")";
  }
  return reshapeOutput(n, shape);
}

LogicalResult importUnsqueeze(NodeImporter &n) {
  if (failed(n.require(0, "data")) || failed(n.require(1, "axes")))
    return failure();
  FailureOr<SmallVector<int64_t>> given = optionalAxes(n);
  if (failed(given))
    return failure();
  ArrayRef<int64_t> in = n.shapeOf(0);
  int64_t outRank = int64_t(in.size() + given->size());
  FailureOr<SmallVector<int64_t>> axes = n.normalizeAxes(*given, outRank, "axes");
  if (failed(axes))
    return failure();
  SmallVector<int64_t> shape;
  for (int64_t i = 0, next = 0; i < outRank; ++i)
    shape.push_back(llvm::is_contained(*axes, i) ? 1 : in[next++]);
  return reshapeOutput(n, shape);
}

LogicalResult importGather(NodeImporter &n) {
  FailureOr<int64_t> axisAttr = n.intAttr("axis", 0);
  if (failed(axisAttr) || failed(n.require(0, "data")) || failed(n.require(1, "indices")))
    return failure();
  ArrayRef<int64_t> dataShape = n.shapeOf(0);
  if (dataShape.empty())
    return n.error() << "data must have rank >= 1";
  FailureOr<int64_t> axis = n.normalizeAxis(*axisAttr, int64_t(dataShape.size()), "axis");
  if (failed(axis))
    return failure();
  if (n.dtypeOf(1) != kInt64 && n.dtypeOf(1) != kInt32)
    return n.error() << "indices must be int32 or int64, got " << dtypeName(n.dtypeOf(1));
  std::string message;
  FailureOr<Shape> shape = rules::gather(dataShape, n.shapeOf(1), *axis, message);
  if (failed(shape))
    return n.shapeError(message);
  std::optional<HostTensor> indices;
  if (n.isConstant(1)) {
    // Constant indices are checked and made non-negative here, so folding
    // and the op see only in-range values.
    indices = n.host(1);
    int64_t d = dataShape[*axis];
    for (int64_t &i : indices->ints) {
      if (i < -d || i >= d)
        return n.error() << "index " << i << " is out of range for dim " << *axis << " of size "
                         << d;
      if (i < 0)
        i += d;
    }
  }
  FailureOr<Value> data = n.value(0);
  FailureOr<Value> index = failed(data) ? FailureOr<Value>(failure())
                           : indices    ? n.graph.makeConstant(*indices, n.loc(), n.name())
                                        : n.value(1);
  FailureOr<Value> result =
      failed(index) ? FailureOr<Value>(failure())
                    : n.createOrFold<mpc::GatherOp>(n.inferred(), *data, *index, uint64_t(*axis));
  if (failed(result))
    return failure();
  return n.setOutput(0, *result);
}

LogicalResult importExpand(NodeImporter &n) {
  if (failed(n.require(0, "input")))
    return failure();
  FailureOr<SmallVector<int64_t>> requested = n.hostInts(1, "shape");
  if (failed(requested))
    return failure();
  if (llvm::any_of(*requested, [](int64_t d) { return d < 0; }))
    return n.error() << "shape " << shapeString(*requested) << " has a negative dim";
  std::string message;
  FailureOr<Shape> shape = rules::broadcast(n.shapeOf(0), *requested, message);
  if (failed(shape))
    return n.shapeError(message);
  if (checkedNumElements(*shape) < 0)
    return n.error() << "the result shape " << shapeString(*shape) << " is too large";
  if (n.shapeOf(0) == ArrayRef<int64_t>(*shape))
    return n.aliasOutput(0, 0);
  FailureOr<Value> x = n.value(0);
  FailureOr<Value> result = failed(x) ? FailureOr<Value>(failure())
                                      : n.createOrFold<mpc::BroadcastOp>(
                                            n.inferred(), *x, ArrayRef<int64_t>(*shape));
  if (failed(result))
    return failure();
  return n.setOutput(0, *result);
}

/// Shapes are static, so Shape and Size of any value are host constants.
LogicalResult importShape(NodeImporter &n) {
  if (failed(n.require(0, "data")))
    return failure();
  ArrayRef<int64_t> in = n.shapeOf(0);
  int64_t rank = int64_t(in.size());
  FailureOr<int64_t> start = n.opset() >= 15 ? n.intAttr("start", 0) : FailureOr<int64_t>(0);
  FailureOr<int64_t> end = n.opset() >= 15 ? n.intAttr("end", rank) : FailureOr<int64_t>(rank);
  if (failed(start) || failed(end))
    return failure();
  auto clampDim = [rank](int64_t v) { return std::clamp<int64_t>(v < 0 ? v + rank : v, 0, rank); };
  int64_t lo = clampDim(*start), hi = std::max(lo, clampDim(*end));
  SmallVector<int64_t> dims(in.begin() + lo, in.begin() + hi);
  return n.setOutput(0, HostTensor::fromInts(dims, {int64_t(dims.size())}));
}

LogicalResult importSize(NodeImporter &n) {
  if (failed(n.require(0, "data")))
    return failure();
  return n.setOutput(0, HostTensor::fromInts({checkedNumElements(n.shapeOf(0))}, {}));
}

/// The one value attribute of a Constant node.
LogicalResult importConstant(NodeImporter &n) {
  static const char *const kinds[] = {"value",         "value_float", "value_floats",
                                      "value_int",     "value_ints",  "value_string",
                                      "value_strings", "sparse_value"};
  const char *kind = nullptr;
  for (const char *k : kinds) {
    if (!n.attr(k))
      continue;
    if (kind)
      return n.error() << "has both '" << kind << "' and '" << k << "'; exactly one is allowed";
    kind = k;
  }
  if (!kind)
    return n.error() << "has no value attribute";
  StringRef which(kind);
  if (which == "value") {
    const onnx::AttributeProto *a = n.attr("value");
    if (a->type() != onnx::AttributeProto::TENSOR && !a->has_t())
      return n.error() << "attribute 'value' must be a tensor";
    FailureOr<HostTensor> t = n.tensorAttr(*a);
    if (failed(t))
      return failure();
    return n.setOutput(0, std::move(*t));
  }
  if (which == "value_float") {
    FailureOr<double> v = n.floatAttr("value_float", std::nullopt);
    return failed(v) ? failure() : n.setOutput(0, HostTensor::fromDoubles({*v}, {}, kFloat));
  }
  if (which == "value_int") {
    FailureOr<int64_t> v = n.intAttr("value_int", std::nullopt);
    return failed(v) ? failure() : n.setOutput(0, HostTensor::fromInts({*v}, {}));
  }
  if (which == "value_ints") {
    FailureOr<std::optional<SmallVector<int64_t>>> v = n.intsAttr("value_ints");
    if (failed(v))
      return failure();
    return n.setOutput(0, HostTensor::fromInts(**v, {int64_t((*v)->size())}));
  }
  if (which == "value_floats") {
    const onnx::AttributeProto *a = n.attr("value_floats");
    if (a->type() != onnx::AttributeProto::FLOATS && a->type() != onnx::AttributeProto::UNDEFINED)
      return n.error() << "attribute 'value_floats' must be a list of floats";
    SmallVector<double> values(a->floats().begin(), a->floats().end());
    return n.setOutput(0, HostTensor::fromDoubles(values, {int64_t(values.size())}, kFloat));
  }
  return n.error() << "attribute '" << which << "' is not supported (string and sparse "
                   << "constants cannot be imported)";
}

/// Results too large to fold become a splat constant.
LogicalResult importConstantOfShape(NodeImporter &n) {
  FailureOr<SmallVector<int64_t>> shape = n.hostInts(0, "shape");
  if (failed(shape))
    return failure();
  if (checkedNumElements(*shape) < 0)
    return n.error() << "shape " << shapeString(*shape) << " is invalid or too large";
  HostTensor value = HostTensor::fromDoubles({0.0}, {}, kFloat);
  if (const onnx::AttributeProto *a = n.attr("value")) {
    if (a->type() != onnx::AttributeProto::TENSOR && !a->has_t())
      return n.error() << "attribute 'value' must be a tensor";
    FailureOr<HostTensor> t = n.tensorAttr(*a);
    if (failed(t))
      return failure();
    if (t->size() != 1)
      return n.error() << "attribute 'value' must hold exactly one element, got " << t->size();
    value = std::move(*t);
    value.shape.clear();
  }
  if (checkedNumElements(*shape) <= kMaxHostElements)
    return n.setOutput(0, HostTensor::splat(value, *shape));
  FailureOr<Value> splat = n.graph.makeSplat(value, *shape, n.loc(), n.name());
  if (failed(splat))
    return failure();
  return n.setOutput(0, *splat);
}

/// Positive pads in constant mode: splat constants concatenated along each
/// padded axis.
FailureOr<Value> padWithConstant(NodeImporter &n, Value value, SmallVector<int64_t> current,
                                 ArrayRef<int64_t> before, ArrayRef<int64_t> after) {
  double padValue = 0.0;
  if (n.hasInput(2)) {
    FailureOr<double> v = n.hostScalar(2, "constant_value");
    if (failed(v))
      return failure();
    padValue = *v;
  }
  int32_t dtype = n.dtypeOf(0);
  HostTensor fill = isFloatDType(dtype) ? HostTensor::fromDoubles({padValue}, {}, dtype)
                                        : HostTensor::fromInts({int64_t(padValue)}, {}, dtype);
  for (size_t d = 0; d < current.size(); ++d) {
    int64_t lo = std::max<int64_t>(0, before[d]), hi = std::max<int64_t>(0, after[d]);
    if (!lo && !hi)
      continue;
    SmallVector<int64_t> loShape(current), hiShape(current);
    loShape[d] = lo;
    hiShape[d] = hi;
    current[d] += lo + hi;
    FailureOr<Value> loPad = lo ? n.graph.makeSplat(fill, loShape, n.loc(), n.name()) : Value();
    FailureOr<Value> hiPad = !hi ? Value()
                             : hiShape == loShape
                                 ? loPad
                                 : n.graph.makeSplat(fill, hiShape, n.loc(), n.name());
    if (failed(loPad) || failed(hiPad))
      return failure();
    SmallVector<Value> parts;
    for (Value part : {*loPad, value, *hiPad})
      if (part)
        parts.push_back(part);
    FailureOr<Value> padded = n.createOrFold<mpc::ConcatOp>(n.inferred(), parts, uint64_t(d));
    if (failed(padded))
      return failure();
    value = *padded;
  }
  return value;
}

/// Which element of an axis of `size` the padded position `p` (counted from
/// the axis' first element, negative in the leading pad) reads: the border
/// element (edge), the mirror image that does not repeat the border (reflect,
/// as numpy's; pads longer than the axis reflect again), or p modulo size (wrap).
int64_t paddedSource(StringRef mode, int64_t p, int64_t size) {
  if (mode == "edge")
    return std::clamp<int64_t>(p, 0, size - 1);
  if (mode == "wrap")
    return (p % size + size) % size;
  if (size == 1)
    return 0;
  int64_t period = 2 * (size - 1), q = (p % period + period) % period;
  return q < size ? q : period - q;
}

/// Positive pads in edge, reflect and wrap modes: one mpc.gather per padded
/// axis reading the source index of every output position, so the gradient is
/// gather's (a scatter-add that sums the reused elements).
FailureOr<Value> padWithIndices(NodeImporter &n, StringRef mode, Value value,
                                ArrayRef<int64_t> current, ArrayRef<int64_t> before,
                                ArrayRef<int64_t> after) {
  for (size_t d = 0; d < current.size(); ++d) {
    int64_t lo = std::max<int64_t>(0, before[d]), hi = std::max<int64_t>(0, after[d]);
    if (!lo && !hi)
      continue;
    if (current[d] == 0)
      return n.error() << "cannot pad axis " << d << " in mode \"" << mode
                       << "\": it has no elements (after cropping)";
    if (current[d] + lo + hi > kMaxHostElements)
      return n.error() << "padding axis " << d << " to " << current[d] + lo + hi
                       << " elements in mode \"" << mode << "\" is not supported (at most "
                       << kMaxHostElements << ")";
    SmallVector<int64_t> indices;
    for (int64_t p = -lo; p < current[d] + hi; ++p)
      indices.push_back(paddedSource(mode, p, current[d]));
    FailureOr<Value> idx =
        hostConstant(n, HostTensor::fromInts(indices, {int64_t(indices.size())}));
    FailureOr<Value> padded =
        failed(idx) ? idx : n.createOrFold<mpc::GatherOp>(n.inferred(), value, *idx, uint64_t(d));
    if (failed(padded))
      return failure();
    value = *padded;
  }
  return value;
}

/// The pad mode, checked against the opset (wrap is new in 19).
FailureOr<std::string> padMode(NodeImporter &n) {
  FailureOr<std::string> mode = n.stringAttr("mode", std::string("constant"));
  if (failed(mode))
    return failure();
  if (*mode == "wrap" && n.opset() < 19)
    return n.error() << "mode \"wrap\" needs opset 19, the model's is " << n.opset();
  if (*mode != "constant" && *mode != "edge" && *mode != "reflect" && *mode != "wrap")
    return n.error() << "mode \"" << *mode
                     << "\" is not supported; use constant, edge, reflect or wrap";
  return mode;
}

/// Pad: negative pads crop first (mpc.slice), then the positive pads are
/// added around what is left, in every mode.
LogicalResult importPad(NodeImporter &n) {
  FailureOr<std::string> mode = padMode(n);
  if (failed(mode) || failed(n.require(0, "data")))
    return failure();
  FailureOr<SmallVector<int64_t>> pads = n.hostInts(1, "pads");
  if (failed(pads))
    return failure();
  ArrayRef<int64_t> in = n.shapeOf(0);
  int64_t rank = int64_t(in.size());
  SmallVector<int64_t> axes;
  if (n.opset() >= 18 && n.hasInput(3)) {
    FailureOr<SmallVector<int64_t>> given = n.hostInts(3, "axes");
    if (failed(given))
      return failure();
    SmallVector<bool> seen(rank, false);
    for (int64_t a : *given) {
      FailureOr<int64_t> axis = n.normalizeAxis(a, rank, "axis");
      if (failed(axis))
        return failure();
      if (seen[*axis])
        return n.error() << "axes repeat axis " << *axis;
      seen[*axis] = true;
      axes.push_back(*axis);
    }
  } else {
    for (int64_t i = 0; i < rank; ++i)
      axes.push_back(i);
  }
  if (pads->size() != 2 * axes.size())
    return n.error() << "pads has " << pads->size() << " entries, expected " << 2 * axes.size();
  SmallVector<int64_t> before(rank, 0), after(rank, 0), outShape(in);
  for (auto [i, axis] : llvm::enumerate(axes)) {
    before[axis] = (*pads)[i];
    after[axis] = (*pads)[i + axes.size()];
    if (std::abs(before[axis]) > kMaxTensorElements || std::abs(after[axis]) > kMaxTensorElements)
      return n.error() << "pad " << before[axis] << "/" << after[axis] << " is too large";
    outShape[axis] = in[axis] + before[axis] + after[axis];
    if (in[axis] + std::min<int64_t>(0, before[axis]) + std::min<int64_t>(0, after[axis]) < 0)
      return n.error() << "pads crop more than dim " << axis << " of size " << in[axis];
  }
  if (checkedNumElements(outShape) < 0)
    return n.error() << "the padded shape " << shapeString(outShape) << " is too large";
  // Crop first: the window of the input that survives negative pads.
  SmallVector<int64_t> offsets(rank, 0), sizes(in), strides(rank, 1);
  for (int64_t d = 0; d < rank; ++d) {
    offsets[d] = std::max<int64_t>(0, -before[d]);
    sizes[d] = in[d] + std::min<int64_t>(0, before[d]) + std::min<int64_t>(0, after[d]);
    if (sizes[d] == 0)
      offsets[d] = 0;
  }
  FailureOr<Value> x = n.value(0);
  if (succeeded(x) && sizes != in)
    x = sliceValue(n, *x, offsets, sizes, strides);
  if (failed(x))
    return failure();
  FailureOr<Value> padded =
      *mode == "constant" ? padWithConstant(n, *x, sizes, before, after)
                          : padWithIndices(n, *mode, *x, sizes, before, after);
  if (failed(padded))
    return failure();
  return n.setOutput(0, *padded);
}

LogicalResult importRange(NodeImporter &n) {
  static const char *const names[] = {"start", "limit", "delta"};
  for (size_t i = 0; i < 3; ++i) {
    FailureOr<double> v = n.hostScalar(i, names[i]);
    if (failed(v))
      return failure();
    if (n.host(i).dtype != n.host(0).dtype)
      return n.error() << "start, limit and delta must have the same type";
  }
  const HostTensor &start = n.host(0), &limit = n.host(1), &delta = n.host(2);
  int64_t count = 0;
  if (start.isFloat()) {
    double s = start.floats[0], l = limit.floats[0], d = delta.floats[0];
    if (d == 0.0 || !std::isfinite(s) || !std::isfinite(l) || !std::isfinite(d))
      return n.error() << "start, limit and delta must be finite and delta non-zero";
    double c = std::ceil((l - s) / d);
    if (c > double(kMaxHostElements))
      return n.error() << "the range has more than " << kMaxHostElements << " elements";
    count = c > 0 ? int64_t(c) : 0;
    SmallVector<double> values;
    for (int64_t i = 0; i < count; ++i)
      values.push_back(s + double(i) * d);
    return n.setOutput(0, HostTensor::fromDoubles(values, {count}, start.dtype));
  }
  __int128 s = start.ints[0], l = limit.ints[0], d = delta.ints[0];
  if (d == 0)
    return n.error() << "delta must not be 0";
  __int128 span = l - s;
  __int128 c = d > 0 ? (span > 0 ? (span + d - 1) / d : 0) : (span < 0 ? (span + d + 1) / d : 0);
  if (c > kMaxHostElements)
    return n.error() << "the range has more than " << kMaxHostElements << " elements";
  count = int64_t(c);
  SmallVector<int64_t> values;
  for (int64_t i = 0; i < count; ++i)
    values.push_back(int64_t(s + i * d));
  return n.setOutput(0, HostTensor::fromInts(values, {count}, start.dtype));
}

/// Trilu keeps the upper (or lower) triangle of the last two dims and zeroes
/// the rest: a where over a host-built mask, which folds for the causal masks
/// exporters build from constants.
LogicalResult importTrilu(NodeImporter &n) {
  if (failed(n.require(0, "input")))
    return failure();
  FailureOr<int64_t> upper = n.intAttr("upper", 1);
  if (failed(upper))
    return failure();
  int64_t k = 0;
  if (n.hasInput(1)) {
    FailureOr<double> diagonal = n.hostScalar(1, "k");
    if (failed(diagonal))
      return failure();
    k = int64_t(*diagonal);
  }
  ArrayRef<int64_t> shape = n.shapeOf(0);
  if (shape.size() < 2)
    return n.error() << "input must have rank >= 2, got rank " << shape.size();
  int64_t rows = shape[shape.size() - 2], cols = shape.back();
  SmallVector<int64_t> keep;
  keep.reserve(rows * cols);
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j)
      keep.push_back(*upper ? j - i >= k : j - i <= k);
  HostTensor mask = HostTensor::fromInts(keep, {rows, cols}, kBool);
  FailureOr<Value> x = n.value(0);
  if (failed(x))
    return failure();
  FailureOr<Value> maskValue = n.graph.makeConstant(mask, n.loc(), n.name());
  FailureOr<Value> zeroValue = failed(maskValue)
                                   ? FailureOr<Value>(failure())
                                   : n.scalar(getElementTypeOrSelf(x->getType()), 0.0);
  FailureOr<Value> result =
      failed(zeroValue) ? FailureOr<Value>(failure())
                        : n.createOrFold<mpc::WhereOp>(n.inferred(), *maskValue, *x, *zeroValue);
  if (failed(result))
    return failure();
  return n.setOutput(0, *result);
}

LogicalResult importIdentity(NodeImporter &n) { return n.aliasOutput(0, 0); }

/// Inference-mode Dropout is the identity.
LogicalResult importDropout(NodeImporter &n) {
  if (n.hasInput(2)) {
    FailureOr<double> training = n.hostScalar(2, "training_mode");
    if (failed(training))
      return failure();
    if (*training != 0.0)
      return n.error() << "training_mode=true is not supported; export the model in eval mode";
  }
  if (failed(n.require(0, "data")) || failed(n.aliasOutput(0, 0)))
    return failure();
  if (!n.outputUsed(1))
    return success();
  // Nothing is dropped at inference: the mask is all true.
  FailureOr<Value> mask = n.graph.makeSplat(HostTensor::fromInts({1}, {}, kBool), n.shapeOf(0),
                                            n.loc(), n.name());
  return failed(mask) ? failure() : n.setOutput(1, *mask);
}

const char *kFoldsData = "folded when the data is a constant";

const OpImportInfo kTable[] = {
    {"Concat", 13, kMaxOpset, importConcat, "mpc.concat",
     "folded when all inputs are constants"},
    {"Constant", 13, kMaxOpset, importConstant, "host constant",
     "value, value_float(s), value_int(s); string and sparse values are errors"},
    {"ConstantOfShape", 13, kMaxOpset, importConstantOfShape, "host constant",
     "shape is compile-time; results over 4M elements become a splat arith.constant"},
    {"Dropout", 13, kMaxOpset, importDropout, "(identity)",
     "inference only (training_mode=true is an error); the mask output is all true"},
    {"Expand", 13, kMaxOpset, importExpand, "mpc.broadcast",
     "shape is compile-time; folded when the data is a constant"},
    {"Flatten", 13, kMaxOpset, importFlatten, "mpc.reshape", kFoldsData},
    {"Gather", 13, kMaxOpset, importGather, "mpc.gather",
     "constant indices are range-checked and made non-negative; folded when constant"},
    {"Identity", 13, kMaxOpset, importIdentity, "(identity)", ""},
    {"Pad", 13, kMaxOpset, importPad, "mpc.concat / mpc.gather / mpc.slice",
     "modes constant, edge, reflect and wrap (opset 19+), the last three as one mpc.gather per "
     "padded axis; pads, constant_value and axes (opset 18+) are compile-time; negative pads "
     "crop first; folded when constant"},
    {"Range", 13, 26, importRange, "host constant", "inputs are compile-time"},
    {"Reshape", 13, kMaxOpset, importReshape, "mpc.reshape",
     "shape is compile-time; 0 and -1, allowzero (opset 14+); folded when the data is a "
     "constant"},
    {"Shape", 13, kMaxOpset, importShape, "host constant", "start/end (opset 15+)"},
    {"Size", 13, kMaxOpset, importSize, "host constant", ""},
    {"Slice", 13, kMaxOpset, importSlice, "mpc.slice",
     "starts/ends/axes/steps are compile-time; negative and clamped indices, negative steps; "
     "folded when the data is a constant"},
    {"Split", 13, kMaxOpset, importSplit, "mpc.slice",
     "split input (compile-time) or num_outputs (opset 18+); folded when the data is a "
     "constant"},
    {"Squeeze", 13, kMaxOpset, importSqueeze, "mpc.reshape",
     "axes are compile-time; folded when the data is a constant"},
    {"Transpose", 13, kMaxOpset, importTranspose, "mpc.transpose",
     "default perm reverses the dims; folded when the data is a constant"},
    {"Trilu", 14, kMaxOpset, importTrilu, "mpc.where",
     "k is compile-time; folded when the input is a constant"},
    {"Unsqueeze", 13, kMaxOpset, importUnsqueeze, "mpc.reshape",
     "axes are compile-time; folded when the data is a constant"},
};
} // namespace

ArrayRef<OpImportInfo> mpc::importer::shapeOpTable() { return kTable; }
