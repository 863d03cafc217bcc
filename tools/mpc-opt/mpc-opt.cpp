//===- mpc-opt.cpp - the mpc pass driver ----------------------------------===//
//
// mlir-opt with every mpc pass and pipeline. The input may also be an ONNX
// model (`.onnx`): it is imported first, then the passes run on the result.
//
//===----------------------------------------------------------------------===//
#include "mpc/Import/ONNXImporter.h"
#include "mpc/InitAll.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/raw_ostream.h"

#include <sstream>

namespace cl = llvm::cl;

static cl::OptionCategory onnxCategory("ONNX input options");
static cl::opt<int64_t> onnxBatch("onnx-batch", cl::init(0),
                                  cl::desc("With an .onnx input: fix the inputs' dynamic first dim to N"),
                                  cl::cat(onnxCategory));
static cl::list<std::string> onnxShapes(
    "onnx-input-shape",
    cl::desc("With an .onnx input: NAME=D0xD1x... fixes a graph input's whole shape (repeatable)"),
    cl::cat(onnxCategory));
static cl::list<std::string> onnxValues(
    "onnx-input-value",
    cl::desc("With an .onnx input: NAME=FILE.npy gives the value of a graph input that decides a "
             "shape; the program is specialized on it (repeatable)"),
    cl::cat(onnxCategory));

/// Parses NAME=2x3x4 into the options; false (with a message) on bad syntax.
static bool parseInputShape(llvm::StringRef spec, mpc::ONNXImportOptions &options) {
  auto [name, dims] = spec.rsplit('=');
  if (name.empty() || dims.empty() || spec.count('=') == 0) {
    llvm::errs() << "error: --onnx-input-shape expects NAME=D0xD1x..., got '" << spec << "'\n";
    return false;
  }
  std::vector<int64_t> shape;
  llvm::SmallVector<llvm::StringRef> parts;
  dims.split(parts, 'x');
  for (llvm::StringRef part : parts) {
    int64_t d;
    if (part.getAsInteger(10, d) || d <= 0) {
      llvm::errs() << "error: --onnx-input-shape: '" << part << "' in '" << spec
                   << "' is not a positive dimension\n";
      return false;
    }
    shape.push_back(d);
  }
  options.inputShapes[name.str()] = shape;
  return true;
}

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  // What is registered by now is what libLLVM and libMLIR register as they
  // load (back-end internals: --amdgpu-*, --x86-*, ...). Hiding it before
  // MLIR registers mlir-opt's options keeps those (passes, pipelines, -o,
  // --split-input-file, --verify-diagnostics, --mlir-print-*) in --help.
  cl::HideUnrelatedOptions(onnxCategory);
  mlir::DialectRegistry registry;
  mpc::registerAllDialects(registry);
  mpc::registerAllPasses();

  auto [inputFilename, outputFilename] =
      mlir::registerAndParseCLIOptions(argc, argv, "mpc pass driver", registry);
  mlir::MlirOptMainConfig config = mlir::MlirOptMainConfig::createFromCLOptions();

  std::unique_ptr<llvm::MemoryBuffer> buffer;
  if (llvm::StringRef(inputFilename).ends_with(".onnx")) {
    mpc::ONNXImportOptions options;
    if (onnxBatch > 0)
      options.batchSize = onnxBatch;
    for (const std::string &spec : onnxShapes)
      if (!parseInputShape(spec, options))
        return 1;
    mpc::InputValues values;
    for (const std::string &spec : onnxValues) {
      std::string message;
      if (!mpc::readInputValue(spec, "--onnx-input-value", values, message)) {
        llvm::errs() << "error: " << message << "\n";
        return 1;
      }
    }
    mpc::useInputValues(options, values, "--onnx-input-value");
    mlir::MLIRContext context(registry);
    context.loadAllAvailableDialects();
    mlir::OwningOpRef<mlir::ModuleOp> module = mpc::importONNXFile(inputFilename, &context, options);
    if (!module)
      return 1;
    if (std::string unused = mpc::unusedInputValue(*module, values, "--onnx-input-value");
        !unused.empty()) {
      llvm::errs() << "error: " << unused << "\n";
      return 1;
    }
    std::string text;
    llvm::raw_string_ostream os(text);
    module->print(os);
    buffer = llvm::MemoryBuffer::getMemBufferCopy(text, inputFilename);
  } else {
    std::string error;
    buffer = mlir::openInputFile(inputFilename, &error);
    if (!buffer) {
      llvm::errs() << "error: " << error << "\n";
      return 1;
    }
  }

  std::string error;
  std::unique_ptr<llvm::ToolOutputFile> output = mlir::openOutputFile(outputFilename, &error);
  if (!output) {
    llvm::errs() << "error: " << error << "\n";
    return 1;
  }
  if (mlir::failed(mlir::MlirOptMain(output->os(), std::move(buffer), registry, config)))
    return 1;
  output->keep();
  return 0;
}
