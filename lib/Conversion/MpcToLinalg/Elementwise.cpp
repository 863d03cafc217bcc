//===- Elementwise.cpp - unary, binary, compare and select ops -> linalg --===//
//
// Each op becomes one broadcasting linalg.generic that computes in the
// operands' own element type, so bf16/f16 results are rounded after every
// scalar op, as the hardware would. fp8 has no arithmetic: its elements are
// widened to f32, computed, and rounded back once per op.
//
//===----------------------------------------------------------------------===//
#include "LoweringUtils.h"

#include "mpc/Dialect/MpcDialect.h"

#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/Matchers.h"

#include <cmath>

using namespace mlir;

namespace mpc::lowering {
namespace {

bool isFloat(Value v) { return isa<FloatType>(v.getType()); }
Value constLike(OpBuilder &b, Location loc, Value like, double value) {
  return scalarConstant(b, loc, like.getType(), value);
}

//===----------------------------------------------------------------------===//
// Scalar bodies, one overload per op
//===----------------------------------------------------------------------===//

Value scalarOp(NegOp, OpBuilder &b, Location loc, ValueRange a) {
  if (isFloat(a[0]))
    return arith::NegFOp::create(b, loc, a[0]);
  return arith::SubIOp::create(b, loc, constLike(b, loc, a[0], 0), a[0]);
}
Value scalarOp(AbsOp op, OpBuilder &b, Location loc, ValueRange a) {
  if (isFloat(a[0]))
    return math::AbsFOp::create(b, loc, a[0]);
  if (readsUnsigned(op))
    return a[0];
  return math::AbsIOp::create(b, loc, a[0]);
}
Value scalarOp(ExpOp, OpBuilder &b, Location loc, ValueRange a) { return math::ExpOp::create(b, loc, a[0]); }
Value scalarOp(LogOp, OpBuilder &b, Location loc, ValueRange a) { return math::LogOp::create(b, loc, a[0]); }
Value scalarOp(SqrtOp, OpBuilder &b, Location loc, ValueRange a) { return math::SqrtOp::create(b, loc, a[0]); }
Value scalarOp(TanhOp, OpBuilder &b, Location loc, ValueRange a) { return math::TanhOp::create(b, loc, a[0]); }
Value scalarOp(ErfOp, OpBuilder &b, Location loc, ValueRange a) { return math::ErfOp::create(b, loc, a[0]); }
Value scalarOp(ReciprocalOp, OpBuilder &b, Location loc, ValueRange a) {
  return arith::DivFOp::create(b, loc, constLike(b, loc, a[0], 1.0), a[0]);
}
Value scalarOp(SigmoidOp, OpBuilder &b, Location loc, ValueRange a) {
  Value one = constLike(b, loc, a[0], 1.0);
  Value expNeg = math::ExpOp::create(b, loc, arith::NegFOp::create(b, loc, a[0]));
  return arith::DivFOp::create(b, loc, one, arith::AddFOp::create(b, loc, one, expNeg));
}
Value scalarOp(ReluOp, OpBuilder &b, Location loc, ValueRange a) {
  return arith::MaximumFOp::create(b, loc, a[0], constLike(b, loc, a[0], 0.0));
}
Value scalarOp(GeluOp op, OpBuilder &b, Location loc, ValueRange a) {
  Value x = a[0];
  Value half = constLike(b, loc, x, 0.5), one = constLike(b, loc, x, 1.0);
  Value phiTerm;
  if (op.getApproximateTanh()) {
    // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
    Value x3 = arith::MulFOp::create(b, loc, arith::MulFOp::create(b, loc, x, x), x);
    Value inner = arith::AddFOp::create(
        b, loc, x, arith::MulFOp::create(b, loc, constLike(b, loc, x, 0.044715), x3));
    Value scaled = arith::MulFOp::create(b, loc, constLike(b, loc, x, std::sqrt(2.0 / M_PI)), inner);
    phiTerm = math::TanhOp::create(b, loc, scaled);
  } else {
    // 0.5 x (1 + erf(x / sqrt(2)))
    Value scaled = arith::MulFOp::create(b, loc, x, constLike(b, loc, x, M_SQRT1_2));
    phiTerm = math::ErfOp::create(b, loc, scaled);
  }
  Value halfX = arith::MulFOp::create(b, loc, half, x);
  return arith::MulFOp::create(b, loc, halfX, arith::AddFOp::create(b, loc, one, phiTerm));
}
Value scalarOp(LeakyReluOp op, OpBuilder &b, Location loc, ValueRange a) {
  Value x = a[0];
  Value nonNegative =
      arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGE, x, constLike(b, loc, x, 0.0));
  Value scaled = arith::MulFOp::create(b, loc, constLike(b, loc, x, op.getAlpha().convertToDouble()), x);
  return arith::SelectOp::create(b, loc, nonNegative, x, scaled);
}
Value scalarOp(ClipOp op, OpBuilder &b, Location loc, ValueRange a) {
  Value x = a[0];
  bool isUnsigned = readsUnsigned(op);
  if (auto lo = op.getMin())
    x = maxScalar(b, loc, x, constLike(b, loc, x, lo->convertToDouble()), isUnsigned);
  if (auto hi = op.getMax())
    x = minScalar(b, loc, x, constLike(b, loc, x, hi->convertToDouble()), isUnsigned);
  return x;
}

Value scalarOp(SinOp, OpBuilder &b, Location loc, ValueRange a) { return math::SinOp::create(b, loc, a[0]); }
Value scalarOp(CosOp, OpBuilder &b, Location loc, ValueRange a) { return math::CosOp::create(b, loc, a[0]); }
Value scalarOp(TanOp, OpBuilder &b, Location loc, ValueRange a) { return math::TanOp::create(b, loc, a[0]); }
Value scalarOp(AsinOp, OpBuilder &b, Location loc, ValueRange a) { return math::AsinOp::create(b, loc, a[0]); }
Value scalarOp(AcosOp, OpBuilder &b, Location loc, ValueRange a) { return math::AcosOp::create(b, loc, a[0]); }
Value scalarOp(AtanOp, OpBuilder &b, Location loc, ValueRange a) { return math::AtanOp::create(b, loc, a[0]); }
Value scalarOp(SinhOp, OpBuilder &b, Location loc, ValueRange a) { return math::SinhOp::create(b, loc, a[0]); }
Value scalarOp(CoshOp, OpBuilder &b, Location loc, ValueRange a) { return math::CoshOp::create(b, loc, a[0]); }
Value scalarOp(AsinhOp, OpBuilder &b, Location loc, ValueRange a) { return math::AsinhOp::create(b, loc, a[0]); }
Value scalarOp(AcoshOp, OpBuilder &b, Location loc, ValueRange a) { return math::AcoshOp::create(b, loc, a[0]); }
Value scalarOp(AtanhOp, OpBuilder &b, Location loc, ValueRange a) { return math::AtanhOp::create(b, loc, a[0]); }
Value scalarOp(FloorOp, OpBuilder &b, Location loc, ValueRange a) { return math::FloorOp::create(b, loc, a[0]); }
Value scalarOp(CeilOp, OpBuilder &b, Location loc, ValueRange a) { return math::CeilOp::create(b, loc, a[0]); }
Value scalarOp(RoundOp, OpBuilder &b, Location loc, ValueRange a) { return math::RoundEvenOp::create(b, loc, a[0]); }

template <typename FloatOp, typename IntOp>
Value arithmetic(OpBuilder &b, Location loc, ValueRange a) {
  if (isFloat(a[0]))
    return FloatOp::create(b, loc, a[0], a[1]);
  return IntOp::create(b, loc, a[0], a[1]);
}
Value scalarOp(AddOp, OpBuilder &b, Location loc, ValueRange a) {
  return arithmetic<arith::AddFOp, arith::AddIOp>(b, loc, a);
}
Value scalarOp(SubOp, OpBuilder &b, Location loc, ValueRange a) {
  return arithmetic<arith::SubFOp, arith::SubIOp>(b, loc, a);
}
Value scalarOp(MulOp, OpBuilder &b, Location loc, ValueRange a) {
  return arithmetic<arith::MulFOp, arith::MulIOp>(b, loc, a);
}
Value scalarOp(DivOp op, OpBuilder &b, Location loc, ValueRange a) {
  if (readsUnsigned(op))
    return arith::DivUIOp::create(b, loc, a[0], a[1]);
  return arithmetic<arith::DivFOp, arith::DivSIOp>(b, loc, a);
}
/// x^2 and x^3 with a constant exponent (GPT-2's tanh GELU, layer norms
/// written as Pow) become multiplies in f32/f64: powf is a libm call per
/// element, ~15% of a GPT-2-style decoder's run time. x * x is correctly
/// rounded (powf is within ~1 ulp); x * x * x rounds twice (<= ~1.5 ulp).
/// bf16/f16 keep powf: emulated in f32 and rounded once, as before.
Value scalarOp(PowOp op, OpBuilder &b, Location loc, ValueRange a) {
  DenseFPElementsAttr exponent;
  if (!isa<BFloat16Type, Float16Type>(a[0].getType()) && matchPattern(op.getOperand(1), m_Constant(&exponent)) &&
      exponent.isSplat()) {
    APFloat e = exponent.getSplatValue<APFloat>();
    if (e.isExactlyValue(2.0))
      return arith::MulFOp::create(b, loc, a[0], a[0]);
    if (e.isExactlyValue(3.0))
      return arith::MulFOp::create(b, loc, arith::MulFOp::create(b, loc, a[0], a[0]), a[0]);
  }
  return math::PowFOp::create(b, loc, a[0], a[1]);
}
Value scalarOp(MaxOp op, OpBuilder &b, Location loc, ValueRange a) {
  return maxScalar(b, loc, a[0], a[1], readsUnsigned(op));
}
Value scalarOp(MinOp op, OpBuilder &b, Location loc, ValueRange a) {
  return minScalar(b, loc, a[0], a[1], readsUnsigned(op));
}

// Ordered float predicates: any comparison with NaN is false, as in ONNX.
Value compare(OpBuilder &b, Location loc, ValueRange a, arith::CmpFPredicate fp,
              arith::CmpIPredicate ip) {
  if (isFloat(a[0]))
    return arith::CmpFOp::create(b, loc, fp, a[0], a[1]);
  return arith::CmpIOp::create(b, loc, ip, a[0], a[1]);
}
/// The integer predicate for `op`'s operands: `sp` for signed, `up` for unsigned.
arith::CmpIPredicate intPredicate(Operation *op, arith::CmpIPredicate sp, arith::CmpIPredicate up) {
  return readsUnsigned(op) ? up : sp;
}
Value scalarOp(EqualOp, OpBuilder &b, Location loc, ValueRange a) {
  return compare(b, loc, a, arith::CmpFPredicate::OEQ, arith::CmpIPredicate::eq);
}
Value scalarOp(LessOp op, OpBuilder &b, Location loc, ValueRange a) {
  return compare(b, loc, a, arith::CmpFPredicate::OLT,
                 intPredicate(op, arith::CmpIPredicate::slt, arith::CmpIPredicate::ult));
}
Value scalarOp(LessEqualOp op, OpBuilder &b, Location loc, ValueRange a) {
  return compare(b, loc, a, arith::CmpFPredicate::OLE,
                 intPredicate(op, arith::CmpIPredicate::sle, arith::CmpIPredicate::ule));
}
Value scalarOp(GreaterOp op, OpBuilder &b, Location loc, ValueRange a) {
  return compare(b, loc, a, arith::CmpFPredicate::OGT,
                 intPredicate(op, arith::CmpIPredicate::sgt, arith::CmpIPredicate::ugt));
}
Value scalarOp(GreaterEqualOp op, OpBuilder &b, Location loc, ValueRange a) {
  return compare(b, loc, a, arith::CmpFPredicate::OGE,
                 intPredicate(op, arith::CmpIPredicate::sge, arith::CmpIPredicate::uge));
}
/// Out-of-range amounts (negative ones read as unsigned are too) give the
/// fill: 0, or x >> (width - 1) for an arithmetic right shift.
Value scalarOp(BitShiftOp op, OpBuilder &b, Location loc, ValueRange a) {
  Value x = a[0], n = a[1];
  unsigned width = x.getType().getIntOrFloatBitWidth();
  bool arithmetic = !op.getLeft() && !readsUnsigned(op);
  Value shifted, fill = constLike(b, loc, x, 0);
  if (op.getLeft()) {
    shifted = arith::ShLIOp::create(b, loc, x, n);
  } else if (arithmetic) {
    shifted = arith::ShRSIOp::create(b, loc, x, n);
    fill = arith::ShRSIOp::create(b, loc, x, constLike(b, loc, x, width - 1));
  } else {
    shifted = arith::ShRUIOp::create(b, loc, x, n);
  }
  Value inRange =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, n, constLike(b, loc, x, width));
  return arith::SelectOp::create(b, loc, inRange, shifted, fill);
}
Value scalarOp(BitwiseAndOp, OpBuilder &b, Location loc, ValueRange a) {
  return arith::AndIOp::create(b, loc, a[0], a[1]);
}
Value scalarOp(BitwiseOrOp, OpBuilder &b, Location loc, ValueRange a) {
  return arith::OrIOp::create(b, loc, a[0], a[1]);
}
Value scalarOp(BitwiseXorOp, OpBuilder &b, Location loc, ValueRange a) {
  return arith::XOrIOp::create(b, loc, a[0], a[1]);
}
Value scalarOp(BitwiseNotOp, OpBuilder &b, Location loc, ValueRange a) {
  return arith::XOrIOp::create(b, loc, a[0], constLike(b, loc, a[0], -1));
}
Value scalarOp(WhereOp, OpBuilder &b, Location loc, ValueRange a) {
  return arith::SelectOp::create(b, loc, a[0], a[1], a[2]);
}
/// NaN and +-0 are their own sign: neither comparison holds for them.
Value scalarOp(SignOp op, OpBuilder &b, Location loc, ValueRange a) {
  Value x = a[0], zero = constLike(b, loc, x, 0.0);
  Value positive = compare(b, loc, {x, zero}, arith::CmpFPredicate::OGT,
                           intPredicate(op, arith::CmpIPredicate::sgt, arith::CmpIPredicate::ugt));
  Value negative = compare(b, loc, {x, zero}, arith::CmpFPredicate::OLT,
                           intPredicate(op, arith::CmpIPredicate::slt, arith::CmpIPredicate::ult));
  Value minusOrSame = arith::SelectOp::create(b, loc, negative, constLike(b, loc, x, -1.0), x);
  return arith::SelectOp::create(b, loc, positive, constLike(b, loc, x, 1.0), minusOrSame);
}

