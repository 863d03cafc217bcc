//===- Pipeline.cpp - the CUDA target: mpc -> kernels + host LLVM ---------===//
#include "mpc/Target/CUDA/Pipeline.h"

#include "mpc/Codegen/CPU/Passes.h"
#include "mpc/Codegen/CUDA/Passes.h"
#include "mpc/Codegen/Common/Passes.h"
#include "mpc/Codegen/Common/Pipeline.h"

#include "mlir/Conversion/AffineToStandard/AffineToStandard.h"
#include "mlir/Conversion/ArithToLLVM/ArithToLLVM.h"
#include "mlir/Conversion/ControlFlowToLLVM/ControlFlowToLLVM.h"
#include "mlir/Conversion/FuncToLLVM/ConvertFuncToLLVMPass.h"
#include "mlir/Conversion/GPUCommon/GPUCommonPass.h"
#include "mlir/Conversion/GPUToNVVM/GPUToNVVMPass.h"
#include "mlir/Conversion/IndexToLLVM/IndexToLLVM.h"
#include "mlir/Conversion/MemRefToLLVM/MemRefToLLVM.h"
#include "mlir/Conversion/Passes.h"
#include "mlir/Conversion/ReconcileUnrealizedCasts/ReconcileUnrealizedCasts.h"
#include "mlir/Conversion/SCFToControlFlow/SCFToControlFlow.h"
#include "mlir/Conversion/SCFToGPU/SCFToGPUPass.h"
#include "mlir/Conversion/UBToLLVM/UBToLLVM.h"
#include "mlir/Conversion/VectorToLLVM/ConvertVectorToLLVMPass.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Dialect/LLVMIR/Transforms/OptimizeForNVVM.h"
#include "mlir/Dialect/LLVMIR/Transforms/RequestCWrappers.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

#include <cstdlib>

using namespace mlir;

namespace mpc {

std::string cudaToolkitDir(llvm::StringRef configured) {
  if (!configured.empty())
    return configured.str();
  if (const char *home = std::getenv("CUDA_HOME"); home && *home)
    return home;
  return "/usr/local/cuda";
}

void buildCUDASchedulePipeline(OpPassManager &pm, const LowerToCUDAOptions &options) {
  // Attention chains outlined on the mpc dialect, before lowering takes them
  // apart; their calls become cuDNN's in mpc-cuda-map-to-kernels.
  if (options.attention == CudaAttention::Cudnn)
    pm.addPass(createMatchAttentionPass());
  buildTensorPipeline(pm);
  // Convolutions as im2col patches + a GEMM for cuBLASLt, except those
  // left to cuDNN.
  bool cudnnConvs = options.conv == CudaConvStrategy::Cudnn;
  ConvToMatmulPassOptions convs;
  convs.keepLibraryConvs = cudnnConvs;
  pm.addNestedPass<func::FuncOp>(createConvToMatmulPass(convs));
  PadInPlacePassOptions pads;
  pads.keepLibraryConvPads = cudnnConvs;
  pm.addNestedPass<func::FuncOp>(createPadInPlacePass(pads));
  buildBufferizationPipeline(pm);
  // Wrappers for the entry functions only: before mpc-cuda-map-to-kernels
  // declares the runtime's functions, which keep their plain C ABI.
  if (options.emitCInterface)
    pm.addNestedPass<func::FuncOp>(LLVM::createLLVMRequestCWrappersPass());
  MapToKernelsPassOptions kernels;
  kernels.libraryGemm = options.libraryGemm;
  kernels.allowTf32 = options.allowTf32;
  kernels.libraryConv = cudnnConvs;
  kernels.atomicScatter = options.scatter == CudaScatter::Atomic;
  // No canonicalization from here to the gpu.launch ops: it would fold the
  // block loop of a one-block kernel away, and its GPU mapping with it.
  pm.addPass(createMapToKernelsPass(kernels));
  pm.addNestedPass<func::FuncOp>(createDeviceMemoryPass());
  // Independent elementwise kernels (an optimizer's per-parameter updates)
  // as one launch each level.
  pm.addPass(createMergeLaunchesPass());
}

void buildLowerToCUDAPipeline(OpPassManager &pm, const LowerToCUDAOptions &options) {
  buildCUDASchedulePipeline(pm, options);

  // Kernels: gpu.launch per schedule, named, outlined into one module.
  pm.addNestedPass<func::FuncOp>(createConvertParallelLoopToGpuPass());
  pm.addNestedPass<func::FuncOp>(createPrepareLaunchesPass());
  pm.addPass(createGpuKernelOutliningPass());
  pm.addPass(createSymbolDCEPass());
  // One stream, asynchronous allocations, copies and launches.
  pm.addNestedPass<func::FuncOp>(createGpuAsyncRegionPass());
  // Its waits before cuBLASLt/cuDNN calls order nothing on the one stream,
  // nor does the one before the return where callers synchronize.
  ElideHostWaitsPassOptions waits;
  waits.atReturn = !options.waitAtReturn;
  pm.addNestedPass<func::FuncOp>(createElideHostWaitsPass(waits));
  AttachTargetsPassOptions targets;
  targets.chips.assign(options.chips.begin(), options.chips.end());
  pm.addPass(createAttachTargetsPass(targets));

  pm.addPass(createLowerAffinePass());
  pm.addPass(createSCFToControlFlowPass());
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());

