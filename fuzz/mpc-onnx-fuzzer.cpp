//===- mpc-onnx-fuzzer.cpp - libFuzzer entry for the ONNX importer --------===//
//
// Feeds arbitrary bytes to importONNXBytes. Any crash, sanitizer report or
// leak is a bug: bad input must end in an error diagnostic. A fresh context
// per input keeps uniqued attributes of earlier inputs from piling up.
//
// Inputs that start with "#pbtxt\n" are a ModelProto in protobuf text format:
// byte mutations of text change dims, attribute values and op names far more
// often than mutations of the binary encoding do (fuzz/make_seeds.py writes
// both forms).
//
//===----------------------------------------------------------------------===//
#include "mpc/Import/ONNXImporter.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"

#include "onnx/onnx_pb.h"
#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/text_format.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace {
class IgnoreErrors : public google::protobuf::io::ErrorCollector {
  void AddError(int, google::protobuf::io::ColumnNumber, const std::string &) override {}
};

/// The binary model: the input itself, or its text form re-encoded. False
/// for text that does not parse (not worth keeping in the corpus).
bool modelBytes(llvm::StringRef input, std::string &storage, llvm::StringRef &bytes) {
  constexpr llvm::StringLiteral kTextMarker = "#pbtxt\n";
  if (!input.starts_with(kTextMarker)) {
    bytes = input;
    return true;
  }
  onnx::ModelProto model;
  IgnoreErrors ignore;
  google::protobuf::TextFormat::Parser parser;
  parser.RecordErrorsTo(&ignore);
  if (!parser.ParseFromString(input.drop_front(kTextMarker.size()).str(), &model))
    return false;
  storage = model.SerializeAsString();
  bytes = storage;
  return true;
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string storage;
  llvm::StringRef bytes;
  try {
    if (!modelBytes(llvm::StringRef(reinterpret_cast<const char *>(data), size), storage, bytes))
      return -1;
  } catch (...) {
    return -1;
  }
  mlir::MLIRContext context(mlir::MLIRContext::Threading::DISABLED);
  mlir::ScopedDiagnosticHandler swallow(&context,
                                        [](mlir::Diagnostic &) { return mlir::success(); });
  mpc::ONNXImportOptions options;
  // Exported models usually have a dynamic batch; fixing it lets mutated
  // inputs reach the node importers instead of stopping at the inputs.
  options.batchSize = 2;
  (void)mpc::importONNXBytes(bytes, "fuzz.onnx", &context, options);
  return 0;
}
