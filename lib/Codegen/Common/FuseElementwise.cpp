//===- FuseElementwise.cpp - elementwise fusion that never recomputes -----===//
//
// Upstream's linalg-fuse-elementwise-ops fuses any single-use producer into
// its consumer. When the consumer reads the producer's result through a map
// that leaves out some of its loops (a contraction's operand), the fused
// body evaluates the producer once per value of those loops: in the test
// encoder, GELU's erf ran 32x and softmax's exp and divide 8x as often as
// needed, most of the model's run time. This pass keeps every fusion that
// evaluates each producer element once and refuses the others, except for
// producers that are only float casts (cheap, and mpc-tile-and-vectorize
// expects the precision casts inside the contraction it tiles).
//
//===----------------------------------------------------------------------===//
#include "mpc/Codegen/Common/Passes.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Tensor/Transforms/Transforms.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

using namespace mlir;

namespace mpc {
#define GEN_PASS_DEF_FUSEELEMENTWISEPASS
#include "mpc/Codegen/Common/Passes.h.inc"

namespace {
/// The producer's body does no arithmetic: a copy, broadcast or transpose
/// (only the yield), or float precision casts. Recomputing it per consumer
/// iteration costs (almost) nothing.
bool isCheapToRecompute(linalg::GenericOp producer) {
  return llvm::all_of(producer.getRegion().front().without_terminator(),
                      [](Operation &op) { return isa<arith::ExtFOp, arith::TruncFOp>(op); });
}

/// Fuse a single-use producer (upstream's condition) only where each of its
/// elements is still computed once: the consumer reads it through a
/// permutation of all of the consumer's loops.
bool shouldFuse(OpOperand *fused) {
  Operation *producer = fused->get().getDefiningOp();
  if (!producer || !producer->hasOneUse())
    return false;
  auto consumer = dyn_cast<linalg::LinalgOp>(fused->getOwner());
  if (!consumer)
    return true; // reshapes: the upstream pattern decides
  if (consumer.getMatchingIndexingMap(fused).isPermutation())
    return true;
  auto generic = dyn_cast<linalg::GenericOp>(producer);
  return generic && isCheapToRecompute(generic);
}

struct FuseElementwisePass : impl::FuseElementwisePassBase<FuseElementwisePass> {
  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    RewritePatternSet patterns(ctx);
    // The pattern set of linalg-fuse-elementwise-ops, with shouldFuse as the
    // control of both the producer fusion and the reshape propagation.
    linalg::populateElementwiseOpsFusionPatterns(patterns, shouldFuse);
    linalg::populateFoldReshapeOpsByExpansionPatterns(patterns, shouldFuse);
    tensor::populateBubbleUpExpandShapePatterns(patterns);
    affine::AffineApplyOp::getCanonicalizationPatterns(patterns, ctx);
    linalg::GenericOp::getCanonicalizationPatterns(patterns, ctx);
    tensor::ExpandShapeOp::getCanonicalizationPatterns(patterns, ctx);
    tensor::CollapseShapeOp::getCanonicalizationPatterns(patterns, ctx);
    ctx->getLoadedDialect<linalg::LinalgDialect>()->getCanonicalizationPatterns(patterns);
    GreedyRewriteConfig config;
    config.setUseTopDownTraversal(true);
    // Not converging within the iteration limit leaves valid, less fused IR
    // (upstream's pass ignores it too).
    (void)applyPatternsGreedily(getOperation(), std::move(patterns), config);
  }
};
} // namespace
} // namespace mpc
