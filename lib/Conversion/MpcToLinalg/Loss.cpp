//===- Loss.cpp - softmax cross-entropy, its gradient, MSE -> linalg ------===//
//
// Losses reduce in their accumulator type (f32 for narrow logits) with a
// max-subtracted log-sum-exp.
//
//===----------------------------------------------------------------------===//
#include "LoweringUtils.h"

#include "mpc/Dialect/MpcDialect.h"

#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

using namespace mlir;

namespace mpc::lowering {
namespace {

using utils::IteratorType;

/// A class label is clamped into [0, C) (no wrap-around: a negative label is
/// an error the trainer reports, and clamping keeps the read in bounds).
Value clampLabel(OpBuilder &b, Location loc, Value raw, int64_t classes) {
  Type type = raw.getType();
  Value clamped = arith::MaxSIOp::create(
      b, loc, scalarConstant(b, loc, type, 0),
      arith::MinSIOp::create(b, loc, raw, scalarConstant(b, loc, type, classes - 1)));
  return arith::IndexCastOp::create(b, loc, b.getIndexType(), clamped);
}

/// Row max and sum of exp(x - max) of a [R, C] tensor, in `acc`.
std::pair<Value, Value> logSumExpParts(OpBuilder &b, Location loc, Value logits, Type acc) {
  Value max = buildReduction(b, loc, logits, {1}, lowestValue(b, loc, acc),
                             [&](OpBuilder &nb, Location l, ValueRange args) {
                               return maxScalar(nb, l, convertScalar(nb, l, args[0], acc), args[1]);
                             });
  Value sum = buildReduction(
      b, loc, logits, {1}, scalarConstant(b, loc, acc, 0),
      [&](OpBuilder &nb, Location l, ValueRange args) {
        Value x = convertScalar(nb, l, args[0], acc);
        Value e = math::ExpOp::create(nb, l, arith::SubFOp::create(nb, l, x, args[1]));
        return arith::AddFOp::create(nb, l, args[2], e);
      },
      ValueRange{max});
  return {max, sum};
}

/// `total / count` of a rank-0 accumulator tensor, as a rank-0 `resultType`.
Value meanOf(OpBuilder &b, Location loc, Value total, int64_t count, RankedTensorType resultType) {
  return buildElementwise(b, loc, ValueRange{total}, resultType,
                          [&](OpBuilder &nb, Location l, ValueRange args) {
                            Value n = scalarConstant(nb, l, args[0].getType(), (double)count);
                            Value mean = arith::DivFOp::create(nb, l, args[0], n);
                            return convertScalar(nb, l, mean, resultType.getElementType());
                          });
}

/// Logits as [R, C] and labels as [R].
std::pair<Value, Value> flattenRows(OpBuilder &b, Location loc, Value logits, Value labels) {
  auto type = cast<RankedTensorType>(logits.getType());
  int64_t classes = type.getShape().back();
  int64_t rows = ShapedType::getNumElements(type.getShape()) / classes;
  return {reshapeTensor(b, loc, logits, {rows, classes}), reshapeTensor(b, loc, labels, {rows})};
}

struct SoftmaxCrossEntropyLowering : OpRewritePattern<SoftmaxCrossEntropyOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(SoftmaxCrossEntropyOp op, PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = getContext();
    Type acc = wideAccumulator(rewriter, accumulatorType(op));
    Value logits, labels, max, sum;
    std::tie(logits, labels) = flattenRows(rewriter, loc, op.getLogits(), op.getLabels());
    auto logitsType = cast<RankedTensorType>(logits.getType());
    int64_t rows = logitsType.getDimSize(0), classes = logitsType.getDimSize(1);
    std::tie(max, sum) = logSumExpParts(rewriter, loc, logits, acc);
    // loss_r = log(sum_r) + max_r - x[r, label_r], summed over rows.
    AffineMap row = AffineMap::get(1, 0, getAffineDimExpr(0, ctx));
    AffineMap scalar = AffineMap::get(1, 0, ArrayRef<AffineExpr>{}, ctx);
    Value init = filledTensor(rewriter, loc, {}, scalarConstant(rewriter, loc, acc, 0));
    auto total = linalg::GenericOp::create(
        rewriter, loc, TypeRange{init.getType()}, ValueRange{labels, max, sum}, ValueRange{init},
        ArrayRef<AffineMap>{row, row, row, scalar}, ArrayRef<IteratorType>{IteratorType::reduction},
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value r = linalg::IndexOp::create(b, l, 0);
          Value c = clampLabel(b, l, args[0], classes);
          Value x = convertScalar(b, l, tensor::ExtractOp::create(b, l, logits, ValueRange{r, c}), acc);
          Value lse = arith::AddFOp::create(b, l, math::LogOp::create(b, l, args[2]), args[1]);
          Value loss = arith::SubFOp::create(b, l, lse, x);
          linalg::YieldOp::create(b, l, ValueRange{arith::AddFOp::create(b, l, args[3], loss)});
        });
    rewriter.replaceOp(op, meanOf(rewriter, loc, total.getResult(0), rows,
                                  cast<RankedTensorType>(op.getType())));
    return success();
  }
};

