//===- NarrowFloats.cpp - bf16 arithmetic and fp8 conversions for the CPU -===//
//
// What LLVM's CPU backends do not give us for free:
// - bf16 arithmetic: legalized through libgcc's __truncsfbf2, which GCC 12
//   lacks. Each bf16 op here computes in f32 and rounds back (exactly what
//   hardware without bf16 ALUs does; f32 is wide enough that this rounding
//   twice is innocuous for + - * / sqrt). Vectors alike, and f16 on request
//   (the vectorizer takes f32 bodies between casts).
// - f16/bf16 math functions: computed in f32, rounded back per op.
// - bf16 casts: integer operations on the bit patterns, which vectorize.
//   LLVM's own choice on AVX512-BF16 (vcvtneps2bf16) flushes subnormals.
// - fp8 conversions: LLVM has no fp8 types, and MLIR's lowering calls an
//   APFloat wrapper library. Here they are integer operations on the bit
//   patterns, rounding to nearest even.
//
//===----------------------------------------------------------------------===//
#include "mpc/Codegen/CPU/Passes.h"


#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/IR/TypeUtilities.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <cmath>

using namespace mlir;

namespace mpc {
#define GEN_PASS_DEF_EMULATENARROWFLOATSPASS
#include "mpc/Codegen/CPU/Passes.h.inc"
} // namespace mpc

