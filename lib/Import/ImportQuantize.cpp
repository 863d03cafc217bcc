//===- ImportQuantize.cpp - (Dynamic)QuantizeLinear, DequantizeLinear ----===//
//
// Linear (de)quantization between float and 8- or 16-bit integers, built
// from mpc's casts, arithmetic and reductions; the scale and zero point are
// per tensor or per `axis`.
//
//===----------------------------------------------------------------------===//
#include "Importer.h"

#include "llvm/ADT/Sequence.h"

using namespace mlir;
using namespace mpc::importer;

namespace {
Type elementTypeOf(Value v) { return cast<RankedTensorType>(v.getType()).getElementType(); }

template <typename OpTy>
FailureOr<Value> binary(NodeImporter &n, FailureOr<Value> lhs, FailureOr<Value> rhs) {
  if (failed(lhs) || failed(rhs))
    return failure();
  return n.createOrFold<OpTy>(n.inferred(), *lhs, *rhs);
}

/// Input `i` (scale or zero point) shaped to broadcast against data of rank
/// `rank`: a 1-D per-axis tensor becomes [1, .., C, .., 1].
FailureOr<Value> alongAxis(NodeImporter &n, size_t i, int64_t rank, int64_t axis) {
  FailureOr<Value> v = n.value(i);
  if (failed(v) || n.rankOf(i) == 0)
    return v;
  SmallVector<int64_t> shape(rank, 1);
  shape[axis] = n.shapeOf(i)[0];
  return n.reshape(*v, shape);
}

/// Checks the scale (input 1) and zero point (input 2) shapes: scalars, or
/// 1-D of the data's size along `axis`. Returns the normalized axis.
FailureOr<int64_t> quantAxis(NodeImporter &n) {
  if (failed(n.require(0, "x")) || failed(n.require(1, "scale")))
    return failure();
  FailureOr<int64_t> blockSize = n.opset() >= 21 ? n.intAttr("block_size", 0) : FailureOr<int64_t>(0);
  FailureOr<int64_t> rawAxis = failed(blockSize) ? blockSize : n.intAttr("axis", 1);
  if (failed(rawAxis))
    return failure();
  if (*blockSize != 0)
    return n.error() << "blocked quantization (attribute 'block_size' = " << *blockSize
                     << ") is not supported";
  int64_t rank = n.rankOf(0);
  bool perAxis = n.rankOf(1) == 1 && n.shapeOf(1)[0] != 1;
  if (!perAxis)
    return int64_t(0);
  FailureOr<int64_t> axis = n.normalizeAxis(*rawAxis, rank, "axis");
  if (failed(axis))
    return failure();
  for (size_t i = 1; i < 3; ++i)
    if (n.hasInput(i) && (n.rankOf(i) != 1 || n.shapeOf(i)[0] != n.shapeOf(0)[*axis]))
      return n.error() << "per-axis " << (i == 1 ? "scale" : "zero point") << " must be 1-D of size "
                       << n.shapeOf(0)[*axis] << " (x's dim " << *axis << ")";
  return *axis;
}

/// The range of a quantized type; nullopt for the types not supported.
std::optional<std::pair<double, double>> quantRange(int32_t dtype) {
  switch (dtype) {
  case kUInt8:
    return std::pair(0.0, 255.0);
  case kInt8:
    return std::pair(-128.0, 127.0);
  case kUInt16:
    return std::pair(0.0, 65535.0);
  case kInt16:
    return std::pair(-32768.0, 32767.0);
  default:
    return std::nullopt;
  }
}

/// y = (x - zero_point) * scale, in the scale's float type.
LogicalResult importDequantizeLinear(NodeImporter &n) {
  FailureOr<int64_t> axis = quantAxis(n);
  if (failed(axis))
    return failure();
  int32_t dtype = n.dtypeOf(0);
  if (!quantRange(dtype) && dtype != kInt32)
    return n.error() << "x of type " << dtypeName(dtype)
                     << " is not supported; DequantizeLinear takes 8- and 16-bit integers or int32";
  if (n.hasInput(2) && n.dtypeOf(2) != dtype)
    return n.error() << "x and x_zero_point element types differ (" << dtypeName(dtype) << " and "
                     << dtypeName(n.dtypeOf(2)) << ")";
  int64_t rank = n.rankOf(0);
  FailureOr<Value> scale = alongAxis(n, 1, rank, *axis);
  FailureOr<Value> x = failed(scale) ? scale : n.value(0);
  FailureOr<Value> xf = failed(x) ? x : n.castTo(*x, elementTypeOf(*scale));
  if (succeeded(xf) && n.hasInput(2)) {
    FailureOr<Value> zero = alongAxis(n, 2, rank, *axis);
    FailureOr<Value> zf = failed(zero) ? zero : n.castTo(*zero, elementTypeOf(*scale));
    xf = binary<mpc::SubOp>(n, xf, zf);
  }
  FailureOr<Value> result = failed(xf) ? xf : binary<mpc::MulOp>(n, xf, scale);
  if (failed(result))
    return failure();
  return n.setOutput(0, *result);
}

/// y = saturate(round_half_even(x / scale) + zero_point), computed in the
/// scale's float type; uint8 unless the zero point says otherwise.
LogicalResult importQuantizeLinear(NodeImporter &n) {
  FailureOr<int64_t> axis = quantAxis(n);
  if (failed(axis))
    return failure();
  FailureOr<int64_t> outputDtype = n.opset() >= 21 ? n.intAttr("output_dtype", 0) : FailureOr<int64_t>(0);
  if (failed(outputDtype))
    return failure();
  int32_t to = n.hasInput(2) ? n.dtypeOf(2) : *outputDtype ? int32_t(*outputDtype) : kUInt8;
  std::optional<std::pair<double, double>> range = quantRange(to);
  if (!range)
    return n.error() << "quantizing to " << dtypeName(to)
                     << " is not supported; y_zero_point must be an 8- or 16-bit integer";
  if (!isFloatDType(n.dtypeOf(0)))
    return n.error() << "x of type " << dtypeName(n.dtypeOf(0))
                     << " is not supported; QuantizeLinear takes a float x";
  int64_t rank = n.rankOf(0);
  FailureOr<Value> scale = alongAxis(n, 1, rank, *axis);
  FailureOr<Value> x = failed(scale) ? scale : n.value(0);
  FailureOr<Value> xf = failed(x) ? x : n.castTo(*x, elementTypeOf(*scale));
  FailureOr<Value> q = binary<mpc::DivOp>(n, xf, scale);
  q = failed(q) ? q : n.createOrFold<mpc::RoundOp>(q->getType(), *q);
  if (succeeded(q) && n.hasInput(2)) {
    FailureOr<Value> zero = alongAxis(n, 2, rank, *axis);
    FailureOr<Value> zf = failed(zero) ? zero : n.castTo(*zero, elementTypeOf(*q));
    q = binary<mpc::AddOp>(n, q, zf);
  }
  Builder b(n.getContext());
  q = failed(q) ? q
                : n.createOrFold<mpc::ClipOp>(q->getType(), *q, b.getF64FloatAttr(range->first),
                                              b.getF64FloatAttr(range->second));
  FailureOr<Value> result = failed(q) ? q : n.castTo(*q, elementTypeFor(to, n.getContext()));
  if (failed(result))
    return failure();
  return n.setOutput(0, *result);
}

FailureOr<Value> clip(NodeImporter &n, FailureOr<Value> x, double lo, double hi) {
  if (failed(x))
    return failure();
  Builder b(n.getContext());
  return n.createOrFold<mpc::ClipOp>(x->getType(), *x, b.getF64FloatAttr(lo), b.getF64FloatAttr(hi));
}

FailureOr<Value> round(NodeImporter &n, FailureOr<Value> x) {
  return failed(x) ? x : n.createOrFold<mpc::RoundOp>(x->getType(), *x);
}

/// The range of x widened to hold 0, mapped onto uint8: scale = (max - min)
/// / 255, zero point = round(clip(-min / scale, 0, 255)), and y quantized
/// with them as QuantizeLinear does (ONNX's definition, step for step).
LogicalResult importDynamicQuantizeLinear(NodeImporter &n) {
  if (failed(n.require(0, "x")))
    return failure();
  if (n.dtypeOf(0) != kFloat)
    return n.error() << "x of type " << dtypeName(n.dtypeOf(0))
                     << " is not supported; DynamicQuantizeLinear takes float";
  FailureOr<Value> x = n.value(0);
  if (failed(x))
    return failure();
  Type f32 = elementTypeOf(*x);
  auto axes = llvm::to_vector(llvm::seq<int64_t>(0, n.rankOf(0)));
  FailureOr<Value> zero = n.scalar(f32, 0.0);
  FailureOr<Value> lo = n.createOrFold<mpc::ReduceMinOp>(n.inferred(), *x, ArrayRef<int64_t>(axes),
                                                         false, TypeAttr());
  FailureOr<Value> hi = n.createOrFold<mpc::ReduceMaxOp>(n.inferred(), *x, ArrayRef<int64_t>(axes),
                                                         false, TypeAttr());
  lo = binary<mpc::MinOp>(n, lo, zero);
  hi = binary<mpc::MaxOp>(n, hi, zero);
  FailureOr<Value> scale = binary<mpc::DivOp>(n, binary<mpc::SubOp>(n, hi, lo), n.scalar(f32, 255.0));
  FailureOr<Value> zeroPoint =
      round(n, clip(n, binary<mpc::SubOp>(n, zero, binary<mpc::DivOp>(n, lo, scale)), 0.0, 255.0));
  FailureOr<Value> y = clip(
      n, binary<mpc::AddOp>(n, round(n, binary<mpc::DivOp>(n, x, scale)), zeroPoint), 0.0, 255.0);
  Type u8 = elementTypeFor(kUInt8, n.getContext());
  FailureOr<Value> yq = failed(y) ? y : n.castTo(*y, u8);
  FailureOr<Value> zq = failed(yq) ? yq : n.castTo(*zeroPoint, u8);
  if (failed(zq) || failed(n.setOutput(0, *yq)) || failed(n.setOutput(1, *scale)))
    return failure();
  return n.setOutput(2, *zq);
}

const OpImportInfo kTable[] = {
    {"DequantizeLinear", 13, kMaxOpset, importDequantizeLinear,
     "mpc.cast + mpc.sub + mpc.mul",
     "8- and 16-bit integer or int32 x; per-tensor or per-axis scale and zero point; no "
     "block_size"},
    {"DynamicQuantizeLinear", 11, kMaxOpset, importDynamicQuantizeLinear,
     "mpc.reduce_min/max + mpc.div + mpc.round + mpc.clip + mpc.cast",
     "float x to uint8, as ONNX defines it step for step"},
    {"QuantizeLinear", 13, kMaxOpset, importQuantizeLinear,
     "mpc.div + mpc.round + mpc.add + mpc.clip + mpc.cast",
     "float x to 8- or 16-bit integers (saturating, ties to even); per-tensor or per-axis scale "
     "and zero point; no block_size"},
};
} // namespace

ArrayRef<OpImportInfo> mpc::importer::quantizeOpTable() { return kTable; }
