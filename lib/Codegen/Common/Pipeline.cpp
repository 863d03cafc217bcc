//===- Pipeline.cpp - the tensor-level steps every target shares ----------===//
#include "mpc/Codegen/Common/Pipeline.h"

#include "mpc/Codegen/Common/Passes.h"
#include "mpc/Conversion/MpcToLinalg/Passes.h"

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

} // namespace mpc
