//===- Pipeline.cpp - the CPU target: mpc -> LLVM dialect -----------------===//
#include "mpc/Target/CPU/Pipeline.h"

#include "mpc/Codegen/CPU/Passes.h"
#include "mpc/Codegen/CUDA/Passes.h"
#include "mpc/Codegen/Common/Passes.h"
#include "mpc/Codegen/Common/Pipeline.h"

#include "mlir/Conversion/AffineToStandard/AffineToStandard.h"
#include "mlir/Conversion/ArithToLLVM/ArithToLLVM.h"
#include "mlir/Conversion/AsyncToLLVM/AsyncToLLVM.h"
#include "mlir/Conversion/BufferizationToMemRef/BufferizationToMemRef.h"
#include "mlir/Conversion/ControlFlowToLLVM/ControlFlowToLLVM.h"
#include "mlir/Conversion/FuncToLLVM/ConvertFuncToLLVMPass.h"
#include "mlir/Conversion/IndexToLLVM/IndexToLLVM.h"
#include "mlir/Conversion/MathToLLVM/MathToLLVM.h"
#include "mlir/Conversion/MathToLibm/MathToLibm.h"
#include "mlir/Conversion/MemRefToLLVM/MemRefToLLVM.h"
#include "mlir/Conversion/ReconcileUnrealizedCasts/ReconcileUnrealizedCasts.h"
#include "mlir/Conversion/SCFToControlFlow/SCFToControlFlow.h"
#include "mlir/Conversion/UBToLLVM/UBToLLVM.h"
#include "mlir/Conversion/VectorToLLVM/ConvertVectorToLLVMPass.h"
#include "mlir/Conversion/VectorToSCF/VectorToSCF.h"
#include "mlir/Dialect/Arith/Transforms/Passes.h"
#include "mlir/Dialect/Async/Passes.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/Transforms/RequestCWrappers.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