namespace mpc::lowering {
namespace {

/// `type` (a scalar or a vector) with `element` as its element type.
Type withElement(Type type, Type element) {
  if (auto vector = dyn_cast<VectorType>(type))
    return vector.clone(element);
  return element;
}

/// Rebuilds `op` on f32 (vectors of f32 for vectors): operands whose type
/// `isNarrow` accepts are extended, such results rounded back. The casts
/// carry no fastmath flags: with `contract` on both, arith.extf folds
/// extf(truncf(x)) to x and the rounding between two ops would vanish
/// (which is why upstream's math-extend-to-supported-types and
/// arith-emulate-unsupported-floats, which set it, are not used).
LogicalResult computeInF32(Operation *op, PatternRewriter &rewriter,
                           llvm::function_ref<bool(Type)> isNarrow) {
  if (llvm::none_of(op->getOperandTypes(), isNarrow) && llvm::none_of(op->getResultTypes(), isNarrow))
    return failure();
  Location loc = op->getLoc();
  Type f32 = rewriter.getF32Type();
  SmallVector<Value> operands;
  for (Value operand : op->getOperands()) {
    Type type = operand.getType();
    operands.push_back(isNarrow(type)
                           ? Value(arith::ExtFOp::create(rewriter, loc, withElement(type, f32), operand))
                           : operand);
  }
  SmallVector<Type> resultTypes;
  for (Type type : op->getResultTypes())
    resultTypes.push_back(isNarrow(type) ? withElement(type, f32) : type);
  OperationState state(loc, op->getName(), operands, resultTypes, op->getAttrs());
  Operation *wide = rewriter.create(state);
  SmallVector<Value> results;
  for (auto [result, original] : llvm::zip(wide->getResults(), op->getResultTypes()))
    results.push_back(isNarrow(original)
                          ? Value(arith::TruncFOp::create(rewriter, loc, original, result))
                          : result);
  rewriter.replaceOp(op, results);
  return success();
}

bool isBF16(Type type) { return getElementTypeOrSelf(type).isBF16(); }
bool isHalfOrBF16(Type type) {
  Type element = getElementTypeOrSelf(type);
  return element.isBF16() || element.isF16();
}

/// Arithmetic on the types `isNarrow` accepts (bf16, or f16 and bf16).
template <typename OpTy>
struct ComputeInF32 : OpRewritePattern<OpTy> {
  ComputeInF32(MLIRContext *context, bool (*isNarrow)(Type))
      : OpRewritePattern<OpTy>(context), isNarrow(isNarrow) {}
  LogicalResult matchAndRewrite(OpTy op, PatternRewriter &rewriter) const override {
    return computeInF32(op, rewriter, isNarrow);
  }
  bool (*isNarrow)(Type);
};

/// Math functions on f16/bf16: libm and LLVM's intrinsics know f32.
struct ExtendHalfMath : RewritePattern {
  ExtendHalfMath(MLIRContext *context) : RewritePattern(MatchAnyOpTypeTag(), 1, context) {}
  LogicalResult matchAndRewrite(Operation *op, PatternRewriter &rewriter) const override {
    if (op->getDialect() != op->getContext()->getLoadedDialect<math::MathDialect>())
      return failure();
    return computeInF32(op, rewriter, isHalfOrBF16);
  }
};

/// What the bit arithmetic needs to know about an fp8 format.
struct Float8Format {
  int64_t mantissaBits, bias;
  bool hasInfinity;
  int64_t maxFiniteCode, overflowCode, nanCode;
};

std::optional<Float8Format> float8Format(Type type) {
  if (isa<Float8E4M3FNType>(type))
    return Float8Format{3, 7, false, 0x7E, 0x7F, 0x7F};
  if (isa<Float8E5M2Type>(type))
    return Float8Format{2, 15, true, 0x7B, 0x7C, 0x7E};
  return std::nullopt;
}

/// Builds i32 arithmetic with less noise, on scalars or on vectors shaped as
/// `shape`.
struct Bits {
  OpBuilder &b;
  Location loc;
  Type shape = {};
  Type of(Type element) { return shape ? withElement(shape, element) : element; }
  Value c(int64_t v) { return createScalarOrSplatConstant(b, loc, of(b.getI32Type()), v); }
  Value band(Value x, int64_t m) { return arith::AndIOp::create(b, loc, x, c(m)); }
  Value bor(Value x, Value y) { return arith::OrIOp::create(b, loc, x, y); }
  Value add(Value x, Value y) { return arith::AddIOp::create(b, loc, x, y); }
  Value sub(Value x, Value y) { return arith::SubIOp::create(b, loc, x, y); }
  Value shl(Value x, int64_t s) { return arith::ShLIOp::create(b, loc, x, c(s)); }
  Value lshr(Value x, int64_t s) { return arith::ShRUIOp::create(b, loc, x, c(s)); }
  Value cmp(arith::CmpIPredicate p, Value x, Value y) { return arith::CmpIOp::create(b, loc, p, x, y); }
  Value select(Value cond, Value x, Value y) { return arith::SelectOp::create(b, loc, cond, x, y); }
  Value toFloat(Value x) { return arith::BitcastOp::create(b, loc, of(b.getF32Type()), x); }
  Value toInt(Value x) { return arith::BitcastOp::create(b, loc, of(b.getI32Type()), x); }
};

/// f32 -> bf16 (scalar or vector), round to nearest even: adding 0x7FFF plus
/// the kept lsb carries into bit 16 exactly when the dropped half is above
/// the tie or at it with an odd lsb (a carry into the exponent is right,
/// up to infinity). Subnormals round the same way. NaN becomes 0x7FC0
/// whatever its sign (ml_dtypes keeps the sign): every op of a bf16 body
/// and every fused operand cast in a register tile runs this, and keeping
/// the sign cost 2-3 more vector ops here, 45% of a bf16 elementwise
/// chain's run time and 9% more instructions in a bf16 matmul tile's inner
/// loop (measured). The op order follows arith-expand's expansion, which
/// LLVM allocates registers for without extra spills in those tiles.
Value truncateToBFloat16(OpBuilder &b, Location loc, Value x, Type to) {
  Bits i{b, loc, x.getType()};
  Value isNaN = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::UNO, x, x);
  // Every NaN becomes 0x7FC00000 before the rounding, which maps it to
  // 0x7FC0. (Selected after the rounding, on 16-bit lanes, LLVM kept it as
  // a select of bf16 vectors, which CPUs without AVX512-BF16 scalarize: a
  // test and cmov per lane and 16-bit scalar stores, seen on Emerald Rapids.)
  Value u = i.select(isNaN, i.c(0x7FC00000), i.toInt(x));
  Value lsb = i.band(i.lshr(u, 16), 1);
  Value rounded = i.lshr(i.add(u, i.add(lsb, i.c(0x7FFF))), 16);
  Value half = arith::TruncIOp::create(b, loc, i.of(b.getI16Type()), rounded);
  return arith::BitcastOp::create(b, loc, to, half);
}

/// bf16 -> f32 (scalar or vector), exact: the bits move up by 16.
Value extendFromBFloat16(OpBuilder &b, Location loc, Value x) {
  Bits i{b, loc, x.getType()};
  Value half = arith::BitcastOp::create(b, loc, i.of(b.getI16Type()), x);
  Value word = arith::ExtUIOp::create(b, loc, i.of(b.getI32Type()), half);
  return i.toFloat(i.shl(word, 16));
}

struct ExpandBFloat16Extend : OpRewritePattern<arith::ExtFOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(arith::ExtFOp op, PatternRewriter &rewriter) const override {
    if (!isBF16(op.getIn().getType()))
      return failure();
    Value value = extendFromBFloat16(rewriter, op.getLoc(), op.getIn());
    // f32 holds every bf16 value: going on to f64 is exact too.
    if (value.getType() != op.getType())
      value = arith::ExtFOp::create(rewriter, op.getLoc(), op.getType(), value);
    rewriter.replaceOp(op, value);
    return success();
  }
};

