//===- TrainOps.cpp - losses and backward ops -> linalg -------------------===//
//
// Losses reduce in their accumulator type (f32 for narrow logits) with a
// max-subtracted log-sum-exp. The backward convolutions and pools are
// written in gather form (every gradient element sums what reaches it), so
// each is one parallel linalg.generic without write conflicts:
//   - filter gradient: dW[g,m,c,k] = sum_{n,o} xpad[n,g,c,o*s+k*d] dy[n,g,m,o];
//   - input gradient: split by stride phase (the residue of i + pad per
//     dim), each phase a stride-1 correlation of zero-padded dy with its
//     taps of the kernel reversed, emitted as mpc.conv's own generic (so
//     mpc-conv-to-matmul makes it im2col + matmul) and written to every
//     s-th dx entry with a strided tensor.insert_slice;
//   - pool gradients: input position i receives from window o at kernel
//     offset k when i + pad = o*s + k*d, a test done per element.
// gather's gradient is a true scatter-add (repeated indices accumulate), so
// it is a sequential scf.for nest over dy updating the result in place.
//
//===----------------------------------------------------------------------===//
#include "LoweringUtils.h"

#include "mpc/Dialect/MpcDialect.h"

#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

#include <numeric>

using namespace mlir;

namespace mpc::lowering {
namespace {

using utils::IteratorType;

Value indexConst(OpBuilder &b, Location loc, int64_t v) {
  return arith::ConstantIndexOp::create(b, loc, v);
}

/// The wider of `type` and f32: where sums of narrow values accumulate.
Type wideAccumulator(OpBuilder &b, Type type) {
  auto f = dyn_cast<FloatType>(type);
  return f && f.getWidth() < 32 ? b.getF32Type() : type;
}

/// A class id as gather treats indices: negative counts from the end, then
/// clamped into [0, size) so no read is out of bounds. Returns an index.
Value normalizeIndex(OpBuilder &b, Location loc, Value raw, int64_t size) {
  Type type = raw.getType();
  Value zero = scalarConstant(b, loc, type, 0);
  Value isNegative = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, raw, zero);
  Value wrapped = arith::SelectOp::create(
      b, loc, isNegative, arith::AddIOp::create(b, loc, raw, scalarConstant(b, loc, type, size)),
      raw);
  Value clamped = arith::MaxSIOp::create(
      b, loc, zero, arith::MinSIOp::create(b, loc, wrapped, scalarConstant(b, loc, type, size - 1)));
  return arith::IndexCastOp::create(b, loc, b.getIndexType(), clamped);
}

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

struct SoftmaxCrossEntropyGradLowering : OpRewritePattern<SoftmaxCrossEntropyGradOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(SoftmaxCrossEntropyGradOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = getContext();
    Type acc = wideAccumulator(rewriter, accumulatorType(op));
    auto resultType = cast<RankedTensorType>(op.getType());
    auto [logits, labels] = flattenRows(rewriter, loc, op.getLogits(), op.getLabels());
    auto logitsType = cast<RankedTensorType>(logits.getType());
    int64_t rows = logitsType.getDimSize(0), classes = logitsType.getDimSize(1);
    auto [max, sum] = logSumExpParts(rewriter, loc, logits, acc);
    AffineMap id = AffineMap::getMultiDimIdentityMap(2, ctx);
    AffineMap row = AffineMap::get(2, 0, getAffineDimExpr(0, ctx));
    AffineMap scalar = AffineMap::get(2, 0, ArrayRef<AffineExpr>{}, ctx);
    Value init = emptyTensor(rewriter, loc, logitsType.getShape(), resultType.getElementType());
    auto grad = linalg::GenericOp::create(
        rewriter, loc, TypeRange{init.getType()},
        ValueRange{logits, labels, max, sum, op.getDloss()}, ValueRange{init},
        ArrayRef<AffineMap>{id, row, row, row, scalar, id},
        ArrayRef<IteratorType>{IteratorType::parallel, IteratorType::parallel},
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value x = convertScalar(b, l, args[0], acc);
          Value p = arith::DivFOp::create(
              b, l, math::ExpOp::create(b, l, arith::SubFOp::create(b, l, x, args[2])), args[3]);
          Value c = linalg::IndexOp::create(b, l, 1);
          Value isLabel = arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq, c,
                                                clampLabel(b, l, args[1], classes));
          Value onehot = arith::SelectOp::create(b, l, isLabel, scalarConstant(b, l, acc, 1),
                                                 scalarConstant(b, l, acc, 0));
          Value scale = arith::DivFOp::create(b, l, convertScalar(b, l, args[4], acc),
                                              scalarConstant(b, l, acc, (double)rows));
          Value g = arith::MulFOp::create(b, l, arith::SubFOp::create(b, l, p, onehot), scale);
          linalg::YieldOp::create(b, l, convertScalar(b, l, g, resultType.getElementType()));
        });
    rewriter.replaceOp(op, reshapeTensor(rewriter, loc, grad.getResult(0), resultType.getShape()));
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

