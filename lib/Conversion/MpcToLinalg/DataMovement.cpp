//===- DataMovement.cpp - reshape, transpose, concat, slice, broadcast, ---===//
//                        gather (and its gradient), get_parameter
//
// Reshapes and slices become views after bufferization (collapse/expand,
// extract_slice); reversed slice dims and gathers are linalg.generics over
// the result, reading through an affine map or tensor.extract. gather's
// gradient is a true scatter-add (repeated indices accumulate), so it is a
// sequential scf.for nest over dy updating the result in place.
//
//===----------------------------------------------------------------------===//
#include "LoweringUtils.h"

#include "mpc/Dialect/MpcDialect.h"

#include "mlir/Dialect/SCF/IR/SCF.h"

using namespace mlir;

namespace mpc::lowering {
namespace {

struct ReshapeLowering : OpRewritePattern<ReshapeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ReshapeOp op, PatternRewriter &rewriter) const override {
    auto resultType = cast<RankedTensorType>(op.getType());
    rewriter.replaceOp(op, reshapeTensor(rewriter, op.getLoc(), op.getInput(), resultType.getShape()));
    return success();
  }
};

struct TransposeLowering : OpRewritePattern<TransposeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(TransposeOp op, PatternRewriter &rewriter) const override {
    auto resultType = cast<RankedTensorType>(op.getType());
    Value init = emptyTensor(rewriter, op.getLoc(), resultType.getShape(), resultType.getElementType());
    auto transpose = linalg::TransposeOp::create(rewriter, op.getLoc(), op.getInput(), init, op.getPerm());
    rewriter.replaceOp(op, transpose->getResults());
    return success();
  }
};

struct ConcatLowering : OpRewritePattern<ConcatOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ConcatOp op, PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto resultType = cast<RankedTensorType>(op.getType());
    int64_t axis = op.getAxis(), offset = 0;
    if (axis < 0 || axis >= resultType.getRank())
      return rewriter.notifyMatchFailure(op, "axis out of range");
    Value result = emptyTensor(rewriter, loc, resultType.getShape(), resultType.getElementType());
    for (Value input : op.getInputs()) {
      auto type = cast<RankedTensorType>(input.getType());
      SmallVector<OpFoldResult> offsets(type.getRank(), rewriter.getIndexAttr(0));
      SmallVector<OpFoldResult> strides(type.getRank(), rewriter.getIndexAttr(1));
      SmallVector<OpFoldResult> sizes;
      for (int64_t size : type.getShape())
        sizes.push_back(rewriter.getIndexAttr(size));
      offsets[axis] = rewriter.getIndexAttr(offset);
      offset += type.getDimSize(axis);
      result = tensor::InsertSliceOp::create(rewriter, loc, input, result, offsets, sizes, strides);
    }
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// A copy over the result's iteration space reading `input` through `map`.
Value copyThroughMap(OpBuilder &b, Location loc, Value input, AffineMap map,
                     RankedTensorType resultType) {
  unsigned rank = resultType.getRank();
  Value init = emptyTensor(b, loc, resultType.getShape(), resultType.getElementType());
  SmallVector<AffineMap> maps{map, AffineMap::getMultiDimIdentityMap(rank, b.getContext())};
  SmallVector<utils::IteratorType> iterators(rank, utils::IteratorType::parallel);
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{resultType}, ValueRange{input}, ValueRange{init}, maps, iterators,
      [](OpBuilder &nb, Location nl, ValueRange args) { linalg::YieldOp::create(nb, nl, args[0]); });
  return generic.getResult(0);
}

struct SliceLowering : OpRewritePattern<SliceOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(SliceOp op, PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto resultType = cast<RankedTensorType>(op.getType());
    ArrayRef<int64_t> offsets = op.getOffsets(), strides = op.getStrides();
    ArrayRef<int64_t> sizes = resultType.getShape();
    unsigned rank = resultType.getRank();
    if (offsets.size() != rank || strides.size() != rank ||
        llvm::is_contained(strides, 0))
      return rewriter.notifyMatchFailure(op, "one offset and non-zero stride per dim expected");
    // A view with positive strides: a dim with a negative stride takes the
    // same elements in ascending order, then gets reversed below. (A generic
    // reading the input directly would be invalid: linalg wants a dim read
    // without offset or stride to have the loop's extent.)
    SmallVector<OpFoldResult> viewOffsets, viewSizes, viewStrides;
    SmallVector<AffineExpr> exprs;
    bool reverse = false;
    for (unsigned i = 0; i < rank; ++i) {
      int64_t stride = strides[i], last = offsets[i] + (sizes[i] - 1) * stride;
      viewOffsets.push_back(rewriter.getIndexAttr(stride > 0 ? offsets[i] : last));
      viewSizes.push_back(rewriter.getIndexAttr(sizes[i]));
      viewStrides.push_back(rewriter.getIndexAttr(std::abs(stride)));
      AffineExpr d = getAffineDimExpr(i, getContext());
      exprs.push_back(stride > 0 ? d : d * -1 + (sizes[i] - 1));
      reverse |= stride < 0;
    }
    Value view = tensor::ExtractSliceOp::create(rewriter, loc, resultType, op.getInput(), viewOffsets,
                                                viewSizes, viewStrides);
    if (reverse)
      view = copyThroughMap(rewriter, loc, view, AffineMap::get(rank, 0, exprs, getContext()),
                            resultType);
    rewriter.replaceOp(op, view);
    return success();
  }
};

