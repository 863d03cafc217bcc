//===- ImportElementwise.cpp - unary, binary, compare, select, cast -------===//
#include "Importer.h"

using namespace mlir;
using namespace mpc::importer;

namespace {
Type elementTypeOf(Value v) { return cast<RankedTensorType>(v.getType()).getElementType(); }

/// mpc's integer ops take i32/i64/ui32/ui64; int8/int16/uint8/uint16 data
/// (which ONNX allows for Max, Min, Clip, the arithmetic ops and the
/// comparisons) is widened to i32 first, zero-extending the unsigned ones.
/// Exact for min/max/compare; Add/Sub/Mul/Div narrowed back by truncation
/// wrap around on overflow as ONNX Runtime and numpy do.
bool isNarrowInt(Type t) { return t.isInteger() && t.getIntOrFloatBitWidth() < 32; }

FailureOr<Value> widenNarrowInt(NodeImporter &n, Value v) {
  if (!isNarrowInt(elementTypeOf(v)))
    return v;
  return n.castTo(v, n.builder().getI32Type());
}

/// True when the node's constant inputs should be evaluated on the host
/// (HostTensor.h: ops whose folders would not match the compiled program):
/// all inputs are constants and the result is not too large.
bool evaluateOnHost(NodeImporter &n, ArrayRef<int64_t> resultShape) {
  int64_t count = checkedNumElements(resultShape);
  return n.allConstant() && count >= 0 && count <= kMaxHostElements;
}

constexpr int kNoHost = -1;

/// Unary ops; int8/int16 data (Neg, Abs) is computed in i32 and narrowed
/// back, wrapping as numpy does. HostKind >= 0 names the HostUnary that
/// evaluates constant inputs.
template <typename OpTy, int HostKind = kNoHost> LogicalResult importUnary(NodeImporter &n) {
  if (failed(n.require(0, "X")))
    return failure();
  if (HostKind != kNoHost && evaluateOnHost(n, n.shapeOf(0))) {
    std::string message;
    FailureOr<HostTensor> folded = hostUnary(HostUnary(HostKind), n.host(0), message);
    if (failed(folded))
      return n.error() << message;
    return n.setOutput(0, std::move(*folded));
  }
  FailureOr<Value> x = n.value(0);
  Type originalType = succeeded(x) ? elementTypeOf(*x) : Type();
  if (succeeded(x))
    x = widenNarrowInt(n, *x);
  FailureOr<Value> result =
      failed(x) ? FailureOr<Value>(failure()) : n.createOrFold<OpTy>(x->getType(), *x);
  if (succeeded(result) && elementTypeOf(*result) != originalType)
    result = n.castTo(*result, originalType);
  if (failed(result))
    return failure();
  return n.setOutput(0, *result);
}

/// Applies a broadcasting binary op to two values, casting the right operand
/// first when `castRhs` (Pow's exponent may have its own type).
template <typename OpTy>
FailureOr<Value> buildBinary(NodeImporter &n, Value lhs, Value rhs, bool castRhs = false) {
  Type lt = cast<RankedTensorType>(lhs.getType()).getElementType();
  Type rt = cast<RankedTensorType>(rhs.getType()).getElementType();
  if (lt != rt) {
    if (!castRhs)
      return n.error() << "operand element types differ (" << typeName(lt) << " and "
                       << typeName(rt) << "); ONNX requires them to match";
    FailureOr<Value> cast = n.castTo(rhs, lt);
    if (failed(cast))
      return failure();
    rhs = *cast;
  }
  return n.createOrFold<OpTy>(n.inferred(), lhs, rhs);
}

/// An integer division by a constant zero is undefined in the compiled code:
/// the model is wrong, and the importer says so.
LogicalResult checkDivisor(NodeImporter &n) {
  if (!n.isConstant(1) || isFloatDType(n.dtypeOf(1)))
    return success();
  if (llvm::is_contained(n.host(1).ints, 0))
    return n.error() << "integer division by zero";
  return success();
}

/// HostKind >= 0 names the HostBinary that evaluates constant inputs.
template <typename OpTy, int HostKind = kNoHost> LogicalResult importBinary(NodeImporter &n) {
  if (failed(n.require(0, "A")) || failed(n.require(1, "B")))
    return failure();
  std::string message;
  FailureOr<Shape> shape = rules::broadcast(n.shapeOf(0), n.shapeOf(1), message);
  if (failed(shape))
    return n.shapeError(message);
  if (HostKind != kNoHost && evaluateOnHost(n, *shape)) {
    FailureOr<HostTensor> folded = hostBinary(HostBinary(HostKind), n.host(0), n.host(1), message);
    if (failed(folded))
      return n.error() << message;
    return n.setOutput(0, std::move(*folded));
  }
  constexpr bool isPow = std::is_same_v<OpTy, mpc::PowOp>;
  if (std::is_same_v<OpTy, mpc::DivOp> && failed(checkDivisor(n)))
    return failure();
  FailureOr<Value> lhs = n.value(0);
  FailureOr<Value> rhs = failed(lhs) ? FailureOr<Value>(failure()) : n.value(1);
  if (failed(rhs))
    return failure();
  // mpc.pow is float only: an integer base (ONNX Pow's result has the base's
  // type) is computed in f64 and converted back, exact while the result fits
  // in 53 bits.
  Type baseType = elementTypeOf(*lhs);
  if (isPow && baseType.isInteger()) {
    Type f64 = n.builder().getF64Type();
    lhs = n.castTo(*lhs, f64);
    if (succeeded(lhs))
      rhs = n.castTo(*rhs, f64);
    if (failed(lhs) || failed(rhs))
      return failure();
  }
  if (!isPow && isNarrowInt(baseType)) {
    lhs = widenNarrowInt(n, *lhs);
    if (succeeded(lhs))
      rhs = widenNarrowInt(n, *rhs);
    if (failed(lhs) || failed(rhs))
      return failure();
  }
  FailureOr<Value> result = buildBinary<OpTy>(n, *lhs, *rhs, /*castRhs=*/isPow);
  // Comparisons give bool whatever the operands; everything else is brought
  // back to the operands' type.
  bool isCompare = succeeded(result) && elementTypeOf(*result).isInteger(1);
  if (succeeded(result) && !isCompare && elementTypeOf(*result) != baseType)
    result = n.castTo(*result, baseType);
  if (failed(result))
    return failure();
  return n.setOutput(0, *result);
}

/// Sum, Mean, Max, Min over 1..N inputs, as a left-to-right chain.
template <typename OpTy, bool IsMean = false> LogicalResult importVariadic(NodeImporter &n) {
  if (n.numInputs() == 0)
    return n.error() << "needs at least one input";
  Shape shape;
  std::string message;
  for (size_t i = 0; i < n.numInputs(); ++i) {
    if (failed(n.require(i, "data")))
      return failure();
    FailureOr<Shape> next = rules::broadcast(shape, n.shapeOf(i), message);
    if (failed(next))
      return n.shapeError(message);
    shape = *next;
  }
  if (n.numInputs() == 1 && !IsMean)
    return n.aliasOutput(0, 0);
  constexpr bool widen = std::is_same_v<OpTy, mpc::MaxOp> || std::is_same_v<OpTy, mpc::MinOp>;
  FailureOr<Value> acc = n.value(0);
  Type originalType = succeeded(acc) ? elementTypeOf(*acc) : Type();
  if (widen && succeeded(acc))
    acc = widenNarrowInt(n, *acc);
  for (size_t i = 1; succeeded(acc) && i < n.numInputs(); ++i) {
    FailureOr<Value> next = n.value(i);
    if (widen && succeeded(next))
      next = widenNarrowInt(n, *next);
    acc = failed(next) ? FailureOr<Value>(failure()) : buildBinary<OpTy>(n, *acc, *next);
  }
  if (widen && succeeded(acc) && elementTypeOf(*acc) != originalType)
    acc = n.castTo(*acc, originalType);
  if (failed(acc))
    return failure();
  if (IsMean && n.numInputs() > 1) {
    Type elementType = cast<RankedTensorType>(acc->getType()).getElementType();
    FailureOr<Value> count = n.scalar(elementType, double(n.numInputs()));
    acc = failed(count) ? FailureOr<Value>(failure()) : buildBinary<mpc::DivOp>(n, *acc, *count);
    if (failed(acc))
      return failure();
  }
  return n.setOutput(0, *acc);
}

LogicalResult importWhere(NodeImporter &n) {
  if (failed(n.require(0, "condition")) || failed(n.require(1, "X")) || failed(n.require(2, "Y")))
    return failure();
  std::string message;
  FailureOr<Shape> xy = rules::broadcast(n.shapeOf(1), n.shapeOf(2), message);
  FailureOr<Shape> shape =
      failed(xy) ? FailureOr<Shape>(failure()) : rules::broadcast(n.shapeOf(0), *xy, message);
  if (failed(shape))
    return n.shapeError(message);
  if (n.dtypeOf(0) != kBool)
    return n.error() << "condition must be bool, got " << dtypeName(n.dtypeOf(0));
  if (n.dtypeOf(1) != n.dtypeOf(2))
    return n.error() << "X and Y element types differ (" << dtypeName(n.dtypeOf(1)) << " and "
                     << dtypeName(n.dtypeOf(2)) << ")";
  FailureOr<Value> c = n.value(0);
  FailureOr<Value> x = failed(c) ? FailureOr<Value>(failure()) : n.value(1);
  FailureOr<Value> y = failed(x) ? FailureOr<Value>(failure()) : n.value(2);
  FailureOr<Value> result = failed(y) ? FailureOr<Value>(failure())
                                      : n.createOrFold<mpc::WhereOp>(n.inferred(), *c, *x, *y);
  if (failed(result))
    return failure();
  return n.setOutput(0, *result);
}

/// Cast and CastLike: mpc.cast (nothing when the type already matches),
/// which folds on a constant. A constant of a type the dialect lacks
/// (int4, ...) is converted on the host instead.
LogicalResult castInputTo(NodeImporter &n, int32_t to) {
  if (failed(n.require(0, "input")))
    return failure();
  FailureOr<int64_t> saturate = n.opset() >= 19 ? n.intAttr("saturate", 1) : FailureOr<int64_t>(1);
  if (failed(saturate))
    return failure();
  Type elementType = elementTypeFor(to, n.getContext());
  bool inDialect = elementType && elementTypeFor(n.dtypeOf(0), n.getContext());
  if (n.isConstant(0) && !inDialect && isHostDType(to))
    return n.setOutput(0, hostCast(n.host(0), to, *saturate != 0));
  if (!elementType)
    return n.error() << "casting to " << dtypeName(to) << " is not supported";
  if (n.dtypeOf(0) == to)
    return n.aliasOutput(0, 0);
  FailureOr<Value> x = n.value(0);
  if (failed(x))
    return failure();
  auto type = cast<RankedTensorType>(x->getType()).clone(elementType);
  FailureOr<Value> result = n.createOrFold<mpc::CastOp>(type, *x, *saturate != 0);
  if (failed(result))
    return failure();
  return n.setOutput(0, *result);
}

LogicalResult importCast(NodeImporter &n) {
  FailureOr<int64_t> to = n.intAttr("to", std::nullopt);
  if (failed(to))
    return failure();
  return castInputTo(n, int32_t(*to));
}

LogicalResult importCastLike(NodeImporter &n) {
  if (failed(n.require(1, "target_type")))
    return failure();
  return castInputTo(n, n.dtypeOf(1));
}

/// Clip with constant bounds becomes mpc.clip; bounds computed at run time
/// become mpc.max / mpc.min.
LogicalResult importClip(NodeImporter &n) {
  if (failed(n.require(0, "input")))
    return failure();
  FailureOr<Value> x = n.value(0);
  if (failed(x))
    return failure();
  Type originalType = elementTypeOf(*x);
  x = widenNarrowInt(n, *x);
  if (failed(x))
    return failure();
  FloatAttr bounds[2];
  Value result = *x;
  for (size_t i : {1, 2}) {
    if (!n.hasInput(i))
      continue;
    if (n.rankOf(i) != 0 && !(n.rankOf(i) == 1 && n.shapeOf(i)[0] == 1))
      return n.error() << (i == 1 ? "min" : "max") << " must be a scalar, got shape "
                       << shapeString(n.shapeOf(i));
    if (n.isConstant(i)) {
      bounds[i - 1] = n.builder().getF64FloatAttr(n.host(i).getDouble(0));
      continue;
    }
    FailureOr<Value> bound = n.value(i);
    if (succeeded(bound))
      bound = widenNarrowInt(n, *bound);
    if (failed(bound))
      return failure();
    FailureOr<Value> next = i == 1 ? buildBinary<mpc::MaxOp>(n, result, *bound)
                                   : buildBinary<mpc::MinOp>(n, result, *bound);
    if (failed(next))
      return failure();
    result = *next;
  }
  if (bounds[0] || bounds[1]) {
    FailureOr<Value> clipped =
        n.createOrFold<mpc::ClipOp>(result.getType(), result, bounds[0], bounds[1]);
    if (failed(clipped))
      return failure();
    result = *clipped;
  }
  if (elementTypeOf(result) != originalType) {
    FailureOr<Value> narrowed = n.castTo(result, originalType);
    if (failed(narrowed))
      return failure();
    result = *narrowed;
  }
  return n.setOutput(0, result);
}

LogicalResult importLeakyRelu(NodeImporter &n) {
  FailureOr<double> alpha = n.floatAttr("alpha", 0.01);
  FailureOr<Value> x = failed(alpha) ? FailureOr<Value>(failure()) : n.value(0);
  if (failed(x))
    return failure();
  FailureOr<Value> result =
      n.createOrFold<mpc::LeakyReluOp>(x->getType(), *x, n.builder().getF64FloatAttr(*alpha));
  if (failed(result))
    return failure();
  return n.setOutput(0, *result);
}

LogicalResult importGelu(NodeImporter &n) {
  FailureOr<std::string> approximate = n.stringAttr("approximate", std::string("none"));
  if (failed(approximate))
    return failure();
  if (*approximate != "none" && *approximate != "tanh")
    return n.error() << "attribute 'approximate' must be \"none\" or \"tanh\", got \""
                     << *approximate << "\"";
  FailureOr<Value> x = n.value(0);
  if (failed(x))
    return failure();
  FailureOr<Value> result = n.createOrFold<mpc::GeluOp>(x->getType(), *x, *approximate == "tanh");
  if (failed(result))
    return failure();
  return n.setOutput(0, *result);
}

const char *kFolds = "folded when the input is a constant";
const char *kBroadcast = "numpy broadcasting; 8- and 16-bit integer data is computed in i32 and "
                         "narrowed back (wrapping); uint32/uint64 unsigned; folded when both "
                         "inputs are constants";
const char *kChain = "N inputs become a chain of binary ops; folded when constant";
const char *kChainWiden = "N inputs become a chain of binary ops; 8- and 16-bit integer data is "
                          "widened to i32 and narrowed back; uint32/uint64 unsigned; folded when "
                          "constant";
const char *kCompare = "bool result; 8- and 16-bit integer data is compared in i32, uint32/uint64 "
                       "unsigned; folded when both inputs are constants";
const char *kOnHost = "evaluated at import (in double) when the input is a constant";

const OpImportInfo kTable[] = {
    {"Abs", 13, kMaxOpset, importUnary<mpc::AbsOp>, "mpc.abs",
     "int8/int16 data is computed in i32 and narrowed back; folded when the input is a "
     "constant"},
    {"Add", 13, kMaxOpset, importBinary<mpc::AddOp>, "mpc.add", kBroadcast},
    {"Cast", 13, kMaxOpset, importCast, "mpc.cast",
     "`saturate` (opset 19+) is kept for fp8; no op when the type already matches; folded when "
     "the input is a constant"},
    {"CastLike", 15, kMaxOpset, importCastLike, "mpc.cast", "as Cast, to the type of input 2"},
    {"Clip", 13, kMaxOpset, importClip, "mpc.clip",
     "constant min/max become attributes; computed ones become mpc.max / mpc.min; "
     "8- and 16-bit integer data is widened to i32 and narrowed back; folded when constant"},
    {"Div", 13, kMaxOpset, importBinary<mpc::DivOp>, "mpc.div",
     "integer division truncates (by a constant 0 it is an error); 8- and 16-bit integer data "
     "is computed in i32 and narrowed back, uint32/uint64 unsigned; numpy broadcasting; folded "
     "when both inputs are constants"},
    {"Equal", 13, kMaxOpset, importBinary<mpc::EqualOp>, "mpc.equal", kCompare},
    {"Erf", 13, kMaxOpset, importUnary<mpc::ErfOp>, "mpc.erf", ""},
    {"Exp", 13, kMaxOpset, importUnary<mpc::ExpOp, int(HostUnary::Exp)>, "mpc.exp", kOnHost},
    {"Gelu", 20, kMaxOpset, importGelu, "mpc.gelu", "`approximate` \"none\" (erf) or \"tanh\""},
    {"Greater", 13, kMaxOpset, importBinary<mpc::GreaterOp>, "mpc.greater", kCompare},
    {"GreaterOrEqual", 13, kMaxOpset, importBinary<mpc::GreaterEqualOp>, "mpc.greater_equal",
     kCompare},
    {"LeakyRelu", 13, kMaxOpset, importLeakyRelu, "mpc.leaky_relu", ""},
    {"Less", 13, kMaxOpset, importBinary<mpc::LessOp>, "mpc.less", kCompare},
    {"LessOrEqual", 13, kMaxOpset, importBinary<mpc::LessEqualOp>, "mpc.less_equal", kCompare},
    {"Log", 13, kMaxOpset, importUnary<mpc::LogOp, int(HostUnary::Log)>, "mpc.log", kOnHost},
    {"Max", 13, kMaxOpset, importVariadic<mpc::MaxOp>, "mpc.max", kChainWiden},
    {"Mean", 13, kMaxOpset, importVariadic<mpc::AddOp, true>, "mpc.add + mpc.div", kChain},
    {"Min", 13, kMaxOpset, importVariadic<mpc::MinOp>, "mpc.min", kChainWiden},
    {"Mul", 13, kMaxOpset, importBinary<mpc::MulOp>, "mpc.mul", kBroadcast},
    {"Neg", 13, kMaxOpset, importUnary<mpc::NegOp>, "mpc.neg",
     "int8/int16 data is computed in i32 and narrowed back (wrapping); folded when the input "
     "is a constant"},
    {"Pow", 13, kMaxOpset, importBinary<mpc::PowOp, int(HostBinary::Pow)>, "mpc.pow",
     "an exponent of another type is cast to the base's; an integer base is computed in f64 "
     "and converted back (exact below 2^53); evaluated at import when both are constants"},
    {"Reciprocal", 13, kMaxOpset, importUnary<mpc::ReciprocalOp>, "mpc.reciprocal", kFolds},
    {"Relu", 13, kMaxOpset, importUnary<mpc::ReluOp>, "mpc.relu", kFolds},
    {"Sigmoid", 13, kMaxOpset, importUnary<mpc::SigmoidOp>, "mpc.sigmoid", ""},
    {"Sqrt", 13, kMaxOpset, importUnary<mpc::SqrtOp>, "mpc.sqrt", kFolds},
    {"Sub", 13, kMaxOpset, importBinary<mpc::SubOp>, "mpc.sub", kBroadcast},
    {"Sum", 13, kMaxOpset, importVariadic<mpc::AddOp>, "mpc.add", kChain},
    {"Tanh", 13, kMaxOpset, importUnary<mpc::TanhOp>, "mpc.tanh", ""},
    {"Where", 13, kMaxOpset, importWhere, "mpc.where",
     "numpy broadcasting; folded when all inputs are constants"},
};
} // namespace

ArrayRef<OpImportInfo> mpc::importer::elementwiseOpTable() { return kTable; }
