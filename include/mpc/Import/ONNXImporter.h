//===- ONNXImporter.h - ONNX ModelProto -> mpc dialect ----------*- C++ -*-===//
#ifndef MPC_IMPORT_ONNXIMPORTER_H
#define MPC_IMPORT_ONNXIMPORTER_H

#include "mpc/Runtime/HostArray.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <functional>
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
  /// The value of a graph input that decides a shape (Reshape's shape,
  /// Slice's starts, Pad's pads, Unsqueeze's axes, ... or what they are
  /// computed from). The importer asks only for such inputs and imports each
  /// value it gets as a constant, so the program is specialized on it and no
  /// longer takes that input (the module's kInputValuesAttr lists them).
  /// Null (or no callback): the error names the input, the node that needs
  /// it and `inputValueFlag`.
  std::function<const runtime::HostArray *(llvm::StringRef name)> inputValue;
  /// How the user gives such a value: "<flag> NAME=FILE.npy".
  std::string inputValueFlag = "--onnx-input-value";
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

/// Graph-input values by name (`--onnx-input-value NAME=FILE.npy`).
using InputValues = std::map<std::string, runtime::HostArray>;
/// Reads one NAME=FILE.npy into `values`; false with `error` (naming `flag`)
/// on a bad spec, a repeated name or an unreadable file.
bool readInputValue(llvm::StringRef spec, llvm::StringRef flag, InputValues &values,
                    std::string &error);
/// Makes `options` take shape-deciding inputs' values from `values` (which
/// must outlive the import); errors for missing ones name `flag`.
void useInputValues(ONNXImportOptions &options, const InputValues &values, llvm::StringRef flag);
/// The graph inputs an import took as constants (the module's kInputValuesAttr).
std::vector<std::string> inputsTakenAsValues(mlir::ModuleOp module);
/// An error naming the first value in `values` the import did not take
/// (a typo, or an input that decides no shape); "" when all were taken.
std::string unusedInputValue(mlir::ModuleOp module, const InputValues &values,
                             llvm::StringRef flag);

/// Registers `--import-onnx` for mpc-translate.
void registerONNXImportTranslation();
} // namespace mpc

#endif // MPC_IMPORT_ONNXIMPORTER_H
