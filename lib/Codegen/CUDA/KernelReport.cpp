//===- KernelReport.cpp - every CUDA kernel, as text or JSON --------------===//
#include "mpc/Codegen/CUDA/Passes.h"

#include "mlir/IR/BuiltinOps.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

namespace mpc {
#define GEN_PASS_DEF_KERNELREPORTPASS
#include "mpc/Codegen/CUDA/Passes.h.inc"
} // namespace mpc

using namespace mlir;

namespace {
int64_t intField(DictionaryAttr d, StringRef name) {
  auto v = d.getAs<IntegerAttr>(name);
  return v ? v.getInt() : 0;
}

SmallVector<StringRef> strings(DictionaryAttr d, StringRef name) {
  SmallVector<StringRef> out;
  if (auto array = d.getAs<ArrayAttr>(name))
    for (Attribute a : array)
      out.push_back(cast<StringAttr>(a).getValue());
  return out;
}

void printText(ArrayAttr kernels, llvm::raw_ostream &os) {
  os << llvm::formatv("{0,-16} {1,-22} {2,8} {3,6} {4,12} {5,12} {6,14}  {7}\n", "kernel",
                      "strategy", "grid", "block", "read(B)", "written(B)", "flops",
                      "onnx nodes / fused ops");
  int64_t read = 0, written = 0, flops = 0;
  for (Attribute attr : kernels) {
    auto k = cast<DictionaryAttr>(attr);
    int64_t grid = intField(k, "grid"), block = intField(k, "block");
    os << llvm::formatv(
        "{0,-16} {1,-22} {2,8} {3,6} {4,12} {5,12} {6,14}  {7} [{8}]",
        k.getAs<StringAttr>("name").getValue(), k.getAs<StringAttr>("strategy").getValue(),
        grid ? std::to_string(grid) : "-", block ? std::to_string(block) : "-",
        intField(k, "bytes_read"), intField(k, "bytes_written"), intField(k, "flops"),
        llvm::join(strings(k, "onnx_nodes"), ","), llvm::join(strings(k, "ops"), " "));
    if (auto epilogue = k.getAs<StringAttr>("epilogue"))
      os << " epilogue " << epilogue.getValue();
    if (auto merged = k.getAs<ArrayAttr>("merged"))
      os << " merges " << merged.size();
    os << "\n";
    read += intField(k, "bytes_read");
    written += intField(k, "bytes_written");
    flops += intField(k, "flops");
  }
  os << llvm::formatv("{0} kernels, {1} bytes read, {2} bytes written, {3} flops\n", kernels.size(),
                      read, written, flops);
}

void printJson(ArrayAttr kernels, llvm::raw_ostream &os) {
  llvm::json::Array list;
  for (Attribute attr : kernels) {
    auto k = cast<DictionaryAttr>(attr);
    llvm::json::Object entry;
    entry["name"] = k.getAs<StringAttr>("name").getValue().str();
    entry["strategy"] = k.getAs<StringAttr>("strategy").getValue().str();
    for (StringRef field : {"grid", "block", "bytes_read", "bytes_written", "flops"})
      entry[field] = intField(k, field);
    for (StringRef field : {"ops", "onnx_nodes", "merged"}) {
      if (!k.get(field))
        continue;
      llvm::json::Array values;
      for (StringRef s : strings(k, field))
        values.push_back(s.str());
      entry[field] = std::move(values);
    }
    if (auto epilogue = k.getAs<StringAttr>("epilogue"))
      entry["epilogue"] = epilogue.getValue().str();
    list.push_back(std::move(entry));
  }
  os << llvm::formatv("{0:2}", llvm::json::Value(llvm::json::Object{{"kernels", std::move(list)}}))
     << "\n";
}

struct KernelReport : mpc::impl::KernelReportPassBase<KernelReport> {
  using KernelReportPassBase::KernelReportPassBase;

  void runOnOperation() override {
    markAllAnalysesPreserved();
    if (format != "text" && format != "json") {
      getOperation().emitError() << "mpc-cuda-kernel-report: format must be text or json, not '"
                                 << format << "'";
      return signalPassFailure();
    }
    auto kernels = getOperation()->getAttrOfType<ArrayAttr>(mpc::kCudaKernelsAttr);
    if (!kernels)
      kernels = ArrayAttr::get(&getContext(), {});
    std::error_code ec;
    std::unique_ptr<llvm::raw_fd_ostream> file;
    if (output != "-") {
      file = std::make_unique<llvm::raw_fd_ostream>(output, ec, llvm::sys::fs::OF_Text);
      if (ec) {
        getOperation().emitError()
            << "cannot write the kernel report to '" << output << "': " << ec.message();
        return signalPassFailure();
      }
    }
    llvm::raw_ostream &os = file ? *file : llvm::outs();
    if (format == "json")
      printJson(kernels, os);
    else
      printText(kernels, os);
  }
};
} // namespace
