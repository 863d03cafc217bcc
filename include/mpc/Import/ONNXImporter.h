//===- ONNXImporter.h - ONNX ModelProto -> mpc dialect ----------*- C++ -*-===//
#ifndef MPC_IMPORT_ONNXIMPORTER_H
#define MPC_IMPORT_ONNXIMPORTER_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace mpc {
struct ONNXImportOptions {
  /// Fixes every graph input's dynamic (or symbolic) first dim.
  std::optional<int64_t> batchSize;
  /// Full static shapes for named graph inputs; they win over batchSize.
  std::map<std::string, std::vector<int64_t>> inputShapes;
  /// Name of the function that computes the graph.
  std::string functionName = "main";
};

/// Imports an ONNX model. On bad input (malformed or truncated file,
/// unsupported op, attribute or opset, shape mismatch) emits an error naming
/// the file, node, op type and opset through the context's diagnostic handler
/// and returns null; never crashes.
mlir::OwningOpRef<mlir::ModuleOp> importONNXFile(llvm::StringRef path, mlir::MLIRContext *context,
                                                 const ONNXImportOptions &options = {});
/// Same, from the serialized bytes; `sourceName` names them in diagnostics.
mlir::OwningOpRef<mlir::ModuleOp> importONNXBytes(llvm::StringRef bytes, llvm::StringRef sourceName,
                                                  mlir::MLIRContext *context,
                                                  const ONNXImportOptions &options = {});

/// Registers `--import-onnx` for mpc-translate.
void registerONNXImportTranslation();
} // namespace mpc

#endif // MPC_IMPORT_ONNXIMPORTER_H
