//===- FoldCasts.cpp - mpc-fold-casts --------------------------------------===//
//
// Runs mpc.cast's folder and canonicalizations to a fixed point, and nothing
// else: the greedy driver only ever sees the casts and the constants they
// read, so the rest of the program comes out exactly as it went in.
//
//===----------------------------------------------------------------------===//
#include "mpc/Dialect/MpcDialect.h"
#include "mpc/Precision/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "llvm/ADT/SetVector.h"

namespace mpc {
#define GEN_PASS_DEF_FOLDCASTSPASS
#include "mpc/Precision/Passes.h.inc"
} // namespace mpc

using namespace mlir;
using namespace mpc;

namespace {

struct FoldCastsPass : mpc::impl::FoldCastsPassBase<FoldCastsPass> {
  void runOnOperation() override {
    MLIRContext *context = &getContext();
    // The constants are listed so that the driver erases those whose only
    // reader was a cast it folded.
    llvm::SetVector<Operation *> ops;
    getOperation()->walk([&](CastOp cast) {
      if (Operation *def = cast.getInput().getDefiningOp(); def && matchPattern(def, m_Constant()))
        ops.insert(def);
      ops.insert(cast);
    });
    if (ops.empty())
      return;

    RewritePatternSet patterns(context);
    CastOp::getCanonicalizationPatterns(patterns, context);
    GreedyRewriteConfig config;
    // No constant CSE: it would hoist and merge constants the casts never touched.
    config.setStrictness(GreedyRewriteStrictness::ExistingAndNewOps).enableConstantCSE(false);
    if (failed(applyOpPatternsGreedily(ops.getArrayRef(), std::move(patterns), config))) {
      emitError(getOperation().getLoc(), "mpc-fold-casts: cast folding did not converge");
      signalPassFailure();
    }
  }
};

} // namespace
