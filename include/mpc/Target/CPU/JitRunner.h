//===- JitRunner.h - run a lowered mpc module in-process --------*- C++ -*-===//
#ifndef MPC_RUNTIME_JITRUNNER_H
#define MPC_RUNTIME_JITRUNNER_H

#include "mpc/Runtime/HostArray.h"
#include "mpc/Target/CPU/TargetMachine.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace llvm {
class Module;
class TargetMachine;
} // namespace llvm

namespace mlir {
class ExecutionEngine;
class ModuleOp;
class TimingScope;
class Type;
namespace func {
class FuncOp;
} // namespace func
} // namespace mlir

namespace mpc::runtime {

/// One argument or result of the entry function.
struct TensorSpec {
  std::string name;
  ElementKind kind;
  std::vector<int64_t> shape;
};

/// What the entry function takes and returns, read from it before lowering
/// (while its types are still tensors).
struct EntrySignature {
  std::vector<TensorSpec> inputs, outputs;
};

/// The host element kind of an MLIR element type, if it has one.
llvm::Expected<ElementKind> elementKindOf(mlir::Type type);

/// Reads the signature of `func`: names from the `mpc.name` arg/result
/// attributes (argN/resultN when absent); every type must be a statically
/// shaped tensor of a supported element type.
llvm::Expected<EntrySignature> readEntrySignature(mlir::func::FuncOp func);

/// A JIT-compiled entry function with C-interface wrapper, taking its inputs
/// then its results as memref out-parameters (what buildLowerToLLVMPipeline
/// produces).
class JitProgram {
public:
  /// `module` must be in the LLVM dialect. `optLevel` is LLVM's (0-3).
  /// With `timing`, the translation to LLVM IR, LLVM's optimizer and its
  /// code generation are timed as nested scopes of it. The code is for
  /// `cpu` (resolveCPU; the caller checks that it runs here), else for the
  /// host.
  static llvm::Expected<std::unique_ptr<JitProgram>>
  compile(mlir::ModuleOp module, llvm::StringRef entry, EntrySignature signature, unsigned optLevel = 2,
          mlir::TimingScope *timing = nullptr, const ResolvedCPU *cpu = nullptr);
  ~JitProgram();

  const EntrySignature &signature() const { return signature_; }

  /// Runs once. `inputs` must match the signature's inputs (kind and shape);
  /// `outputs` are allocated to the signature's outputs if empty.
  llvm::Error run(llvm::ArrayRef<const HostArray *> inputs, std::vector<HostArray> &outputs);

private:
  JitProgram();
  // The optimizer runs while the engine materializes code, so it and the
  // target machine it uses must outlive the engine.
  std::unique_ptr<llvm::TargetMachine> targetMachine_;
  std::function<llvm::Error(llvm::Module *)> optimizer_;
  std::unique_ptr<mlir::ExecutionEngine> engine_;
  void (*packedEntry_)(void **) = nullptr;
  EntrySignature signature_;
};

} // namespace mpc::runtime

#endif // MPC_RUNTIME_JITRUNNER_H
