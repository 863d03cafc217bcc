//===- Passes.h - CUDA code generation --------------------------*- C++ -*-===//
#ifndef MPC_CODEGEN_CUDA_PASSES_H
#define MPC_CODEGEN_CUDA_PASSES_H

#include "mlir/Pass/Pass.h"

namespace mpc {
/// Module attribute mpc-cuda-map-to-kernels writes: an array with one
/// dictionary per kernel (name, strategy, fused ops, grid, block, bytes
/// read/written, FLOPs, ONNX nodes), read by mpc-cuda-kernel-report and by
/// mpc-compile for the executable's manifest.
inline constexpr char kCudaKernelsAttr[] = "mpc.cuda_kernels";

/// The PTX ISA version (x 10) a CUDA architecture ("sm_80", ...) needs at
/// least; nullopt for one the CUDA target does not know.
std::optional<int64_t> minimumPtxVersion(llvm::StringRef chip);
inline constexpr char kKnownCudaArchs[] =
    "sm_80, sm_86, sm_87, sm_89, sm_90, sm_90a, sm_100, sm_120";

/// Name of the one gpu.module every kernel is outlined into.
inline constexpr char kCudaKernelModule[] = "mpc_kernels";

#define GEN_PASS_DECL
#include "mpc/Codegen/CUDA/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "mpc/Codegen/CUDA/Passes.h.inc"
} // namespace mpc

#endif // MPC_CODEGEN_CUDA_PASSES_H
