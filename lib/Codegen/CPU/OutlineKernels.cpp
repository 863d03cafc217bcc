//===- OutlineKernels.cpp - one function per linalg op, shared if equal ---===//
//
// A model is one function: BERT-base's lowers to one LLVM function with the
// unrolled register tiles of every layer, which LLVM's optimizer and code
// generator handled in over a minute, and twelve layers of the same shapes
// meant the same kernels lowered twelve times. Outlining each linalg op on
// buffers into its own function, keyed by its printed form, compiles each
// distinct kernel once; the model function keeps the allocations and views
// and calls the kernels with its buffers.
//
//===----------------------------------------------------------------------===//
#include "mpc/Codegen/CPU/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Transforms/RegionUtils.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/StringMap.h"

#include <limits>

using namespace mlir;

namespace mpc {
#define GEN_PASS_DEF_OUTLINEKERNELSPASS
#include "mpc/Codegen/CPU/Passes.h.inc"

namespace {
/// What a kernel may take: the ops that lower to loops and are worth a call.
bool isKernel(Operation *op) {
  auto linalgOp = dyn_cast<linalg::LinalgOp>(op);
  return linalgOp && linalgOp.hasPureBufferSemantics() && op->getNumResults() == 0;
}

/// A view at a static offset (one block of a blocked convolution, one
/// head's slice) as a view at any offset: the kernels of all blocks are then
/// the same function. The strides stay static, so the code inside is the same
/// apart from where the data starts. (Linalg ops take any memref layout.)
Type withDynamicOffset(Type type) {
  auto memref = dyn_cast<MemRefType>(type);
  auto layout = memref ? dyn_cast<StridedLayoutAttr>(memref.getLayout()) : StridedLayoutAttr();
  if (!layout || ShapedType::isDynamic(layout.getOffset()))
    return type;
  auto dynamic = StridedLayoutAttr::get(type.getContext(), ShapedType::kDynamic, layout.getStrides());
  return MemRefType::get(memref.getShape(), memref.getElementType(), dynamic, memref.getMemorySpace());
}

/// The text that identifies a kernel: its body with a fixed name, so that two
/// kernels print the same exactly when they compute the same thing on their
/// arguments.
std::string keyOf(func::FuncOp kernel) {
  std::string text;
  llvm::raw_string_ostream os(text);
  kernel.print(os, OpPrintingFlags().printGenericOpForm());
  return text;
}

/// The largest trip count of a loop around `op` (inside its function) whose
/// iterations may run in parallel; 0 if there is none, INT64_MAX for one
/// that is parallel already or has no constant trip count.
int64_t enclosingIndependentTrips(Operation *op) {
  int64_t trips = 0;
  for (Operation *parent = op->getParentOp(); parent && !isa<func::FuncOp>(parent);
       parent = parent->getParentOp()) {
    if (isa<scf::ParallelOp>(parent))
      return std::numeric_limits<int64_t>::max();
    auto loop = dyn_cast<scf::ForOp>(parent);
    if (!loop || !loop->hasAttr(kIndependentIterationsAttr))
      continue;
    std::optional<APInt> count = loop.getStaticTripCount();
    if (!count)
      return std::numeric_limits<int64_t>::max();
    trips = std::max(trips, static_cast<int64_t>(count->getZExtValue()));
  }
  return trips;
}

struct OutlineKernelsPass : impl::OutlineKernelsPassBase<OutlineKernelsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SymbolTable symbols(module);
    llvm::StringMap<func::FuncOp> kernels;
    SmallVector<func::FuncOp> funcs(module.getOps<func::FuncOp>());
    for (func::FuncOp func : funcs) {
      if (func.isDeclaration())
        continue;
      // Kernels inside loops too (a blocked convolution's im2col copy and
      // matmul per block): their views' offsets depend on the loop, which
      // withDynamicOffset allows, and the blocks of equal convolutions (the
      // four of ResNet's first stage) then share one kernel.
      SmallVector<Operation *> ops;
      func.walk([&](Operation *op) {
        if (!isKernel(op))
          return WalkResult::advance();
        ops.push_back(op);
        return WalkResult::skip();
      });
      // A private function of one kernel already is one (e.g. the output of
      // this pass run again).
      if (func.isPrivate() && ops.size() == 1)
        continue;
      unsigned count = 0;
      for (Operation *op : ops)
        outline(op, func, symbols, kernels, count);
    }
  }

  void outline(Operation *op, func::FuncOp parent, SymbolTable &symbols,
               llvm::StringMap<func::FuncOp> &kernels, unsigned &count) {
    llvm::SetVector<Value> used(op->getOperands().begin(), op->getOperands().end());
    getUsedValuesDefinedAbove(op->getRegions(), used);
    // Constants go inside: a kernel with its constants folded in is as fast
    // as the inline code, and layers differing only in their buffers share it.
    SmallVector<Value> arguments;
    SmallVector<Operation *> constants;
    for (Value value : used) {
      Operation *def = value.getDefiningOp();
      if (def && def->getNumOperands() == 0 && def->getNumRegions() == 0 && matchPattern(value, m_Constant()))
        constants.push_back(def);
      else
        arguments.push_back(value);
    }

    OpBuilder builder(op->getContext());
    builder.setInsertionPoint(op);
    SmallVector<Value> originals = arguments;
    SmallVector<Type> argumentTypes;
    for (Value &argument : arguments) {
      argumentTypes.push_back(withDynamicOffset(argument.getType()));
      if (argumentTypes.back() != argument.getType())
        argument = memref::CastOp::create(builder, op->getLoc(), argumentTypes.back(), argument);
    }
    auto type = builder.getFunctionType(argumentTypes, {});
    builder.clearInsertionPoint();
    auto kernel = func::FuncOp::create(builder, op->getLoc(), "kernel", type);
    kernel.setPrivate();
    // LLVM would inline a kernel called once back into the model function,
    // which is what this pass avoids.
    // (func-to-llvm passes `passthrough` on to the LLVM function.)
    kernel->setAttr("passthrough", builder.getStrArrayAttr({"noinline"}));
    Block *entry = kernel.addEntryBlock();
    IRMapping mapping;
    mapping.map(originals, entry->getArguments());
    builder.setInsertionPointToStart(entry);
    for (Operation *constant : constants)
      builder.clone(*constant, mapping);
    builder.clone(*op, mapping);
    func::ReturnOp::create(builder, op->getLoc());

    std::string key = keyOf(kernel);
    auto [it, inserted] = kernels.try_emplace(key, kernel);
    if (inserted) {
      kernel.setName((parent.getName() + "_kernel" + llvm::Twine(count++)).str());
      symbols.insert(kernel);
    } else {
      kernel.erase();
    }
    if (int64_t trips = enclosingIndependentTrips(op)) {
      auto previous = it->second->getAttrOfType<IntegerAttr>(kCalledInIndependentLoopAttr);
      if (!previous || previous.getInt() < trips)
        it->second->setAttr(kCalledInIndependentLoopAttr, builder.getI64IntegerAttr(trips));
    }
    builder.setInsertionPoint(op);
    func::CallOp::create(builder, op->getLoc(), it->second, arguments);
    op->erase();
  }
};
} // namespace
} // namespace mpc
