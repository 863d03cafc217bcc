//===- ModelPipeline.h - the compile steps the tools share ------*- C++ -*-===//
//
// mpc-run and mpc-debug load a model and put it through the inference and
// precision passes the same way; keeping that here means a debugged program
// is exactly the program mpc-run would run.
//
//===----------------------------------------------------------------------===//
#ifndef MPC_TOOLS_COMMON_MODELPIPELINE_H
#define MPC_TOOLS_COMMON_MODELPIPELINE_H

#include "mpc/Precision/Passes.h"
#include "mpc/Runtime/HostArray.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/ADT/StringRef.h"

#include <map>
#include <string>

namespace mlir {
class MLIRContext;
class OpPassManager;
} // namespace mlir

namespace mpc::tool {

/// An .onnx file (imported with its input shapes fixed by `inputs`' shapes,
/// and the inputs whose values decide shapes taken as constants of their
/// data: mpc::inputsTakenAsValues lists them) or an .mlir file. Null after
/// diagnostics on failure.
mlir::OwningOpRef<mlir::ModuleOp> loadModel(mlir::MLIRContext &context, llvm::StringRef path,
                                            const std::map<std::string, runtime::HostArray> &inputs);

/// assign-precision with `options`, then insert-casts and fold-casts on
/// every function.
void addPrecisionPasses(mlir::OpPassManager &pm, const AssignPrecisionPassOptions &options);
/// The same with only a policy and (when not empty) a policy file.
void addPrecisionPasses(mlir::OpPassManager &pm, PrecisionPolicy policy,
                        llvm::StringRef policyFile = "");

/// What an inference compile runs before lowering: mpc-fold-batch-norm (its
/// statistics are fixed; training must not fold), then the precision passes.
/// (mpc-run's `--precision none` runs the IR as written: it adds none of this.)
void addInferencePasses(mlir::OpPassManager &pm, const AssignPrecisionPassOptions &options);
void addInferencePasses(mlir::OpPassManager &pm, PrecisionPolicy policy,
                        llvm::StringRef policyFile = "");

} // namespace mpc::tool

#endif // MPC_TOOLS_COMMON_MODELPIPELINE_H
