//===- Contraction.cpp - matmul -> linalg.generic ------------------------===//
//
// Matmuls accumulate in the op's accumulator type (f32 for bf16/f16/fp8 inputs
// unless `acc_type` says otherwise): the products of the narrow inputs are
// formed and summed in that type, and the result is rounded to the storage
// type once at the end.
//
//===----------------------------------------------------------------------===//
#include "LoweringUtils.h"

#include "mpc/Dialect/MpcDialect.h"

#include "mlir/Dialect/Utils/ReshapeOpsUtils.h"

using namespace mlir;

namespace mpc::lowering {
namespace {

struct MatmulLowering : OpRewritePattern<MatmulOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(MatmulOp op, PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = getContext();
    auto lhsType = cast<RankedTensorType>(op.getLhs().getType());
    auto rhsType = cast<RankedTensorType>(op.getRhs().getType());
    auto resultType = cast<RankedTensorType>(op.getType());
    Type accType = accumulatorType(op);
    ArrayRef<int64_t> resultShape = resultType.getShape();
    unsigned rank = resultShape.size(), batchRank = rank - 2;
    // Loops: batch dims, then m, n (parallel), then k (reduction).
    AffineExpr m = getAffineDimExpr(batchRank, ctx), n = getAffineDimExpr(batchRank + 1, ctx),
               k = getAffineDimExpr(batchRank + 2, ctx);
    auto operandMap = [&](RankedTensorType type, AffineExpr row, AffineExpr col) {
      ArrayRef<int64_t> shape = type.getShape();
      AffineMap batch = broadcastMap(shape.drop_back(2), resultShape.drop_back(2), ctx);
      SmallVector<AffineExpr> exprs(batch.getResults());
      exprs.push_back(row);
      exprs.push_back(col);
      return AffineMap::get(rank + 1, 0, exprs, ctx);
    };
    SmallVector<AffineExpr> outExprs;
    for (unsigned i = 0; i < rank; ++i)
      outExprs.push_back(getAffineDimExpr(i, ctx));
    SmallVector<AffineMap> maps{operandMap(lhsType, m, k), operandMap(rhsType, k, n),
                                AffineMap::get(rank + 1, 0, outExprs, ctx)};
    SmallVector<utils::IteratorType> iterators(rank, utils::IteratorType::parallel);
    iterators.push_back(utils::IteratorType::reduction);

    Value init = filledTensor(rewriter, loc, resultShape, scalarConstant(rewriter, loc, accType, 0));
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{init.getType()}, ValueRange{op.getLhs(), op.getRhs()},
        ValueRange{init}, maps, iterators, [&](OpBuilder &b, Location l, ValueRange args) {
          linalg::YieldOp::create(b, l, multiplyAccumulate(b, l, args[0], args[1], args[2]));
        });
    rewriter.replaceOp(op, finishAccumulation(rewriter, loc, generic.getResult(0), resultType));
    return success();
  }
};

} // namespace

void populateContractionPatterns(RewritePatternSet &patterns) {
  patterns.add<MatmulLowering>(patterns.getContext());
}

} // namespace mpc::lowering
