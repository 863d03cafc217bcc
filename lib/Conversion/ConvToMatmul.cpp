//===- ConvToMatmul.cpp - convolution generics as im2col + matmul ---------===//
//
// mpc.conv lowers to one linalg.generic whose input map is out * stride +
// kernel * dilation. mpc-tile-and-vectorize only tiles plain (projected
// permutation) maps, so convolutions ran as scalar loops (~1 GFLOP/s).
// Copying the input windows into a patches tensor first (im2col) costs
// C * prod(kernel) * prod(out) copies against M times that many multiply-
// adds, and leaves a matmul the register tiles handle: the out-spatial
// positions, flattened, are the tile's columns and the output channels its
// rows.
//
//===----------------------------------------------------------------------===//
#include "ConversionPasses.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"

using namespace mlir;

namespace mpc {
#define GEN_PASS_DEF_CONVTOMATMULPASS
#include "ConversionPasses.h.inc"

namespace {

/// A convolution generic in the layout of Contraction.cpp's ConvLowering:
/// loops (n, g, m, o_1..o_S, c, k_1..k_S); input [N, G, C, H...] read at
/// (n, g, c, o_i * stride_i + k_i * dilation_i), weight [G, M, C, K...] at
/// (g, m, c, k...), accumulator [N, G, M, O...] at (n, g, m, o...).
struct ConvShape {
  int64_t spatial = 0;
  SmallVector<int64_t> strides, dilations;
};

AffineMap convInputMap(MLIRContext *ctx, const ConvShape &conv) {
  int64_t s = conv.spatial;
  auto d = [&](int64_t i) { return getAffineDimExpr(i, ctx); };
  SmallVector<AffineExpr> exprs{d(0), d(1), d(3 + s)};
  for (int64_t i = 0; i < s; ++i)
    exprs.push_back(d(3 + i) * conv.strides[i] + d(4 + s + i) * conv.dilations[i]);
  return AffineMap::get(4 + 2 * s, 0, exprs, ctx);
}

/// The strides and dilations of `op` if it is such a convolution: they are
/// read off the input map (its value at unit vectors) and the whole map set
/// is then rebuilt and compared, so any other layout is refused.
std::optional<ConvShape> matchConv(linalg::GenericOp op) {
  if (!op.hasPureTensorSemantics() || op.getNumDpsInputs() != 2 || op.getNumDpsInits() != 1)
    return std::nullopt;
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  unsigned loops = op.getNumLoops();
  if (loops < 6 || loops % 2 != 0 || maps[0].getNumSymbols() != 0)
    return std::nullopt;
  ConvShape conv;
  conv.spatial = (loops - 4) / 2;
  int64_t s = conv.spatial;
  if (maps[0].getNumResults() != 3 + s)
    return std::nullopt;
  auto unitValue = [&](int64_t dim, int64_t result) {
    SmallVector<int64_t> point(loops, 0);
    point[dim] = 1;
    return maps[0].compose(point)[result];
  };
  for (int64_t i = 0; i < s; ++i) {
    conv.strides.push_back(unitValue(3 + i, 3 + i));
    conv.dilations.push_back(unitValue(4 + s + i, 3 + i));
  }
  MLIRContext *ctx = op.getContext();
  auto d = [&](int64_t i) { return getAffineDimExpr(i, ctx); };
  SmallVector<AffineExpr> wExprs{d(1), d(2), d(3 + s)}, outExprs{d(0), d(1), d(2)};
  for (int64_t i = 0; i < s; ++i) {
    wExprs.push_back(d(4 + s + i));
    outExprs.push_back(d(3 + i));
  }
  if (maps[0] != convInputMap(ctx, conv) || maps[1] != AffineMap::get(loops, 0, wExprs, ctx) ||
      maps[2] != AffineMap::get(loops, 0, outExprs, ctx))
    return std::nullopt;
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  for (unsigned i = 0; i < loops; ++i)
    if ((iterators[i] == utils::IteratorType::reduction) != (i >= 3 + s))
      return std::nullopt;
  if (llvm::any_of(op.getStaticLoopRanges(), ShapedType::isDynamic) ||
      llvm::any_of(op->getOperandTypes(), [](Type t) { return !cast<ShapedType>(t).hasStaticShape(); }))
    return std::nullopt;
  return conv;
}

/// Collapses dims [first, first + count) of `value` into one.
Value collapseRange(OpBuilder &b, Location loc, Value value, int64_t first, int64_t count) {
  if (count == 1)
    return value;
  int64_t rank = cast<RankedTensorType>(value.getType()).getRank();
  SmallVector<ReassociationIndices> groups;
  for (int64_t i = 0; i < rank; ++i) {
    if (i > first && i < first + count)
      groups.back().push_back(i);
    else
      groups.push_back({i});
  }
  return tensor::CollapseShapeOp::create(b, loc, value, groups);
}

/// [N, G, C, K..., O...] with patches[n, g, c, k, o] = input[n, g, c,
/// o * stride + k * dilation]; the input itself when every kernel size and
/// stride is 1 (then O == H and the copy would be an identity).
Value buildPatches(OpBuilder &b, Location loc, linalg::GenericOp op, const ConvShape &conv) {
  int64_t s = conv.spatial;
  Value input = op.getDpsInputs()[0];
  auto weightShape = cast<RankedTensorType>(op.getDpsInputs()[1].getType()).getShape();
  auto accShape = cast<RankedTensorType>(op.getDpsInits()[0].getType()).getShape();
  ArrayRef<int64_t> kernel = weightShape.drop_front(3), out = accShape.drop_front(3);
  bool pointwise = llvm::all_of(kernel, [](int64_t k) { return k == 1; }) &&
                   llvm::all_of(conv.strides, [](int64_t v) { return v == 1; });
  if (pointwise)
    return input;

  auto inputType = cast<RankedTensorType>(input.getType());
  SmallVector<int64_t> shape(inputType.getShape().take_front(3));
  shape.append(kernel.begin(), kernel.end());
  shape.append(out.begin(), out.end());
  Value init = tensor::EmptyOp::create(b, loc, shape, inputType.getElementType());

  // Loops in the patches' order (n, g, c, k..., o...); the input map is the
  // convolution's with its loops renumbered to that order.
  MLIRContext *ctx = b.getContext();
  int64_t loops = 3 + 2 * s;
  auto d = [&](int64_t i) { return getAffineDimExpr(i, ctx); };
  SmallVector<AffineExpr> inExprs{d(0), d(1), d(2)};
  for (int64_t i = 0; i < s; ++i)
    inExprs.push_back(d(3 + s + i) * conv.strides[i] + d(3 + i) * conv.dilations[i]);
  SmallVector<AffineMap> maps{AffineMap::get(loops, 0, inExprs, ctx),
                              AffineMap::getMultiDimIdentityMap(loops, ctx)};
  SmallVector<utils::IteratorType> iterators(loops, utils::IteratorType::parallel);
  auto copy = linalg::GenericOp::create(
      b, loc, TypeRange{init.getType()}, ValueRange{input}, ValueRange{init}, maps, iterators,
      [](OpBuilder &nb, Location nl, ValueRange args) { linalg::YieldOp::create(nb, nl, args[0]); });
  return copy.getResult(0);
}

void rewriteConv(RewriterBase &rewriter, linalg::GenericOp op, const ConvShape &conv) {
  int64_t s = conv.spatial;
  Location loc = op.getLoc();
  MLIRContext *ctx = op.getContext();
  rewriter.setInsertionPoint(op);
  Value patches = buildPatches(rewriter, loc, op, conv);
  // [N, G, C, K..., O...] -> [N, G, C * prod(K), prod(O)]; a pointwise
  // convolution's patches are its input [N, G, C, O...].
  int64_t patchesRank = cast<RankedTensorType>(patches.getType()).getRank();
  patches = collapseRange(rewriter, loc, patches, patchesRank - s, s);
  patches = collapseRange(rewriter, loc, patches, 2, patchesRank - s - 2);
  Value weight = collapseRange(rewriter, loc, op.getDpsInputs()[1], 2, 1 + s);
  Value acc = collapseRange(rewriter, loc, op.getDpsInits()[0], 3, s);

  // Loops (n, g, m, p, k): p, the flattened output position, innermost of
  // the parallel ones so that it becomes the vector (column) dimension.
  auto d = [&](int64_t i) { return getAffineDimExpr(i, ctx); };
  // The weights come first: the vector contraction lowers to outer
  // products of its first operand's column (broadcast) and its second's row
  // (a vector of output positions); the other order transposed every
  // accumulator tile element by element (4x the IR).
  SmallVector<AffineMap> maps{AffineMap::get(5, 0, {d(1), d(2), d(4)}, ctx),
                              AffineMap::get(5, 0, {d(0), d(1), d(4), d(3)}, ctx),
                              AffineMap::get(5, 0, {d(0), d(1), d(2), d(3)}, ctx)};
  SmallVector<utils::IteratorType> iterators(4, utils::IteratorType::parallel);
  iterators.push_back(utils::IteratorType::reduction);
  auto matmul = linalg::GenericOp::create(rewriter, loc, TypeRange{acc.getType()},
                                          ValueRange{weight, patches}, ValueRange{acc}, maps, iterators);
  // The body is taken over (same casts and accumulation), and k runs over
  // (c, kernel...) row-major, the order of the convolution's reduction
  // loops: scalar loops add in the same order. Its first two arguments trade
  // places, as the operands did, and so do the factors of its products
  // (exact: multiplication commutes), which mpc-tile-and-vectorize expects
  // in operand order.
  rewriter.cloneRegionBefore(op.getRegion(), matmul.getRegion(), matmul.getRegion().end());
  Block &body = matmul.getRegion().front();
  BlockArgument oldWeight = body.getArgument(1);
  BlockArgument newWeight = body.insertArgument(0u, oldWeight.getType(), oldWeight.getLoc());
  oldWeight.replaceAllUsesWith(newWeight);
  body.eraseArgument(2);
  body.walk([](Operation *mul) {
    if (isa<arith::MulFOp, arith::MulIOp>(mul))
      mul->setOperands({mul->getOperand(1), mul->getOperand(0)});
  });
  auto resultType = cast<RankedTensorType>(op.getResult(0).getType());
  SmallVector<ReassociationIndices> groups{{0}, {1}, {2}, {}};
  for (int64_t i = 0; i < s; ++i)
    groups.back().push_back(3 + i);
  Value result = tensor::ExpandShapeOp::create(rewriter, loc, resultType, matmul.getResult(0), groups);
  rewriter.replaceOp(op, result);
}

struct ConvToMatmulPass : impl::ConvToMatmulPassBase<ConvToMatmulPass> {
  using Base::Base;

  void runOnOperation() override {
    SmallVector<std::pair<linalg::GenericOp, ConvShape>> convs;
    getOperation().walk([&](linalg::GenericOp op) {
      std::optional<ConvShape> conv = matchConv(op);
      if (!conv)
        return;
      int64_t macs = 1;
      for (int64_t range : op.getStaticLoopRanges())
        macs *= range;
      if (macs >= minMacs)
        convs.emplace_back(op, *conv);
    });
    IRRewriter rewriter(&getContext());
    for (auto &[op, conv] : convs)
      rewriteConv(rewriter, op, conv);
  }
};

} // namespace
} // namespace mpc
