//===- Pipeline.cpp - the tensor-level steps every target shares ----------===//
#include "mpc/Codegen/Common/Pipeline.h"

#include "mpc/Codegen/Common/Passes.h"
#include "mpc/Conversion/MpcToLinalg/Passes.h"

#include "mlir/Conversion/BufferizationToMemRef/BufferizationToMemRef.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

namespace mpc {

void buildTensorPipeline(OpPassManager &pm) {
  // Fusing elementwise chains leaves fewer intermediate buffers; the fusion
  // never recomputes a producer (mpc-fuse-elementwise).
  pm.addPass(createLowerToLinalgPass());
  pm.addPass(createCanonicalizerPass());
  pm.addNestedPass<func::FuncOp>(createFuseElementwisePass());
  pm.addPass(createCSEPass());
}

void buildBufferizationPipeline(OpPassManager &pm) {
  // Buffers: identity layouts at function boundaries so that callers pass
  // plain dense memrefs; results become caller-allocated out-parameters.
  bufferization::OneShotBufferizePassOptions bufferize;
  bufferize.bufferizeFunctionBoundaries = true;
  bufferize.functionBoundaryTypeConversion = bufferization::LayoutMapOption::IdentityLayoutMap;
  pm.addPass(bufferization::createOneShotBufferizePass(bufferize));
  bufferization::BufferResultsToOutParamsPassOptions outParams;
  outParams.modifyPublicFunctions = true;
  // Upstream's hoisting of result allocations into the out-parameters
  // crashes (MLIR 22) when a function returns one buffer twice, e.g. a model
  // whose two outputs are Identity of one tensor; mpc-results-in-place does
  // it with that case (and aliasing) checked.
  outParams.hoistStaticAllocs = false;
  pm.addPass(bufferization::createBufferResultsToOutParamsPass(outParams));
  pm.addNestedPass<func::FuncOp>(createResultsInPlacePass());
  bufferization::buildBufferDeallocationPipeline(pm);
  pm.addPass(createConvertBufferizationToMemRefPass());
}

} // namespace mpc
