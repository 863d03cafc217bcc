//===- Pooling.cpp - max_pool, avg_pool and their gradients -> linalg -----===//
//
// The input is padded explicitly (with the lowest value for max, zero for
// average), plus whatever extra end padding ceil_mode's last window needs, so
// every window read is in bounds. The average divides by a per-position count
// computed at compile time from the static shapes. The gradients are in
// gather form: input position i receives from window o at kernel offset k
// when i + pad = o*s + k*d, a test done per element, so each is one
// parallel generic without write conflicts.
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
    bool isUnsigned = readsUnsigned(op);
    Value padded = padForWindows(rewriter, loc, op.getInput(), w, resultType.getShape(),
                                 lowestValue(rewriter, loc, element, isUnsigned));
    Value max = reduceWindows(rewriter, loc, padded, w, resultType.getShape(),
                              lowestValue(rewriter, loc, compute, isUnsigned),
                              [&](OpBuilder &b, Location l, ValueRange args) {
                                return maxScalar(b, l, convertScalar(b, l, args[0], compute), args[1],
                                                 isUnsigned);
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

/// dx[n, c, i...] = sum over kernel offsets k of contribution(o, k) for the
/// window o with i + pad = o*s + k*d, when such a window exists. The callback
/// gets the coordinates [n, c, o...] (clamped into range when invalid, so
/// reads stay in bounds) and the row-major offset of k in the window, and
/// returns an `acc` value; invalid pairs add zero.
Value gatherFromWindows(OpBuilder &b, Location loc, RankedTensorType inputType,
                        ArrayRef<int64_t> outShape, const Window &w, Type acc,
                        const std::function<Value(OpBuilder &, Location, ValueRange, Value)> &contribution) {
  MLIRContext *ctx = b.getContext();
  int64_t spatial = w.spatial, loops = 2 + 2 * spatial;
  SmallVector<AffineExpr> windowExprs, outExprs;
  for (int64_t i = 0; i < 2 + spatial; ++i)
    outExprs.push_back(getAffineDimExpr(i, ctx));
  for (int64_t i = 0; i < spatial; ++i)
    windowExprs.push_back(getAffineDimExpr(2 + spatial + i, ctx));
  Value window = emptyTensor(b, loc, w.kernel, b.getI1Type());
  Value init = filledTensor(b, loc, inputType.getShape(), scalarConstant(b, loc, acc, 0));
  SmallVector<utils::IteratorType> iterators(2 + spatial, utils::IteratorType::parallel);
  iterators.append(spatial, utils::IteratorType::reduction);
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{init.getType()}, ValueRange{window}, ValueRange{init},
      ArrayRef<AffineMap>{AffineMap::get(loops, 0, windowExprs, ctx),
                          AffineMap::get(loops, 0, outExprs, ctx)},
      iterators, [&](OpBuilder &nb, Location l, ValueRange args) {
        Value zero = indexConst(nb, l, 0);
        Value valid = arith::ConstantIntOp::create(nb, l, 1, 1);
        Value flat = zero;
        SmallVector<Value> coords{linalg::IndexOp::create(nb, l, 0), linalg::IndexOp::create(nb, l, 1)};
        for (int64_t i = 0; i < spatial; ++i) {
          Value x = linalg::IndexOp::create(nb, l, 2 + i);
          Value k = linalg::IndexOp::create(nb, l, 2 + spatial + i);
          // pos = x + pad - k*d; the window is o = pos / s when pos >= 0,
          // s divides pos, and o < out.
          Value pos = arith::SubIOp::create(
              nb, l, arith::AddIOp::create(nb, l, x, indexConst(nb, l, w.pads[i])),
              arith::MulIOp::create(nb, l, k, indexConst(nb, l, w.dilations[i])));
          Value s = indexConst(nb, l, w.strides[i]);
          Value o = arith::DivSIOp::create(nb, l, pos, s);
          Value ok = arith::AndIOp::create(
              nb, l, arith::CmpIOp::create(nb, l, arith::CmpIPredicate::sge, pos, zero),
              arith::CmpIOp::create(nb, l, arith::CmpIPredicate::eq,
                                    arith::RemSIOp::create(nb, l, pos, s), zero));
          ok = arith::AndIOp::create(
              nb, l, ok,
              arith::CmpIOp::create(nb, l, arith::CmpIPredicate::slt, o,
                                    indexConst(nb, l, outShape[2 + i])));
          valid = arith::AndIOp::create(nb, l, valid, ok);
          coords.push_back(arith::SelectOp::create(nb, l, ok, o, zero));
          flat = arith::AddIOp::create(
              nb, l, arith::MulIOp::create(nb, l, flat, indexConst(nb, l, w.kernel[i])), k);
        }
        Value value = contribution(nb, l, coords, flat);
        Value added = arith::SelectOp::create(nb, l, valid, value, scalarConstant(nb, l, acc, 0));
        linalg::YieldOp::create(nb, l, ValueRange{arith::AddFOp::create(nb, l, args[1], added)});
      });
  return generic.getResult(0);
}

struct MaxPoolGradLowering : OpRewritePattern<MaxPoolGradOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(MaxPoolGradOp op, PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = getContext();
    auto inputType = cast<RankedTensorType>(op.getInput().getType());
    auto dyType = cast<RankedTensorType>(op.getDy().getType());
    Window w{op.getKernelShape(), op.getStrides(), op.getPads(),
             SmallVector<int64_t>(op.getDilations()), inputType.getRank() - 2};
    if (failed(checkWindow(w)))
      return rewriter.notifyMatchFailure(op, "malformed pooling attributes");
    Type element = inputType.getElementType(), compute = computeTypeFor(element);
    Type acc = wideAccumulator(rewriter, element);
    ArrayRef<int64_t> outShape = dyType.getShape();

    // 1. Per window: the maximum and the row-major offset of its first
    // occurrence. "First" is decided by the offset itself (ties keep the
    // smaller one), so the result does not depend on the loop order.
    Value padded = padForWindows(rewriter, loc, op.getInput(), w, outShape,
                                 lowestValue(rewriter, loc, element));
    int64_t spatial = w.spatial, loops = 2 + 2 * spatial;
    auto d = [&](int64_t i) { return getAffineDimExpr(i, ctx); };
    SmallVector<AffineExpr> inExprs{d(0), d(1)}, windowExprs, outExprs{d(0), d(1)};
    for (int64_t i = 0; i < spatial; ++i) {
      AffineExpr o = d(2 + i), k = d(2 + spatial + i);
      inExprs.push_back(o * w.strides[i] + k * w.dilations[i]);
      windowExprs.push_back(k);
      outExprs.push_back(o);
    }
    Value window = emptyTensor(rewriter, loc, w.kernel, rewriter.getI1Type());
    Value maxInit = filledTensor(rewriter, loc, outShape, lowestValue(rewriter, loc, compute));
    Value argInit = filledTensor(rewriter, loc, outShape, indexConst(rewriter, loc, 0));
    SmallVector<utils::IteratorType> iterators(2 + spatial, utils::IteratorType::parallel);
    iterators.append(spatial, utils::IteratorType::reduction);
    AffineMap outMap = AffineMap::get(loops, 0, outExprs, ctx);
    auto argmax = linalg::GenericOp::create(
        rewriter, loc, TypeRange{maxInit.getType(), argInit.getType()}, ValueRange{padded, window},
        ValueRange{maxInit, argInit},
        ArrayRef<AffineMap>{AffineMap::get(loops, 0, inExprs, ctx),
                            AffineMap::get(loops, 0, windowExprs, ctx), outMap, outMap},
        iterators, [&](OpBuilder &b, Location l, ValueRange args) {
          Value x = convertScalar(b, l, args[0], compute);
          Value flat = indexConst(b, l, 0);
          for (int64_t i = 0; i < spatial; ++i)
            flat = arith::AddIOp::create(
                b, l, arith::MulIOp::create(b, l, flat, indexConst(b, l, w.kernel[i])),
                linalg::IndexOp::create(b, l, 2 + spatial + i));
          Value greater = arith::CmpFOp::create(b, l, arith::CmpFPredicate::OGT, x, args[2]);
          Value tieEarlier = arith::AndIOp::create(
              b, l, arith::CmpFOp::create(b, l, arith::CmpFPredicate::OEQ, x, args[2]),
              arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, flat, args[3]));
          Value take = arith::OrIOp::create(b, l, greater, tieEarlier);
          linalg::YieldOp::create(
              b, l,
              ValueRange{arith::SelectOp::create(b, l, take, x, args[2]),
                         arith::SelectOp::create(b, l, take, flat, args[3])});
        });
    Value arg = argmax.getResult(1);

    // 2. Each input position collects dy of the windows whose first maximum
    // it is.
    Value dy = op.getDy();
    Value dx = gatherFromWindows(
        rewriter, loc, inputType, outShape, w, acc,
        [&](OpBuilder &b, Location l, ValueRange coords, Value flat) {
          Value winner = tensor::ExtractOp::create(b, l, arg, coords);
          Value g = convertScalar(b, l, tensor::ExtractOp::create(b, l, dy, coords), acc);
          Value hit = arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq, winner, flat);
          return arith::SelectOp::create(b, l, hit, g, scalarConstant(b, l, acc, 0)).getResult();
        });
    rewriter.replaceOp(op, convertTensor(rewriter, loc, dx, element));
    return success();
  }
};

