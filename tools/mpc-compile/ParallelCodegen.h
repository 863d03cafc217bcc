//===- ParallelCodegen.h - LLVM module -> object files -------*- C++ -*-===//
//
// The last step of mpc-compile: machine code for an LLVM module, as one
// object file or, for an executable that the tool links itself, as several
// optimized and generated side by side. Symbols internal to the module that
// cross parts become hidden ones; those objects are not meant to be shipped.
//
//===----------------------------------------------------------------------===//
#ifndef MPC_TOOLS_COMPILE_PARALLELCODEGEN_H
#define MPC_TOOLS_COMPILE_PARALLELCODEGEN_H

#include "mlir/Support/Timing.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/Error.h"

#include <functional>
#include <memory>
#include <string>

namespace llvm {
class Module;
class TargetMachine;
} // namespace llvm

namespace mpc::compile {

/// LLVM's optimization pipeline for a module, with `machine`'s cost model.
using Optimizer = std::function<llvm::Error(llvm::Module &module, llvm::TargetMachine &machine)>;

/// A new code generator for the chosen CPU (one per part: a TargetMachine
/// is not shared between threads).
using MachineFactory = std::function<llvm::Expected<std::unique_ptr<llvm::TargetMachine>>()>;

/// Writes `module`'s machine code to the object file `path`.
llvm::Error emitObject(llvm::Module &module, llvm::TargetMachine &machine, llvm::StringRef path);

/// Splits the unoptimized `module` (freed once split) into `paths.size()`
/// parts (mpc::splitModuleForParallelCodegen: a function stays with what it
/// may inline; calls to noinline kernels and to functions many call, and
/// references to globals, cross parts), then optimizes each part (`optimize`) and writes its object
/// to its path, the parts on threads of their own (at most `threads`).
/// `timing` gets "LLVM optimizer" and "LLVM code generation" timers, the
/// threads' times summed in their user time.
llvm::Error optimizeAndEmitInParallel(std::unique_ptr<llvm::Module> module,
                                      const MachineFactory &makeMachine,
                                      const Optimizer &optimize,
                                      llvm::ArrayRef<std::string> paths, unsigned threads,
                                      mlir::TimingScope &timing);

} // namespace mpc::compile

#endif // MPC_TOOLS_COMPILE_PARALLELCODEGEN_H
