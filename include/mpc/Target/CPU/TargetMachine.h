//===- TargetMachine.h - `--mcpu` -> CPU, features, code generator -*- C++ -*-===//
//
// The one place that turns a `--mcpu` name into what the tools compile for:
// mpc-compile's object files and mpc-run's and mpc-debug's JIT come from it.
//
//===----------------------------------------------------------------------===//
#ifndef MPC_TARGET_CPU_TARGETMACHINE_H
#define MPC_TARGET_CPU_TARGETMACHINE_H

#include "mpc/Codegen/CPU/CPUTarget.h"

#include "llvm/Support/CodeGen.h"
#include "llvm/Support/Error.h"

#include <memory>
#include <string>
#include <vector>

namespace llvm {
class TargetMachine;
} // namespace llvm

namespace mpc {

/// A CPU as LLVM's code generator takes it, and what mpc's codegen reads.
struct ResolvedCPU {
  /// LLVM's CPU name ("znver4", "x86-64-v3", "generic").
  std::string cpu;
  /// The features LLVM is given beside the CPU: the host's for native,
  /// none for a named CPU (LLVM knows its features).
  std::vector<std::string> features;
  /// Every feature the code generator enables for this CPU ("+avx2", ...),
  /// sorted: what --print-target shows.
  std::vector<std::string> enabledFeatures;
  CPUTarget target;
};

/// `native` (the host's CPU name and features), `generic`, or a CPU name
/// LLVM knows for the host's architecture (x86-64-v3, skylake, znver4 ...);
/// anything else is an error naming the option.
llvm::Expected<ResolvedCPU> resolveCPU(llvm::StringRef mcpu);

/// A code generator for `cpu` on the host's triple (position-independent).
llvm::Expected<std::unique_ptr<llvm::TargetMachine>>
createTargetMachine(const ResolvedCPU &cpu, llvm::CodeGenOptLevel level);

/// resolveCPU(mcpu)'s code generator as mpc-compile uses it: position-
/// independent, optimizing aggressively.
llvm::Expected<std::unique_ptr<llvm::TargetMachine>> createTargetMachine(llvm::StringRef mcpu);

/// An error when code for `cpu` cannot run on this host (it needs features
/// the host lacks), for the JIT, which runs what it compiles.
llvm::Error checkRunsOnHost(const ResolvedCPU &cpu);

/// Whether the tools' --native-dot-products (`requested`) applies to
/// `cpu`: it needs avx512bf16. When requested on a CPU without it, says so
/// on stderr (once, as `tool`) and returns false: the exact bf16 code stays.
bool useNativeBf16Dot(const ResolvedCPU &cpu, bool requested, llvm::StringRef tool);

/// "cpu: NAME\ntarget: SUMMARY\nfeatures: +a,+b,...\n".
std::string describe(const ResolvedCPU &cpu);
} // namespace mpc

#endif // MPC_TARGET_CPU_TARGETMACHINE_H
