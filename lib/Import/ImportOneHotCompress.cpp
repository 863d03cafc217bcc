//===- ImportOneHotCompress.cpp - OneHot, Compress ------------------------===//
//
// Two ops whose output shape comes from an input's value: OneHot's depth and
// Compress's condition. Both must be known at import (constants, or graph
// inputs whose values specialize the program, InputValues.cpp); the data
// path is then a comparison with a constant iota (OneHot) or a gather at
// constant positions (Compress), so they lower wherever those ops do.
//
//===----------------------------------------------------------------------===//
#include "Building.h"

#include <cmath>

using namespace mlir;
using namespace mpc::importer;

namespace {
/// Element `i` of the 1-D `values`, as a rank-0 tensor.
FailureOr<Value> element(NodeImporter &n, Value values, int64_t i) {
  FailureOr<Value> index = hostConstant(n, HostTensor::fromInts({i}, {}));
  return failed(index) ? index
                       : n.createOrFold<mpc::GatherOp>(n.inferred(), values, *index, uint64_t(0));
}

/// The indices as int64 (floats truncate, as ONNX's reference casts them),
/// negative ones wrapped by `depth`, with a unit dim inserted at `axis`.
FailureOr<Value> wrappedIndices(NodeImporter &n, int64_t depth, int64_t axis) {
  Type i64 = n.builder().getI64Type();
  SmallVector<int64_t> shape(n.shapeOf(0));
  shape.insert(shape.begin() + axis, 1);
  FailureOr<Value> raw = n.value(0);
  FailureOr<Value> idx = failed(raw) ? raw : n.castTo(*raw, i64);
  FailureOr<Value> zero = failed(idx) ? idx : n.scalar(i64, 0);
  FailureOr<Value> negative =
      failed(zero) ? zero : n.createOrFold<mpc::LessOp>(n.inferred(), *idx, *zero);
  FailureOr<Value> size = failed(negative) ? negative : n.scalar(i64, double(depth));
  FailureOr<Value> shifted =
      failed(size) ? size : n.createOrFold<mpc::AddOp>(n.inferred(), *idx, *size);
  FailureOr<Value> wrapped =
      failed(shifted) ? shifted
                      : n.createOrFold<mpc::WhereOp>(n.inferred(), *negative, *shifted, *idx);
  return failed(wrapped) ? wrapped : n.reshape(*wrapped, shape);
}

/// on where the (wrapped) index equals the position along `axis`, off
/// elsewhere: out-of-range indices give a row of off values.
LogicalResult importOneHot(NodeImporter &n) {
  FailureOr<int64_t> axisAttr = n.intAttr("axis", -1);
  if (failed(axisAttr) || failed(n.require(0, "indices")) || failed(n.require(2, "values")))
    return failure();
  if (!isHostDType(n.dtypeOf(0)) || n.dtypeOf(0) == kBool)
    return n.error() << "indices must be a numeric tensor, got " << dtypeName(n.dtypeOf(0));
  if (n.shapeOf(2) != ArrayRef<int64_t>{2})
    return n.error() << "values must hold two elements [off, on], got shape "
                     << shapeString(n.shapeOf(2));
  // A float depth initializer is a parameter: hostValues reads it too.
  FailureOr<HostTensor> depthValues = n.hostValues(1, "depth");
  if (failed(depthValues))
    return failure();
  if (depthValues->size() != 1)
    return n.error() << "depth must hold one value, got shape "
                     << shapeString(depthValues->shape);
  double depthValue = depthValues->getDouble(0);
  if (!(depthValue >= 1 && depthValue <= double(kMaxHostElements)) ||
      depthValue != std::trunc(depthValue))
    return n.error() << "depth must be a whole number in [1, " << kMaxHostElements << "], got "
                     << depthValue;
  int64_t depth = int64_t(depthValue);
  int64_t rank = n.rankOf(0) + 1;
  FailureOr<int64_t> axis = n.normalizeAxis(*axisAttr, rank, "axis");
  if (failed(axis))
    return failure();
  SmallVector<int64_t> positionShape(rank, 1);
  positionShape[*axis] = depth;
  FailureOr<Value> idx = wrappedIndices(n, depth, *axis);
  FailureOr<Value> positions =
      failed(idx) ? idx
                  : hostConstant(n, HostTensor::fromInts(
                                        llvm::to_vector(llvm::seq<int64_t>(0, depth)),
                                        positionShape));
  FailureOr<Value> hot =
      failed(positions) ? positions
                        : n.createOrFold<mpc::EqualOp>(n.inferred(), *idx, *positions);
  FailureOr<Value> values = failed(hot) ? hot : n.value(2);
  FailureOr<Value> off = failed(values) ? values : element(n, *values, 0);
  FailureOr<Value> on = failed(off) ? off : element(n, *values, 1);
  FailureOr<Value> result =
      failed(on) ? on : n.createOrFold<mpc::WhereOp>(n.inferred(), *hot, *on, *off);
  if (failed(result))
    return failure();
  return n.setOutput(0, *result);
}

/// The positions where the condition holds, up to `length` (a shorter
/// condition leaves the rest out; a longer one may only add false values).
FailureOr<SmallVector<int64_t>> selectedPositions(NodeImporter &n, int64_t length) {
  FailureOr<HostTensor> condition = n.hostValues(1, "condition");
  if (failed(condition))
    return failure();
  if (condition->shape.size() != 1)
    return n.error() << "condition must be 1-D, got shape " << shapeString(condition->shape);
  SmallVector<int64_t> positions;
  for (int64_t i = 0; i < condition->size(); ++i) {
    if (condition->getDouble(i) == 0)
      continue;
    if (i >= length)
      return n.error() << "condition selects position " << i << ", beyond the " << length
                       << " elements it filters";
    positions.push_back(i);
  }
  if (positions.empty())
    return n.error() << "condition selects nothing; mpc does not make empty tensors";
  return positions;
}

/// A gather at the positions the (import-time) condition selects, along
/// `axis` or through the flattened input.
LogicalResult importCompress(NodeImporter &n) {
  if (failed(n.require(0, "input")))
    return failure();
  ArrayRef<int64_t> shape = n.shapeOf(0);
  std::optional<int64_t> axis;
  if (n.attr("axis")) {
    FailureOr<int64_t> axisAttr = n.intAttr("axis", std::nullopt);
    FailureOr<int64_t> normalized =
        failed(axisAttr) ? axisAttr : n.normalizeAxis(*axisAttr, int64_t(shape.size()), "axis");
    if (failed(normalized))
      return failure();
    axis = *normalized;
  }
  int64_t length = axis ? shape[*axis] : checkedNumElements(shape);
  FailureOr<SmallVector<int64_t>> positions = selectedPositions(n, length);
  if (failed(positions))
    return failure();
  FailureOr<Value> x = n.value(0);
  if (succeeded(x) && !axis)
    x = n.reshape(*x, {length});
  FailureOr<Value> idx =
      failed(x) ? x
                : hostConstant(n, HostTensor::fromInts(*positions, {int64_t(positions->size())}));
  FailureOr<Value> result =
      failed(idx) ? idx
                  : n.createOrFold<mpc::GatherOp>(n.inferred(), *x, *idx,
                                                  uint64_t(axis.value_or(0)));
  if (failed(result))
    return failure();
  return n.setOutput(0, *result);
}

const OpImportInfo kTable[] = {
    {"Compress", 13, kMaxOpset, importCompress, "mpc.gather at constant positions",
     "condition must be known at import (a constant, or a graph input given with "
     "--onnx-input-value / mpc-run's --input); with or without axis; selecting nothing is an "
     "error"},
    {"OneHot", 13, kMaxOpset, importOneHot, "mpc.equal (with a constant iota) + mpc.where",
     "depth must be known at import; any numeric indices (floats truncate), negative ones wrap "
     "by depth, out-of-range ones give all-off rows; axis"},
};
} // namespace

ArrayRef<OpImportInfo> mpc::importer::oneHotCompressOpTable() { return kTable; }
