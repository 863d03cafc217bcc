//===- Cast.cpp - mpc.cast -> linalg.generic ------------------------------===//
#include "LoweringUtils.h"

#include "mpc/Dialect/MpcDialect.h"

using namespace mlir;

namespace mpc::lowering {
namespace {

struct CastLowering : OpRewritePattern<CastOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(CastOp op, PatternRewriter &rewriter) const override {
    auto resultType = cast<RankedTensorType>(op.getType());
    Type from = getElementTypeOrSelf(op.getInput().getType()), to = resultType.getElementType();
    // ONNX/OCP saturation: out-of-range values (and infinities) become the
    // largest finite fp8 value of the same sign; NaN stays NaN.
    bool saturate = op.getSaturate() && isFloat8(to) && isa<FloatType>(from);
    Value result = buildElementwise(
        rewriter, op.getLoc(), op.getInput(), resultType, [&](OpBuilder &b, Location loc, ValueRange args) {
          Value x = args[0];
          if (saturate) {
            Type f32 = b.getF32Type();
            x = convertScalar(b, loc, x, f32);
            double largest =
                llvm::APFloat::getLargest(cast<FloatType>(to).getFloatSemantics()).convertToDouble();
            x = arith::MaximumFOp::create(b, loc, x, scalarConstant(b, loc, f32, -largest));
            x = arith::MinimumFOp::create(b, loc, x, scalarConstant(b, loc, f32, largest));
          }
          return convertScalar(b, loc, x, to, readsUnsigned(op), producesUnsigned(op));
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

} // namespace

void populateCastPatterns(RewritePatternSet &patterns) {
  patterns.add<CastLowering>(patterns.getContext());
}

} // namespace mpc::lowering

