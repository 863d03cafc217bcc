//===- ApproximateMath.cpp - inline polynomials for f32 math functions ----===//
//
// Transformer run time on the CPU was dominated by scalar libm calls
// (erff in GELU, expf in softmax, tanhf in GPT-2's GELU): LLVM scalarizes a
// vector math op into one libm call per lane. MLIR's polynomial
// approximations are plain arith/math.fma and vectorize like the rest of an
// elementwise body. Which functions are expanded is decided by measured
// accuracy (test/e2e/test_math_approximation.py, docs/numerics.md).
//
//===----------------------------------------------------------------------===//
#include "mpc/Codegen/CPU/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

using namespace mlir;

namespace mpc {
#define GEN_PASS_DEF_APPROXIMATEMATHPASS
#include "mpc/Codegen/CPU/Passes.h.inc"
} // namespace mpc

namespace mpc::lowering {
namespace {

/// The math ops whose f32 approximation was measured within a few ulp over
/// the f32 range, inf/NaN/-0 as libm (docs/numerics.md). exp flushes
/// results below FLT_MIN to zero (an absolute error under 1.2e-38). Not
/// log: wrong on subnormal inputs (log(1e-42) gives log(FLT_MIN)). The other
/// approximated functions are not produced by the lowering, so untested.
bool isApproximated(StringRef opName) {
  static const StringRef names[] = {math::TanhOp::getOperationName(),
                                    math::ErfOp::getOperationName(),
                                    math::ExpOp::getOperationName()};
  return llvm::is_contained(names, opName);
}

struct ApproximateMathPass : impl::ApproximateMathPassBase<ApproximateMathPass> {
  void runOnOperation() override {
    // Seeded with the math ops alone and without folding, so that the
    // lowering's other IR reaches the LLVM conversion exactly as the earlier
    // passes left it (cheaper too on a ResNet-50-sized module).
    SmallVector<Operation *> ops;
    getOperation()->walk([&](Operation *op) {
      if (isApproximated(op->getName().getStringRef()))
        ops.push_back(op);
    });
    if (ops.empty())
      return;
    RewritePatternSet patterns(&getContext());
    populateMathPolynomialApproximationPatterns(patterns, isApproximated);
    GreedyRewriteConfig config;
    config.setStrictness(GreedyRewriteStrictness::ExistingAndNewOps);
    config.enableFolding(false);
    if (failed(applyOpPatternsGreedily(ops, std::move(patterns), config)))
      signalPassFailure();
  }
};

} // namespace
} // namespace mpc::lowering
