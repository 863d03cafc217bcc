//===- Convolution.cpp - conv and its gradients -> linalg.generic ---------===//
//
// Convolutions accumulate in the op's accumulator type (f32 for bf16/f16/fp8
// inputs unless `acc_type` says otherwise): the products of the narrow
// inputs are formed and summed in that type, and the result is rounded to
// the storage type once at the end. The forward op is one linalg.generic
// (buildConvAccumulation), which mpc-conv-to-matmul (lib/Codegen/CPU) turns
// into im2col + matmul. Its gradients are written in gather form (every
// gradient element sums what reaches it), so each is one parallel generic
// without write conflicts:
//   - filter gradient: dW[g,m,c,k] = sum_{n,o} xpad[n,g,c,o*s+k*d] dy[n,g,m,o];
//   - input gradient: split by stride phase (the residue of i + pad per
//     dim), each phase a stride-1 correlation of zero-padded dy with its
//     taps of the kernel reversed, emitted as the forward convolution's own
//     generic and written to every s-th dx entry with a strided
//     tensor.insert_slice.
//
//===----------------------------------------------------------------------===//
#include "LoweringUtils.h"

#include "mpc/Dialect/MpcDialect.h"

#include "mlir/Dialect/Utils/ReshapeOpsUtils.h"

#include <numeric>

using namespace mlir;

namespace mpc::lowering {
namespace {

using utils::IteratorType;

/// The attributes conv and its gradients share, read once and checked:
/// their lengths must agree with the `spatial` dims.
struct ConvAttributes {
  int64_t spatial, groups;
  ArrayRef<int64_t> strides, pads, dilations;
};

template <typename OpTy> FailureOr<ConvAttributes> readConvAttributes(OpTy op, int64_t spatial) {
  ConvAttributes conv{spatial, static_cast<int64_t>(op.getGroup()), op.getStrides(), op.getPads(),
                      op.getDilations()};
  auto size = [](ArrayRef<int64_t> values) { return static_cast<int64_t>(values.size()); };
  if (spatial < 1 || conv.groups < 1 || size(conv.strides) != spatial ||
      size(conv.dilations) != spatial || size(conv.pads) != 2 * spatial)
    return failure();
  return conv;
}

/// Zero-pads the spatial dims (2...) of an NC[spatial] tensor by `pads`
/// (begin pads of every spatial dim, then end pads); unchanged without pads.
Value padSpatial(OpBuilder &b, Location loc, Value input, ArrayRef<int64_t> pads) {
  if (llvm::all_of(pads, [](int64_t p) { return p == 0; }))
    return input;
  auto type = cast<RankedTensorType>(input.getType());
  int64_t spatial = type.getRank() - 2;
  SmallVector<OpFoldResult> low(2, b.getIndexAttr(0)), high(2, b.getIndexAttr(0));
  SmallVector<int64_t> padded(type.getShape());
  for (int64_t i = 0; i < spatial; ++i) {
    low.push_back(b.getIndexAttr(pads[i]));
    high.push_back(b.getIndexAttr(pads[spatial + i]));
    padded[2 + i] += pads[i] + pads[spatial + i];
  }
  auto paddedType = RankedTensorType::get(padded, type.getElementType());
  Value zero = scalarConstant(b, loc, type.getElementType(), 0);
  return tensor::PadOp::create(b, loc, paddedType, input, low, high, zero);
}

/// Splits dim `dim` of `value` (size groups*rest) into [groups, rest].
Value splitDim(OpBuilder &b, Location loc, Value value, int64_t dim, int64_t groups) {
  auto type = cast<RankedTensorType>(value.getType());
  SmallVector<int64_t> shape(type.getShape());
  SmallVector<ReassociationIndices> reassociation;
  for (int64_t i = 0, e = type.getRank(); i < e; ++i) {
    int64_t first = i <= dim ? i : i + 1;
    if (i == dim)
      reassociation.push_back({first, first + 1});
    else
      reassociation.push_back({first});
  }
  shape[dim] /= groups;
  shape.insert(shape.begin() + dim, groups);
  auto resultType = RankedTensorType::get(shape, type.getElementType());
  return tensor::ExpandShapeOp::create(b, loc, resultType, value, reassociation);
}

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

/// A convolution's multiply-accumulate as the one linalg.generic that
/// mpc-conv-to-matmul rewrites into im2col + matmul (it accepts exactly this
/// operand layout): loops (n, g, m, o..., c, k...), `input` [N, G, C, S...]
/// (already padded) read at o * stride + k * dilation, `weight` [G, M, C,
/// K...], result [N, G, M, O...] of `accType` summed from zero. mpc.conv and
/// mpc.conv_grad_input both build it here so that they cannot drift from
/// the layout that pass expects.
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

struct ConvLowering : OpRewritePattern<ConvOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ConvOp op, PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto inputType = cast<RankedTensorType>(op.getInput().getType());
    auto resultType = cast<RankedTensorType>(op.getType());
    FailureOr<ConvAttributes> conv = readConvAttributes(op, inputType.getRank() - 2);
    if (failed(conv))
      return rewriter.notifyMatchFailure(op, "malformed conv attributes");
    int64_t groups = conv->groups;
    ArrayRef<int64_t> strides = conv->strides, pads = conv->pads, dilations = conv->dilations;
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
    FailureOr<ConvAttributes> conv = readConvAttributes(op, inputType.getRank() - 2);
    if (failed(conv))
      return rewriter.notifyMatchFailure(op, "malformed conv attributes");
    int64_t spatial = conv->spatial, groups = conv->groups;
    ArrayRef<int64_t> strides = conv->strides, pads = conv->pads, dilations = conv->dilations;
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
    FailureOr<ConvAttributes> conv = readConvAttributes(op, dyType.getRank() - 2);
    if (failed(conv))
      return rewriter.notifyMatchFailure(op, "malformed conv attributes");
    int64_t spatial = conv->spatial, groups = conv->groups;
    ArrayRef<int64_t> strides = conv->strides, pads = conv->pads, dilations = conv->dilations;
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

} // namespace


void populateConvolutionPatterns(RewritePatternSet &patterns) {
  patterns.add<ConvLowering, ConvGradFilterLowering, ConvGradInputLowering>(patterns.getContext());
}

} // namespace mpc::lowering
