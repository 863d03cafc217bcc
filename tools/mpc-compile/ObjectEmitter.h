//===- ObjectEmitter.h - trainer module -> object file -> executable -*- C++ -*-===//
//
// Ahead-of-time half of mpc-compile: lowers @train_step and @eval_step to
// LLVM, adds the runtime's entry points (`mpc_train_step`, `mpc_eval_step`:
// packed arrays of pointers to memref descriptor pointers) and the manifest
// and blob globals, compiles for the host (or a named CPU) and links the
// object with the trainer runtime.
//
//===----------------------------------------------------------------------===//
#ifndef MPC_TOOLS_COMPILE_OBJECTEMITTER_H
#define MPC_TOOLS_COMPILE_OBJECTEMITTER_H

#include "Manifest.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/Timing.h"
#include "llvm/Support/Error.h"

#include <string>
#include <vector>

namespace mpc::compile {

/// What the code is compiled for. `mcpu` (the host code's CPU) is "native"
/// (the host CPU and its features), "generic" or an LLVM CPU name.
struct TargetChoice {
  std::string mcpu = "native";
  /// CPU: bf16 contractions on AVX512-BF16 dot products where `mcpu` has
  /// them (--native-dot-products; not bit-exact, docs/numerics.md).
  bool nativeDotProducts = false;
  bool cuda = false;
  /// CUDA: GPU architectures with a cubin each (the newest also as PTX).
  std::vector<std::string> cudaArchs;
  bool allowTf32 = false;
  /// CUDA: attention through cuDNN where it qualifies (--cuda-attention).
  bool cudnnAttention = false;
  /// CUDA: forward convolutions through cuDNN (else im2col + cuBLASLt).
  bool cudnnConv = false;
  /// CUDA: scatter-adds with atomic adds (else in order, deterministic).
  bool atomicScatter = false;
  /// CUDA: where the kernel report goes ("" none, "-" stdout; a .json
  /// file name gets JSON, anything else text).
  std::string kernelReport;
};

/// Lowers `module` (consumed: it is rewritten to the LLVM dialect) and writes
/// the object to `paths[0]`, timing each step (the passes, LLVM) under
/// `timing`. With several paths (CPU only: an executable's objects, linked
/// by linkTrainerExecutable), the last one gets the manifest and blob and
/// the code is split into the others, optimized and generated on up to
/// `threads` threads.
llvm::Error emitTrainerObject(mlir::ModuleOp module, const TrainerData &data,
                              const TargetChoice &target, llvm::ArrayRef<std::string> paths,
                              mlir::TimingScope &timing, unsigned threads = 1);

/// CUDA: lowers `module` and writes the kernels of the one architecture in
/// `target.cudaArchs` as PTX text (`cubin` false) or a cubin to `path`.
llvm::Error emitCudaKernels(mlir::ModuleOp module, const TargetChoice &target, bool cubin,
                            llvm::StringRef path);

/// Links `objects` with the trainer runtime into the executable `output`,
/// with $MPC_CXX or the C++ compiler this tool was built with.
llvm::Error linkTrainerExecutable(llvm::ArrayRef<std::string> objects, llvm::StringRef output,
                                  bool cuda);

/// Fails when this build knows no trainer runtime library to link with.
llvm::Error checkTrainerRuntime();

} // namespace mpc::compile

#endif // MPC_TOOLS_COMPILE_OBJECTEMITTER_H
