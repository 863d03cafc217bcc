//===- PrepareLaunches.cpp - kernel names, all-reduce kinds ---------------===//
#include "mpc/Codegen/CUDA/Passes.h"

#include "KernelBuilder.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"

namespace mpc {
#define GEN_PASS_DEF_PREPARELAUNCHESPASS
#include "mpc/Codegen/CUDA/Passes.h.inc"
} // namespace mpc

using namespace mlir;

namespace {
struct PrepareLaunches : mpc::impl::PrepareLaunchesPassBase<PrepareLaunches> {
  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    getOperation().walk([&](gpu::LaunchOp launch) {
      if (auto name = dyn_cast<NameLoc>(launch.getLoc())) {
        launch.setFunctionAttr(FlatSymbolRefAttr::get(name.getName()));
        launch.setModuleAttr(FlatSymbolRefAttr::get(ctx, mpc::kCudaKernelModule));
      }
    });
    getOperation().walk([&](gpu::AllReduceOp reduce) {
      if (reduce.getOp() || reduce.getBody().empty())
        return;
      Block &body = reduce.getBody().front();
      if (!llvm::hasSingleElement(body.without_terminator()))
        return;
      Operation &combine = body.front();
      std::optional<gpu::AllReduceOperation> kind = mpc::cuda::allReduceKind(&combine);
      if (!kind || combine.getOperand(0) != body.getArgument(0) ||
          combine.getOperand(1) != body.getArgument(1))
        return;
      reduce.setOpAttr(gpu::AllReduceOperationAttr::get(ctx, *kind));
      // Every thread of the block reaches it (mpc-cuda-map-to-kernels' row
      // reductions have no divergent code around it).
      reduce.setUniform(true);
      reduce.getBody().getBlocks().clear();
    });
  }
};
} // namespace