/// The accumulator rounded to the result type, reshaped to its shape.
Value finish(OpBuilder &b, Location loc, Value acc, RankedTensorType resultType) {
  Value merged = reshapeTensor(b, loc, acc, resultType.getShape());
  return convertTensor(b, loc, merged, resultType.getElementType());
}

struct ConvGradFilterLowering : OpRewritePattern<ConvGradFilterOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ConvGradFilterOp op, PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = getContext();
    auto inputType = cast<RankedTensorType>(op.getInput().getType());
    auto resultType = cast<RankedTensorType>(op.getType());
    int64_t spatial = inputType.getRank() - 2, groups = op.getGroup();
    ArrayRef<int64_t> strides = op.getStrides(), pads = op.getPads(), dilations = op.getDilations();
    if (!convAttributesOk(spatial, groups, strides, pads, dilations))
      return rewriter.notifyMatchFailure(op, "malformed conv attributes");
    Type acc = accumulatorType(op);

    Value input = padSpatial(rewriter, loc, op.getInput(), pads);
    input = splitDim(rewriter, loc, input, 1, groups);    // [N, G, C, S...]
    Value dy = splitDim(rewriter, loc, op.getDy(), 1, groups); // [N, G, M, O...]

    // Loops: g, m, c, kernel... (parallel); n, out... (reduction).
    int64_t loops = 4 + 2 * spatial;
    auto d = [&](int64_t i) { return getAffineDimExpr(i, ctx); };
    AffineExpr g = d(0), m = d(1), c = d(2), n = d(3 + spatial);
    SmallVector<AffineExpr> inExprs{n, g, c}, dyExprs{n, g, m}, outExprs{g, m, c};
    for (int64_t i = 0; i < spatial; ++i) {
      AffineExpr k = d(3 + i), o = d(4 + spatial + i);
      inExprs.push_back(o * strides[i] + k * dilations[i]);
      dyExprs.push_back(o);
      outExprs.push_back(k);
    }
    SmallVector<int64_t> accShape(resultType.getShape());
    accShape[0] /= groups;
    accShape.insert(accShape.begin(), groups);
    Value init = filledTensor(rewriter, loc, accShape, scalarConstant(rewriter, loc, acc, 0));
    SmallVector<IteratorType> iterators(3 + spatial, IteratorType::parallel);
    iterators.append(1 + spatial, IteratorType::reduction);
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{init.getType()}, ValueRange{input, dy}, ValueRange{init},
        ArrayRef<AffineMap>{AffineMap::get(loops, 0, inExprs, ctx),
                            AffineMap::get(loops, 0, dyExprs, ctx),
                            AffineMap::get(loops, 0, outExprs, ctx)},
        iterators, [&](OpBuilder &b, Location l, ValueRange args) {
          Value prod = arith::MulFOp::create(b, l, convertScalar(b, l, args[0], acc),
                                             convertScalar(b, l, args[1], acc));
          linalg::YieldOp::create(b, l, ValueRange{arith::AddFOp::create(b, l, args[2], prod)});
        });
    rewriter.replaceOp(op, finish(rewriter, loc, generic.getResult(0), resultType));
    return success();
  }
};

/// One spatial dim of one phase of conv_grad_input. With stride s, the dx
/// entries i whose i + pad has residue r mod s receive products only from
/// the kernel taps k with k*d = r (mod s): taps k0, k0 + step, ... (step =
/// s / gcd(s, d)), reaching dy at o = (i + pad - k*d) / s. For the phase's
/// entries i = first + s*t that is dx_r[t] = sum_j dy[t + c - j*e] *
/// w[k0 + step*j] with e = d / gcd(s, d): a stride-1 correlation with the
/// phase's taps reversed. Splitting by phase skips the products with the
/// s-1 zeros per dim that spreading dy with the stride would add.
struct GradPhase {
  int64_t first = 0, count = 0;    // dx entries first, first + s, ...: count of them
  int64_t k0 = 0, step = 1, taps = 0; // kernel taps k0 + step*j, j < taps
  int64_t dilation = 1;            // e: the phase convolution's dilation
  int64_t base = 0;                // padded dy[p] = dy[p + base]
};

