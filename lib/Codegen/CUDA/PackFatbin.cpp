//===- PackFatbin.cpp - cubins for every chip + PTX in one fatbinary ------===//
#include "mpc/Codegen/CUDA/Passes.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/raw_ostream.h"

namespace mpc {
#define GEN_PASS_DEF_PACKFATBINPASS
#include "mpc/Codegen/CUDA/Passes.h.inc"
} // namespace mpc

using namespace mlir;

namespace {
/// Temporary files removed when the pass is done with them.
struct TempFiles {
  SmallVector<std::string> paths;
  ~TempFiles() {
    for (const std::string &p : paths)
      llvm::sys::fs::remove(p);
  }
  FailureOr<std::string> create(StringRef suffix) {
    SmallString<128> path;
    if (llvm::sys::fs::createTemporaryFile("mpc-cuda", suffix, path))
      return failure();
    paths.push_back(std::string(path));
    return paths.back();
  }
};

LogicalResult writeFile(StringRef path, StringRef bytes) {
  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec, llvm::sys::fs::OF_None);
  if (ec)
    return failure();
  os << bytes;
  return success();
}

struct PackFatbin : mpc::impl::PackFatbinPassBase<PackFatbin> {
  using PackFatbinPassBase::PackFatbinPassBase;

  std::string toolkitDir() const {
    if (!toolkit.empty())
      return toolkit;
    if (const char *home = std::getenv("CUDA_HOME"); home && *home)
      return home;
    return "/usr/local/cuda";
  }

  /// Runs `tool` of the toolkit; on failure reports its output at `op`.
  LogicalResult run(Operation *op, StringRef tool, ArrayRef<std::string> args, TempFiles &temps) {
    SmallString<128> program(toolkitDir());
    llvm::sys::path::append(program, "bin", tool);
    if (!llvm::sys::fs::can_execute(program))
      return op->emitError() << "cannot run " << program
                             << ": set CUDA_HOME (or the toolkit option) to the CUDA toolkit";
    FailureOr<std::string> log = temps.create("log");
    if (failed(log))
      return op->emitError("cannot create a temporary file");
    SmallVector<StringRef> argv = {program};
    for (const std::string &a : args)
      argv.push_back(a);
    std::optional<StringRef> redirects[] = {std::nullopt, StringRef(*log), StringRef(*log)};
    std::string message;
    int rc = llvm::sys::ExecuteAndWait(program, argv, std::nullopt, redirects, 0, 0, &message);
    if (rc != 0) {
      auto output = llvm::MemoryBuffer::getFile(*log);
      InFlightDiagnostic diag = op->emitError() << tool << " failed (" << rc << ")";
      if (!message.empty())
        diag << ": " << message;
      if (output)
        diag << "\n" << (*output)->getBuffer();
      return failure();
    }
    return success();
  }

  LogicalResult pack(gpu::BinaryOp binary) {
    TempFiles temps;
    SmallVector<std::string> fatbinArgs = {"--64", "--compress-all"};
    FailureOr<std::string> out = temps.create("fatbin");
    if (failed(out))
      return binary.emitError("cannot create a temporary file");
    fatbinArgs.push_back("--create=" + *out);
    gpu::ObjectAttr newest;
    int newestSm = -1;
    std::string newestPtx;
    for (Attribute attr : binary.getObjects()) {
      auto object = cast<gpu::ObjectAttr>(attr);
      auto target = dyn_cast<NVVM::NVVMTargetAttr>(object.getTarget());
      if (!target || object.getFormat() != gpu::CompilationTarget::Assembly)
        return binary.emitError("mpc-cuda-pack-fatbin expects PTX objects for NVVM targets "
                                "(gpu-module-to-binary{format=isa})");
      StringRef chip = target.getChip();
      std::string sm = chip.drop_front(3).str(); // "sm_90a" -> "90a"
      FailureOr<std::string> ptx = temps.create("ptx");
      FailureOr<std::string> cubin = temps.create("cubin");
      if (failed(ptx) || failed(cubin) || failed(writeFile(*ptx, object.getObject().getValue())))
        return binary.emitError("cannot write a temporary file");
      if (failed(run(binary, "ptxas", {"-arch=" + chip.str(), "-O3", *ptx, "-o", *cubin}, temps)))
        return failure();
      fatbinArgs.push_back("--image3=kind=elf,sm=" + sm + ",file=" + *cubin);
      int smNumber = 0;
      StringRef(sm).take_while(llvm::isDigit).getAsInteger(10, smNumber);
      // Architecture-specific PTX (sm_90a) cannot be compiled for newer GPUs:
      // of equal numbers, the plain one's PTX is embedded.
      bool specific = !sm.empty() && !llvm::isDigit(sm.back());
      bool newestSpecific =
          newest && !llvm::isDigit(cast<NVVM::NVVMTargetAttr>(newest.getTarget()).getChip().back());
      if (smNumber > newestSm || (smNumber == newestSm && newestSpecific && !specific)) {
        newestSm = smNumber;
        newest = object;
        newestPtx = *ptx;
      }
    }
    if (!newest)
      return binary.emitError("gpu.binary has no object");
    // The newest PTX, for GPUs newer than every cubin (the driver compiles it).
    fatbinArgs.push_back("--image3=kind=ptx,sm=" + std::to_string(newestSm) + ",file=" + newestPtx);
    if (failed(run(binary, "fatbinary", fatbinArgs, temps)))
      return failure();
    auto bytes = llvm::MemoryBuffer::getFile(*out, /*IsText=*/false);
    if (!bytes)
      return binary.emitError("cannot read the fatbinary fatbinary wrote");
    auto object =
        gpu::ObjectAttr::get(&getContext(), newest.getTarget(), gpu::CompilationTarget::Fatbin,
                             StringAttr::get(&getContext(), (*bytes)->getBuffer()),
                             newest.getProperties(), newest.getKernels());
    binary.setObjectsAttr(ArrayAttr::get(&getContext(), {object}));
    return success();
  }

  void runOnOperation() override {
    for (auto binary : llvm::make_early_inc_range(getOperation().getOps<gpu::BinaryOp>()))
      if (failed(pack(binary)))
        return signalPassFailure();
  }
};
} // namespace
