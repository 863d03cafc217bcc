//===- DeviceMemory.cpp - host allocations -> device allocations ----------===//
#include "mpc/Codegen/CUDA/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/GPU/Transforms/ParallelLoopMapper.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

namespace mpc {
#define GEN_PASS_DEF_DEVICEMEMORYPASS
#include "mpc/Codegen/CUDA/Passes.h.inc"
} // namespace mpc

using namespace mlir;

namespace {
/// Whether `op` runs on the GPU: inside a loop mapped to blocks or threads.
bool inKernel(Operation *op) {
  for (auto loop = op->getParentOfType<scf::ParallelOp>(); loop;
       loop = loop->getParentOfType<scf::ParallelOp>())
    if (loop->hasAttr(gpu::getMappingAttrName()))
      return true;
  return op->getParentOfType<gpu::LaunchOp>() != nullptr;
}

/// Host-side bookkeeping buffers (library calls' argument blocks).
bool isHostBuffer(Value buffer) {
  Operation *def = buffer.getDefiningOp();
  return def && def->hasAttr("mpc.host_buffer");
}

struct DeviceMemory : mpc::impl::DeviceMemoryPassBase<DeviceMemory> {
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    WalkResult checked = func.walk([&](Operation *op) {
      if (!isa<memref::LoadOp, memref::StoreOp>(op) || inKernel(op))
        return WalkResult::advance();
      Value buffer = isa<memref::LoadOp>(op) ? cast<memref::LoadOp>(op).getMemRef()
                                             : cast<memref::StoreOp>(op).getMemRef();
      if (isHostBuffer(buffer))
        return WalkResult::advance();
      op->emitOpError("reads or writes a device buffer from host code; every access must be "
                      "inside a kernel (mpc-cuda-map-to-kernels)");
      return WalkResult::interrupt();
    });
    if (checked.wasInterrupted())
      return signalPassFailure();

    SmallVector<Operation *> allocs, deallocs;
    func.walk([&](Operation *op) {
      if (inKernel(op) || op->hasAttr("mpc.host_buffer"))
        return;
      if (isa<memref::AllocOp, memref::AllocaOp>(op))
        allocs.push_back(op);
      else if (isa<memref::DeallocOp>(op))
        deallocs.push_back(op);
    });
    for (Operation *op : allocs) {
      OpBuilder b(op);
      auto type = cast<MemRefType>(op->getResult(0).getType());
      SmallVector<Value> dynamicSizes(op->getOperands());
      auto alloc = gpu::AllocOp::create(b, op->getLoc(), type, /*asyncToken=*/Type(),
                                        /*asyncDependencies=*/ValueRange{}, dynamicSizes,
                                        /*symbolOperands=*/ValueRange{}, /*hostShared=*/false);
      // A stack allocation lived until its scope ended: free it there.
      if (isa<memref::AllocaOp>(op)) {
        Operation *end = op->getBlock()->getTerminator();
        OpBuilder e(end);
        gpu::DeallocOp::create(e, op->getLoc(), /*asyncToken=*/Type(), ValueRange{},
                               alloc.getMemref());
      }
      op->replaceAllUsesWith(alloc);
      op->erase();
    }
    for (Operation *op : deallocs) {
      OpBuilder b(op);
      gpu::DeallocOp::create(b, op->getLoc(), /*asyncToken=*/Type(), ValueRange{},
                             op->getOperand(0));
      op->erase();
    }
  }
};
} // namespace
