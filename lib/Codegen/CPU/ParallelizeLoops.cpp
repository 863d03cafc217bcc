//===- ParallelizeLoops.cpp - scf.parallel over large ops' outer dims -----===//
//
// The CPU has several cores; the loops convert-linalg-to-loops emits run on
// one. This pass marks the outer, independent iterations of large ops as
// scf.parallel so that async-parallel-for can hand them to the thread pool
// of lib/Runtime/AsyncRuntime.cpp. Only parallel (output) dimensions are
// split, never a reduction: each output element is computed exactly as
// before, whatever the thread count. One dimension of each outermost
// scf.parallel is kept parallel (see keepOneDimensionParallel).
//
//===----------------------------------------------------------------------===//
#include "mpc/Codegen/CPU/Passes.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/PatternMatch.h"

using namespace mlir;

namespace mpc {
#define GEN_PASS_DEF_PARALLELIZELOOPSPASS
#include "mpc/Codegen/CPU/Passes.h.inc"

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
/// so one dimension stays parallel and the others become sequential scf.for
/// loops inside it. The kept dimension is the outermost one that does not
/// have a trip count of one: register tiles of a convolution block
/// (mpc-conv-to-matmul) start with batch and group dimensions of one tile,
/// and keeping those would leave nothing to share between threads. The
/// iterations are independent (that is what scf.parallel says), so moving
/// that dimension outward does not change any result. `parallelDim` < 0 makes
/// every dimension sequential.
void keepOneDimensionParallel(scf::ParallelOp op, int parallelDim, IRRewriter &rewriter) {
  if (op.getNumReductions() != 0 || (parallelDim >= 0 && op.getNumLoops() < 2))
    return;
  SmallVector<Value> lbs(op.getLowerBound()), ubs(op.getUpperBound()), steps(op.getStep());
  SmallVector<Value> ivs(op.getInductionVars());
  SmallVector<Value> seqLbs, seqUbs, seqSteps, seqIvs;
  for (unsigned d = 0; d < op.getNumLoops(); ++d) {
    if (static_cast<int>(d) == parallelDim)
      continue;
    seqLbs.push_back(lbs[d]);
    seqUbs.push_back(ubs[d]);
    seqSteps.push_back(steps[d]);
    seqIvs.push_back(ivs[d]);
  }
  auto buildBody = [&](OpBuilder &builder, Location loc, IRMapping mapping) {
    scf::buildLoopNest(builder, loc, seqLbs, seqUbs, seqSteps,
                       [&](OpBuilder &builder, Location, ValueRange inner) {
                         IRMapping nestedMapping = mapping;
                         nestedMapping.map(seqIvs, inner);
                         for (Operation &nested : op.getBody()->without_terminator())
                           builder.clone(nested, nestedMapping);
                       });
  };
  rewriter.setInsertionPoint(op);
  if (parallelDim < 0) {
    buildBody(rewriter, op.getLoc(), IRMapping());
  } else {
    scf::ParallelOp::create(rewriter, op.getLoc(), ValueRange{lbs[parallelDim]}, ValueRange{ubs[parallelDim]},
                            ValueRange{steps[parallelDim]},
                            [&](OpBuilder &builder, Location loc, ValueRange outer) {
                              IRMapping mapping;
                              mapping.map(ivs[parallelDim], outer.front());
                              buildBody(builder, loc, mapping);
                            });
  }
  rewriter.eraseOp(op);
}

/// The outermost dimension whose trip count is not statically one (0 when
/// every dimension runs once).
int dimensionToParallelize(scf::ParallelOp op) {
  for (unsigned d = 0; d < op.getNumLoops(); ++d) {
    std::optional<int64_t> lb = getConstantIntValue(op.getLowerBound()[d]);
    std::optional<int64_t> ub = getConstantIntValue(op.getUpperBound()[d]);
    std::optional<int64_t> step = getConstantIntValue(op.getStep()[d]);
    if (!lb || !ub || !step || *ub - *lb > *step)
      return d;
  }
  return 0;
}

/// scf.for loops marked kIndependentIterationsAttr that run at least
/// `minTrips` times become one-dimensional scf.parallel loops: a whole block
/// of work per iteration (mpc-conv-to-matmul's patches copy and matmul of a
/// block of output rows) shares out better than the tiles inside it, which
/// are dispatched once per block. Loops still carrying values (bufferization
/// normally removes the tensor ones) stay sequential.
void parallelizeIndependentLoops(func::FuncOp func, int64_t minTrips, IRRewriter &rewriter) {
  SmallVector<scf::ForOp> loops;
  func.walk([&](scf::ForOp loop) {
    if (loop->hasAttr(kIndependentIterationsAttr) && loop.getNumResults() == 0)
      loops.push_back(loop);
  });
  for (scf::ForOp loop : loops) {
    std::optional<int64_t> lb = getConstantIntValue(loop.getLowerBound());
    std::optional<int64_t> ub = getConstantIntValue(loop.getUpperBound());
    std::optional<int64_t> step = getConstantIntValue(loop.getStep());
    if (!lb || !ub || !step || *step <= 0 || (*ub - *lb + *step - 1) / *step < minTrips)
      continue;
    rewriter.setInsertionPoint(loop);
    scf::ParallelOp::create(rewriter, loop.getLoc(), ValueRange{loop.getLowerBound()},
                            ValueRange{loop.getUpperBound()}, ValueRange{loop.getStep()},
                            [&](OpBuilder &builder, Location, ValueRange ivs) {
                              IRMapping mapping;
                              mapping.map(loop.getInductionVar(), ivs.front());
                              for (Operation &nested : loop.getBody()->without_terminator())
                                builder.clone(nested, mapping);
                            });
    rewriter.eraseOp(loop);
  }
}

struct ParallelizeLoopsPass : impl::ParallelizeLoopsPassBase<ParallelizeLoopsPass> {
  using Base::Base;

