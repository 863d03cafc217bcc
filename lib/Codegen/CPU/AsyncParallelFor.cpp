//===- AsyncParallelFor.cpp - scf.parallel to async tasks, one per thread -===//
//
// Upstream's async-parallel-for lowering with a different block size. It
// cuts a loop into max(ceil(trips / (8 x threads)), minTaskSize)-iteration
// blocks on machines with up to 4 threads: 16 tasks for 2 threads. mpc's
// loops (mpc-parallelize-loops) are large and their iterations cost the
// same, so the task count only needs to cover the threads; each extra task
// costs a coroutine frame, a token and a queue round trip. Passing
// ceil(trips / (blocks-per-thread x threads)) as the minimum task size makes
// upstream's formula give exactly that many blocks, whatever thread count
// the program runs with.
//
//===----------------------------------------------------------------------===//
#include "mpc/Codegen/CPU/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Async/IR/Async.h"
#include "mlir/Dialect/Async/Transforms.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

using namespace mlir;

namespace mpc {
#define GEN_PASS_DEF_ASYNCPARALLELFORPASS
#include "mpc/Codegen/CPU/Passes.h.inc"

namespace {
/// ceil(trip count / (blocksPerThread x runtime threads)), at least 1.
Value blockSizeFor(ImplicitLocOpBuilder b, scf::ParallelOp op, int64_t blocksPerThread) {
  Value trips = arith::ConstantIndexOp::create(b, 1);
  for (auto [lb, ub, step] : llvm::zip(op.getLowerBound(), op.getUpperBound(), op.getStep())) {
    Value range = arith::SubIOp::create(b, ub, lb);
    trips = arith::MulIOp::create(b, trips, arith::CeilDivSIOp::create(b, range, step));
  }
  Value threads = async::RuntimeNumWorkerThreadsOp::create(b);
  Value blocks = arith::MulIOp::create(b, threads, arith::ConstantIndexOp::create(b, blocksPerThread));
  Value size = arith::CeilDivSIOp::create(b, trips, blocks);
  return arith::MaxSIOp::create(b, size, arith::ConstantIndexOp::create(b, 1));
}

struct AsyncParallelForPass : impl::AsyncParallelForPassBase<AsyncParallelForPass> {
  using Base::Base;

  void runOnOperation() override {
    if (blocksPerThread < 1) {
      getOperation().emitError("mpc-async-parallel-for: blocks-per-thread must be at least 1, got ")
          << static_cast<int64_t>(blocksPerThread);
      return signalPassFailure();
    }
    RewritePatternSet patterns(&getContext());
    int64_t perThread = blocksPerThread;
    async::populateAsyncParallelForPatterns(
        patterns, /*asyncDispatch=*/true, /*numWorkerThreads=*/-1,
        [perThread](ImplicitLocOpBuilder b, scf::ParallelOp op) { return blockSizeFor(b, op, perThread); });
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace
} // namespace mpc
