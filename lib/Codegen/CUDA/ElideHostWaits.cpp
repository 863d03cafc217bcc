//===- ElideHostWaits.cpp - no host stall before runtime library calls ----===//
#include "mpc/Codegen/CUDA/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

namespace mpc {
#define GEN_PASS_DEF_ELIDEHOSTWAITSPASS
#include "mpc/Codegen/CUDA/Passes.h.inc"
} // namespace mpc

using namespace mlir;

namespace {

/// Whether `op` is an asynchronous GPU op: it queues work on the stream
/// (its token result), so everything before it on the stream is ordered
/// before it without a host wait.
bool queuesOnTheStream(Operation *op) {
  return isa<gpu::AsyncOpInterface>(op) && op->getNumResults() > 0 &&
         isa<gpu::AsyncTokenType>(op->getResults().back().getType());
}

/// A stack buffer (the packed argument blocks are allocas).
bool onTheHostStack(Value buffer) {
  while (Operation *def = buffer.getDefiningOp()) {
    if (isa<memref::AllocaOp>(def))
      return true;
    auto view = dyn_cast<ViewLikeOpInterface>(def);
    if (!view)
      return false;
    buffer = view.getViewSource();
  }
  return false;
}

/// Host work that needs no result of the GPU: a runtime library call (it
/// queues on the same stream), pure arithmetic, buffer metadata (sizes,
/// strides, the aligned pointer: no element is read), and stores to and
/// loads from stack buffers.
bool needsNothingFromTheGpu(Operation *op) {
  if (auto call = dyn_cast<func::CallOp>(op))
    return call.getCallee().starts_with("mpc_cuda_");
  if (isa<memref::ExtractStridedMetadataOp, memref::ExtractAlignedPointerAsIndexOp>(op))
    return true;
  if (isa<ViewLikeOpInterface>(op) && op->getNumRegions() == 0)
    return true; // a view: pointer arithmetic only
  if (isa<memref::AllocaOp>(op))
    return true;
  if (auto store = dyn_cast<memref::StoreOp>(op))
    return onTheHostStack(store.getMemRef());
  if (auto load = dyn_cast<memref::LoadOp>(op))
    return onTheHostStack(load.getMemRef());
  return op->getNumRegions() == 0 && isMemoryEffectFree(op);
}

struct ElideHostWaits : mpc::impl::ElideHostWaitsPassBase<ElideHostWaits> {
  using ElideHostWaitsPassBase::ElideHostWaitsPassBase;

  void runOnOperation() override {
    SmallVector<gpu::WaitOp> elidable;
    getOperation().walk([&](gpu::WaitOp wait) {
      if (wait.getAsyncToken())
        return; // `gpu.wait async`: queues, never blocks
      for (Operation *op = wait->getNextNode(); op; op = op->getNextNode()) {
        if (queuesOnTheStream(op) || (atReturn && isa<func::ReturnOp>(op))) {
          elidable.push_back(wait);
          return;
        }
        if (!needsNothingFromTheGpu(op))
          return;
      }
    });
    for (gpu::WaitOp wait : elidable)
      wait->erase();
  }
};

} // namespace
