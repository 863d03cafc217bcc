//===- ImportIndexing.cpp - Hardmax, EyeLike, GatherND --------------------===//
//
// Ops whose results are index patterns: masks built by comparing values or
// positions with a constant iota, then selected into the output type.
//
//===----------------------------------------------------------------------===//
#include "Importer.h"

using namespace mlir;
using namespace mpc::importer;

namespace {
template <typename OpTy> FailureOr<Value> binary(NodeImporter &n, Value lhs, FailureOr<Value> rhs) {
  return failed(rhs) ? rhs : n.createOrFold<OpTy>(n.inferred(), lhs, *rhs);
}

/// 0, 1, ... count-1 (plus `offset`) as int64, along dim `dim` of a rank
/// `rank` tensor of ones elsewhere.
FailureOr<Value> iota(NodeImporter &n, int64_t count, int64_t dim, int64_t rank,
                      int64_t offset = 0) {
  Shape shape(rank, 1);
  shape[dim] = count;
  return n.graph.makeConstant(
      HostTensor::fromInts(llvm::to_vector(llvm::seq<int64_t>(offset, offset + count)), shape,
                           kInt64),
      n.loc(), n.name());
}

/// mask ? 1 : 0 in `elementType`.
FailureOr<Value> oneZero(NodeImporter &n, FailureOr<Value> mask, Type elementType) {
  FailureOr<Value> one = failed(mask) ? mask : n.scalar(elementType, 1);
  FailureOr<Value> zero = failed(one) ? one : n.scalar(elementType, 0);
  if (failed(zero))
    return failure();
  return n.createOrFold<mpc::WhereOp>(n.inferred(), *mask, *one, *zero);
}

/// 1 at the first maximum along `axis`, 0 elsewhere: the maxima's
/// positions (others get the axis length), their minimum, compared with the
/// positions.
LogicalResult importHardmax(NodeImporter &n) {
  FailureOr<int64_t> axisAttr = n.intAttr("axis", -1);
  if (failed(axisAttr) || failed(n.require(0, "input")))
    return failure();
  if (!isFloatDType(n.dtypeOf(0)))
    return n.error() << "input must be a float tensor, got " << dtypeName(n.dtypeOf(0));
  int64_t rank = n.rankOf(0);
  FailureOr<int64_t> axis = n.normalizeAxis(*axisAttr, rank, "axis");
  FailureOr<Value> x = failed(axis) ? FailureOr<Value>(failure()) : n.value(0);
  if (failed(x))
    return failure();
  int64_t length = n.shapeOf(0)[*axis];
  SmallVector<int64_t> axes{*axis};
  FailureOr<Value> positions = iota(n, length, *axis, rank);
  FailureOr<Value> beyond =
      failed(positions) ? positions : n.scalar(n.builder().getI64Type(), double(length));
  FailureOr<Value> max =
      failed(beyond) ? beyond
                     : n.createOrFold<mpc::ReduceMaxOp>(n.inferred(), *x, ArrayRef<int64_t>(axes),
                                                        true, TypeAttr());
  FailureOr<Value> isMax = failed(max) ? max : binary<mpc::EqualOp>(n, *x, *max);
  FailureOr<Value> maxPositions =
      failed(isMax) ? isMax
                    : n.createOrFold<mpc::WhereOp>(n.inferred(), *isMax, *positions, *beyond);
  FailureOr<Value> first =
      failed(maxPositions)
          ? maxPositions
          : n.createOrFold<mpc::ReduceMinOp>(n.inferred(), *maxPositions, ArrayRef<int64_t>(axes),
                                             true, TypeAttr());
  FailureOr<Value> mask = failed(first) ? first : binary<mpc::EqualOp>(n, *positions, *first);
  FailureOr<Value> result = oneZero(n, mask, getElementTypeOrSelf(*x));
  if (failed(result))
    return failure();
  return n.setOutput(0, *result);
}

/// Ones where column == row + k.
LogicalResult importEyeLike(NodeImporter &n) {
  FailureOr<int64_t> k = n.intAttr("k", 0);
  if (failed(k) || failed(n.require(0, "input")))
    return failure();
  if (n.rankOf(0) != 2)
    return n.error() << "input must be 2-D, got shape " << shapeString(n.shapeOf(0));
  FailureOr<int64_t> dtype = n.intAttr("dtype", n.dtypeOf(0));
  if (failed(dtype))
    return failure();
  Type elementType = elementTypeFor(int32_t(*dtype), n.getContext());
  if (!elementType)
    return n.error() << "output type " << dtypeName(int32_t(*dtype)) << " is not supported";
  ArrayRef<int64_t> shape = n.shapeOf(0);
  FailureOr<Value> rows = iota(n, shape[0], 0, 2, *k);
  FailureOr<Value> columns = failed(rows) ? rows : iota(n, shape[1], 1, 2);
  FailureOr<Value> mask = failed(columns) ? columns : binary<mpc::EqualOp>(n, *rows, *columns);
  FailureOr<Value> result = oneZero(n, mask, elementType);
  if (failed(result))
    return failure();
  return n.setOutput(0, *result);
}

/// Each index tuple's row in `data` viewed as (batch x the k indexed dims)
/// x the rest: the tuple's coordinates (negative ones wrapped) times the
/// strides, summed, plus the batch's first row; then one mpc.gather.
LogicalResult importGatherND(NodeImporter &n) {
  FailureOr<int64_t> batchDims = n.intAttr("batch_dims", 0);
  if (failed(batchDims) || failed(n.require(0, "data")) || failed(n.require(1, "indices")))
    return failure();
  ArrayRef<int64_t> dataShape = n.shapeOf(0), indexShape = n.shapeOf(1);
  int64_t b = *batchDims, q = int64_t(indexShape.size()), r = int64_t(dataShape.size());
  int64_t k = q ? indexShape.back() : 0;
  if (n.dtypeOf(1) != kInt64)
    return n.error() << "indices must be int64, got " << dtypeName(n.dtypeOf(1));
  if (b < 0 || q < 1 || b >= q || b >= r || k < 1 || b + k > r ||
      indexShape.take_front(b) != dataShape.take_front(b))
    return n.error() << "indices of shape " << shapeString(indexShape) << " and batch_dims " << b
                     << " do not index data of shape " << shapeString(dataShape);
  ArrayRef<int64_t> indexed = dataShape.slice(b, k);
  int64_t batches = checkedNumElements(dataShape.take_front(b));
  int64_t rows = checkedNumElements(indexed);
  Shape viewShape{batches * rows};
  llvm::append_range(viewShape, dataShape.drop_front(b + k));
  SmallVector<int64_t> strides(k, 1);
  for (int64_t j = k - 2; j >= 0; --j)
    strides[j] = strides[j + 1] * indexed[j + 1];
  Shape batchShape(q - 1, 1);
  for (int64_t j = 0; j < b; ++j)
    batchShape[j] = dataShape[j];
  SmallVector<int64_t> firstRows;
  for (int64_t j = 0; j < batches; ++j)
    firstRows.push_back(j * rows);
  Shape coordinateShape{k};
  auto constant = [&](ArrayRef<int64_t> values, ArrayRef<int64_t> shape) {
    return n.graph.makeConstant(HostTensor::fromInts(values, shape, kInt64), n.loc(), n.name());
  };
  FailureOr<Value> indices = n.value(1);
  FailureOr<Value> sizes = failed(indices) ? indices : constant(indexed, coordinateShape);
  FailureOr<Value> zero = failed(sizes) ? sizes : n.scalar(n.builder().getI64Type(), 0);
  FailureOr<Value> negative = failed(zero) ? zero : binary<mpc::LessOp>(n, *indices, *zero);
  FailureOr<Value> wrappedValues =
      failed(negative) ? negative : binary<mpc::AddOp>(n, *indices, *sizes);
  FailureOr<Value> wrapped =
      failed(wrappedValues)
          ? wrappedValues
          : n.createOrFold<mpc::WhereOp>(n.inferred(), *negative, *wrappedValues, *indices);
  FailureOr<Value> scaled =
      failed(wrapped) ? wrapped
                      : binary<mpc::MulOp>(n, *wrapped, constant(strides, coordinateShape));
  SmallVector<int64_t> last{q - 1};
  FailureOr<Value> offsets =
      failed(scaled) ? scaled
                     : n.createOrFold<mpc::ReduceSumOp>(n.inferred(), *scaled,
                                                        ArrayRef<int64_t>(last), false, TypeAttr());
  if (failed(offsets))
    return failure();
  FailureOr<Value> rowIndex =
      b ? binary<mpc::AddOp>(n, *offsets, constant(firstRows, batchShape)) : offsets;
  FailureOr<Value> data = failed(rowIndex) ? rowIndex : n.value(0);
  FailureOr<Value> view = failed(data) ? data : n.reshape(*data, viewShape);
  FailureOr<Value> result =
      failed(view) ? view
                   : n.createOrFold<mpc::GatherOp>(n.inferred(), *view, *rowIndex, uint64_t(0));
  if (failed(result))
    return failure();
  return n.setOutput(0, *result);
}

const OpImportInfo kTable[] = {
    {"EyeLike", 13, kMaxOpset, importEyeLike, "a constant (mpc.equal + mpc.where, folded)",
     "2-D; dtype, k"},
    {"GatherND", 13, kMaxOpset, importGatherND,
     "mpc.where + mpc.mul + mpc.reduce_sum (the row index) + mpc.reshape + mpc.gather",
     "batch_dims; int64 indices, negative ones wrapped"},
    {"Hardmax", 13, kMaxOpset, importHardmax,
     "mpc.reduce_max + mpc.equal + mpc.where + mpc.reduce_min",
     "single axis (opset 13 semantics); the first maximum wins a tie"},
};
} // namespace

ArrayRef<OpImportInfo> mpc::importer::indexingOpTable() { return kTable; }