/// (softmax - onehot) * dloss / rows of [R, C] logits, from their row max
/// and sum of exp, as a [R, C] tensor of `elementType`.
Value crossEntropyGradient(OpBuilder &b, Location loc, Value logits, Value labels, Value max,
                           Value sum, Value dloss, Type acc, Type elementType) {
  MLIRContext *ctx = b.getContext();
  auto logitsType = cast<RankedTensorType>(logits.getType());
  int64_t rows = logitsType.getDimSize(0), classes = logitsType.getDimSize(1);
  AffineMap id = AffineMap::getMultiDimIdentityMap(2, ctx);
  AffineMap row = AffineMap::get(2, 0, getAffineDimExpr(0, ctx));
  AffineMap scalar = AffineMap::get(2, 0, ArrayRef<AffineExpr>{}, ctx);
  Value init = emptyTensor(b, loc, logitsType.getShape(), elementType);
  auto grad = linalg::GenericOp::create(
      b, loc, TypeRange{init.getType()}, ValueRange{logits, labels, max, sum, dloss},
      ValueRange{init}, ArrayRef<AffineMap>{id, row, row, row, scalar, id},
      ArrayRef<IteratorType>{IteratorType::parallel, IteratorType::parallel},
      [&](OpBuilder &nb, Location l, ValueRange args) {
        Value x = convertScalar(nb, l, args[0], acc);
        Value p = arith::DivFOp::create(
            nb, l, math::ExpOp::create(nb, l, arith::SubFOp::create(nb, l, x, args[2])), args[3]);
        Value c = linalg::IndexOp::create(nb, l, 1);
        Value isLabel = arith::CmpIOp::create(nb, l, arith::CmpIPredicate::eq, c,
                                              clampLabel(nb, l, args[1], classes));
        Value onehot = arith::SelectOp::create(nb, l, isLabel, scalarConstant(nb, l, acc, 1),
                                               scalarConstant(nb, l, acc, 0));
        Value scale = arith::DivFOp::create(nb, l, convertScalar(nb, l, args[4], acc),
                                            scalarConstant(nb, l, acc, (double)rows));
        Value g = arith::MulFOp::create(nb, l, arith::SubFOp::create(nb, l, p, onehot), scale);
        linalg::YieldOp::create(nb, l, convertScalar(nb, l, g, elementType));
      });
  return grad.getResult(0);
}

/// Each row's share of the mean loss, (logsumexp - x[label]) / rows, as a
/// reduction over the row's classes that reads only the label's logit: the
/// same shape as the max and sum reductions, so that a row kernel computes
/// it with them.
Value crossEntropyRowTerms(OpBuilder &b, Location loc, Value logits, Value labels, Value max,
                           Value sum, Type acc) {
  MLIRContext *ctx = b.getContext();
  auto logitsType = cast<RankedTensorType>(logits.getType());
  int64_t rows = logitsType.getDimSize(0), classes = logitsType.getDimSize(1);
  AffineMap id = AffineMap::getMultiDimIdentityMap(2, ctx);
  AffineMap row = AffineMap::get(2, 0, getAffineDimExpr(0, ctx));
  Value zero = scalarConstant(b, loc, acc, 0);
  Value init = filledTensor(b, loc, {rows}, zero);
  auto terms = linalg::GenericOp::create(
      b, loc, TypeRange{init.getType()}, ValueRange{logits, labels, max, sum}, ValueRange{init},
      ArrayRef<AffineMap>{id, row, row, row, row},
      ArrayRef<IteratorType>{IteratorType::parallel, IteratorType::reduction},
      [&](OpBuilder &nb, Location l, ValueRange args) {
        Value r = linalg::IndexOp::create(nb, l, 0);
        Value c = linalg::IndexOp::create(nb, l, 1);
        Value label = clampLabel(nb, l, args[1], classes);
        Value isLabel = arith::CmpIOp::create(nb, l, arith::CmpIPredicate::eq, c, label);
        auto term = scf::IfOp::create(
            nb, l, isLabel,
            [&](OpBuilder &tb, Location tl) {
              Value x = convertScalar(
                  tb, tl, tensor::ExtractOp::create(tb, tl, logits, ValueRange{r, label}), acc);
              Value lse =
                  arith::AddFOp::create(tb, tl, math::LogOp::create(tb, tl, args[3]), args[2]);
              Value loss = arith::DivFOp::create(tb, tl, arith::SubFOp::create(tb, tl, lse, x),
                                                 scalarConstant(tb, tl, acc, (double)rows));
              scf::YieldOp::create(tb, tl, loss);
            },
            [&](OpBuilder &eb, Location el) {
              scf::YieldOp::create(eb, el, scalarConstant(eb, el, acc, 0));
            });
        linalg::YieldOp::create(
            nb, l, ValueRange{arith::AddFOp::create(nb, l, args[4], term.getResult(0))});
      });
  return terms.getResult(0);
}

