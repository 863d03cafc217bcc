//===- Pipeline.h - the CUDA target: mpc -> kernels + host LLVM -*- C++ -*-===//
#ifndef MPC_TARGET_CUDA_PIPELINE_H
#define MPC_TARGET_CUDA_PIPELINE_H

#include "mpc/Pass/EnumOption.h"

#include "mlir/Pass/PassOptions.h"

namespace mlir {
class OpPassManager;
} // namespace mlir

namespace mpc {
/// How attention runs (`attention=`): as the generated kernels and GEMMs it
/// is made of, or, where mpc-cuda-match-attention finds it, through cuDNN's
/// fused flash attention (the rest keeps the kernels).
enum class CudaAttention { Kernels, Cudnn };
/// How the CUDA target runs forward convolutions.
enum class CudaConvStrategy {
  /// im2col patches (a copy kernel) + a cuBLASLt GEMM (mpc-conv-to-matmul).
  Gemm,
  /// cuDNN (mpc_cuda_conv) for those it takes (mpc::matchLibraryConvolution);
  /// the others as Gemm.
  Cudnn,
};
/// How the CUDA target runs scatter-adds (Gather's gradient).
enum class CudaScatter {
  /// Each element's updates added in order by one thread: the same sums as
  /// the CPU target's, on every run.
  Deterministic,
  /// One thread per update, atomic adds: the sum order varies from run to run.
  Atomic,
};
} // namespace mpc

MPC_ENUM_OPTION(mpc::CudaAttention)
MPC_ENUM_OPTION(mpc::CudaConvStrategy)
MPC_ENUM_OPTION(mpc::CudaScatter)

namespace mpc {

/// Options of `mpc-lower-to-cuda` (and mpc-compile --target cuda).
struct LowerToCUDAOptions : mlir::PassPipelineOptions<LowerToCUDAOptions> {
  ListOption<std::string> chips{*this, "chips",
                                llvm::cl::desc("GPU architectures to emit code for (default "
                                               "sm_80,sm_89,sm_90)")};
  Option<std::string> toolkit{*this, "toolkit",
                              llvm::cl::desc("CUDA toolkit folder (libdevice, ptxas, fatbinary); "
                                             "default $CUDA_HOME, then /usr/local/cuda")};
  Option<std::string> format{
      *this, "format",
      llvm::cl::desc("What the kernel module becomes: fatbin (a cubin per chip + the newest "
                     "chip's PTX, the default), isa (PTX per chip), bin (a cubin per chip)"),
      llvm::cl::init("fatbin")};
  Option<bool> libraryGemm{*this, "library-gemm",
                           llvm::cl::desc("GEMMs through cuBLASLt (default); false: generated "
                                          "kernels"),
                           llvm::cl::init(true)};
  Option<CudaAttention> attention{
      *this, "attention",
      llvm::cl::desc("How attention runs: kernels (generated kernels and cuBLASLt GEMMs, the "
                     "default) or cudnn (cuDNN's fused attention where the chain qualifies)"),
      llvm::cl::init(CudaAttention::Kernels),
      llvm::cl::values(clEnumValN(CudaAttention::Kernels, "kernels", "generated kernels"),
                       clEnumValN(CudaAttention::Cudnn, "cudnn", "cuDNN's fused attention"))};
  Option<CudaConvStrategy> conv{
      *this, "conv",
      llvm::cl::desc("How forward convolutions run: gemm (im2col + cuBLASLt, the default) or "
                     "cudnn (cuDNN for f32/f16/bf16 convolutions of one element type)"),
      llvm::cl::init(CudaConvStrategy::Gemm),
      llvm::cl::values(clEnumValN(CudaConvStrategy::Gemm, "gemm", "im2col + cuBLASLt"),
                       clEnumValN(CudaConvStrategy::Cudnn, "cudnn", "cuDNN"))};
  Option<CudaScatter> scatter{
      *this, "scatter",
      llvm::cl::desc("How scatter-adds (Gather's gradient) run: deterministic (each element's "
                     "updates added in order by one thread, the default) or atomic (one thread "
                     "per update, atomic adds: faster, sums vary from run to run)"),
      llvm::cl::init(CudaScatter::Deterministic),
      llvm::cl::values(
          clEnumValN(CudaScatter::Deterministic, "deterministic", "ordered sums, no atomics"),
          clEnumValN(CudaScatter::Atomic, "atomic", "atomic adds"))};
  Option<bool> allowTf32{*this, "allow-tf32",
                         llvm::cl::desc("Let cuBLASLt use TF32 tensor cores for f32 GEMMs"),
                         llvm::cl::init(false)};
  Option<bool> waitAtReturn{
      *this, "wait-at-return",
      llvm::cl::desc("Entry functions wait for the GPU before they return (default); false: "
                     "they return with their work queued on the stream, and the caller "
                     "synchronizes before it reads a result (the trainer)"),
      llvm::cl::init(true)};
  Option<bool> emitCInterface{*this, "emit-c-interface",
                              llvm::cl::desc("Emit `_mlir_ciface_` wrappers for the entry "
                                             "functions"),
                              llvm::cl::init(true)};
};

/// The CUDA toolkit folder: `configured` if set, else $CUDA_HOME, else
/// /usr/local/cuda.
std::string cudaToolkitDir(llvm::StringRef configured);

/// mpc (any precision) -> linalg -> buffers -> kernels (scf.parallel
/// schedules, library GEMMs) -> gpu.launch -> NVVM -> PTX/cubin/fatbinary,
/// and the host code -> LLVM dialect calling lib/Runtime/CUDA. Entry
/// functions take and return device buffers; results become trailing
/// out-parameters the caller allocates.
void buildLowerToCUDAPipeline(mlir::OpPassManager &pm, const LowerToCUDAOptions &options = {});

/// The same pipeline up to the kernel schedules (before they are mapped to
/// blocks and threads): what `mpc-cuda-map-to-kernels` produced, device
/// memory placed. For lit tests and the kernel report.
void buildCUDASchedulePipeline(mlir::OpPassManager &pm, const LowerToCUDAOptions &options = {});

/// Registers `mpc-lower-to-cuda` and `mpc-cuda-schedule` for mpc-opt.
void registerCUDAPipelines();
} // namespace mpc

#endif // MPC_TARGET_CUDA_PIPELINE_H
