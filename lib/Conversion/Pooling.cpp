//===- Pooling.cpp - max_pool and avg_pool -> linalg.generic --------------===//
//
// The input is padded explicitly (with the lowest value for max, zero for
// average), plus whatever extra end padding ceil_mode's last window needs, so
// every window read is in bounds. The average divides by a per-position count
// computed at compile time from the static shapes.
//
//===----------------------------------------------------------------------===//
#include "LoweringUtils.h"

#include "mpc/Dialect/MpcDialect.h"

using namespace mlir;

namespace mpc::lowering {
LogicalResult checkWindow(const Window &w) {
  auto size = [](auto range) { return static_cast<int64_t>(range.size()); };
  if (w.spatial < 1 || size(w.kernel) != w.spatial || size(w.strides) != w.spatial ||
      size(w.pads) != 2 * w.spatial || size(w.dilations) != w.spatial)
    return failure();
  return success();
}

/// Pads the spatial dims of `input` with `padValue` so that every window of
/// the result reads in bounds.
Value padForWindows(OpBuilder &b, Location loc, Value input, const Window &w,
                    ArrayRef<int64_t> resultShape, Value padValue) {
  auto type = cast<RankedTensorType>(input.getType());
  SmallVector<OpFoldResult> low(2, b.getIndexAttr(0)), high(2, b.getIndexAttr(0));
  SmallVector<int64_t> padded(type.getShape());
  bool any = false;
  for (int64_t i = 0; i < w.spatial; ++i) {
    int64_t in = type.getDimSize(2 + i), begin = w.pads[i], end = w.pads[w.spatial + i];
    int64_t needed = (resultShape[2 + i] - 1) * w.strides[i] + (w.kernel[i] - 1) * w.dilations[i] + 1;
    end = std::max(end, needed - in - begin);
    low.push_back(b.getIndexAttr(begin));
    high.push_back(b.getIndexAttr(end));
    padded[2 + i] = in + begin + end;
    any |= begin != 0 || end != 0;
  }
  if (!any)
    return input;
  auto paddedType = RankedTensorType::get(padded, type.getElementType());
  return tensor::PadOp::create(b, loc, paddedType, input, low, high, padValue);
}

/// How many elements of one dim's window at output position `out` count
/// toward the average (ONNX: the window clipped to the input, or to the
/// input plus its declared padding with count_include_pad).
int64_t windowCount(int64_t out, int64_t in, int64_t kernel, int64_t stride, int64_t padBegin,
                    int64_t padEnd, bool includePad) {
  int64_t start = out * stride - padBegin, end = start + kernel;
  if (includePad)
    return std::min(end, in + padEnd) - start;
  return std::min(end, in) - std::max<int64_t>(start, 0);
}

namespace {

/// A linalg.generic reducing each window of `padded` into an [N, C, out...]
/// tensor of `init`'s type; `combine` gets (element, accumulator).
Value reduceWindows(OpBuilder &b, Location loc, Value padded, const Window &w,
                    ArrayRef<int64_t> resultShape, Value init, const BodyFn &combine) {
  MLIRContext *ctx = b.getContext();
  int64_t loops = 2 + 2 * w.spatial;
  auto d = [&](int64_t i) { return getAffineDimExpr(i, ctx); };
  SmallVector<AffineExpr> inExprs{d(0), d(1)}, windowExprs, outExprs{d(0), d(1)};
  for (int64_t i = 0; i < w.spatial; ++i) {
    AffineExpr out = d(2 + i), k = d(2 + w.spatial + i);
    inExprs.push_back(out * w.strides[i] + k * w.dilations[i]);
    windowExprs.push_back(k);
    outExprs.push_back(out);
  }
  // The window operand only gives the kernel loops their bounds.
  Value window = emptyTensor(b, loc, w.kernel, b.getI1Type());
  Value out = filledTensor(b, loc, resultShape, init);
  SmallVector<AffineMap> maps{AffineMap::get(loops, 0, inExprs, ctx),
                              AffineMap::get(loops, 0, windowExprs, ctx),
                              AffineMap::get(loops, 0, outExprs, ctx)};
  SmallVector<utils::IteratorType> iterators(2 + w.spatial, utils::IteratorType::parallel);
  iterators.append(w.spatial, utils::IteratorType::reduction);
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{out.getType()}, ValueRange{padded, window}, ValueRange{out}, maps,
      iterators, [&](OpBuilder &nb, Location nl, ValueRange args) {
        linalg::YieldOp::create(nb, nl, combine(nb, nl, ValueRange{args[0], args[2]}));
      });
  return generic.getResult(0);
}

struct MaxPoolLowering : OpRewritePattern<MaxPoolOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(MaxPoolOp op, PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto resultType = cast<RankedTensorType>(op.getType());
    Window w{op.getKernelShape(), op.getStrides(), op.getPads(),
             SmallVector<int64_t>(op.getDilations()), resultType.getRank() - 2};
    if (failed(checkWindow(w)))
      return rewriter.notifyMatchFailure(op, "malformed pooling attributes");
    Type element = resultType.getElementType(), compute = computeTypeFor(element);
    Value padded = padForWindows(rewriter, loc, op.getInput(), w, resultType.getShape(),
                                 lowestValue(rewriter, loc, element));
    Value max = reduceWindows(rewriter, loc, padded, w, resultType.getShape(),
                              lowestValue(rewriter, loc, compute),
                              [&](OpBuilder &b, Location l, ValueRange args) {
                                return maxScalar(b, l, convertScalar(b, l, args[0], compute), args[1]);
                              });
    rewriter.replaceOp(op, convertTensor(rewriter, loc, max, element));
    return success();
  }
};

