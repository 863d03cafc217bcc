//===- Pipeline.h - the CPU target: mpc -> LLVM dialect ---------*- C++ -*-===//
#ifndef MPC_TARGET_CPU_PIPELINE_H
#define MPC_TARGET_CPU_PIPELINE_H

#include "mlir/Pass/PassOptions.h"

namespace mlir {
class OpPassManager;
} // namespace mlir

namespace mpc {
/// Options of the pipeline that takes mpc IR to the LLVM dialect, also
/// mpc-opt's `--mpc-lower-to-llvm="parallel-loops=false ..."`.
struct LowerToLLVMOptions : mlir::PassPipelineOptions<LowerToLLVMOptions> {
  Option<bool> emitCInterface{*this, "emit-c-interface",
                              llvm::cl::desc("Emit `_mlir_ciface_` wrappers for the entry "
                                             "function (for the JIT)"),
                              llvm::cl::init(true)};
  Option<bool> parallelLoops{
      *this, "parallel-loops",
      llvm::cl::desc("Run the outer dimensions of large ops on the thread pool of "
                     "lib/Runtime/AsyncRuntime.cpp (thread count chosen at run time); false "
                     "gives purely sequential code that needs no thread at all"),
      llvm::cl::init(true)};
  Option<bool> outlineKernels{
      *this, "outline-kernels",
      llvm::cl::desc("One function per distinct kernel (mpc-outline-kernels); false keeps every "
                     "kernel inline in the model function (for comparisons)"),
      llvm::cl::init(true)};
  Option<bool> approximateMath{
      *this, "approximate-math",
      llvm::cl::desc("Expand f32 tanh/erf/exp/... into inline polynomials that vectorize "
                     "(mpc-approximate-math) instead of calling libm once per element"),
      llvm::cl::init(true)};
  Option<int64_t> vectorBits{
      *this, "vector-bits",
      llvm::cl::desc("Widest vector of the target CPU in bits (512: AVX-512, 256: AVX2, 128: SSE); "
                     "sets the register tiles (mpc::registerTileFor). The tools keep the default for "
                     "every --mcpu: AVX2's no-spill tiles measured slower (docs/benchmarks.md)"),
      llvm::cl::init(512)};
  Option<int64_t> vectorRegisters{
      *this, "vector-registers",
      llvm::cl::desc("Vector registers of the target CPU (32 with AVX-512, else 16)"),
      llvm::cl::init(32)};
  Option<bool> nativeBf16Dot{
      *this, "native-bf16-dot",
      llvm::cl::desc("bf16 x bf16 -> f32 contractions (matmuls, im2col convolutions) as AVX512-BF16 "
                     "pair dot products (vdpbf16ps): not bit-exact, see docs/numerics.md. Only for "
                     "targets with avx512bf16 (the tools' --native-dot-products checks)"),
      llvm::cl::init(false)};
  Option<bool> emulateBf16Dot{
      *this, "emulate-bf16-dot",
      llvm::cl::desc("With native-bf16-dot: the pair dot products as f32 FMAs in their order "
                     "(denormals kept), on any CPU: tests of the packing and loops without avx512bf16"),
      llvm::cl::init(false)};
  Option<bool> cudaSchedule{
      *this, "cuda-schedule",
      llvm::cl::desc("Run the CUDA target's kernel schedules (mpc-cuda-map-to-kernels, GEMMs "
                     "as generated kernels) sequentially on the CPU instead of CPU codegen: "
                     "checks the CUDA kernels' indexing, fusion and reductions without a GPU"),
      llvm::cl::init(false)};
};

/// mpc (any precision) -> linalg -> bufferized loops -> LLVM dialect. The
/// function's results become trailing out-parameters (memrefs) the caller
/// allocates.
void buildLowerToLLVMPipeline(mlir::OpPassManager &pm, const LowerToLLVMOptions &options = {});

/// Registers `mpc-lower-to-llvm` as a named pipeline for mpc-opt.
void registerCPUPipelines();
} // namespace mpc

#endif // MPC_TARGET_CPU_PIPELINE_H
