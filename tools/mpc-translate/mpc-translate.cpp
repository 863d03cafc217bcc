//===- mpc-translate.cpp - ONNX <-> MLIR translations ----------------------===//
//
// `mpc-translate --import-onnx model.onnx` prints the imported mpc module;
// `mpc-translate --list-supported-ops` prints docs/supported-ops.md.
//
//===----------------------------------------------------------------------===//
#include "mpc/Import/ONNXImporter.h"

#include "mlir/Tools/mlir-translate/MlirTranslateMain.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  // Hides what libLLVM and libMLIR register as they load (back-end
  // internals: --amdgpu-*, --x86-*, ...); the options registered from here
  // on (the translations, -o, --split-input-file, --verify-diagnostics,
  // the ONNX import options) stay in --help.
  llvm::cl::HideUnrelatedOptions(llvm::ArrayRef<const llvm::cl::OptionCategory *>());
  mpc::registerONNXImportTranslation();
  return mlir::failed(mlir::mlirTranslateMain(argc, argv, "mpc ONNX <-> MLIR translation")) ? 1 : 0;
}