namespace mpc {

namespace {
/// scf.parallel -> tasks on the async runtime (lib/Runtime/AsyncRuntime.cpp):
/// each loop is split into one block of iterations per thread
/// (mpc-async-parallel-for), dispatched by recursive halving, and awaited
/// before the code after it runs. The thread count is asked of the runtime,
/// so one binary serves any MPC_NUM_THREADS. Without this, scf-to-cf lowers
/// scf.parallel sequentially.
void addParallelLoopsToThreads(OpPassManager &pm) {
  pm.addPass(mpc::createAsyncParallelForPass());
  pm.addPass(createAsyncToAsyncRuntimePass());
  pm.addPass(createAsyncRuntimeRefCountingPass());
  pm.addPass(createAsyncRuntimeRefCountingOptPass());
  pm.addPass(createConvertAsyncToLLVMPass());
}
} // namespace

void buildLowerToLLVMPipeline(OpPassManager &pm, const LowerToLLVMOptions &options) {
  // The CPU sums a reduction in one running accumulator; the CUDA kernels
  // (which --cuda-schedule runs here) sum in trees and keep f32.
  if (!options.cudaSchedule)
    pm.addPass(createWidenLongSumsPass());
  buildTensorPipeline(pm);
  // Convolutions as im2col + matmul (after fusion, which would fuse the
  // patches copy back into a convolution).
  ConvToMatmulPassOptions convs;
  convs.nativeBf16Dot = options.nativeBf16Dot;
  pm.addNestedPass<func::FuncOp>(createConvToMatmulPass(convs));
  pm.addNestedPass<func::FuncOp>(createPadInPlacePass());

  buildBufferizationPipeline(pm);
  pm.addPass(createFlattenConstantGlobalsPass());

  // Loops and scalar arithmetic. Matmul-like ops first become register
  // tiles of vector FMAs, elementwise ops vectors along their innermost
  // loop; the rest become scalar loops.
  pm.addNestedPass<func::FuncOp>(createLowerStridedCopiesPass());
  // Wrappers for the functions that exist now, before kernels are outlined
  // and the async lowering adds outlined tasks and declarations of its
  // runtime functions (which must keep their plain C names).
  if (options.emitCInterface)
    pm.addNestedPass<func::FuncOp>(LLVM::createLLVMRequestCWrappersPass());
  // From here on each distinct kernel is one function, lowered once.
  if (options.cudaSchedule) {
    // The CUDA target's kernels, run sequentially: every block, then every
    // thread in it (library GEMMs as generated kernels).
    MapToKernelsPassOptions kernels;
    kernels.libraryGemm = false;
    kernels.vectorNarrowFloats = false;
    kernels.sequentialPhases = true;
    pm.addPass(createMapToKernelsPass(kernels));
    pm.addPass(createMergeLaunchesPass());
  } else {
    if (options.outlineKernels)
      pm.addPass(createOutlineKernelsPass());
    TileAndVectorizePassOptions tiles;
    tiles.vectorBits = options.vectorBits;
    tiles.vectorRegisters = options.vectorRegisters;
    tiles.nativeBf16Dot = options.nativeBf16Dot;
    tiles.emulateBf16Dot = options.emulateBf16Dot;
    pm.addNestedPass<func::FuncOp>(createTileAndVectorizePass(tiles));
    // Before the elementwise vectorization, which turns the ops into loops
    // mpc-parallelize-loops no longer sees: its parallel loops get slices of
    // the op, vectorized inside each iteration.
    if (options.parallelLoops)
      pm.addNestedPass<func::FuncOp>(createParallelizeLoopsPass());
    // bf16/f16 bodies as f32 arithmetic between casts (the same roundings),
    // which vectorizes: the casts become vector integer code below.
    EmulateNarrowFloatsPassOptions widen;
    widen.includeF16 = true;
    widen.expandCasts = false;
    pm.addNestedPass<func::FuncOp>(createEmulateNarrowFloatsPass(widen));
    VectorizeGenericsPassOptions vectorize;
    vectorize.approximatedMath = options.approximateMath;
    pm.addNestedPass<func::FuncOp>(createVectorizeGenericsPass(vectorize));
  }
  pm.addNestedPass<func::FuncOp>(createConvertLinalgToLoopsPass());
  // Multi-dimensional transfers become unrolled 1-D loads and stores (with a
  // loop instead, MLIR 22's JIT code was seen to crash).
  pm.addNestedPass<func::FuncOp>(createConvertVectorToSCFPass(VectorTransferToSCFOptions().enableFullUnroll()));
  if (options.parallelLoops && !options.cudaSchedule)
    addParallelLoopsToThreads(pm);
  // From here on every pass that works function by function is nested on
  // func.func, so that MLIR's thread pool lowers the kernels side by side.
  OpPassManager &functions = pm.nest<func::FuncOp>();
  functions.addPass(memref::createExpandStridedMetadataPass());
  functions.addPass(createLowerAffinePass());
  functions.addPass(createSCFToControlFlowPass());
  // f16/bf16 math functions and bf16 arithmetic left in scalar loops run in
  // f32 and round back, once per op (see EmulateNarrowFloats); bf16 and fp8
  // casts become bit arithmetic. arith-expand catches what is left (f64 to
  // bf16): no bf16 or fp8 value reaches LLVM.
  functions.addPass(createEmulateNarrowFloatsPass());
  // After the f16/bf16 math above became f32 math, so that it is expanded
  // too; before math-to-libm would turn it into calls.
  if (options.approximateMath)
    functions.addPass(createApproximateMathPass());
  arith::ArithExpandOpsPassOptions expand;
  expand.includeBf16 = true;
  functions.addPass(arith::createArithExpandOpsPass(expand));
  functions.addPass(createCanonicalizerPass());

  // LLVM dialect.
  // The CUDA schedule vectorizes elementwise kernels whatever math they
  // call; math-to-libm unrolls a vector atan, asinh, ... into scalar calls
  // with vector ops, which must still be lowered after it. (Scalar calls
  // of sinf, floorf, ... give what the LLVM intrinsics give.) Math with an
  // LLVM intrinsic (absi, sqrt, ...) is lowered first, as in the other
  // order: math-to-libm rejects what it has no function for.
  if (options.cudaSchedule) {
    pm.addNestedPass<func::FuncOp>(createConvertMathToLLVMPass());
    pm.addPass(createConvertMathToLibmPass());
  }
  ConvertVectorToLLVMPassOptions vectorToLLVM;
  // x86vector.avx512.dot -> llvm.x86.avx512bf16.dpbf16ps.*
  vectorToLLVM.x86Vector = options.nativeBf16Dot && !options.emulateBf16Dot;
  pm.addNestedPass<func::FuncOp>(createConvertVectorToLLVMPass(vectorToLLVM));
  pm.addPass(createFinalizeMemRefToLLVMConversionPass());
  pm.addNestedPass<func::FuncOp>(createConvertMathToLLVMPass());
  pm.addPass(createConvertMathToLibmPass());
  OpPassManager &scalars = pm.nest<func::FuncOp>();
  scalars.addPass(createArithToLLVMConversionPass());
  scalars.addPass(createUBToLLVMConversionPass());
  pm.addPass(createConvertControlFlowToLLVMPass());
  pm.addPass(createConvertFuncToLLVMPass());
  OpPassManager &lowered = pm.nest<LLVM::LLVMFuncOp>();
  lowered.addPass(createConvertIndexToLLVMPass());
  lowered.addPass(createReconcileUnrealizedCastsPass());
  lowered.addPass(createCanonicalizerPass());
  lowered.addPass(createBFloat16MemoryAsI16Pass());
  pm.addPass(createCheckLoweredToLLVMPass());
}

void registerCPUPipelines() {
  PassPipelineRegistration<LowerToLLVMOptions>(
      "mpc-lower-to-llvm",
      "mpc (any precision) -> linalg -> bufferized loops -> LLVM dialect, with results as "
      "caller-allocated out-parameters and C-interface wrappers",
      buildLowerToLLVMPipeline);
}

} // namespace mpc
