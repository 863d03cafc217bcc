//===- ParallelizeLoops.cpp - scf.parallel over large ops' outer dims -----===//
//
// The CPU has several cores; the loops convert-linalg-to-loops emits run on
// one. This pass marks the outer, independent iterations of large ops as
// scf.parallel so that async-parallel-for can hand them to the thread pool
// of lib/Runtime/AsyncRuntime.cpp. Only parallel (output) dimensions are
// split, never a reduction: each output element is computed exactly as
// before, whatever the thread count.
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
  }
};
} // namespace
} // namespace mpc
