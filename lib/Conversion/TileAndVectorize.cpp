//===- TileAndVectorize.cpp - register-tiled, vectorized contractions -----===//
//
// Scalar loops over a matmul run at ~1.4 GFLOP/s on the CPU; a register tile
// of [8 x 32] outputs accumulated over 64-wide slices of the reduction,
// lowered to vector outer products (FMAs), runs an order of magnitude
// faster. This pass runs on buffers (after one-shot bufferization) so that
// tiling creates no tensor copies for bufferization to reason about.
//
//===----------------------------------------------------------------------===//
#include "ConversionPasses.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Dialect/Vector/Transforms/LoweringPatterns.h"
#include "mlir/Dialect/Vector/Transforms/VectorRewritePatterns.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

using namespace mlir;

namespace mpc {
#define GEN_PASS_DEF_TILEANDVECTORIZEPASS
#include "ConversionPasses.h.inc"

namespace {
// Tile of the two innermost parallel dimensions (rows x columns of the
// output) and of the reduction: 8 x 32 f32 accumulators are 32 AVX2
// registers' worth of lanes split over 8 rows, and 64 reduction steps
// amortize the accumulator loads and stores. On 512^3 f32, 64 ran 3.4 ms
// against 5.7 ms with 16 (docs/benchmarks.md); other sizes are untried.
constexpr int64_t kTileRows = 8;
constexpr int64_t kTileCols = 32;
constexpr int64_t kTileReduction = 64;

/// The largest divisor of `size` that is at most `limit`: tiles then cover
/// the dimension exactly and every tile has a static shape, so the vectorizer
/// needs no masks.
int64_t divisorTile(int64_t size, int64_t limit) {
  if (size <= limit)
    return size;
  for (int64_t t = limit; t > 1; --t)
    if (size % t == 0)
      return t;
  return 1;
}

/// `v` is block argument `index` of `body`, possibly through float casts:
/// the bf16/f16 -> f32 promotion of Contraction.cpp, and the f32 -> bf16
/// rounding of a precision cast that elementwise fusion moved into the
/// contraction. The casts are collected in `casts`.
bool isInput(Value v, Block &body, unsigned index, unsigned &casts) {
  while (Operation *def = v.getDefiningOp()) {
    if (!isa<arith::ExtFOp, arith::TruncFOp>(def))
      return false;
    v = def->getOperand(0);
    ++casts;
  }
  return v == body.getArgument(index);
}

/// Body is exactly `yield acc + cast(a) * cast(b)`: a matmul-like
/// contraction. Other reductions (softmax, layer norm, pooling) vectorize
/// into multi-reductions this pass does not lower.
bool isMulAddBody(linalg::GenericOp op) {
  Block &body = op.getRegion().front();
  auto yield = cast<linalg::YieldOp>(body.getTerminator());
  auto add = yield.getValues()[0].getDefiningOp<arith::AddFOp>();
  if (!add)
    return false;
  Value acc = body.getArgument(2);
  Value product = add.getLhs() == acc ? add.getRhs() : add.getRhs() == acc ? add.getLhs() : Value();
  auto mul = product ? product.getDefiningOp<arith::MulFOp>() : arith::MulFOp();
  unsigned casts = 0;
  if (!mul || !isInput(mul.getLhs(), body, 0, casts) || !isInput(mul.getRhs(), body, 1, casts))
    return false;
  // Nothing else in the body: add, mul, the casts, yield.
  return body.getOperations().size() == 3 + casts;
}

/// Matmul-like generics over static buffers whose operands are read through
/// plain (projected permutation) maps, with one reduction dim. Convolutions
/// (d1 + d4 maps), other reductions and elementwise ops keep the scalar
/// loops. So do contractions over two dims (an attention output projection
/// reading [heads, head_dim] x [heads, head_dim, hidden]): the outer-product
/// lowering cannot take them and the fallback unrolls every tile into
/// element-wise extracts and inserts, ~70k ops per contraction, which made
/// LLVM's compile time of a 2-layer decoder ~40 s.
bool isCandidate(linalg::GenericOp op) {
  if (!op.hasPureBufferSemantics() || op.getNumReductionLoops() != 1 || op.getNumDpsInputs() != 2 ||
      op.getNumDpsInits() != 1 || !isMulAddBody(op))
    return false;
  for (AffineMap map : op.getIndexingMapsArray())
    if (!map.isProjectedPermutation())
      return false;
  return llvm::all_of(op.getStaticLoopRanges(), [](int64_t s) { return !ShapedType::isDynamic(s); });
}

/// The op's work: the product of its static loop ranges.
int64_t multiplyAdds(linalg::GenericOp op) {
  int64_t total = 1;
  for (int64_t range : op.getStaticLoopRanges())
    total *= range;
  return total;
}

SmallVector<int64_t> tileSizesFor(linalg::GenericOp op) {
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  SmallVector<int64_t> tiles(ranges.size(), 1);
  unsigned parallelSeen = 0;
  for (int64_t d = ranges.size() - 1; d >= 0; --d) {
    if (iterators[d] == utils::IteratorType::reduction) {
      // At most half of a reduction of 16 or more: with no loop over k
      // left inside an output tile, LLVM hoists the tile's whole [rows x k]
      // operand out of the loop over the other tiles (a 1x1 conv with 64
      // input channels: 512 broadcast vectors), spills them, and its
      // register allocator took 5-15 s on that one conv, which then ran 4x
      // slower. Same additions in the same order either way.
      int64_t limit = ranges[d] >= 16 ? std::min(kTileReduction, ranges[d] / 2) : kTileReduction;
      tiles[d] = divisorTile(ranges[d], limit);
      continue;
    }
    // Innermost parallel dim: columns; the next: rows; outer ones (batch):
    // one at a time.
    if (parallelSeen == 0)
      tiles[d] = divisorTile(ranges[d], kTileCols);
    else if (parallelSeen == 1)
      tiles[d] = divisorTile(ranges[d], kTileRows);
    ++parallelSeen;
  }
  return tiles;
}

struct TileAndVectorizePass : impl::TileAndVectorizePassBase<TileAndVectorizePass> {
  using Base::Base;

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    MLIRContext *ctx = &getContext();
    SmallVector<linalg::GenericOp> candidates;
    func.walk([&](linalg::GenericOp op) {
      if (isCandidate(op) && multiplyAdds(op) >= minMacs)
        candidates.push_back(op);
    });

