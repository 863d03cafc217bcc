//===- PipelineSteps.cpp - strided copies to loops, LLVM legality check ---===//
#include "ConversionPasses.h"

#include "mpc/Conversion/MpcToLinalg.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/MemRef/Utils/MemRefUtils.h"
#include "mlir/IR/BuiltinOps.h"

using namespace mlir;

namespace mpc {
#define GEN_PASS_DEF_CHECKLOWEREDTOLLVMPASS
#define GEN_PASS_DEF_LOWERSTRIDEDCOPIESPASS
#include "ConversionPasses.h.inc"

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

struct CheckLoweredToLLVMPass : impl::CheckLoweredToLLVMPassBase<CheckLoweredToLLVMPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    Dialect *llvm = getContext().getLoadedDialect<LLVM::LLVMDialect>();
    unsigned reported = 0;
    module.walk([&](Operation *op) {
      if (op == module.getOperation() || op->getDialect() == llvm)
        return WalkResult::advance();
      // One message per op kind would hide where; a handful shows the pattern.
      if (++reported <= 5)
        op->emitError() << "'" << op->getName()
                        << "' was not lowered to the LLVM dialect; the mpc-lower-to-llvm "
                           "pipeline has no conversion for it (element types: fp8 arithmetic "
                           "other than casts, or an op added after mpc-lower-to-linalg)";
      return WalkResult::advance();
    });
    if (reported)
      signalPassFailure();
  }
};
} // namespace

void registerConversionPasses() { registerMpcConversionPasses(); }
} // namespace mpc
