//===- ParallelizeLoops.cpp - scf.parallel over large ops' outer dims -----===//
//
// The CPU has several cores; the loops convert-linalg-to-loops emits run on
// one. This pass marks the outer, independent iterations of large ops as
// scf.parallel so that async-parallel-for can hand them to the thread pool
// of lib/Runtime/AsyncRuntime.cpp. Only parallel (output) dimensions are
// split, never a reduction: each output element is computed exactly as
// before, whatever the thread count. Only the outermost dimension of each
// scf.parallel is kept parallel (see keepOuterDimensionParallel).
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
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/PatternMatch.h"

using namespace mlir;

namespace mpc {
#define GEN_PASS_DEF_PARALLELIZELOOPSPASS
#include "ConversionPasses.h.inc"

namespace {
/// Tile sizes: 1 over the leading parallel dimensions, outermost first, until
/// `minIterations` tiles; 0 (untiled) elsewhere. Empty when the outermost
/// dimension is a reduction: splitting below it would dispatch tasks once
/// per reduction step.
SmallVector<int64_t> tileSizesFor(linalg::LinalgOp op, int64_t minIterations) {
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  SmallVector<int64_t> tiles(ranges.size(), 0);
  int64_t iterations = 1;
  for (auto [d, range] : llvm::enumerate(ranges)) {
    if (iterators[d] != utils::IteratorType::parallel || iterations >= minIterations)
      break;
    tiles[d] = 1;
    iterations *= range;
  }
  if (iterations == 1)
    return {};
  return tiles;
}

bool isLargeStaticOp(linalg::LinalgOp op, int64_t minWork) {
  if (!op.hasPureBufferSemantics() || op.getNumLoops() == 0)
    return false;
  int64_t work = 1;
  for (int64_t range : op.getStaticLoopRanges()) {
    if (ShapedType::isDynamic(range))
      return false;
    work *= range;
  }
  return work >= minWork;
}

/// async-parallel-for (MLIR 22) miscompiles some multi-dimensional
/// scf.parallel loops: on the 67 x 127 output tiles of a 67x131x127 matmul
/// (inner trip count <= 512, so it takes its "block aligned" variant) it
/// computed whole rows twice. A one-dimensional loop never takes that path,
/// so only the outermost dimension stays parallel; the others become
/// sequential scf.for loops inside it (same iterations, same order within a
/// row).
void keepOuterDimensionParallel(scf::ParallelOp op, IRRewriter &rewriter) {
  if (op.getNumLoops() < 2 || op.getNumReductions() != 0)
    return;
  ValueRange lbs = op.getLowerBound(), ubs = op.getUpperBound(), steps = op.getStep();
  rewriter.setInsertionPoint(op);
  scf::ParallelOp::create(
      rewriter, op.getLoc(), lbs.take_front(), ubs.take_front(), steps.take_front(),
      [&](OpBuilder &builder, Location loc, ValueRange outer) {
        scf::buildLoopNest(builder, loc, lbs.drop_front(), ubs.drop_front(), steps.drop_front(),
                           [&](OpBuilder &builder, Location, ValueRange inner) {
                             IRMapping mapping;
                             mapping.map(op.getInductionVars().front(), outer.front());
                             mapping.map(ValueRange(op.getInductionVars()).drop_front(), inner);
                             for (Operation &nested : op.getBody()->without_terminator())
                               builder.clone(nested, mapping);
                           });
      });
  rewriter.eraseOp(op);
}

struct ParallelizeLoopsPass : impl::ParallelizeLoopsPassBase<ParallelizeLoopsPass> {
  using Base::Base;

  void runOnOperation() override {
    // Only ops directly in the function body: ops in a region (the tiles of
    // mpc-tile-and-vectorize, an scf.if of some lowering) are already inside
    // a loop nest, and async-parallel-for would nest thread dispatches.
    SmallVector<linalg::LinalgOp> candidates;
    for (Operation &op : getOperation().getBody().getOps())
      if (auto linalgOp = dyn_cast<linalg::LinalgOp>(op); linalgOp && isLargeStaticOp(linalgOp, minWork))
        candidates.push_back(linalgOp);
    IRRewriter rewriter(&getContext());
    for (linalg::LinalgOp op : candidates) {
      SmallVector<int64_t> tiles = tileSizesFor(op, minParallelIterations);
      if (tiles.empty())
        continue;
      rewriter.setInsertionPoint(op);
      linalg::LinalgTilingOptions tiling;
      tiling.setTileSizes(tiles);
      tiling.setLoopType(linalg::LinalgTilingLoopType::ParallelLoops);
      if (failed(linalg::tileLinalgOp(rewriter, op, tiling)))
        continue; // convert-linalg-to-loops still lowers it, sequentially
      rewriter.eraseOp(op);
    }
    // The new loops and mpc-tile-and-vectorize's tile loops.
    SmallVector<scf::ParallelOp> loops(getOperation().getBody().getOps<scf::ParallelOp>());
    for (scf::ParallelOp loop : loops)
      keepOuterDimensionParallel(loop, rewriter);
  }
};
} // namespace
} // namespace mpc