struct BroadcastLowering : OpRewritePattern<BroadcastOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(BroadcastOp op, PatternRewriter &rewriter) const override {
    auto resultType = cast<RankedTensorType>(op.getType());
    auto inputType = cast<RankedTensorType>(op.getInput().getType());
    AffineMap map = broadcastMap(inputType.getShape(), resultType.getShape(), getContext());
    rewriter.replaceOp(op, copyThroughMap(rewriter, op.getLoc(), op.getInput(), map, resultType));
    return success();
  }
};

struct GatherLowering : OpRewritePattern<GatherOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(GatherOp op, PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = getContext();
    auto dataType = cast<RankedTensorType>(op.getData().getType());
    auto indicesType = cast<RankedTensorType>(op.getIndices().getType());
    auto resultType = cast<RankedTensorType>(op.getType());
    int64_t axis = op.getAxis(), indexRank = indicesType.getRank();
    if (axis < 0 || axis >= dataType.getRank())
      return rewriter.notifyMatchFailure(op, "axis out of range");
    unsigned rank = resultType.getRank();
    // Result dims: data[:axis], indices..., data[axis+1:].
    SmallVector<AffineExpr> indexExprs;
    for (int64_t i = 0; i < indexRank; ++i)
      indexExprs.push_back(getAffineDimExpr(axis + i, ctx));
    SmallVector<AffineMap> maps{AffineMap::get(rank, 0, indexExprs, ctx),
                                AffineMap::getMultiDimIdentityMap(rank, ctx)};
    SmallVector<utils::IteratorType> iterators(rank, utils::IteratorType::parallel);
    Value init = emptyTensor(rewriter, loc, resultType.getShape(), resultType.getElementType());
    int64_t axisSize = dataType.getDimSize(axis);
    Value data = op.getData();
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{resultType}, ValueRange{op.getIndices()}, ValueRange{init}, maps,
        iterators, [&](OpBuilder &b, Location l, ValueRange args) {
          SmallVector<Value> coords;
          for (int64_t i = 0; i < axis; ++i)
            coords.push_back(linalg::IndexOp::create(b, l, i));
          coords.push_back(normalizeIndex(b, l, args[0], axisSize));
          for (int64_t i = axis + 1; i < dataType.getRank(); ++i)
            coords.push_back(linalg::IndexOp::create(b, l, i - 1 + indexRank));
          linalg::YieldOp::create(b, l, tensor::ExtractOp::create(b, l, data, coords).getResult());
        });
    rewriter.replaceOp(op, generic.getResult(0));
    return success();
  }
};

/// Inference reads parameters as constants; the pass erases the
/// mpc.parameter symbols once nothing reads them.
struct GetParameterLowering : OpRewritePattern<GetParameterOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(GetParameterOp op, PatternRewriter &rewriter) const override {
    auto parameter = SymbolTable::lookupNearestSymbolFrom<ParameterOp>(op, op.getNameAttr());
    if (!parameter)
      return rewriter.notifyMatchFailure(op, "unknown parameter");
    auto value = dyn_cast<TypedAttr>(parameter.getValue());
    if (!value || value.getType() != op.getType())
      return rewriter.notifyMatchFailure(op, "parameter value type differs from the read type");
    rewriter.replaceOpWithNewOp<arith::ConstantOp>(op, value);
    return success();
  }
};

struct GatherGradLowering : OpRewritePattern<GatherGradOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(GatherGradOp op, PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto resultType = cast<RankedTensorType>(op.getType());
    auto dyType = cast<RankedTensorType>(op.getDy().getType());
    auto indicesType = cast<RankedTensorType>(op.getIndices().getType());
    int64_t axis = op.getAxis(), indexRank = indicesType.getRank();
    if (axis < 0 || axis >= resultType.getRank())
      return rewriter.notifyMatchFailure(op, "axis out of range");
    int64_t axisSize = resultType.getDimSize(axis);
    // Repeated indices must add up, in a wide accumulator for narrow types.
    Type acc = wideAccumulator(rewriter, resultType.getElementType());
    Value init = filledTensor(rewriter, loc, resultType.getShape(), scalarConstant(rewriter, loc, acc, 0));
    SmallVector<Value> lbs, ubs, steps;
    for (int64_t size : dyType.getShape()) {
      lbs.push_back(indexConst(rewriter, loc, 0));
      ubs.push_back(indexConst(rewriter, loc, size));
      steps.push_back(indexConst(rewriter, loc, 1));
    }
    Value dy = op.getDy(), indices = op.getIndices();
    scf::LoopNest nest = scf::buildLoopNest(
        rewriter, loc, lbs, ubs, steps, ValueRange{init},
        [&](OpBuilder &b, Location l, ValueRange ivs, ValueRange iter) -> scf::ValueVector {
          Value raw = tensor::ExtractOp::create(b, l, indices, ivs.slice(axis, indexRank));
          SmallVector<Value> dst(ivs.take_front(axis));
          dst.push_back(normalizeIndex(b, l, raw, axisSize));
          dst.append(ivs.begin() + axis + indexRank, ivs.end());
          Value g = convertScalar(b, l, tensor::ExtractOp::create(b, l, dy, ivs), acc);
          Value sum = arith::AddFOp::create(b, l, tensor::ExtractOp::create(b, l, iter[0], dst), g);
          return {tensor::InsertOp::create(b, l, sum, iter[0], dst).getResult()};
        });
    Value result = nest.results.empty() ? init : nest.results.front();
    rewriter.replaceOp(op, convertTensor(rewriter, loc, result, resultType.getElementType()));
    return success();
  }
};

} // namespace

void populateDataMovementPatterns(RewritePatternSet &patterns) {
  patterns.add<ReshapeLowering, TransposeLowering, ConcatLowering, SliceLowering, BroadcastLowering,
               GatherLowering, GatherGradLowering, GetParameterLowering>(patterns.getContext());
}

} // namespace mpc::lowering
