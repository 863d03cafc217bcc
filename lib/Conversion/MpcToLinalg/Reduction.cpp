//===- Reduction.cpp - reduce_{sum,mean,prod,max,min} -> linalg -----------===//
//
// Sum, mean and product accumulate in the op's accumulator type and round
// once; max and min are exact in any type and run in the storage type. The
// reduced dims are dropped by the generic and, with keepdims, restored as
// size-1 dims by a reshape (a view, not a copy).
//
//===----------------------------------------------------------------------===//
#include "LoweringUtils.h"

#include "mpc/Dialect/MpcDialect.h"

using namespace mlir;

namespace mpc::lowering {
namespace {

enum class Kind { Sum, Mean, Prod, Max, Min };

Value divide(OpBuilder &b, Location loc, Value x, Value y, bool isUnsigned) {
  if (isa<FloatType>(x.getType()))
    return arith::DivFOp::create(b, loc, x, y);
  if (isUnsigned)
    return arith::DivUIOp::create(b, loc, x, y);
  return arith::DivSIOp::create(b, loc, x, y);
}

template <typename OpTy, Kind kind>
struct ReductionLowering : OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;

  LogicalResult matchAndRewrite(OpTy op, PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto inputType = cast<RankedTensorType>(op.getInput().getType());
    auto resultType = cast<RankedTensorType>(op.getType());
    ArrayRef<int64_t> axes = op.getAxes();
    if (!llvm::is_sorted(axes) ||
        llvm::any_of(axes, [&](int64_t a) { return a < 0 || a >= inputType.getRank(); }))
      return rewriter.notifyMatchFailure(op, "axes must be sorted and in range");
    Type element = resultType.getElementType();
    bool accumulates = kind == Kind::Sum || kind == Kind::Mean || kind == Kind::Prod;
    Type acc = accumulates ? accumulatorType(op) : computeTypeFor(element);
    bool isFloat = isa<FloatType>(acc);
    bool isUnsigned = readsUnsigned(op);

    Value init;
    switch (kind) {
    case Kind::Sum:
    case Kind::Mean:
      init = scalarConstant(rewriter, loc, acc, 0);
      break;
    case Kind::Prod:
      init = scalarConstant(rewriter, loc, acc, 1);
      break;
    case Kind::Max:
      init = lowestValue(rewriter, loc, acc, isUnsigned);
      break;
    case Kind::Min:
      init = highestValue(rewriter, loc, acc, isUnsigned);
      break;
    }
    Value reduced = buildReduction(
        rewriter, loc, op.getInput(), axes, init, [&](OpBuilder &b, Location l, ValueRange args) {
          Value x = convertScalar(b, l, args[0], acc, isUnsigned), a = args[1];
          switch (kind) {
          case Kind::Sum:
          case Kind::Mean:
            return isFloat ? Value(arith::AddFOp::create(b, l, a, x))
                           : Value(arith::AddIOp::create(b, l, a, x));
          case Kind::Prod:
            return isFloat ? Value(arith::MulFOp::create(b, l, a, x))
                           : Value(arith::MulIOp::create(b, l, a, x));
          case Kind::Max:
            return maxScalar(b, l, a, x, isUnsigned);
          case Kind::Min:
            return minScalar(b, l, a, x, isUnsigned);
          }
          llvm_unreachable("covered switch");
        });

    auto reducedType = cast<RankedTensorType>(reduced.getType());
    if (kind == Kind::Mean) {
      int64_t count = 1;
      for (int64_t a : axes)
        count *= inputType.getDimSize(a);
      reduced = buildElementwise(rewriter, loc, reduced, reducedType.clone(element),
                                 [&](OpBuilder &b, Location l, ValueRange args) {
                                   Value n = scalarConstant(b, l, acc, count);
                                   return convertScalar(b, l, divide(b, l, args[0], n, isUnsigned), element);
                                 });
    } else {
      reduced = convertTensor(rewriter, loc, reduced, element);
    }
    rewriter.replaceOp(op, reshapeTensor(rewriter, loc, reduced, resultType.getShape()));
    return success();
  }
};

} // namespace

void populateReductionPatterns(RewritePatternSet &patterns) {
  patterns.add<ReductionLowering<ReduceSumOp, Kind::Sum>, ReductionLowering<ReduceMeanOp, Kind::Mean>,
               ReductionLowering<ReduceProdOp, Kind::Prod>, ReductionLowering<ReduceMaxOp, Kind::Max>,
               ReductionLowering<ReduceMinOp, Kind::Min>>(patterns.getContext());
}

} // namespace mpc::lowering