/// From f32 only: f64 -> bf16 is left to arith-expand (it rounds through
/// f32, as ml_dtypes does).
struct ExpandBFloat16Truncate : OpRewritePattern<arith::TruncFOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(arith::TruncFOp op, PatternRewriter &rewriter) const override {
    if (!isBF16(op.getType()) || !getElementTypeOrSelf(op.getIn().getType()).isF32())
      return failure();
    rewriter.replaceOp(op, truncateToBFloat16(rewriter, op.getLoc(), op.getIn(), op.getType()));
    return success();
  }
};

/// f32 -> fp8, round to nearest even.
Value truncateToFloat8(OpBuilder &b, Location loc, Value x, Type to, const Float8Format &f) {
  Bits i{b, loc};
  Value u = i.toInt(x);
  Value sign = i.shl(i.lshr(u, 31), 7);
  Value magnitude = i.band(u, 0x7FFFFFFF);
  int64_t shift = 23 - f.mantissaBits;
  int64_t minNormalBits = (127 - f.bias + 1) << 23;

  // Normal results: round the f32 mantissa to `mantissaBits` (ties to even)
  // and rebias the exponent; a carry correctly bumps the exponent.
  Value lsb = i.band(i.lshr(magnitude, shift), 1);
  Value rounded = i.add(i.add(magnitude, i.c((int64_t(1) << (shift - 1)) - 1)), lsb);
  Value normal = i.sub(i.lshr(rounded, shift), i.c((127 - f.bias) << f.mantissaBits));

  // Subnormal results: adding 2^(emin - M + 23) makes the FPU round |x| to a
  // multiple of the fp8 subnormal spacing; the low bits are then the code
  // (2^M is the smallest normal, encoded the same way).
  int64_t magicBits = (1 - f.bias - f.mantissaBits + 23 + 127) << 23;
  Value sum = arith::AddFOp::create(b, loc, i.toFloat(magnitude), i.toFloat(i.c(magicBits)));
  Value subnormal = i.sub(i.toInt(sum), i.c(magicBits));

  Value isSubnormal = i.cmp(arith::CmpIPredicate::ult, magnitude, i.c(minNormalBits));
  Value code = i.select(isSubnormal, subnormal, normal);
  Value overflows = i.cmp(arith::CmpIPredicate::sgt, code, i.c(f.maxFiniteCode));
  code = i.select(overflows, i.c(f.overflowCode), code);
  Value isNaN = i.cmp(arith::CmpIPredicate::ugt, magnitude, i.c(0x7F800000));
  code = i.select(isNaN, i.c(f.nanCode), code);
  Value byte = arith::TruncIOp::create(b, loc, b.getI8Type(), i.bor(code, sign));
  return arith::BitcastOp::create(b, loc, to, byte);
}

/// fp8 -> f32, exact.
Value extendFromFloat8(OpBuilder &b, Location loc, Value x, const Float8Format &f) {
  Bits i{b, loc};
  Value byte = arith::BitcastOp::create(b, loc, b.getI8Type(), x);
  Value c = arith::ExtUIOp::create(b, loc, b.getI32Type(), byte);
  Value sign = i.shl(i.band(c, 0x80), 24);
  Value magnitude = i.band(c, 0x7F);
  Value exponent = i.lshr(magnitude, f.mantissaBits);
  Value mantissa = i.band(magnitude, (1 << f.mantissaBits) - 1);

  Value normal = i.add(i.shl(magnitude, 23 - f.mantissaBits), i.c((127 - f.bias) << 23));
  // mantissa * 2^(1 - bias - M), exact in f32.
  Value scale = arith::ConstantOp::create(
      b, loc, b.getF32FloatAttr(std::ldexp(1.0f, 1 - f.bias - f.mantissaBits)));
  Value subnormalValue = arith::MulFOp::create(
      b, loc, arith::UIToFPOp::create(b, loc, b.getF32Type(), mantissa), scale);
  Value bits = i.select(i.cmp(arith::CmpIPredicate::eq, exponent, i.c(0)), i.toInt(subnormalValue),
                        normal);
  Value quietNaN = i.c(0x7FC00000);
  if (f.hasInfinity) {
    Value special = i.cmp(arith::CmpIPredicate::eq, exponent, i.c((1 << (7 - f.mantissaBits)) - 1));
    Value isInf = i.cmp(arith::CmpIPredicate::eq, mantissa, i.c(0));
    bits = i.select(special, i.select(isInf, i.c(0x7F800000), quietNaN), bits);
  } else {
    bits = i.select(i.cmp(arith::CmpIPredicate::eq, magnitude, i.c(0x7F)), quietNaN, bits);
  }
  return i.toFloat(i.bor(bits, sign));
}