//===----------------------------------------------------------------------===//
// The one pattern, instantiated per op
//===----------------------------------------------------------------------===//

template <typename OpTy>
struct ElementwiseLowering : OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;

  LogicalResult matchAndRewrite(OpTy op, PatternRewriter &rewriter) const override {
    auto resultType = cast<RankedTensorType>(op->getResult(0).getType());
    Type resultElement = resultType.getElementType();
    Value result = buildElementwise(
        rewriter, op.getLoc(), op->getOperands(), resultType,
        [&](OpBuilder &b, Location loc, ValueRange args) {
          SmallVector<Value> computeArgs;
          for (Value arg : args)
            computeArgs.push_back(convertScalar(b, loc, arg, computeTypeFor(arg.getType())));
          Value computed = scalarOp(op, b, loc, computeArgs);
          return convertScalar(b, loc, computed, resultElement);
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

template <typename... Ops>
void addElementwise(RewritePatternSet &patterns) {
  (patterns.add<ElementwiseLowering<Ops>>(patterns.getContext()), ...);
}

} // namespace

void populateElementwisePatterns(RewritePatternSet &patterns) {
  addElementwise<NegOp, AbsOp, ExpOp, LogOp, SqrtOp, ReciprocalOp, TanhOp, SigmoidOp, ReluOp,
                 ErfOp, GeluOp, LeakyReluOp, ClipOp>(patterns);
  addElementwise<SinOp, CosOp, TanOp, AsinOp, AcosOp, AtanOp, SinhOp, CoshOp, AsinhOp, AcoshOp,
                 AtanhOp, FloorOp, CeilOp, RoundOp, SignOp>(patterns);
  addElementwise<AddOp, SubOp, MulOp, DivOp, PowOp, MaxOp, MinOp, BitShiftOp>(patterns);
  addElementwise<BitwiseAndOp, BitwiseOrOp, BitwiseXorOp, BitwiseNotOp>(patterns);
  addElementwise<EqualOp, LessOp, LessEqualOp, GreaterOp, GreaterEqualOp, WhereOp>(patterns);
}

} // namespace mpc::lowering
