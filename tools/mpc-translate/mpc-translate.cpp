//===- mpc-translate.cpp - ONNX <-> MLIR translations ----------------------===//
//
// `mpc-translate --import-onnx model.onnx` prints the imported mpc module;
// `mpc-translate --list-supported-ops` prints docs/supported-ops.md.
//
//===----------------------------------------------------------------------===//
#include "mpc/Import/ONNXImporter.h"

#include "mlir/Tools/mlir-translate/MlirTranslateMain.h"
#include "llvm/Support/InitLLVM.h"

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  mpc::registerONNXImportTranslation();
  return mlir::failed(mlir::mlirTranslateMain(argc, argv, "mpc ONNX <-> MLIR translation")) ? 1 : 0;
}