struct ExpandFloat8Extend : OpRewritePattern<arith::ExtFOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(arith::ExtFOp op, PatternRewriter &rewriter) const override {
    std::optional<Float8Format> format = float8Format(op.getIn().getType());
    if (!format)
      return failure();
    Value value = extendFromFloat8(rewriter, op.getLoc(), op.getIn(), *format);
    // f32 holds every fp8 value, so going on to f16/bf16/f64 rounds once.
    auto to = cast<FloatType>(op.getType());
    if (to.getWidth() > 32)
      value = arith::ExtFOp::create(rewriter, op.getLoc(), to, value);
    else if (to.getWidth() < 32)
      value = arith::TruncFOp::create(rewriter, op.getLoc(), to, value);
    rewriter.replaceOp(op, value);
    return success();
  }
};

struct ExpandFloat8Truncate : OpRewritePattern<arith::TruncFOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(arith::TruncFOp op, PatternRewriter &rewriter) const override {
    std::optional<Float8Format> format = float8Format(op.getType());
    if (!format)
      return failure();
    Value in = op.getIn();
    Type f32 = rewriter.getF32Type();
    auto inType = cast<FloatType>(in.getType());
    if (inType.getWidth() > 32)
      in = arith::TruncFOp::create(rewriter, op.getLoc(), f32, in);
    else if (inType != f32)
      in = arith::ExtFOp::create(rewriter, op.getLoc(), f32, in);
    rewriter.replaceOp(op, truncateToFloat8(rewriter, op.getLoc(), in, op.getType(), *format));
    return success();
  }
};

} // namespace
} // namespace mpc::lowering

namespace mpc {
void populateExpandFloat8CastPatterns(RewritePatternSet &patterns) {
  patterns.add<lowering::ExpandFloat8Extend, lowering::ExpandFloat8Truncate>(patterns.getContext());
}

void populateExpandBFloat16CastPatterns(RewritePatternSet &patterns) {
  patterns.add<lowering::ExpandBFloat16Extend, lowering::ExpandBFloat16Truncate>(patterns.getContext());
}

void populateEmulateNarrowFloatPatterns(RewritePatternSet &patterns, bool includeF16) {
  using namespace lowering;
  patterns.add<ExtendHalfMath>(patterns.getContext());
  patterns.add<ComputeInF32<arith::AddFOp>, ComputeInF32<arith::SubFOp>, ComputeInF32<arith::MulFOp>,
               ComputeInF32<arith::DivFOp>, ComputeInF32<arith::RemFOp>, ComputeInF32<arith::NegFOp>,
               ComputeInF32<arith::MaximumFOp>, ComputeInF32<arith::MinimumFOp>,
               ComputeInF32<arith::MaxNumFOp>, ComputeInF32<arith::MinNumFOp>, ComputeInF32<arith::CmpFOp>,
               ComputeInF32<arith::SIToFPOp>, ComputeInF32<arith::UIToFPOp>, ComputeInF32<arith::FPToSIOp>,
               ComputeInF32<arith::FPToUIOp>>(patterns.getContext(), includeF16 ? isHalfOrBF16 : isBF16);
}

namespace {
struct EmulateNarrowFloatsPass : impl::EmulateNarrowFloatsPassBase<EmulateNarrowFloatsPass> {
  using Base::Base;
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateEmulateNarrowFloatPatterns(patterns, includeF16);
    if (expandCasts) {
      populateExpandFloat8CastPatterns(patterns);
      populateExpandBFloat16CastPatterns(patterns);
    }
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace
} // namespace mpc