struct AvgPoolLowering : OpRewritePattern<AvgPoolOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(AvgPoolOp op, PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = getContext();
    auto inputType = cast<RankedTensorType>(op.getInput().getType());
    auto resultType = cast<RankedTensorType>(op.getType());
    int64_t spatial = resultType.getRank() - 2;
    Window w{op.getKernelShape(), op.getStrides(), op.getPads(),
             SmallVector<int64_t>(std::max<int64_t>(spatial, 0), 1), spatial};
    if (failed(checkWindow(w)))
      return rewriter.notifyMatchFailure(op, "malformed pooling attributes");
    Type element = resultType.getElementType(), accType = accumulatorType(op);
    Value padded = padForWindows(rewriter, loc, op.getInput(), w, resultType.getShape(),
                                 scalarConstant(rewriter, loc, element, 0));
    Value sum = reduceWindows(rewriter, loc, padded, w, resultType.getShape(),
                              scalarConstant(rewriter, loc, accType, 0),
                              [&](OpBuilder &b, Location l, ValueRange args) {
                                Value x = convertScalar(b, l, args[0], accType);
                                return arith::AddFOp::create(b, l, args[1], x);
                              });

    ArrayRef<int64_t> outShape = resultType.getShape().drop_front(2);
    SmallVector<float> counts;
    SmallVector<int64_t> index(spatial, 0);
    for (int64_t flat = 0, e = ShapedType::getNumElements(outShape); flat < e; ++flat) {
      int64_t count = 1;
      for (int64_t i = 0; i < spatial; ++i)
        count *= windowCount(index[i], inputType.getDimSize(2 + i), w.kernel[i], w.strides[i],
                             w.pads[i], w.pads[spatial + i], op.getCountIncludePad());
      counts.push_back(static_cast<float>(count));
      for (int64_t i = spatial - 1; i >= 0 && ++index[i] == outShape[i]; --i)
        index[i] = 0;
    }
    auto countType = RankedTensorType::get(outShape, rewriter.getF32Type());
    Value countTensor = arith::ConstantOp::create(
        rewriter, loc, DenseElementsAttr::get(countType, ArrayRef<float>(counts)));

    unsigned rank = resultType.getRank();
    SmallVector<AffineExpr> spatialExprs;
    for (unsigned i = 2; i < rank; ++i)
      spatialExprs.push_back(getAffineDimExpr(i, ctx));
    SmallVector<AffineMap> maps{AffineMap::getMultiDimIdentityMap(rank, ctx),
                                AffineMap::get(rank, 0, spatialExprs, ctx),
                                AffineMap::getMultiDimIdentityMap(rank, ctx)};
    SmallVector<utils::IteratorType> iterators(rank, utils::IteratorType::parallel);
    Value init = emptyTensor(rewriter, loc, resultType.getShape(), element);
    auto divide = linalg::GenericOp::create(
        rewriter, loc, TypeRange{resultType}, ValueRange{sum, countTensor}, ValueRange{init}, maps,
        iterators, [&](OpBuilder &b, Location l, ValueRange args) {
          Value count = convertScalar(b, l, args[1], accType);
          Value mean = arith::DivFOp::create(b, l, args[0], count);
          linalg::YieldOp::create(b, l, convertScalar(b, l, mean, element));
        });
    rewriter.replaceOp(op, divide.getResult(0));
    return success();
  }
};

} // namespace

void populatePoolingPatterns(RewritePatternSet &patterns) {
  patterns.add<MaxPoolLowering, AvgPoolLowering>(patterns.getContext());
}

} // namespace mpc::lowering
