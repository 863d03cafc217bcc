//===- ResultsInPlace.cpp - results computed in their out-parameters ------===//
#include "mpc/Codegen/Common/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"

using namespace mlir;

namespace mpc {
#define GEN_PASS_DEF_RESULTSINPLACEPASS
#include "mpc/Codegen/Common/Passes.h.inc"

namespace {
/// Whether every use of `alloc`, and of every view of it, comes before
/// `copy` in its block, other than `copy` itself and later copies that only
/// read `alloc` (a buffer returned more than once). Any op producing a
/// memref from it counts as a view, so nothing aliasing it escapes the
/// check.
bool noUseAfter(memref::AllocOp alloc, memref::CopyOp copy) {
  Block *block = copy->getBlock();
  SmallVector<Value> worklist{alloc.getResult()};
  while (!worklist.empty()) {
    Value value = worklist.pop_back_val();
    for (OpOperand &use : value.getUses()) {
      Operation *user = use.getOwner();
      if (user == copy)
        continue;
      Operation *inBlock = block->findAncestorOpInBlock(*user);
      if (!inBlock)
        return false;
      if (!inBlock->isBeforeInBlock(copy)) {
        auto later = dyn_cast<memref::CopyOp>(user);
        if (!later || later.getSource() != alloc.getResult())
          return false;
        continue;
      }
      for (Value result : user->getResults())
        if (isa<BaseMemRefType>(result.getType()))
          worklist.push_back(result);
    }
  }
  return true;
}

/// The allocation `outParameter`'s only use copies from, when that
/// allocation can become `outParameter` itself.
memref::AllocOp replaceableAllocation(BlockArgument outParameter) {
  if (!outParameter.hasOneUse())
    return {};
  // In the function's own block: a copy in a loop or branch may run more
  // than once, or not at all.
  auto copy = dyn_cast<memref::CopyOp>(*outParameter.getUsers().begin());
  if (!copy || copy.getTarget() != outParameter || copy->getBlock() != outParameter.getOwner())
    return {};
  auto alloc = copy.getSource().getDefiningOp<memref::AllocOp>();
  if (!alloc || alloc.getType() != outParameter.getType() || !alloc.getDynamicSizes().empty() ||
      !alloc.getSymbolOperands().empty() || alloc->getBlock() != copy->getBlock() ||
      !noUseAfter(alloc, copy))
    return {};
  return alloc;
}

struct ResultsInPlacePass : impl::ResultsInPlacePassBase<ResultsInPlacePass> {
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    if (func.isExternal())
      return;
    for (BlockArgument argument : func.getArguments()) {
      memref::AllocOp alloc = replaceableAllocation(argument);
      if (!alloc)
        continue;
      argument.getUsers().begin()->erase();
      alloc.getResult().replaceAllUsesWith(argument);
      alloc.erase();
    }
  }
};
} // namespace
} // namespace mpc
