//===- ParallelCodegen.cpp - LLVM module -> object files ------------------===//
#include "ParallelCodegen.h"

#include "mpc/Target/CPU/ModulePartition.h"

#include "llvm/ADT/SmallVector.h"
#include "llvm/Bitcode/BitcodeReader.h"
#include "llvm/Bitcode/BitcodeWriter.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/ThreadPool.h"
#include "llvm/Support/Threading.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Target/TargetMachine.h"

#include <vector>

namespace mpc::compile {
namespace {
llvm::Error fail(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

/// Reads one part back into a context of its own (and frees its bitcode),
/// optimizes it if `optimize` is given and writes its object.
llvm::Error emitPart(llvm::SmallVector<char, 0> &bitcode, llvm::TargetMachine &machine,
                     const Optimizer *optimize, llvm::StringRef path, mlir::TimingScope *timing) {
  llvm::LLVMContext context;
  llvm::Expected<std::unique_ptr<llvm::Module>> part = llvm::parseBitcodeFile(
      llvm::MemoryBufferRef(llvm::StringRef(bitcode.data(), bitcode.size()), path), context);
  llvm::SmallVector<char, 0>().swap(bitcode);
  if (!part)
    return part.takeError();
  if (optimize) {
    mlir::TimingScope optimizerTiming = timing ? timing->nest("LLVM optimizer") : mlir::TimingScope();
    if (llvm::Error error = (*optimize)(**part, machine))
      return error;
  }
  mlir::TimingScope codegenTiming = timing ? timing->nest("LLVM code generation") : mlir::TimingScope();
  return emitObject(**part, machine, path);
}

/// Each part's object on a thread pool of `threads` threads.
llvm::Error emitParts(std::vector<llvm::SmallVector<char, 0>> &parts,
                      const MachineFactory &makeMachine, const Optimizer *optimize,
                      llvm::ArrayRef<std::string> paths, unsigned threads,
                      mlir::TimingScope *timing) {
  // The machines are made here: making one registers the target, which
  // is not meant to happen on several threads at once.
  std::vector<std::unique_ptr<llvm::TargetMachine>> machines;
  for (size_t i = 0; i < parts.size(); ++i) {
    llvm::Expected<std::unique_ptr<llvm::TargetMachine>> machine = makeMachine();
    if (!machine)
      return machine.takeError();
    machines.push_back(std::move(*machine));
  }
  std::vector<std::string> errors(parts.size());
  {
    llvm::DefaultThreadPool pool(llvm::hardware_concurrency(threads));
    for (size_t i = 0; i < parts.size(); ++i)
      pool.async([&, i] {
        if (llvm::Error error = emitPart(parts[i], *machines[i], optimize, paths[i], timing))
          errors[i] = llvm::toString(std::move(error));
      });
    pool.wait();
  }
  for (const std::string &error : errors)
    if (!error.empty())
      return fail(error);
  return llvm::Error::success();
}
} // namespace

llvm::Error emitObject(llvm::Module &module, llvm::TargetMachine &machine, llvm::StringRef path) {
  std::error_code ec;
  llvm::ToolOutputFile out(path, ec, llvm::sys::fs::OF_None);
  if (ec)
    return fail("cannot write '" + path + "': " + ec.message());
  llvm::legacy::PassManager codegen;
  if (machine.addPassesToEmitFile(codegen, out.os(), nullptr, llvm::CodeGenFileType::ObjectFile))
    return fail("the host code generator cannot emit object files");
  codegen.run(module);
  out.keep();
  return llvm::Error::success();
}

llvm::Error optimizeAndEmitInParallel(std::unique_ptr<llvm::Module> module,
                                      const MachineFactory &makeMachine,
                                      const Optimizer &optimize,
                                      llvm::ArrayRef<std::string> paths, unsigned threads,
                                      mlir::TimingScope &timing) {
  // The parts share `module`'s LLVMContext, which is not thread-safe:
  // each part crosses to its thread as bitcode.
  std::vector<llvm::SmallVector<char, 0>> parts;
  splitModuleForParallelCodegen(*module, paths.size(), [&](std::unique_ptr<llvm::Module> part) {
    llvm::raw_svector_ostream os(parts.emplace_back());
    llvm::WriteBitcodeToFile(*part, os);
  });
  module.reset();
  return emitParts(parts, makeMachine, &optimize, paths, threads, &timing);
}

} // namespace mpc::compile
