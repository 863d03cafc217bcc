//===- ModulePartition.h - an LLVM module in parts to optimize apart -*- C++ -*-===//
//
// mpc-compile optimizes and generates a trainer's machine code on every
// core: the lowered LLVM module is cut into parts that LLVM's optimizer and
// code generator handle side by side, each in a context of its own, and the
// objects are linked together.
//
// Unlike llvm::SplitModule (which spreads the functions by a hash of their
// names), the parts keep together what the optimizer works on across
// functions: a function and every function it references that may be
// inlined (its parallel loop's body, the async dispatch functions and
// coroutines of that loop, the C wrappers of an entry point). Calls to
// `noinline` functions (mpc-outline-kernels' kernels), to functions that
// many functions call, and references to globals cross parts; small
// constants and small leaf functions that many use (the async lowering's
// `__resume`) are copied into each part that uses them. The groups are
// balanced by their instruction counts.
//
//===----------------------------------------------------------------------===//
#ifndef MPC_TARGET_CPU_MODULEPARTITION_H
#define MPC_TARGET_CPU_MODULEPARTITION_H

#include "llvm/ADT/STLFunctionalExtras.h"

#include <cstdint>
#include <memory>
#include <vector>

namespace llvm {
class Module;
} // namespace llvm

namespace mpc {

/// The constant globals up to this size are copied into every part that
/// reads them (as available_externally definitions, so that the optimizer
/// still folds their loads); larger ones are declared there.
constexpr uint64_t kCopiedConstantBytes = 4096;

/// Which part each defined global value of `module` goes to, in the order of
/// `module.global_values()` (declarations get -1 ... as unsigned, ~0u).
std::vector<unsigned> partitionModule(llvm::Module &module, unsigned parts);

/// Cuts `module` into `parts` modules (some may be empty) as partitionModule
/// assigns them and passes each to `consume`, in part order. Internal
/// symbols referenced from another part become external with hidden
/// visibility (their names are kept), so that the parts' objects link
/// together; `module` is left with those linkages changed. A copied value
/// is an internal copy in each part that uses it (an available_externally
/// one if it was external).
void splitModuleForParallelCodegen(llvm::Module &module, unsigned parts,
                                   llvm::function_ref<void(std::unique_ptr<llvm::Module>)> consume);

} // namespace mpc

#endif // MPC_TARGET_CPU_MODULEPARTITION_H
