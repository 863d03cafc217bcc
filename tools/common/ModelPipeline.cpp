//===- ModelPipeline.cpp - the compile steps the tools share --------------===//
#include "ModelPipeline.h"

#include "mpc/Import/ONNXImporter.h"
#include "mpc/Inference/Passes.h"
#include "mpc/Precision/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"

namespace mpc::tool {

mlir::OwningOpRef<mlir::ModuleOp> loadModel(mlir::MLIRContext &context, llvm::StringRef path,
                                            const std::map<std::string, runtime::HostArray> &inputs) {
  if (path.ends_with(".onnx")) {
    ONNXImportOptions options;
    for (const auto &[name, array] : inputs)
      options.inputShapes[name] = array.shape();
    useInputValues(options, inputs, "--input");
    return importONNXFile(path.str(), &context, options);
  }
  return mlir::parseSourceFile<mlir::ModuleOp>(path, &context);
}

void addPrecisionPasses(mlir::OpPassManager &pm, const AssignPrecisionPassOptions &options) {
  pm.addPass(createAssignPrecisionPass(options));
  pm.addNestedPass<mlir::func::FuncOp>(createInsertCastsPass());
  pm.addNestedPass<mlir::func::FuncOp>(createFoldCastsPass());
}

void addPrecisionPasses(mlir::OpPassManager &pm, PrecisionPolicy policy,
                        llvm::StringRef policyFile) {
  AssignPrecisionPassOptions options;
  options.policy = policy;
  options.policyFile = policyFile.str();
  addPrecisionPasses(pm, options);
}

void addInferencePasses(mlir::OpPassManager &pm, const AssignPrecisionPassOptions &options) {
  pm.addPass(createFoldBatchNormPass());
  pm.addPass(createFoldParameterTransposesPass());
  addPrecisionPasses(pm, options);
}

void addInferencePasses(mlir::OpPassManager &pm, PrecisionPolicy policy,
                        llvm::StringRef policyFile) {
  AssignPrecisionPassOptions options;
  options.policy = policy;
  options.policyFile = policyFile.str();
  addInferencePasses(pm, options);
}

} // namespace mpc::tool
