//===- Normalization.cpp - softmax, log_softmax, layer_norm, batch_norm ---===//
//
// All four compute in the op's accumulator type (f32 unless `acc_type` says
// otherwise for a narrower input) and round to the storage type once. Softmax
// subtracts the maximum first so that exp cannot overflow.
//
//===----------------------------------------------------------------------===//
#include "LoweringUtils.h"

#include "mpc/Dialect/MpcDialect.h"

#include "mlir/Dialect/Math/IR/Math.h"

using namespace mlir;

namespace mpc::lowering {
namespace {

/// A parallel generic over `resultType` whose operands are either shaped
/// like the result (identity map) or like the result without `dims` (the
/// reduced statistics).
Value buildWithStatistics(OpBuilder &b, Location loc, Value input, ValueRange statistics,
                          ArrayRef<int64_t> dims, RankedTensorType resultType, const BodyFn &body) {
  MLIRContext *ctx = b.getContext();
  unsigned rank = resultType.getRank();
  SmallVector<AffineExpr> kept;
  for (unsigned i = 0; i < rank; ++i)
    if (!llvm::is_contained(dims, static_cast<int64_t>(i)))
      kept.push_back(getAffineDimExpr(i, ctx));
  AffineMap identity = AffineMap::getMultiDimIdentityMap(rank, ctx);
  SmallVector<Value> inputs{input};
  llvm::append_range(inputs, statistics);
  SmallVector<AffineMap> maps{identity};
  maps.append(statistics.size(), AffineMap::get(rank, 0, kept, ctx));
  maps.push_back(identity);
  SmallVector<utils::IteratorType> iterators(rank, utils::IteratorType::parallel);
  Value init = emptyTensor(b, loc, resultType.getShape(), resultType.getElementType());
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{resultType}, inputs, ValueRange{init}, maps, iterators,
      [&](OpBuilder &nb, Location nl, ValueRange args) {
        linalg::YieldOp::create(nb, nl, body(nb, nl, args.drop_back()));
      });
  return generic.getResult(0);
}

template <typename OpTy, bool isLog>
struct SoftmaxLowering : OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;