  // Device code -> NVVM.
  pm.addNestedPass<gpu::GPUModuleOp>(createLowerFloat8CastsPass());
  pm.addNestedPass<gpu::GPUModuleOp>(createStripDebugInfoPass());
  ConvertGpuOpsToNVVMOpsOptions nvvm;
  nvvm.indexBitwidth = 64;
  pm.addNestedPass<gpu::GPUModuleOp>(createConvertGpuOpsToNVVMOps(nvvm));
  pm.addNestedPass<gpu::GPUModuleOp>(LLVM::createNVVMOptimizeForTargetPass());
  pm.addNestedPass<gpu::GPUModuleOp>(createCanonicalizerPass());
  pm.addNestedPass<gpu::GPUModuleOp>(createCSEPass());
  pm.addNestedPass<gpu::GPUModuleOp>(createReconcileUnrealizedCastsPass());

  // Host code -> LLVM, calling lib/Runtime/CUDA (mgpu*, mpc_cuda_matmul).
  pm.addPass(createGpuToLLVMConversionPass());
  GpuModuleToBinaryPassOptions binary;
  // Always named: without it libdevice is not linked and math functions
  // are left as undefined externs in the PTX.
  binary.toolkitPath = cudaToolkitDir(options.toolkit);
  binary.compilationTarget = options.format == "bin" ? "bin" : "isa";
  pm.addPass(createGpuModuleToBinaryPass(binary));
  if (options.format == "fatbin") {
    PackFatbinPassOptions pack;
    pack.toolkit = cudaToolkitDir(options.toolkit);
    pm.addPass(createPackFatbinPass(pack));
  }
  pm.addPass(createConvertVectorToLLVMPass());
  pm.addPass(createFinalizeMemRefToLLVMConversionPass());
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createUBToLLVMConversionPass());
  pm.addPass(createConvertControlFlowToLLVMPass());
  pm.addPass(createConvertFuncToLLVMPass());
  pm.addPass(createConvertIndexToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
  pm.addPass(createCanonicalizerPass());
}

void registerCUDAPipelines() {
  PassPipelineRegistration<LowerToCUDAOptions>(
      "mpc-lower-to-cuda",
      "mpc (any precision) -> CUDA kernels (PTX/cubin/fatbinary in a gpu.binary) and host code "
      "in the LLVM dialect calling the CUDA runtime",
      buildLowerToCUDAPipeline);
  PassPipelineRegistration<LowerToCUDAOptions>(
      "mpc-cuda-schedule",
      "mpc (any precision) -> the CUDA target's kernel schedules on device buffers, before they "
      "become gpu.launch ops",
      buildCUDASchedulePipeline);
}

} // namespace mpc
