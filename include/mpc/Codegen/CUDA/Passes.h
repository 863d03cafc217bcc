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

/// Name of the one gpu.module every kernel is outlined into.
inline constexpr char kCudaKernelModule[] = "mpc_kernels";

#define GEN_PASS_DECL
#include "mpc/Codegen/CUDA/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "mpc/Codegen/CUDA/Passes.h.inc"
} // namespace mpc

#endif // MPC_CODEGEN_CUDA_PASSES_H