struct AvgPoolGradLowering : OpRewritePattern<AvgPoolGradOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(AvgPoolGradOp op, PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto resultType = cast<RankedTensorType>(op.getType());
    auto dyType = cast<RankedTensorType>(op.getDy().getType());
    int64_t spatial = resultType.getRank() - 2;
    Window w{op.getKernelShape(), op.getStrides(), op.getPads(),
             SmallVector<int64_t>(std::max<int64_t>(spatial, 0), 1), spatial};
    if (failed(checkWindow(w)))
      return rewriter.notifyMatchFailure(op, "malformed pooling attributes");
    Type acc = wideAccumulator(rewriter, accumulatorType(op));

    // Each window's share: dy / count, with the forward op's counts.
    ArrayRef<int64_t> outShape = dyType.getShape().drop_front(2);
    SmallVector<float> shares;
    SmallVector<int64_t> index(spatial, 0);
    for (int64_t flat = 0, e = ShapedType::getNumElements(outShape); flat < e; ++flat) {
      int64_t count = 1;
      for (int64_t i = 0; i < spatial; ++i)
        count *= windowCount(index[i], resultType.getDimSize(2 + i), w.kernel[i], w.strides[i],
                             w.pads[i], w.pads[spatial + i], op.getCountIncludePad());
      shares.push_back(1.0f / static_cast<float>(count));
      for (int64_t i = spatial - 1; i >= 0 && ++index[i] == outShape[i]; --i)
        index[i] = 0;
    }
    Value shareTensor = arith::ConstantOp::create(
        rewriter, loc,
        DenseElementsAttr::get(RankedTensorType::get(outShape, rewriter.getF32Type()),
                               ArrayRef<float>(shares)));
    auto scaledType = RankedTensorType::get(dyType.getShape(), acc);
    Value scaled = buildElementwise(rewriter, loc, ValueRange{op.getDy(), shareTensor}, scaledType,
                                    [&](OpBuilder &b, Location l, ValueRange args) {
                                      return arith::MulFOp::create(b, l, convertScalar(b, l, args[0], acc),
                                                                   convertScalar(b, l, args[1], acc))
                                          .getResult();
                                    });
    Value dx = gatherFromWindows(rewriter, loc, resultType, dyType.getShape(), w, acc,
                                 [&](OpBuilder &b, Location l, ValueRange coords, Value) {
                                   return tensor::ExtractOp::create(b, l, scaled, coords).getResult();
                                 });
    rewriter.replaceOp(op, convertTensor(rewriter, loc, dx, resultType.getElementType()));
    return success();
  }
};

} // namespace

void populatePoolingPatterns(RewritePatternSet &patterns) {
  patterns.add<MaxPoolLowering, AvgPoolLowering, MaxPoolGradLowering, AvgPoolGradLowering>(
      patterns.getContext());
}

} // namespace mpc::lowering