GradPhase gradPhase(int64_t r, int64_t in, int64_t kernel, int64_t stride, int64_t pad,
                    int64_t dilation) {
  GradPhase p;
  p.first = ((r - pad) % stride + stride) % stride;
  p.count = p.first < in ? (in - p.first + stride - 1) / stride : 0;
  int64_t g = std::gcd(stride, dilation);
  p.step = stride / g;
  p.dilation = dilation / g;
  for (int64_t k = 0; k < kernel; ++k)
    if ((k * dilation - r) % stride == 0) {
      p.k0 = k;
      p.taps = (kernel - 1 - k) / p.step + 1;
      break;
    }
  if (p.taps > 0) {
    // i + pad and k0*d are both r mod s, so the division is exact.
    int64_t c = (p.first + pad - p.k0 * dilation) / stride;
    p.base = c - (p.taps - 1) * p.dilation;
  }
  return p;
}

/// W'[g, c, m, j...] = w[g*M + m, c, k0 + step*(taps-1-j)...]: the weight of
/// the forward convolution that computes one phase of conv_grad_input
/// (channels swapped, the phase's taps reversed). Read with tensor.extract
/// rather than through an indexing map: a plain copy generic would be fused
/// into the convolution by mpc-fuse-elementwise (copies are cheap to
/// recompute), leaving it a reversed weight map that mpc-conv-to-matmul does
/// not match. Weights are small next to the convolution's work, so the
/// scalar gather costs little.
Value flippedWeight(OpBuilder &b, Location loc, Value weight, int64_t groups,
                    ArrayRef<GradPhase> phase) {
  auto type = cast<RankedTensorType>(weight.getType());
  int64_t rank = type.getRank(), m = type.getDimSize(0) / groups, c = type.getDimSize(1);
  SmallVector<int64_t> shape{groups, c, m};
  for (const GradPhase &p : phase)
    shape.push_back(p.taps);
  Value init = emptyTensor(b, loc, shape, type.getElementType());
  SmallVector<IteratorType> iterators(rank + 1, IteratorType::parallel);
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{init.getType()}, ValueRange{}, ValueRange{init},
      ArrayRef<AffineMap>{AffineMap::getMultiDimIdentityMap(rank + 1, b.getContext())}, iterators,
      [&](OpBuilder &nb, Location l, ValueRange) {
        Value g = linalg::IndexOp::create(nb, l, 0), ci = linalg::IndexOp::create(nb, l, 1),
              mi = linalg::IndexOp::create(nb, l, 2);
        SmallVector<Value> indices{
            arith::AddIOp::create(nb, l, arith::MulIOp::create(nb, l, g, indexConst(nb, l, m)), mi),
            ci};
        for (auto [i, p] : llvm::enumerate(phase)) {
          Value j = linalg::IndexOp::create(nb, l, 3 + i);
          Value last = indexConst(nb, l, p.k0 + p.step * (p.taps - 1));
          Value offset = p.step == 1 ? j : arith::MulIOp::create(nb, l, j, indexConst(nb, l, p.step)).getResult();
          indices.push_back(arith::SubIOp::create(nb, l, last, offset));
        }
        linalg::YieldOp::create(nb, l, ValueRange{tensor::ExtractOp::create(nb, l, weight, indices)});
      });
  return generic.getResult(0);
}