struct SoftmaxCrossEntropyGradLowering : OpRewritePattern<SoftmaxCrossEntropyGradOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(SoftmaxCrossEntropyGradOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Type acc = wideAccumulator(rewriter, accumulatorType(op));
    auto resultType = cast<RankedTensorType>(op.getType());
    auto [logits, labels] = flattenRows(rewriter, loc, op.getLogits(), op.getLabels());
    auto [max, sum] = logSumExpParts(rewriter, loc, logits, acc);
    Value grad = crossEntropyGradient(rewriter, loc, logits, labels, max, sum, op.getDloss(), acc,
                                      resultType.getElementType());
    rewriter.replaceOp(op, reshapeTensor(rewriter, loc, grad, resultType.getShape()));
    return success();
  }
};

/// Max, sum of exp, gradient and row terms one after the other: on CUDA one
/// row kernel, then the sum of the row terms.
struct SoftmaxCrossEntropyWithGradLowering : OpRewritePattern<SoftmaxCrossEntropyWithGradOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(SoftmaxCrossEntropyWithGradOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Type acc = wideAccumulator(rewriter, accumulatorType(op));
    auto gradType = cast<RankedTensorType>(op.getGrad().getType());
    auto [logits, labels] = flattenRows(rewriter, loc, op.getLogits(), op.getLabels());
    auto [max, sum] = logSumExpParts(rewriter, loc, logits, acc);
    Value grad = crossEntropyGradient(rewriter, loc, logits, labels, max, sum, op.getDloss(), acc,
                                      gradType.getElementType());
    Value terms = crossEntropyRowTerms(rewriter, loc, logits, labels, max, sum, acc);
    Value loss = buildReduction(rewriter, loc, terms, {0}, scalarConstant(rewriter, loc, acc, 0),
                                [&](OpBuilder &nb, Location l, ValueRange args) {
                                  return arith::AddFOp::create(nb, l, args[1], args[0]);
                                });
    auto lossType = cast<RankedTensorType>(op.getLoss().getType());
    if (acc != lossType.getElementType())
      loss = buildElementwise(rewriter, loc, ValueRange{loss}, lossType,
                              [&](OpBuilder &nb, Location l, ValueRange args) {
                                return convertScalar(nb, l, args[0], lossType.getElementType());
                              });
    rewriter.replaceOp(op, {loss, reshapeTensor(rewriter, loc, grad, gradType.getShape())});
    return success();
  }
};

struct MseLossLowering : OpRewritePattern<MseLossOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(MseLossOp op, PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = getContext();
    Type acc = wideAccumulator(rewriter, accumulatorType(op));
    auto type = cast<RankedTensorType>(op.getPred().getType());
    unsigned rank = type.getRank();
    AffineMap id = AffineMap::getMultiDimIdentityMap(rank, ctx);
    AffineMap scalar = AffineMap::get(rank, 0, ArrayRef<AffineExpr>{}, ctx);
    Value init = filledTensor(rewriter, loc, {}, scalarConstant(rewriter, loc, acc, 0));
    auto total = linalg::GenericOp::create(
        rewriter, loc, TypeRange{init.getType()}, ValueRange{op.getPred(), op.getTarget()},
        ValueRange{init}, ArrayRef<AffineMap>{id, id, scalar},
        SmallVector<IteratorType>(rank, IteratorType::reduction),
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value diff = arith::SubFOp::create(b, l, convertScalar(b, l, args[0], acc),
                                             convertScalar(b, l, args[1], acc));
          Value sq = arith::MulFOp::create(b, l, diff, diff);
          linalg::YieldOp::create(b, l, ValueRange{arith::AddFOp::create(b, l, args[2], sq)});
        });
    rewriter.replaceOp(op, meanOf(rewriter, loc, total.getResult(0), type.getNumElements(),
                                  cast<RankedTensorType>(op.getType())));
    return success();
  }
};

} // namespace

void populateLossPatterns(RewritePatternSet &patterns) {
  patterns.add<SoftmaxCrossEntropyLowering, SoftmaxCrossEntropyGradLowering,
               SoftmaxCrossEntropyWithGradLowering, MseLossLowering>(patterns.getContext());
}

} // namespace mpc::lowering
