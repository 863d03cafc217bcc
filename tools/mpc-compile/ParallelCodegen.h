//===- ParallelCodegen.h - LLVM module -> object files -------*- C++ -*-===//
//
// The last step of mpc-compile: machine code for an optimized LLVM module,
// as one object file or, for an executable that the tool links itself, as
// several generated side by side.
//
//===----------------------------------------------------------------------===//
#ifndef MPC_TOOLS_COMPILE_PARALLELCODEGEN_H
#define MPC_TOOLS_COMPILE_PARALLELCODEGEN_H

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

/// A new code generator for the chosen CPU (one per part: a TargetMachine
/// is not shared between threads).
using MachineFactory = std::function<llvm::Expected<std::unique_ptr<llvm::TargetMachine>>()>;

/// Writes `module`'s machine code to the object file `path`.
llvm::Error emitObject(llvm::Module &module, llvm::TargetMachine &machine, llvm::StringRef path);

/// Splits `module` (freed once split) into `paths.size()` parts and writes each
/// part's object to its path, the parts on threads of their own. Symbols
/// internal to `module` become hidden ones, so that the parts link together
/// into an executable; the objects are not meant to be shipped.
llvm::Error emitObjectsInParallel(std::unique_ptr<llvm::Module> module,
                                  const MachineFactory &makeMachine,
                                  llvm::ArrayRef<std::string> paths);

} // namespace mpc::compile

#endif // MPC_TOOLS_COMPILE_PARALLELCODEGEN_H
