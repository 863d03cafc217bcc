//===- CheckLoweredToLLVM.cpp - nothing left outside the LLVM dialect -----===//
#include "mpc/Codegen/Common/Passes.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/BuiltinOps.h"

using namespace mlir;

namespace mpc {
#define GEN_PASS_DEF_CHECKLOWEREDTOLLVMPASS
#include "mpc/Codegen/Common/Passes.h.inc"

namespace {
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
} // namespace mpc
