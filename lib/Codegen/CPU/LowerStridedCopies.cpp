//===- LowerStridedCopies.cpp - strided memref.copy as loops --------------===//
#include "mpc/Codegen/CPU/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/MemRef/Utils/MemRefUtils.h"

using namespace mlir;

namespace mpc {
#define GEN_PASS_DEF_LOWERSTRIDEDCOPIESPASS
#include "mpc/Codegen/CPU/Passes.h.inc"

namespace {
/// The condition under which finalize-memref-to-llvm emits a plain memcpy.
bool isContiguous(Type type) {
  auto memref = dyn_cast<MemRefType>(type);
  return memref && (memref.getLayout().isIdentity() || memref::isStaticShapeAndContiguousRowMajor(memref));
}

struct LowerStridedCopiesPass : impl::LowerStridedCopiesPassBase<LowerStridedCopiesPass> {
  void runOnOperation() override {
    SmallVector<memref::CopyOp> strided;
    getOperation().walk([&](memref::CopyOp copy) {
      if (!isContiguous(copy.getSource().getType()) || !isContiguous(copy.getTarget().getType()))
        strided.push_back(copy);
    });
    for (memref::CopyOp copy : strided) {
      OpBuilder b(copy);
      linalg::CopyOp::create(b, copy.getLoc(), ValueRange{copy.getSource()}, ValueRange{copy.getTarget()});
      copy.erase();
    }
  }
};
} // namespace
} // namespace mpc
