//===- ImportStructural.cpp - Tile, DepthToSpace, Gather/Scatter, TopK ---===//
//
// Structural ops become reshapes, transposes, broadcasts and gathers, so
// they lower on every target and differentiate through rules mpc already
// has (a gather's gradient is a scatter-add). TopK has no sort: each
// element's rank is counted from pairwise comparisons, which is exact and
// breaks ties by the lower index as ONNX asks, at O(n^2) work per row.
//
//===----------------------------------------------------------------------===//
#include "Building.h"

#include "llvm/ADT/StringSwitch.h"

#include <limits>

using namespace mlir;
using namespace mpc::importer;

SmallVector<int64_t> mpc::importer::stridesOf(ArrayRef<int64_t> shape) {
  SmallVector<int64_t> strides(shape.size(), 1);
  for (int64_t d = int64_t(shape.size()) - 2; d >= 0; --d)
    strides[d] = strides[d + 1] * shape[d + 1];
  return strides;
}

FailureOr<Value> mpc::importer::transposed(NodeImporter &n, Value x, ArrayRef<int64_t> perm) {
  bool identity = llvm::all_of(llvm::enumerate(perm), [](auto p) {
    return int64_t(p.index()) == p.value();
  });
  if (identity)
    return x;
  return n.createOrFold<mpc::TransposeOp>(n.inferred(), x, perm);
}

FailureOr<Value> mpc::importer::hostConstant(NodeImporter &n, const HostTensor &host) {
  return n.graph.makeConstant(host, n.loc(), n.name());
}

/// The linear position of every element of `indexShape` in `dataShape`,
/// leaving out `axis` (the part the indices supply).
static HostTensor basePositions(ArrayRef<int64_t> dataShape, ArrayRef<int64_t> indexShape,
                                int64_t axis) {
  SmallVector<int64_t> dataStrides = stridesOf(dataShape);
  SmallVector<int64_t> indexStrides = stridesOf(indexShape);
  int64_t count = checkedNumElements(indexShape);
  std::vector<int64_t> base(count, 0);
  for (int64_t i = 0; i < count; ++i)
    for (size_t d = 0; d < indexShape.size(); ++d)
      if (int64_t(d) != axis)
        base[i] += (i / indexStrides[d]) % indexShape[d] * dataStrides[d];
  return HostTensor::fromInts(base, indexShape);
}

/// Where each element of `indices` points into `data` flattened.
static FailureOr<Value> linearPositions(NodeImporter &n, RankedTensorType dataType, Value indices,
                                        int64_t axis) {
  auto indexType = cast<RankedTensorType>(indices.getType());
  int64_t stride = stridesOf(dataType.getShape())[axis];
  FailureOr<Value> base =
      hostConstant(n, basePositions(dataType.getShape(), indexType.getShape(), axis));
  FailureOr<Value> scaled = indices;
  if (succeeded(base) && stride != 1) {
    FailureOr<Value> factor = n.scalar(indexType.getElementType(), double(stride));
    scaled = failed(factor) ? factor : n.createOrFold<mpc::MulOp>(n.inferred(), indices, *factor);
  }
  if (failed(base) || failed(scaled))
    return failure();
  return n.createOrFold<mpc::AddOp>(n.inferred(), *scaled, *base);
}

FailureOr<Value> mpc::importer::gatherElements(NodeImporter &n, Value data, Value indices,
                                               int64_t axis) {
  auto dataType = cast<RankedTensorType>(data.getType());
  FailureOr<Value> linear = linearPositions(n, dataType, indices, axis);
  FailureOr<Value> flat =
      failed(linear) ? linear : n.reshape(data, {dataType.getNumElements()});
  if (failed(flat))
    return failure();
  return n.createOrFold<mpc::GatherOp>(n.inferred(), *flat, *linear, uint64_t(0));
}

