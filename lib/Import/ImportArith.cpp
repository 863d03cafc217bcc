//===- ImportArith.cpp - Mod, Shrink, BitShift, Bitwise* -------------------===//
//
// Elementwise ops ONNX defines through division or thresholds, built from
// mpc's arithmetic, comparisons and selects; the bit operations on integers.
//
//===----------------------------------------------------------------------===//
#include "Importer.h"

#include <cmath>
#include <limits>

using namespace mlir;
using namespace mpc::importer;

namespace {
Type elementTypeOf(Value v) { return cast<RankedTensorType>(v.getType()).getElementType(); }

template <typename OpTy> FailureOr<Value> binary(NodeImporter &n, Value lhs, FailureOr<Value> rhs) {
  return failed(rhs) ? rhs : n.createOrFold<OpTy>(n.inferred(), lhs, *rhs);
}

FailureOr<Value> select(NodeImporter &n, FailureOr<Value> condition, Value x, FailureOr<Value> y) {
  if (failed(condition) || failed(y))
    return failure();
  return n.createOrFold<mpc::WhereOp>(n.inferred(), *condition, x, *y);
}

FailureOr<Value> isInfinite(NodeImporter &n, Value v, Value inf) {
  FailureOr<Value> magnitude = n.createOrFold<mpc::AbsOp>(v.getType(), v);
  return failed(magnitude) ? magnitude : binary<mpc::EqualOp>(n, *magnitude, inf);
}

/// C's fmod where the quotient is not finite: fmod(a, +-inf) = a; an
/// infinite a or a zero b gives NaN. `r` is the remainder elsewhere.
FailureOr<Value> fmodEdges(NodeImporter &n, Value a, Value b, Value r) {
  Type type = elementTypeOf(a);
  FailureOr<Value> inf = n.scalar(type, std::numeric_limits<double>::infinity());
  FailureOr<Value> zero = failed(inf) ? inf : n.scalar(type, 0.0);
  FailureOr<Value> nan = failed(zero) ? zero : n.scalar(type, std::nan(""));
  FailureOr<Value> yes = failed(nan) ? nan : n.scalar(n.builder().getI1Type(), 1);
  if (failed(yes))
    return failure();
  FailureOr<Value> bInfinite = isInfinite(n, b, *inf);
  FailureOr<Value> aInfinite = failed(bInfinite) ? bInfinite : isInfinite(n, a, *inf);
  FailureOr<Value> bZero = failed(aInfinite) ? aInfinite : binary<mpc::EqualOp>(n, b, *zero);
  FailureOr<Value> invalid = select(n, aInfinite, *yes, bZero);
  FailureOr<Value> finite = select(n, bInfinite, a, r);
  return failed(finite) ? finite : select(n, invalid, *nan, finite);
}

/// a - trunc(a / b) * b: C's fmod (the sign of a). Integers divide
/// truncating; floats are computed in f64 and the quotient truncated by a
/// cast to i64, exact for f16/f32 operands while |a / b| < 2^29 (a quotient
/// of 2^63 or more gives an unspecified result).
FailureOr<Value> truncatedRemainder(NodeImporter &n, Value a, Value b) {
  Type type = elementTypeOf(a);
  if (type.isInteger())
    return binary<mpc::SubOp>(n, a, binary<mpc::MulOp>(n, b, binary<mpc::DivOp>(n, a, b)));
  Type f64 = n.builder().getF64Type();
  FailureOr<Value> wideA = n.castTo(a, f64);
  FailureOr<Value> wideB = failed(wideA) ? wideA : n.castTo(b, f64);
  FailureOr<Value> quotient = failed(wideB) ? wideB : binary<mpc::DivOp>(n, *wideA, *wideB);
  FailureOr<Value> truncated =
      failed(quotient) ? quotient : n.castTo(*quotient, n.builder().getI64Type());
  FailureOr<Value> whole = failed(truncated) ? truncated : n.castTo(*truncated, f64);
  FailureOr<Value> remainder =
      failed(whole) ? whole : binary<mpc::SubOp>(n, *wideA, binary<mpc::MulOp>(n, *whole, *wideB));
  FailureOr<Value> narrowed = failed(remainder) ? remainder : n.castTo(*remainder, type);
  return failed(narrowed) ? narrowed : fmodEdges(n, a, b, *narrowed);
}

/// fmod=0: the remainder takes the divisor's sign, so a
/// nonzero remainder whose sign differs from b's gets b added.
FailureOr<Value> flooredRemainder(NodeImporter &n, Value a, Value b) {
  FailureOr<Value> r = truncatedRemainder(n, a, b);
  FailureOr<Value> zero = failed(r) ? r : n.scalar(elementTypeOf(a), 0);
  FailureOr<Value> no = failed(zero) ? zero : n.scalar(n.builder().getI1Type(), 0);
  FailureOr<Value> rNegative = failed(no) ? no : binary<mpc::LessOp>(n, *r, *zero);
  FailureOr<Value> rPositive = failed(rNegative) ? rNegative : binary<mpc::GreaterOp>(n, *r, *zero);
  FailureOr<Value> bNegative = failed(rPositive) ? rPositive : binary<mpc::LessOp>(n, b, *zero);
  FailureOr<Value> bPositive = failed(bNegative) ? bNegative : binary<mpc::GreaterOp>(n, b, *zero);
  FailureOr<Value> adjusted = failed(bPositive) ? bPositive : binary<mpc::AddOp>(n, *r, b);
  if (failed(adjusted))
    return failure();
  FailureOr<Value> signsDiffer =
      select(n, rNegative, *bPositive, select(n, rPositive, *bNegative, no));
  return select(n, signsDiffer, *adjusted, r);
}

/// int8/int16 are computed in i32 (exact: the remainder is no larger than
/// the operands) and narrowed back. Unsigned operands need no
/// sign correction: both remainders are a - (a / b) * b.
LogicalResult importMod(NodeImporter &n) {
  FailureOr<int64_t> fmod = n.intAttr("fmod", 0);
  if (failed(fmod) || failed(n.require(0, "A")) || failed(n.require(1, "B")))
    return failure();
  int32_t dtype = n.dtypeOf(0);
  bool isFloat = isFloatDType(dtype);
  if (n.dtypeOf(1) != dtype)
    return n.error() << "A and B element types differ (" << dtypeName(dtype) << " and "
                     << dtypeName(n.dtypeOf(1)) << ")";
  if (isFloat && !*fmod && n.opset() < 28)
    return n.error() << "fmod must be 1 for float operands before opset 28";
  bool isUnsigned = dtype == kUInt8 || dtype == kUInt16 || dtype == kUInt32 || dtype == kUInt64;
  if (!isFloat && !isUnsigned && dtype != kInt8 && dtype != kInt16 && dtype != kInt32 &&
      dtype != kInt64)
    return n.error() << "operands of type " << dtypeName(dtype)
                     << " are not supported; use an integer or a float type";
  if (!isFloat && n.isConstant(1) && llvm::is_contained(n.host(1).ints, 0))
    return n.error() << "integer modulo by zero";
  std::string message;
  if (failed(rules::broadcast(n.shapeOf(0), n.shapeOf(1), message)))
    return n.shapeError(message);
  FailureOr<Value> a = n.value(0);
  FailureOr<Value> b = failed(a) ? a : n.value(1);
  if (failed(b))
    return failure();
  Type type = elementTypeOf(*a);
  if (type.isInteger() && type.getIntOrFloatBitWidth() < 32) {
    a = n.castTo(*a, n.builder().getI32Type());
    b = failed(a) ? a : n.castTo(*b, n.builder().getI32Type());
    if (failed(b))
      return failure();
  }
  FailureOr<Value> result =
      *fmod || isUnsigned ? truncatedRemainder(n, *a, *b) : flooredRemainder(n, *a, *b);
  result = failed(result) ? result : n.castTo(*result, type);
  if (failed(result))
    return failure();
  return n.setOutput(0, *result);
}

/// x < -lambd: x + bias; x > lambd: x - bias; else 0.
LogicalResult importShrink(NodeImporter &n) {
  FailureOr<double> bias = n.floatAttr("bias", 0.0);
  FailureOr<double> lambd = n.floatAttr("lambd", 0.5);
  if (failed(bias) || failed(lambd) || failed(n.require(0, "input")))
    return failure();
  int32_t dtype = n.dtypeOf(0);
  if (!isFloatDType(dtype) && dtype != kInt32 && dtype != kInt64)
    return n.error() << "input of type " << dtypeName(dtype)
                     << " is not supported; use int32, int64 or a float type";
  FailureOr<Value> x = n.value(0);
  if (failed(x))
    return failure();
  Type type = elementTypeOf(*x);
  FailureOr<Value> low = n.scalar(type, -*lambd);
  FailureOr<Value> high = failed(low) ? low : n.scalar(type, *lambd);
  FailureOr<Value> shift = failed(high) ? high : n.scalar(type, *bias);
  FailureOr<Value> zero = failed(shift) ? shift : n.scalar(type, 0.0);
  if (failed(zero))
    return failure();
  FailureOr<Value> above = binary<mpc::SubOp>(n, *x, *shift);
  FailureOr<Value> upper =
      failed(above) ? above : select(n, binary<mpc::GreaterOp>(n, *x, *high), *above, zero);
  FailureOr<Value> below = failed(upper) ? upper : binary<mpc::AddOp>(n, *x, *shift);
  FailureOr<Value> result =
      failed(below) ? below : select(n, binary<mpc::LessOp>(n, *x, *low), *below, upper);
  if (failed(result))
    return failure();
  return n.setOutput(0, *result);
}

LogicalResult importBitShift(NodeImporter &n) {
  FailureOr<std::string> direction = n.stringAttr("direction", std::nullopt);
  if (failed(direction) || failed(n.require(0, "X")) || failed(n.require(1, "Y")))
    return failure();
  if (*direction != "LEFT" && *direction != "RIGHT")
    return n.error() << "attribute 'direction' is '" << *direction
                     << "'; it must be \"LEFT\" or \"RIGHT\"";
  int32_t dtype = n.dtypeOf(0);
  bool isUnsigned = dtype == kUInt8 || dtype == kUInt16 || dtype == kUInt32 || dtype == kUInt64;
  bool isSigned = dtype == kInt8 || dtype == kInt16 || dtype == kInt32 || dtype == kInt64;
  if (!isUnsigned && !(isSigned && n.opset() >= 28))
    return n.error() << "X of type " << dtypeName(dtype) << " is not supported; BitShift takes "
                     << (isSigned ? "signed integers from opset 28" : "integers");
  if (n.dtypeOf(1) != dtype)
    return n.error() << "X and Y element types differ (" << dtypeName(dtype) << " and "
                     << dtypeName(n.dtypeOf(1)) << ")";
  std::string message;
  if (failed(rules::broadcast(n.shapeOf(0), n.shapeOf(1), message)))
    return n.shapeError(message);
  FailureOr<Value> x = n.value(0);
  FailureOr<Value> y = failed(x) ? x : n.value(1);
  FailureOr<Value> result = failed(y) ? y
                                      : n.createOrFold<mpc::BitShiftOp>(n.inferred(), *x, *y,
                                                                       *direction == "LEFT");
  if (failed(result))
    return failure();
  return n.setOutput(0, *result);
}

bool isIntegerDType(int32_t dtype) {
  return llvm::is_contained({kInt8, kInt16, kInt32, kInt64, kUInt8, kUInt16, kUInt32, kUInt64},
                            dtype);
}

/// Input i after checking that it is an integer tensor of `dtype`.
LogicalResult requireBitwiseInput(NodeImporter &n, size_t i, StringRef what, int32_t dtype) {
  if (failed(n.require(i, what)))
    return failure();
  if (!isIntegerDType(n.dtypeOf(i)))
    return n.error() << what << " of type " << dtypeName(n.dtypeOf(i))
                     << " is not supported; the bitwise ops take int8..int64 and uint8..uint64";
  if (n.dtypeOf(i) != dtype)
    return n.error() << "A and B element types differ (" << dtypeName(dtype) << " and "
                     << dtypeName(n.dtypeOf(i)) << ")";
  return success();
}

template <typename OpTy> LogicalResult importBitwise(NodeImporter &n) {
  if (failed(requireBitwiseInput(n, 0, "A", n.dtypeOf(0))) ||
      failed(requireBitwiseInput(n, 1, "B", n.dtypeOf(0))))
    return failure();
  std::string message;
  if (failed(rules::broadcast(n.shapeOf(0), n.shapeOf(1), message)))
    return n.shapeError(message);
  FailureOr<Value> a = n.value(0);
  FailureOr<Value> result = failed(a) ? a : binary<OpTy>(n, *a, n.value(1));
  if (failed(result))
    return failure();
  return n.setOutput(0, *result);
}

LogicalResult importBitwiseNot(NodeImporter &n) {
  if (failed(n.require(0, "X")))
    return failure();
  if (!isIntegerDType(n.dtypeOf(0)))
    return n.error() << "X of type " << dtypeName(n.dtypeOf(0))
                     << " is not supported; the bitwise ops take int8..int64 and uint8..uint64";
  FailureOr<Value> x = n.value(0);
  FailureOr<Value> result =
      failed(x) ? x : n.createOrFold<mpc::BitwiseNotOp>(x->getType(), *x);
  if (failed(result))
    return failure();
  return n.setOutput(0, *result);
}

const OpImportInfo kTable[] = {
    {"BitShift", 11, kMaxOpset, importBitShift, "mpc.bit_shift",
     "uint8..uint64, int8..int64 from opset 28 (right shifts arithmetic); an out-of-range "
     "amount gives 0 (-1 for a negative value shifted right)"},
    {"BitwiseAnd", 18, kMaxOpset, importBitwise<mpc::BitwiseAndOp>, "mpc.bitwise_and",
     "int8..int64, uint8..uint64"},
    {"BitwiseNot", 18, kMaxOpset, importBitwiseNot, "mpc.bitwise_not", "int8..int64, uint8..uint64"},
    {"BitwiseOr", 18, kMaxOpset, importBitwise<mpc::BitwiseOrOp>, "mpc.bitwise_or",
     "int8..int64, uint8..uint64"},
    {"BitwiseXor", 18, kMaxOpset, importBitwise<mpc::BitwiseXorOp>, "mpc.bitwise_xor",
     "int8..int64, uint8..uint64"},
    {"Mod", 13, kMaxOpset, importMod, "mpc.div + mpc.mul + mpc.sub (+ mpc.where)",
     "integers (fmod 0 or 1) and floats (fmod=1; also 0 from opset 28), computed in f64 "
     "from the truncated "
     "quotient (exact for float16/float while the quotient is below 2^29 in magnitude)"},
    {"Shrink", 13, kMaxOpset, importShrink, "mpc.where + mpc.sub + mpc.add", "float, int32, int64"},
};
} // namespace

ArrayRef<OpImportInfo> mpc::importer::arithOpTable() { return kTable; }
