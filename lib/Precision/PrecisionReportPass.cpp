//===- PrecisionReportPass.cpp - mpc-precision-report ----------------------===//
#include "PrecisionReport.h"

#include "mpc/Passes.h"

#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/ToolOutputFile.h"

namespace mpc {
#define GEN_PASS_DEF_PRECISIONREPORTPASS
#include "mpc/Passes.h.inc"
} // namespace mpc

using namespace mlir;
using namespace mpc;

namespace {

struct PrecisionReportPass : mpc::impl::PrecisionReportPassBase<PrecisionReportPass> {
  using Base::Base;

  void runOnOperation() override {
    markAllAnalysesPreserved();
    PrecisionReport report = collectPrecisionReport(getOperation());
    if (output == "-") {
      writeTextReport(report, llvm::outs());
      llvm::outs().flush();
      return;
    }
    std::string error;
    std::unique_ptr<llvm::ToolOutputFile> file = openOutputFile(output, &error);
    if (!file) {
      emitError(getOperation().getLoc())
          << "mpc-precision-report: cannot write the report to '" << output << "': " << error;
      return signalPassFailure();
    }
    writeTextReport(report, file->os());
    file->keep();
  }
};

} // namespace