namespace {
LogicalResult setResult(NodeImporter &n, size_t i, FailureOr<Value> value) {
  if (failed(value))
    return failure();
  return n.setOutput(i, *value);
}

/// reshape -> transpose -> reshape, the whole of DepthToSpace/SpaceToDepth.
LogicalResult shuffle(NodeImporter &n, ArrayRef<int64_t> split, ArrayRef<int64_t> perm,
                      ArrayRef<int64_t> result) {
  FailureOr<Value> x = n.value(0);
  FailureOr<Value> r = failed(x) ? x : n.reshape(*x, split);
  FailureOr<Value> t = failed(r) ? r : transposed(n, *r, perm);
  return setResult(n, 0, failed(t) ? t : n.reshape(*t, result));
}

FailureOr<int64_t> blockSize(NodeImporter &n) {
  FailureOr<int64_t> b = n.intAttr("blocksize", std::nullopt);
  if (failed(b) || failed(n.require(0, "input")))
    return failure();
  if (*b < 1)
    return n.error() << "attribute 'blocksize' must be >= 1, got " << *b;
  if (n.rankOf(0) != 4)
    return n.error() << "input must be N x C x H x W, got " << shapeString(n.shapeOf(0));
  return *b;
}

LogicalResult importDepthToSpace(NodeImporter &n) {
  FailureOr<int64_t> b = blockSize(n);
  FailureOr<std::string> mode = n.stringAttr("mode", std::string("DCR"));
  if (failed(b) || failed(mode))
    return failure();
  ArrayRef<int64_t> s = n.shapeOf(0);
  int64_t bb = *b * *b;
  if (s[1] % bb != 0)
    return n.error() << "channels " << s[1] << " are not a multiple of blocksize^2 = " << bb;
  int64_t c = s[1] / bb;
  SmallVector<int64_t> result{s[0], c, s[2] * *b, s[3] * *b};
  if (*mode == "DCR")
    return shuffle(n, {s[0], *b, *b, c, s[2], s[3]}, {0, 3, 4, 1, 5, 2}, result);
  if (*mode == "CRD")
    return shuffle(n, {s[0], c, *b, *b, s[2], s[3]}, {0, 1, 4, 2, 5, 3}, result);
  return n.error() << "unsupported mode \"" << *mode << "\" (expected DCR or CRD)";
}

/// The inverse of DepthToSpace in the same mode (`mode` exists from opset
/// 28; before, always DCR).
LogicalResult importSpaceToDepth(NodeImporter &n) {
  FailureOr<int64_t> b = blockSize(n);
  FailureOr<std::string> mode = n.opset() >= 28 ? n.stringAttr("mode", std::string("DCR"))
                                                : FailureOr<std::string>(std::string("DCR"));
  if (failed(b) || failed(mode))
    return failure();
  if (*mode != "DCR" && *mode != "CRD")
    return n.error() << "unsupported mode \"" << *mode << "\" (expected DCR or CRD)";
  ArrayRef<int64_t> s = n.shapeOf(0);
  if (s[2] % *b != 0 || s[3] % *b != 0)
    return n.error() << "spatial dims " << s[2] << "x" << s[3]
                     << " are not multiples of blocksize " << *b;
  int64_t h = s[2] / *b, w = s[3] / *b;
  SmallVector<int64_t> perm = *mode == "DCR" ? SmallVector<int64_t>{0, 3, 5, 1, 2, 4}
                                              : SmallVector<int64_t>{0, 1, 3, 5, 2, 4};
  return shuffle(n, {s[0], s[1], h, *b, w, *b}, perm, {s[0], s[1] * *b * *b, h, w});
}

/// Each repeated dim d becomes [r, d] by broadcasting a new leading 1, so
/// the result reads input[i mod d] with no copies spelled out.
LogicalResult importTile(NodeImporter &n) {
  if (failed(n.require(0, "input")))
    return failure();
  FailureOr<SmallVector<int64_t>> repeats = n.hostInts(1, "repeats");
  if (failed(repeats))
    return failure();
  ArrayRef<int64_t> in = n.shapeOf(0);
  if (repeats->size() != in.size())
    return n.error() << "repeats has " << repeats->size() << " entries for an input of rank "
                     << in.size();
  SmallVector<int64_t> expanded, broadcast, result;
  for (auto [d, r] : llvm::zip(in, *repeats)) {
    if (r < 0 || r > kMaxTensorElements / std::max<int64_t>(d, 1))
      return n.error() << "repeats must be in [0, " << kMaxTensorElements / std::max<int64_t>(d, 1)
                       << "], got " << r;
    expanded.append({1, d});
    broadcast.append({r, d});
    result.push_back(r * d);
  }
  if (checkedNumElements(result) < 0)
    return n.error() << "the result shape " << shapeString(result) << " is too large";
  if (ArrayRef<int64_t>(result) == in)
    return n.aliasOutput(0, 0);
  FailureOr<Value> x = n.value(0);
  FailureOr<Value> r = failed(x) ? x : n.reshape(*x, expanded);
  FailureOr<Value> b = failed(r) ? r
                                 : n.createOrFold<mpc::BroadcastOp>(n.inferred(), *r,
                                                                    ArrayRef<int64_t>(broadcast));
  return setResult(n, 0, failed(b) ? b : n.reshape(*b, result));
}

/// Indices as non-negative i64: constants are checked on the host; computed
/// ones get `dim` added where negative (the gather clamps the rest).
FailureOr<Value> nonNegativeIndices(NodeImporter &n, size_t input, int64_t dim) {
  Type i64 = IntegerType::get(n.getContext(), 64);
  if (n.isConstant(input)) {
    HostTensor indices = n.host(input);
    for (int64_t &i : indices.ints) {
      if (i < -dim || i >= dim)
        return n.error() << "index " << i << " is out of range for a dim of size " << dim;
      if (i < 0)
        i += dim;
    }
    indices.dtype = kInt64;
    return hostConstant(n, indices);
  }
  FailureOr<Value> raw = n.value(input);
  FailureOr<Value> idx = failed(raw) ? raw : n.castTo(*raw, i64);
  FailureOr<Value> zero = failed(idx) ? idx : n.scalar(i64, 0);
  FailureOr<Value> size = failed(zero) ? zero : n.scalar(i64, double(dim));
  FailureOr<Value> negative =
      failed(size) ? size : n.createOrFold<mpc::LessOp>(n.inferred(), *idx, *zero);
  FailureOr<Value> shift =
      failed(negative) ? negative
                       : n.createOrFold<mpc::WhereOp>(n.inferred(), *negative, *size, *zero);
  return failed(shift) ? shift : n.createOrFold<mpc::AddOp>(n.inferred(), *idx, *shift);
}

LogicalResult importGatherElements(NodeImporter &n) {
  FailureOr<int64_t> axisAttr = n.intAttr("axis", 0);
  if (failed(axisAttr) || failed(n.require(0, "data")) || failed(n.require(1, "indices")))
    return failure();
  ArrayRef<int64_t> data = n.shapeOf(0), indices = n.shapeOf(1);
  FailureOr<int64_t> axis = n.normalizeAxis(*axisAttr, int64_t(data.size()), "axis");
  if (failed(axis))
    return failure();
  if (data.empty() || indices.size() != data.size())
    return n.error() << "indices " << shapeString(indices) << " must have the rank of data "
                     << shapeString(data) << " (at least 1)";
  for (size_t d = 0; d < data.size(); ++d)
    if (int64_t(d) != *axis && indices[d] > data[d])
      return n.error() << "indices dim " << d << " (" << indices[d] << ") exceeds data's ("
                       << data[d] << ")";
  FailureOr<Value> x = n.value(0);
  FailureOr<Value> idx = failed(x) ? x : nonNegativeIndices(n, 1, data[*axis]);
  return setResult(n, 0, failed(idx) ? idx : gatherElements(n, *x, *idx, *axis));
}

/// Sums `values` (of the indices' shape) into a zero tensor of `data`'s
/// size at `linear`: the scatter-add gather's gradient already is.
FailureOr<Value> scatterAdd(NodeImporter &n, Value values, Value linear,
                            RankedTensorType dataType) {
  auto flatType = RankedTensorType::get({dataType.getNumElements()}, dataType.getElementType());
  FailureOr<Value> sum =
      n.createOrFold<mpc::GatherGradOp>(flatType, values, linear, uint64_t(0));
  return failed(sum) ? sum : n.reshape(*sum, dataType.getShape());
}

/// A Scatter* node's reduction attribute.
enum class Reduction { None, Add, Mul, Max, Min };

/// reduction "add": data + the scattered sum; "none": the scattered
/// values where an index points (duplicates sum), data elsewhere.
FailureOr<Value> scatterSum(NodeImporter &n, Value data, Value updates, Value linear,
                            Reduction reduction) {
  auto dataType = cast<RankedTensorType>(data.getType());
  FailureOr<Value> scattered = scatterAdd(n, updates, linear, dataType);
  if (failed(scattered) || reduction == Reduction::Add)
    return failed(scattered) ? scattered
                             : n.createOrFold<mpc::AddOp>(n.inferred(), data, *scattered);
  auto updateType = cast<RankedTensorType>(updates.getType());
  FailureOr<Value> one = n.scalar(updateType.getElementType(), 1.0);
  FailureOr<Value> ones = failed(one) ? one
                                      : n.createOrFold<mpc::BroadcastOp>(
                                            n.inferred(), *one, updateType.getShape());
  FailureOr<Value> hits = failed(ones) ? ones : scatterAdd(n, *ones, linear, dataType);
  FailureOr<Value> zero = failed(hits) ? hits : n.scalar(updateType.getElementType(), 0.0);
  FailureOr<Value> written =
      failed(zero) ? zero : n.createOrFold<mpc::GreaterOp>(n.inferred(), *hits, *zero);
  return failed(written) ? written
                         : n.createOrFold<mpc::WhereOp>(n.inferred(), *written, *scattered, data);
}

/// mpc.reduce_* / elementwise op pair of a mul, max or min reduction.
template <typename ReduceOp, typename CombineOp>
FailureOr<Value> reduceInto(NodeImporter &n, Value data, Value candidates) {
  auto dataType = cast<RankedTensorType>(data.getType());
  FailureOr<Value> reduced = n.createOrFold<ReduceOp>(n.inferred(), candidates,
                                                      ArrayRef<int64_t>{0}, false, TypeAttr());
  FailureOr<Value> shaped = failed(reduced) ? reduced : n.reshape(*reduced, dataType.getShape());
  return failed(shaped) ? shaped : n.createOrFold<CombineOp>(n.inferred(), data, *shaped);
}

/// reduction mul, max or min: every update is compared with every data
/// position (an updates x data mask), the updates that hit a position are
/// reduced with the others set to the reduction's identity, and the result
/// combines with data. No scatter kernel is needed, at O(updates x data)
/// work and memory.
FailureOr<Value> scatterReduce(NodeImporter &n, Value data, Value updates, Value linear,
                               Reduction reduction) {
  auto dataType = cast<RankedTensorType>(data.getType());
  auto updateType = cast<RankedTensorType>(updates.getType());
  int64_t size = dataType.getNumElements(), count = updateType.getNumElements();
  // The positions 0..size-1 are a host constant.
  if (size > kMaxHostElements || count > kMaxTensorElements / std::max<int64_t>(1, size))
    return n.error() << "reduction of " << count << " updates into " << size
                     << " elements is too large (it compares every pair)";
  double identity = reduction == Reduction::Mul   ? 1.0
                    : reduction == Reduction::Max ? -std::numeric_limits<double>::infinity()
                                                  : std::numeric_limits<double>::infinity();
  FailureOr<Value> column = n.reshape(linear, {count, 1});
  FailureOr<Value> positions =
      failed(column) ? column
                     : hostConstant(n, HostTensor::fromInts(
                                           llvm::to_vector(llvm::seq<int64_t>(0, size)),
                                           {1, size}));
  FailureOr<Value> hit =
      failed(positions) ? positions
                        : n.createOrFold<mpc::EqualOp>(n.inferred(), *column, *positions);
  FailureOr<Value> values = failed(hit) ? hit : n.reshape(updates, {count, 1});
  FailureOr<Value> neutral =
      failed(values) ? values : n.scalar(updateType.getElementType(), identity);
  FailureOr<Value> candidates =
      failed(neutral) ? neutral
                      : n.createOrFold<mpc::WhereOp>(n.inferred(), *hit, *values, *neutral);
  if (failed(candidates))
    return failure();
  if (reduction == Reduction::Mul)
    return reduceInto<mpc::ReduceProdOp, mpc::MulOp>(n, data, *candidates);
  if (reduction == Reduction::Max)
    return reduceInto<mpc::ReduceMaxOp, mpc::MaxOp>(n, data, *candidates);
  return reduceInto<mpc::ReduceMinOp, mpc::MinOp>(n, data, *candidates);
}

FailureOr<Value> scatterInto(NodeImporter &n, Value data, Value updates, Value linear,
                             Reduction reduction) {
  if (reduction == Reduction::None || reduction == Reduction::Add)
    return scatterSum(n, data, updates, linear, reduction);
  return scatterReduce(n, data, updates, linear, reduction);
}

/// The reduction attribute (opset 16+; max and min from 18).
FailureOr<Reduction> scatterReduction(NodeImporter &n) {
  FailureOr<std::string> reduction =
      n.opset() >= 16 ? n.stringAttr("reduction", std::string("none"))
                      : FailureOr<std::string>(std::string("none"));
  if (failed(reduction))
    return failure();
  std::optional<Reduction> kind = llvm::StringSwitch<std::optional<Reduction>>(*reduction)
                                      .Case("none", Reduction::None)
                                      .Case("add", Reduction::Add)
                                      .Case("mul", Reduction::Mul)
                                      .Case("max", Reduction::Max)
                                      .Case("min", Reduction::Min)
                                      .Default(std::nullopt);
  if (!kind || (n.opset() < 18 && (*kind == Reduction::Max || *kind == Reduction::Min)))
    return n.error() << "reduction \"" << *reduction << "\" is not supported at opset "
                     << n.opset() << " (none, add and mul are; max and min from opset 18)";
  return *kind;
}

LogicalResult importScatterElements(NodeImporter &n) {
  FailureOr<int64_t> axisAttr = n.intAttr("axis", 0);
  FailureOr<Reduction> reduction =
      failed(axisAttr) ? FailureOr<Reduction>(failure()) : scatterReduction(n);
  if (failed(reduction) || failed(n.require(0, "data")) || failed(n.require(1, "indices")) ||
      failed(n.require(2, "updates")))
    return failure();
  ArrayRef<int64_t> data = n.shapeOf(0), indices = n.shapeOf(1);
  FailureOr<int64_t> axis = n.normalizeAxis(*axisAttr, int64_t(data.size()), "axis");
  if (failed(axis))
    return failure();
  if (!isFloatDType(n.dtypeOf(0)))
    return n.error() << "data must be a float tensor, got " << dtypeName(n.dtypeOf(0));
  if (indices.size() != data.size() || n.shapeOf(2) != indices)
    return n.error() << "indices " << shapeString(indices) << " and updates "
                     << shapeString(n.shapeOf(2)) << " must have one shape, of data's rank";
  for (size_t d = 0; d < data.size(); ++d)
    if (int64_t(d) != *axis && indices[d] > data[d])
      return n.error() << "indices dim " << d << " (" << indices[d] << ") exceeds data's ("
                       << data[d] << ")";
  FailureOr<Value> x = n.value(0);
  FailureOr<Value> updates = failed(x) ? x : n.value(2);
  FailureOr<Value> idx = failed(updates) ? updates : nonNegativeIndices(n, 1, data[*axis]);
  FailureOr<Value> linear =
      failed(idx) ? idx
                  : linearPositions(n, cast<RankedTensorType>(x->getType()), *idx, *axis);
  return setResult(n, 0, failed(linear) ? linear
                                        : scatterInto(n, *x, *updates, *linear, *reduction));
}

/// ScatterND's index tuples made non-negative: constants on the host, else
/// `dims` added where negative.
FailureOr<Value> nonNegativeTuples(NodeImporter &n, ArrayRef<int64_t> dims) {
  Type i64 = IntegerType::get(n.getContext(), 64);
  int64_t k = int64_t(dims.size());
  if (n.isConstant(1)) {
    HostTensor tuples = n.host(1);
    for (size_t e = 0; e < tuples.ints.size(); ++e) {
      int64_t &i = tuples.ints[e], dim = dims[int64_t(e) % k];
      if (i < -dim || i >= dim)
        return n.error() << "index " << i << " is out of range for a dim of size " << dim;
      if (i < 0)
        i += dim;
    }
    tuples.dtype = kInt64;
    return hostConstant(n, tuples);
  }
  FailureOr<Value> raw = n.value(1);
  FailureOr<Value> idx = failed(raw) ? raw : n.castTo(*raw, i64);
  FailureOr<Value> zero = failed(idx) ? idx : n.scalar(i64, 0);
  FailureOr<Value> sizes = failed(zero) ? zero : hostConstant(n, HostTensor::fromInts(dims, {k}));
  FailureOr<Value> negative =
      failed(sizes) ? sizes : n.createOrFold<mpc::LessOp>(n.inferred(), *idx, *zero);
  FailureOr<Value> shift =
      failed(negative) ? negative
                       : n.createOrFold<mpc::WhereOp>(n.inferred(), *negative, *sizes, *zero);
  return failed(shift) ? shift : n.createOrFold<mpc::AddOp>(n.inferred(), *idx, *shift);
}

/// Every updated element's position in the flattened data: each index
/// tuple's slice start plus 0..slice-1, in the updates' shape.
FailureOr<Value> slicePositions(NodeImporter &n, Value tuples, ArrayRef<int64_t> data,
                                ArrayRef<int64_t> updates) {
  int64_t k = cast<RankedTensorType>(tuples.getType()).getShape().back();
  SmallVector<int64_t> strides = stridesOf(data);
  int64_t slice = k < int64_t(data.size()) ? strides[k - 1] : 1;
  int64_t tupleRank = cast<RankedTensorType>(tuples.getType()).getRank();
  SmallVector<int64_t> strideShape(tupleRank, 1), offsets(slice);
  strideShape.back() = k;
  for (int64_t s = 0; s < slice; ++s)
    offsets[s] = s;
  SmallVector<int64_t> baseShape(cast<RankedTensorType>(tuples.getType()).getShape());
  baseShape.back() = 1;
  SmallVector<int64_t> offsetShape(tupleRank, 1);
  offsetShape.back() = slice;
  SmallVector<int64_t> flatShape(baseShape);
  flatShape.back() = slice;
  FailureOr<Value> w = hostConstant(
      n, HostTensor::fromInts(ArrayRef<int64_t>(strides).take_front(k), strideShape));
  FailureOr<Value> scaled =
      failed(w) ? w : n.createOrFold<mpc::MulOp>(n.inferred(), tuples, *w);
  FailureOr<Value> base = failed(scaled) ? scaled
                                         : n.createOrFold<mpc::ReduceSumOp>(
                                               n.inferred(), *scaled,
                                               ArrayRef<int64_t>{tupleRank - 1}, true, TypeAttr());
  FailureOr<Value> off =
      failed(base) ? base : hostConstant(n, HostTensor::fromInts(offsets, offsetShape));
  FailureOr<Value> pos = failed(off) ? off : n.createOrFold<mpc::AddOp>(n.inferred(), *base, *off);
  return failed(pos) ? pos : n.reshape(*pos, updates);
}

LogicalResult importScatterND(NodeImporter &n) {
  FailureOr<Reduction> reduction = scatterReduction(n);
  if (failed(reduction) || failed(n.require(0, "data")) || failed(n.require(1, "indices")) ||
      failed(n.require(2, "updates")))
    return failure();
  ArrayRef<int64_t> data = n.shapeOf(0), indices = n.shapeOf(1);
  if (!isFloatDType(n.dtypeOf(0)))
    return n.error() << "data must be a float tensor, got " << dtypeName(n.dtypeOf(0));
  int64_t k = indices.empty() ? 0 : indices.back();
  if (indices.empty() || k < 1 || k > int64_t(data.size()))
    return n.error() << "indices " << shapeString(indices) << " must end in a dim of 1 to "
                     << data.size() << " (the data's rank)";
  SmallVector<int64_t> updates(indices.drop_back());
  updates.append(data.begin() + k, data.end());
  if (n.shapeOf(2) != ArrayRef<int64_t>(updates))
    return n.error() << "updates must have shape " << shapeString(updates) << ", got "
                     << shapeString(n.shapeOf(2));
  FailureOr<Value> x = n.value(0);
  FailureOr<Value> u = failed(x) ? x : n.value(2);
  FailureOr<Value> tuples = failed(u) ? u : nonNegativeTuples(n, data.take_front(k));
  FailureOr<Value> linear =
      failed(tuples) ? tuples : slicePositions(n, *tuples, data, updates);
  return setResult(n, 0, failed(linear) ? linear : scatterInto(n, *x, *u, *linear, *reduction));
}

/// `shape` with a 1 inserted at `at`.
SmallVector<int64_t> withUnitDim(ArrayRef<int64_t> shape, int64_t at) {
  SmallVector<int64_t> result(shape);
  result.insert(result.begin() + at, 1);
  return result;
}

/// A constant of `shape` (all 1s but `at`, which is `count`) holding
/// 0..count-1.
FailureOr<Value> iota(NodeImporter &n, int64_t count, int64_t rank, int64_t at) {
  SmallVector<int64_t> shape(rank, 1), values(count);
  shape[at] = count;
  for (int64_t i = 0; i < count; ++i)
    values[i] = i;
  return hostConstant(n, HostTensor::fromInts(values, shape));
}

/// rank[i] = #{j : x[j] beats x[i], or ties with it at j < i}, along `axis`.
FailureOr<Value> topKRanks(NodeImporter &n, Value x, int64_t axis, bool largest) {
  ArrayRef<int64_t> shape = cast<RankedTensorType>(x.getType()).getShape();
  int64_t len = shape[axis], rank = int64_t(shape.size()) + 1;
  Type i64 = IntegerType::get(n.getContext(), 64);
  FailureOr<Value> xi = n.reshape(x, withUnitDim(shape, axis + 1));
  FailureOr<Value> xj = failed(xi) ? xi : n.reshape(x, withUnitDim(shape, axis));
  if (failed(xj))
    return failure();
  FailureOr<Value> beats = largest ? n.createOrFold<mpc::GreaterOp>(n.inferred(), *xj, *xi)
                                   : n.createOrFold<mpc::LessOp>(n.inferred(), *xj, *xi);
  FailureOr<Value> ties =
      failed(beats) ? beats : n.createOrFold<mpc::EqualOp>(n.inferred(), *xj, *xi);
  FailureOr<Value> i = failed(ties) ? ties : iota(n, len, rank, axis);
  FailureOr<Value> j = failed(i) ? i : iota(n, len, rank, axis + 1);
  FailureOr<Value> earlier = failed(j) ? j : n.createOrFold<mpc::LessOp>(n.inferred(), *j, *i);
  FailureOr<Value> no = failed(earlier) ? earlier : n.scalar(IntegerType::get(n.getContext(), 1), 0);
  FailureOr<Value> earlierTie =
      failed(no) ? no : n.createOrFold<mpc::WhereOp>(n.inferred(), *earlier, *ties, *no);
  FailureOr<Value> a = failed(earlierTie) ? earlierTie : n.castTo(*beats, i64);
  FailureOr<Value> b = failed(a) ? a : n.castTo(*earlierTie, i64);
  FailureOr<Value> ahead = failed(b) ? b : n.createOrFold<mpc::AddOp>(n.inferred(), *a, *b);
  if (failed(ahead))
    return failure();
  return n.createOrFold<mpc::ReduceSumOp>(n.inferred(), *ahead, ArrayRef<int64_t>{axis + 1},
                                          false, TypeAttr());
}

/// The index of the element ranked p, for p < k: sum_i i * (rank[i] == p).
FailureOr<Value> topKIndices(NodeImporter &n, Value ranks, int64_t axis, int64_t k) {
  ArrayRef<int64_t> shape = cast<RankedTensorType>(ranks.getType()).getShape();
  int64_t len = shape[axis], rank = int64_t(shape.size()) + 1;
  Type i64 = IntegerType::get(n.getContext(), 64);
  FailureOr<Value> r = n.reshape(ranks, withUnitDim(shape, axis + 1));
  FailureOr<Value> p = failed(r) ? r : iota(n, k, rank, axis + 1);
  FailureOr<Value> i = failed(p) ? p : iota(n, len, rank, axis);
  FailureOr<Value> hit = failed(i) ? i : n.createOrFold<mpc::EqualOp>(n.inferred(), *r, *p);
  FailureOr<Value> zero = failed(hit) ? hit : n.scalar(i64, 0);
  FailureOr<Value> picked =
      failed(zero) ? zero : n.createOrFold<mpc::WhereOp>(n.inferred(), *hit, *i, *zero);
  if (failed(picked))
    return failure();
  return n.createOrFold<mpc::ReduceSumOp>(n.inferred(), *picked, ArrayRef<int64_t>{axis}, false,
                                          TypeAttr());
}

LogicalResult importTopK(NodeImporter &n) {
  FailureOr<int64_t> axisAttr = n.intAttr("axis", -1);
  FailureOr<int64_t> largest = n.intAttr("largest", 1);
  FailureOr<int64_t> sorted = n.intAttr("sorted", 1);
  if (failed(axisAttr) || failed(largest) || failed(sorted) || failed(n.require(0, "X")))
    return failure();
  FailureOr<SmallVector<int64_t>> k = n.hostInts(1, "K");
  if (failed(k))
    return failure();
  ArrayRef<int64_t> shape = n.shapeOf(0);
  FailureOr<int64_t> axis = n.normalizeAxis(*axisAttr, int64_t(shape.size()), "axis");
  if (failed(axis))
    return failure();
  if (k->size() != 1 || (*k)[0] < 1 || (*k)[0] > shape[*axis])
    return n.error() << "K must be one value in [1, " << shape[*axis] << "]";
  if (shape[*axis] > kMaxTensorElements / std::max<int64_t>(1, checkedNumElements(shape)))
    return n.error() << "axis of " << shape[*axis] << " elements is too long for TopK";
  FailureOr<Value> x = n.value(0);
  FailureOr<Value> ranks = failed(x) ? x : topKRanks(n, *x, *axis, *largest != 0);
  FailureOr<Value> indices = failed(ranks) ? ranks : topKIndices(n, *ranks, *axis, (*k)[0]);
  FailureOr<Value> values = failed(indices) ? indices : gatherElements(n, *x, *indices, *axis);
  if (failed(setResult(n, 0, values)))
    return failure();
  return n.outputUsed(1) ? n.setOutput(1, *indices) : success();
}

const OpImportInfo kTable[] = {
    {"DepthToSpace", 13, kMaxOpset, importDepthToSpace, "mpc.reshape + mpc.transpose",
     "DCR and CRD modes"},
    {"GatherElements", 13, kMaxOpset, importGatherElements, "mpc.gather (flattened data)",
     "computed indices: negatives wrap, out-of-range ones are clamped; constant ones are "
     "range-checked"},
    {"ScatterElements", 13, kMaxOpset, importScatterElements,
     "mpc.gather_grad (scatter-add) + mpc.add / mpc.where; mul/max/min: mpc.equal + mpc.where + "
     "mpc.reduce_prod/max/min",
     "float data; reduction none or add (duplicate indices sum their updates with none), mul, "
     "max or min (opset 18+; by an updates x data comparison mask: work and memory grow with "
     "their product)"},
    {"ScatterND", 13, kMaxOpset, importScatterND,
     "mpc.gather_grad (scatter-add) + mpc.add / mpc.where; mul/max/min: mpc.equal + mpc.where + "
     "mpc.reduce_prod/max/min",
     "as ScatterElements: float data; reductions none, add, mul, max and min"},
    {"SpaceToDepth", 13, kMaxOpset, importSpaceToDepth, "mpc.reshape + mpc.transpose",
     "DCR, and CRD (mode, opset 28+)"},
    {"Tile", 13, kMaxOpset, importTile, "mpc.broadcast + mpc.reshape",
     "repeats must be constant"},
    {"TopK", 13, kMaxOpset, importTopK, "mpc.greater/less + mpc.reduce_sum + mpc.gather",
     "K must be constant; always sorted, ties go to the lower index; ranks come from pairwise "
     "comparisons (memory quadratic in the axis length); NaN order is unspecified"},
};
} // namespace

ArrayRef<OpImportInfo> mpc::importer::structuralOpTable() { return kTable; }
