//===- PrecisionReportPass.cpp - mpc-precision-report ----------------------===//
#include "mpc/Precision/PrecisionReport.h"

#include "mpc/Precision/Passes.h"

#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/ToolOutputFile.h"

namespace mpc {
#define GEN_PASS_DEF_PRECISIONREPORTPASS
#include "mpc/Precision/Passes.h.inc"
} // namespace mpc

using namespace mlir;
using namespace mpc;

namespace {

struct PrecisionReportPass : mpc::impl::PrecisionReportPassBase<PrecisionReportPass> {
  using Base::Base;

  /// `--mpc-precision-report=out.json` is how users write it (the issue's
  /// form, and what every other tool's report flag looks like), so a value
  /// that does not start with one of the pass's option names is the output
  /// file itself. Taking it whole also keeps paths with '=' or spaces intact.
  LogicalResult initializeOptions(StringRef options,
                                  function_ref<LogicalResult(const Twine &)> errorHandler) override {
    StringRef trimmed = options.trim();
    bool namesOption = trimmed.starts_with("output=") || trimmed.starts_with("format=");
    if (trimmed.empty() || namesOption)
      return Pass::initializeOptions(options, errorHandler);
    if (failed(Pass::initializeOptions("", errorHandler)))
      return failure();
    output = trimmed.str();
    return success();
  }

  void runOnOperation() override {
    markAllAnalysesPreserved();
    std::optional<PrecisionReportFormat> chosen = reportFormat();
    if (!chosen)
      return signalPassFailure();
    PrecisionReport report = collectPrecisionReport(getOperation());
    if (output == "-") {
      write(report, *chosen, llvm::outs());
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
    write(report, *chosen, file->os());
    file->keep();
  }

private:
  /// `format=` when given, else the output's extension; an error naming the
  /// valid extensions when that says nothing.
  std::optional<PrecisionReportFormat> reportFormat() {
    if (format != PrecisionReportFormat::FromExtension)
      return format.getValue();
    std::optional<PrecisionReportFormat> fromExtension = precisionReportFormatFor(output);
    if (!fromExtension)
      emitError(getOperation().getLoc())
          << "mpc-precision-report: cannot tell the report format of '" << output
          << "' from its extension; valid extensions are .txt, .json, .dot and .html "
             "(or name the format with format=text|json|dot|html)";
    return fromExtension;
  }

  static void write(const PrecisionReport &report, PrecisionReportFormat format,
                    llvm::raw_ostream &os) {
    switch (format) {
    case PrecisionReportFormat::Text:
      return writeTextReport(report, os);
    case PrecisionReportFormat::JSON:
      return writeJSONReport(report, os);
    case PrecisionReportFormat::Dot:
      return writeDotReport(report, os);
    case PrecisionReportFormat::HTML:
      return writeHTMLReport(report, os);
    case PrecisionReportFormat::FromExtension:
      break;
    }
    llvm_unreachable("the report format is resolved before writing");
  }
};

} // namespace