  LogicalResult matchAndRewrite(OpTy op, PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto resultType = cast<RankedTensorType>(op.getType());
    int64_t axis = op.getAxis();
    if (axis < 0 || axis >= resultType.getRank())
      return rewriter.notifyMatchFailure(op, "axis out of range");
    Type acc = accumulatorType(op), element = resultType.getElementType();
    Value input = op.getInput();
    SmallVector<int64_t> dims{axis};
    Value max = buildReduction(rewriter, loc, input, dims, lowestValue(rewriter, loc, acc),
                               [&](OpBuilder &b, Location l, ValueRange args) {
                                 return maxScalar(b, l, convertScalar(b, l, args[0], acc), args[1]);
                               });
    Value sum = buildReduction(
        rewriter, loc, input, dims, scalarConstant(rewriter, loc, acc, 0),
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value shifted = arith::SubFOp::create(b, l, convertScalar(b, l, args[0], acc), args[1]);
          return arith::AddFOp::create(b, l, args[2], math::ExpOp::create(b, l, shifted));
        },
        max);
    Value result = buildWithStatistics(
        rewriter, loc, input, ValueRange{max, sum}, dims, resultType,
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value shifted = arith::SubFOp::create(b, l, convertScalar(b, l, args[0], acc), args[1]);
          Value value;
          if (isLog)
            value = arith::SubFOp::create(b, l, shifted, math::LogOp::create(b, l, args[2]));
          else
            value = arith::DivFOp::create(b, l, math::ExpOp::create(b, l, shifted), args[2]);
          return convertScalar(b, l, value, element);
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// (x - mean) / sqrt(var + eps), all in `acc`.
Value normalize(OpBuilder &b, Location loc, Value x, Value mean, Value variance, double epsilon) {
  Value eps = scalarConstant(b, loc, x.getType(), epsilon);
  Value stddev = math::SqrtOp::create(b, loc, arith::AddFOp::create(b, loc, variance, eps));
  return arith::DivFOp::create(b, loc, arith::SubFOp::create(b, loc, x, mean), stddev);
}

struct LayerNormLowering : OpRewritePattern<LayerNormOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(LayerNormOp op, PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto resultType = cast<RankedTensorType>(op.getType());
    int64_t rank = resultType.getRank(), axis = op.getAxis();
    if (axis < 0 || axis >= rank)
      return rewriter.notifyMatchFailure(op, "axis out of range");
    Type acc = accumulatorType(op), element = resultType.getElementType();
    SmallVector<int64_t> dims = llvm::to_vector(llvm::seq<int64_t>(axis, rank));
    int64_t count = ShapedType::getNumElements(resultType.getShape().drop_front(axis));
    Value input = op.getInput();
    Value zero = scalarConstant(rewriter, loc, acc, 0);
    Value sum = buildReduction(rewriter, loc, input, dims, zero,
                               [&](OpBuilder &b, Location l, ValueRange args) {
                                 return arith::AddFOp::create(b, l, args[1],
                                                              convertScalar(b, l, args[0], acc));
                               });
    auto mean = [&](OpBuilder &b, Location l, Value total) {
      return arith::DivFOp::create(b, l, total, scalarConstant(b, l, acc, count));
    };
    Value squares = buildReduction(
        rewriter, loc, input, dims, zero,
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value centered = arith::SubFOp::create(b, l, convertScalar(b, l, args[0], acc),
                                                 mean(b, l, args[1]));
          return arith::AddFOp::create(b, l, args[2],
                                       arith::MulFOp::create(b, l, centered, centered));
        },
        sum);
    // Normalize, then scale and shift in a second generic whose scale/bias
    // operands broadcast against the whole input.
    auto accType = resultType.clone(acc);
    Value normalized = buildWithStatistics(
        rewriter, loc, input, ValueRange{sum, squares}, dims, accType,
        [&](OpBuilder &b, Location l, ValueRange args) {
          return normalize(b, l, convertScalar(b, l, args[0], acc), mean(b, l, args[1]),
                           mean(b, l, args[2]), op.getEpsilon().convertToDouble());
        });
    SmallVector<Value> affineOperands{normalized, op.getScale()};
    if (Value bias = op.getBias())
      affineOperands.push_back(bias);
    Value result = buildElementwise(rewriter, loc, affineOperands, resultType,
                                    [&](OpBuilder &b, Location l, ValueRange args) {
                                      Value y = arith::MulFOp::create(
                                          b, l, args[0], convertScalar(b, l, args[1], acc));
                                      if (args.size() > 2)
                                        y = arith::AddFOp::create(b, l, y,
                                                                  convertScalar(b, l, args[2], acc));
                                      return convertScalar(b, l, y, element);
                                    });
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct BatchNormLowering : OpRewritePattern<BatchNormOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(BatchNormOp op, PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = getContext();
    auto resultType = cast<RankedTensorType>(op.getType());
    unsigned rank = resultType.getRank();
    if (rank < 2)
      return rewriter.notifyMatchFailure(op, "batch_norm needs a channel dim");
    Type acc = accumulatorType(op), element = resultType.getElementType();
    AffineMap identity = AffineMap::getMultiDimIdentityMap(rank, ctx);
    AffineMap channel = AffineMap::get(rank, 0, getAffineDimExpr(1, ctx));
    SmallVector<AffineMap> maps{identity, channel, channel, channel, channel, identity};
    SmallVector<utils::IteratorType> iterators(rank, utils::IteratorType::parallel);
    Value init = emptyTensor(rewriter, loc, resultType.getShape(), element);
    double epsilon = op.getEpsilon().convertToDouble();
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{resultType},
        ValueRange{op.getInput(), op.getScale(), op.getBias(), op.getMean(), op.getVariance()},
        ValueRange{init}, maps, iterators, [&](OpBuilder &b, Location l, ValueRange args) {
          SmallVector<Value> v;
          for (Value arg : args.take_front(5))
            v.push_back(convertScalar(b, l, arg, acc));
          Value y = normalize(b, l, v[0], v[3], v[4], epsilon);
          y = arith::AddFOp::create(b, l, arith::MulFOp::create(b, l, y, v[1]), v[2]);
          linalg::YieldOp::create(b, l, convertScalar(b, l, y, element));
        });
    rewriter.replaceOp(op, generic.getResult(0));
    return success();
  }
};

} // namespace

void populateNormalizationPatterns(RewritePatternSet &patterns) {
  MLIRContext *ctx = patterns.getContext();
  patterns.add<SoftmaxLowering<SoftmaxOp, false>, SoftmaxLowering<LogSoftmaxOp, true>>(ctx);
  patterns.add<LayerNormLowering, BatchNormLowering>(ctx);
}

} // namespace mpc::lowering