struct ConvGradInputLowering : OpRewritePattern<ConvGradInputOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ConvGradInputOp op, PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto dyType = cast<RankedTensorType>(op.getDy().getType());
    auto weightType = cast<RankedTensorType>(op.getWeight().getType());
    auto resultType = cast<RankedTensorType>(op.getType());
    int64_t spatial = dyType.getRank() - 2, groups = op.getGroup();
    ArrayRef<int64_t> strides = op.getStrides(), pads = op.getPads(), dilations = op.getDilations();
    if (!convAttributesOk(spatial, groups, strides, pads, dilations))
      return rewriter.notifyMatchFailure(op, "malformed conv attributes");
    Type acc = accumulatorType(op);
    Value accZero = scalarConstant(rewriter, loc, acc, 0);
    int64_t n = dyType.getDimSize(0), mAll = dyType.getDimSize(1), cAll = resultType.getDimSize(1);
    Type dyElement = dyType.getElementType();
    auto index = [&](int64_t v) -> OpFoldResult { return rewriter.getIndexAttr(v); };

    // Each phase (a residue of i + pad per dim) is a stride-1 convolution of
    // a zero-padded window of dy with its reversed taps, built as mpc.conv's
    // own generic so that mpc-conv-to-matmul turns it into im2col + matmul.
    // Its results land in every s-th dx entry; dx entries no window reads
    // (past the last window, or phases without taps) stay zero.
    bool unitStrides = llvm::all_of(strides, [](int64_t s) { return s == 1; });
    Value dx = unitStrides ? Value() : filledTensor(rewriter, loc, resultType.getShape(), accZero);
    int64_t phases = 1;
    for (int64_t s : strides)
      phases *= s;
    for (int64_t phaseIndex = 0; phaseIndex < phases; ++phaseIndex) {
      SmallVector<GradPhase> phase;
      SmallVector<int64_t> paddedShape{n, mAll}, accShape{n, groups, cAll / groups};
      SmallVector<OpFoldResult> srcOffsets{index(0), index(0)}, srcSizes{index(n), index(mAll)},
          dstOffsets{index(0), index(0)}, dxOffsets{index(0), index(0)},
          dxSizes{index(n), index(cAll)}, dxStrides{index(1), index(1)};
      bool empty = false;
      for (int64_t i = spatial - 1, rest = phaseIndex; i >= 0; --i) {
        int64_t s = strides[i], r = rest % s;
        rest /= s;
        int64_t out = dyType.getDimSize(2 + i);
        GradPhase p = gradPhase(r, resultType.getDimSize(2 + i), weightType.getDimSize(2 + i), s,
                                pads[i], dilations[i]);
        int64_t extent = p.count + (p.taps - 1) * p.dilation;
        int64_t lo = std::max<int64_t>(0, p.base), hi = std::min(out - 1, p.base + extent - 1);
        empty |= p.count == 0 || p.taps == 0 || hi < lo;
        phase.insert(phase.begin(), p);
        paddedShape.insert(paddedShape.begin() + 2, extent);
        accShape.insert(accShape.begin() + 3, p.count);
        srcOffsets.insert(srcOffsets.begin() + 2, index(lo));
        srcSizes.insert(srcSizes.begin() + 2, index(std::max<int64_t>(hi - lo + 1, 0)));
        dstOffsets.insert(dstOffsets.begin() + 2, index(lo - p.base));
        dxOffsets.insert(dxOffsets.begin() + 2, index(p.first));
        dxSizes.insert(dxSizes.begin() + 2, index(p.count));
        dxStrides.insert(dxStrides.begin() + 2, index(s));
      }
      if (empty) {
        if (unitStrides) // the only phase: dx is all zeros
          dx = filledTensor(rewriter, loc, resultType.getShape(), accZero);
        continue;
      }
      SmallVector<OpFoldResult> ones(2 + spatial, index(1));
      Value padded = filledTensor(rewriter, loc, paddedShape, scalarConstant(rewriter, loc, dyElement, 0));
      Value used = tensor::ExtractSliceOp::create(rewriter, loc, op.getDy(), srcOffsets, srcSizes, ones);
      padded = tensor::InsertSliceOp::create(rewriter, loc, used, padded, dstOffsets, srcSizes, ones);
      padded = splitDim(rewriter, loc, padded, 1, groups); // [N, G, M, L...]
      Value flipped = flippedWeight(rewriter, loc, op.getWeight(), groups, phase);
      SmallVector<int64_t> phaseDilations, unit(spatial, 1);
      for (const GradPhase &p : phase)
        phaseDilations.push_back(p.dilation);
      Value sum = buildConvAccumulation(rewriter, loc, padded, flipped, accShape, unit, phaseDilations, acc);
      SmallVector<int64_t> merged{n, cAll};
      for (const GradPhase &p : phase)
        merged.push_back(p.count);
      sum = reshapeTensor(rewriter, loc, sum, merged);
      dx = unitStrides ? sum
                       : tensor::InsertSliceOp::create(rewriter, loc, sum, dx, dxOffsets, dxSizes, dxStrides)
                             .getResult();
    }
    rewriter.replaceOp(op, convertTensor(rewriter, loc, dx, resultType.getElementType()));
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
  SmallVector<IteratorType> iterators(2 + spatial, IteratorType::parallel);
  iterators.append(spatial, IteratorType::reduction);
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
    SmallVector<IteratorType> iterators(2 + spatial, IteratorType::parallel);
    iterators.append(spatial, IteratorType::reduction);
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

void populateTrainOpPatterns(RewritePatternSet &patterns) {
  patterns.add<SoftmaxCrossEntropyLowering, SoftmaxCrossEntropyGradLowering, MseLossLowering,
               ConvGradFilterLowering, ConvGradInputLowering, MaxPoolGradLowering,
               AvgPoolGradLowering, GatherGradLowering>(patterns.getContext());
}

} // namespace mpc::lowering
