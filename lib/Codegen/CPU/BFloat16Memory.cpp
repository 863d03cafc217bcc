//===- BFloat16Memory.cpp - bf16 vector loads and stores as i16 -----------===//
//
// See mpc-bf16-memory-as-i16 in Passes.td. The bitcasts cost nothing: LLVM
// folds a load whose only use is a bitcast into a load of the cast type,
// and a store of a bitcast into a store of its source.
//
//===----------------------------------------------------------------------===//
#include "mpc/Codegen/CPU/Passes.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/Builders.h"

using namespace mlir;

namespace mpc {
#define GEN_PASS_DEF_BFLOAT16MEMORYASI16PASS
#include "mpc/Codegen/CPU/Passes.h.inc"

namespace {
/// `type` with i16 elements if it is a vector of bf16, else null.
VectorType asI16(Type type) {
  auto vector = dyn_cast<VectorType>(type);
  if (!vector || !vector.getElementType().isBF16())
    return {};
  return vector.clone(IntegerType::get(type.getContext(), 16));
}

struct BFloat16MemoryAsI16Pass : impl::BFloat16MemoryAsI16PassBase<BFloat16MemoryAsI16Pass> {
  void runOnOperation() override {
    OpBuilder builder(&getContext());
    getOperation()->walk([&](Operation *op) {
      if (auto load = dyn_cast<LLVM::LoadOp>(op)) {
        VectorType bits = asI16(load.getType());
        if (!bits)
          return;
        Type bf16 = load.getType();
        load.getResult().setType(bits);
        builder.setInsertionPointAfter(load);
        auto cast = LLVM::BitcastOp::create(builder, load.getLoc(), bf16, load.getResult());
        load.getResult().replaceAllUsesExcept(cast.getResult(), cast);
      } else if (auto store = dyn_cast<LLVM::StoreOp>(op)) {
        VectorType bits = asI16(store.getValue().getType());
        if (!bits)
          return;
        builder.setInsertionPoint(store);
        auto cast = LLVM::BitcastOp::create(builder, store.getLoc(), bits, store.getValue());
        store.getValueMutable().assign(cast.getResult());
      }
    });
  }
};
} // namespace
} // namespace mpc