  void runOnOperation() override {
    IRRewriter rewriter(&getContext());
    // A kernel called from inside a loop that runs in parallel (a block of
    // a blocked convolution) runs on whichever thread runs that block.
    if (auto trips = getOperation()->getAttrOfType<IntegerAttr>(kCalledInIndependentLoopAttr);
        trips && trips.getInt() >= minIndependentTrips) {
      SmallVector<scf::ParallelOp> loops;
      getOperation().walk([&](scf::ParallelOp loop) { loops.push_back(loop); });
      for (scf::ParallelOp loop : loops)
        keepOneDimensionParallel(loop, /*parallelDim=*/-1, rewriter);
      return;
    }
    // Only ops directly in the function body: ops in a region (the tiles of
    // mpc-tile-and-vectorize, an scf.if of some lowering) are already inside
    // a loop nest, and async-parallel-for would nest thread dispatches.
    SmallVector<linalg::LinalgOp> candidates;
    for (Operation &op : getOperation().getBody().getOps())
      if (auto linalgOp = dyn_cast<linalg::LinalgOp>(op); linalgOp && isLargeStaticOp(linalgOp, minWork))
        candidates.push_back(linalgOp);
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
    parallelizeIndependentLoops(getOperation(), minIndependentTrips, rewriter);
    // The new loops and mpc-tile-and-vectorize's tile loops, wherever they
    // are: async-parallel-for converts every scf.parallel, also one nested in
    // an scf.for (mpc-conv-to-matmul's row blocks) or in another
    // scf.parallel. A nested one runs sequentially (its parent already
    // spreads the work; nested dispatch would only add overhead); innermost
    // first, so rewriting one leaves the loops around it in place.
    SmallVector<scf::ParallelOp> nested;
    getOperation().walk([&](scf::ParallelOp loop) {
      if (loop->getParentOfType<scf::ParallelOp>())
        nested.push_back(loop);
    });
    for (scf::ParallelOp loop : nested)
      keepOneDimensionParallel(loop, /*parallelDim=*/-1, rewriter);
    // The rest are not nested in each other: one dimension each stays parallel.
    SmallVector<scf::ParallelOp> loops;
    getOperation().walk([&](scf::ParallelOp loop) { loops.push_back(loop); });
    for (scf::ParallelOp loop : loops)
      keepOneDimensionParallel(loop, dimensionToParallelize(loop), rewriter);
  }
};
} // namespace
} // namespace mpc