    IRRewriter rewriter(ctx);
    for (linalg::GenericOp op : candidates) {
      rewriter.setInsertionPoint(op);
      linalg::LinalgTilingOptions tiling;
      tiling.setTileSizes(tileSizesFor(op));
      // Tiles are independent over the parallel dimensions: scf.parallel
      // lets the async lowering spread them over threads (scf-to-cf runs it
      // sequentially otherwise).
      tiling.setLoopType(linalg::LinalgTilingLoopType::ParallelLoops);
      FailureOr<linalg::TiledLinalgOp> tiled = linalg::tileLinalgOp(rewriter, op, tiling);
      if (failed(tiled))
        continue; // the scalar loops of convert-linalg-to-loops still work
      rewriter.eraseOp(op);
      Operation *tile = tiled->op.getOperation();
      if (failed(linalg::vectorizeOpPrecondition(tile)))
        continue;
      rewriter.setInsertionPoint(tile);
      FailureOr<linalg::VectorizationResult> vectorized = linalg::vectorize(
          rewriter, tile, /*inputVectorSizes=*/{}, /*inputScalableVecDims=*/{}, /*vectorizeNDExtract=*/false,
          /*flatten1DDepthwiseConv=*/false, /*assumeDynamicDimsMatchVecSizes=*/false,
          /*createNamedContraction=*/true);
      if (failed(vectorized))
        continue;
      rewriter.eraseOp(tile);
    }

    // The vectorized body is transfer_read + extf + mulf + multi_reduction:
    // fold it into vector.contract and lower that to outer products, i.e.
    // one FMA per (row, k) into a row of accumulators. The extf of bf16/f16
    // operands stays a separate op: products and sums stay in f32 (a bf16 or
    // f16 product is exact in f32, so the FMA changes only the order of the
    // additions; an f32 product is no longer rounded before the add).
    // Phases, because the later lowerings (broadcast, transpose) would
    // otherwise expand the broadcasts before they fold into the contraction.
    auto apply = [&](auto populate) {
      RewritePatternSet patterns(ctx);
      populate(patterns);
      return applyPatternsGreedily(func, std::move(patterns));
    };
    if (failed(apply([&](RewritePatternSet &patterns) {
          vector::populateVectorTransferPermutationMapLoweringPatterns(patterns);
          vector::populateVectorReductionToContractPatterns(patterns);
          // Moves the broadcasts and transposes of the operands past their
          // extf so that they fold into the contraction maps.
          vector::populateSinkVectorOpsPatterns(patterns);
          vector::TransferReadOp::getCanonicalizationPatterns(patterns, ctx);
          vector::TransferWriteOp::getCanonicalizationPatterns(patterns, ctx);
        })))
      return signalPassFailure();
    if (!lowerVectorOps)
      return;
    if (failed(apply([&](RewritePatternSet &patterns) {
          vector::populateCastAwayVectorLeadingOneDimPatterns(patterns);
          vector::populateVectorContractLoweringPatterns(patterns, vector::VectorContractLowering::OuterProduct);
          vector::populateVectorMultiReductionLoweringPatterns(
              patterns, vector::VectorMultiReductionLowering::InnerParallel);
        })) ||
        failed(apply([&](RewritePatternSet &patterns) {
          vector::populateVectorOuterProductLoweringPatterns(patterns);
          vector::populateVectorBroadcastLoweringPatterns(patterns);
          vector::populateVectorTransposeLoweringPatterns(patterns, vector::VectorTransposeLowering::EltWise);
          vector::populateVectorShapeCastLoweringPatterns(patterns);
          vector::populateVectorMaskOpLoweringPatterns(patterns);
          vector::populateVectorTransferLoweringPatterns(patterns, /*maxTransferRank=*/1);
        })))
      signalPassFailure();
  }
};
} // namespace
} // namespace mpc
