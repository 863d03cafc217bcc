//===- Contraction.cpp - matmul and conv -> linalg.generic ----------------===//
//
// Both accumulate in the op's accumulator type (f32 for bf16/f16/fp8 inputs
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

/// acc + a * b with both factors converted to the accumulator's type.
Value multiplyAccumulate(OpBuilder &b, Location loc, Value lhs, Value rhs, Value acc) {
  Type accType = acc.getType();
  lhs = convertScalar(b, loc, lhs, accType);
  rhs = convertScalar(b, loc, rhs, accType);
  if (isa<FloatType>(accType))
    return arith::AddFOp::create(b, loc, acc, arith::MulFOp::create(b, loc, lhs, rhs));
  return arith::AddIOp::create(b, loc, acc, arith::MulIOp::create(b, loc, lhs, rhs));
}

/// The accumulator tensor rounded to the result type (and, with a bias along
/// dim `biasDim`, the bias added in the accumulator type first).
Value finishAccumulation(OpBuilder &b, Location loc, Value acc, RankedTensorType resultType,
                         Value bias = {}, int64_t biasDim = 0) {
  Type accType = getElementTypeOrSelf(acc.getType());
  if (!bias && accType == resultType.getElementType())
    return acc;
  MLIRContext *ctx = b.getContext();
  unsigned rank = resultType.getRank();
  SmallVector<Value> inputs{acc};
  SmallVector<AffineMap> maps{AffineMap::getMultiDimIdentityMap(rank, ctx)};
  if (bias) {
    inputs.push_back(bias);
    maps.push_back(AffineMap::get(rank, 0, getAffineDimExpr(biasDim, ctx)));
  }
  maps.push_back(AffineMap::getMultiDimIdentityMap(rank, ctx));
  SmallVector<utils::IteratorType> iterators(rank, utils::IteratorType::parallel);
  Value init = emptyTensor(b, loc, resultType.getShape(), resultType.getElementType());
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{resultType}, inputs, ValueRange{init}, maps, iterators,
      [&](OpBuilder &nb, Location nl, ValueRange args) {
        Value value = args[0];
        if (bias)
          value = arith::AddFOp::create(nb, nl, value, convertScalar(nb, nl, args[1], accType));
        linalg::YieldOp::create(nb, nl, convertScalar(nb, nl, value, resultType.getElementType()));
      });
  return generic.getResult(0);
}

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

/// Merges dims `dim` and `dim + 1` of `value`.
Value mergeDims(OpBuilder &b, Location loc, Value value, int64_t dim) {
  auto type = cast<RankedTensorType>(value.getType());
  SmallVector<ReassociationIndices> reassociation;
  for (int64_t i = 0, e = type.getRank(); i < e; ++i) {
    if (i == dim + 1)
      continue;
    if (i == dim)
      reassociation.push_back({i, i + 1});
    else
      reassociation.push_back({i});
  }
  return tensor::CollapseShapeOp::create(b, loc, value, reassociation);
}

struct ConvLowering : OpRewritePattern<ConvOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ConvOp op, PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto inputType = cast<RankedTensorType>(op.getInput().getType());
    auto resultType = cast<RankedTensorType>(op.getType());
    int64_t spatial = inputType.getRank() - 2, groups = op.getGroup();
    ArrayRef<int64_t> strides = op.getStrides(), pads = op.getPads(), dilations = op.getDilations();
    if (!convAttributesOk(spatial, groups, strides, pads, dilations))
      return rewriter.notifyMatchFailure(op, "malformed conv attributes");
    Type accType = accumulatorType(op);

    Value input = padSpatial(rewriter, loc, op.getInput(), pads);
    // [N, G*C, S...] -> [N, G, C, S...]; [G*M, C, K...] -> [G, M, C, K...]
    input = splitDim(rewriter, loc, input, 1, groups);
    Value weight = splitDim(rewriter, loc, op.getWeight(), 0, groups);

    SmallVector<int64_t> accShape(resultType.getShape());
    accShape[1] /= groups;
    accShape.insert(accShape.begin() + 1, groups);
    Value sum =
        buildConvAccumulation(rewriter, loc, input, weight, accShape, strides, dilations, accType);
    Value acc = mergeDims(rewriter, loc, sum, 1);
    rewriter.replaceOp(op, finishAccumulation(rewriter, loc, acc, resultType, op.getBias(), 1));
    return success();
  }
};

} // namespace

Value buildConvAccumulation(OpBuilder &b, Location loc, Value input, Value weight,
                            ArrayRef<int64_t> accShape, ArrayRef<int64_t> strides,
                            ArrayRef<int64_t> dilations, Type accType) {
  MLIRContext *ctx = b.getContext();
  int64_t spatial = accShape.size() - 3;
  // Loops: n, g, m, out spatial... (parallel), c, kernel... (reduction).
  int64_t loops = 4 + 2 * spatial;
  auto d = [&](int64_t i) { return getAffineDimExpr(i, ctx); };
  AffineExpr n = d(0), g = d(1), m = d(2), c = d(3 + spatial);
  SmallVector<AffineExpr> inExprs{n, g, c}, wExprs{g, m, c}, outExprs{n, g, m};
  for (int64_t i = 0; i < spatial; ++i) {
    AffineExpr out = d(3 + i), kernel = d(4 + spatial + i);
    inExprs.push_back(out * strides[i] + kernel * dilations[i]);
    wExprs.push_back(kernel);
    outExprs.push_back(out);
  }
  SmallVector<AffineMap> maps{AffineMap::get(loops, 0, inExprs, ctx),
                              AffineMap::get(loops, 0, wExprs, ctx),
                              AffineMap::get(loops, 0, outExprs, ctx)};
  SmallVector<utils::IteratorType> iterators(3 + spatial, utils::IteratorType::parallel);
  iterators.append(1 + spatial, utils::IteratorType::reduction);
  Value init = filledTensor(b, loc, accShape, scalarConstant(b, loc, accType, 0));
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{init.getType()}, ValueRange{input, weight}, ValueRange{init}, maps,
      iterators, [&](OpBuilder &nb, Location l, ValueRange args) {
        linalg::YieldOp::create(nb, l, multiplyAccumulate(nb, l, args[0], args[1], args[2]));
      });
  return generic.getResult(0);
}

void populateContractionPatterns(RewritePatternSet &patterns) {
  patterns.add<MatmulLowering, ConvLowering>(patterns.getContext());
}

} // namespace mpc::lowering
