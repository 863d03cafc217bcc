//===- ObjectEmitter.cpp - trainer module -> object file -> executable ----===//
#include "ObjectEmitter.h"

#include "CompileConfig.h"
#include "ParallelCodegen.h"
#include "TrainerPipeline.h"

#include "mpc/Runtime/ManifestKeys.h"
#include "mpc/Codegen/CUDA/Passes.h"
#include "mpc/Target/CPU/Pipeline.h"
#include "mpc/Target/CPU/TargetMachine.h"
#include "mpc/Target/CUDA/Pipeline.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/IR/Constants.h"
#include "llvm/IR/GlobalVariable.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/Module.h"
#include "llvm/IR/Verifier.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/Transforms/Utils/ModuleUtils.h"

#include <cstdlib>

using namespace mlir;

namespace mpc::compile {
namespace {
llvm::Error fail(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

struct EntryPoint {
  std::string symbol; // mpc_train_step
  std::string wrapper; // _mlir_ciface_train_step
  unsigned operands;   // arguments + results of the mpc-level function
};

/// `void symbol(void **args)`: args[i] points to the i-th descriptor pointer,
/// as ExecutionEngine's packed wrappers take them, so the runtime calls both
/// functions the same way whatever their arity.
llvm::Error addEntryPoint(llvm::Module &module, const EntryPoint &entry) {
  llvm::Function *wrapper = module.getFunction(entry.wrapper);
  if (!wrapper || wrapper->arg_size() != entry.operands)
    return fail("the lowered module lacks '" + entry.wrapper + "' taking " +
                llvm::Twine(entry.operands) + " descriptor pointers");
  llvm::LLVMContext &context = module.getContext();
  auto *ptr = llvm::PointerType::getUnqual(context);
  auto *type = llvm::FunctionType::get(llvm::Type::getVoidTy(context), {ptr}, false);
  auto *function =
      llvm::Function::Create(type, llvm::GlobalValue::ExternalLinkage, entry.symbol, module);
  llvm::IRBuilder<> b(llvm::BasicBlock::Create(context, "entry", function));
  llvm::SmallVector<llvm::Value *> operands;
  for (unsigned i = 0; i < entry.operands; ++i) {
    llvm::Value *slot = b.CreateConstInBoundsGEP1_64(ptr, function->getArg(0), i);
    llvm::Value *descriptorPointer = b.CreateLoad(ptr, slot);
    operands.push_back(b.CreateLoad(ptr, descriptorPointer));
  }
  b.CreateCall(wrapper, operands);
  b.CreateRetVoid();
  return llvm::Error::success();
}

void addConstant(llvm::Module &module, llvm::StringRef name, llvm::Constant *value,
                 unsigned alignment) {
  auto *global = new llvm::GlobalVariable(module, value->getType(), /*isConstant=*/true,
                                          llvm::GlobalValue::ExternalLinkage, value, name);
  global->setAlignment(llvm::Align(alignment));
}

void addTrainerData(llvm::Module &module, const TrainerData &data) {
  llvm::LLVMContext &context = module.getContext();
  addConstant(module, "mpc_trainer_manifest",
              llvm::ConstantDataArray::getString(context, data.manifest, /*AddNull=*/true), 1);
  llvm::ArrayRef<uint8_t> blob(reinterpret_cast<const uint8_t *>(data.blob.data()), data.blob.size());
  addConstant(module, "mpc_trainer_blob", llvm::ConstantDataArray::get(context, blob), 64);
  addConstant(module, "mpc_trainer_blob_size",
              llvm::ConstantInt::get(llvm::Type::getInt64Ty(context), data.blob.size()), 8);
}

/// Only the runtime ABI is exported: everything else the lowering produced
/// becomes internal, so that it cannot clash with the runtime's symbols and
/// the optimizer may inline it into the entry points.
void internalizeAllButABI(llvm::Module &module) {
  for (llvm::GlobalValue &value : module.global_values())
    if (!value.isDeclaration() && !value.getName().starts_with("mpc_") &&
        !value.getName().starts_with("llvm."))
      value.setLinkage(llvm::GlobalValue::InternalLinkage);
}

/// Drops the argument and result attributes of other dialects than LLVM's
/// (mpc.name, mpc.role, ...: the manifest has them). The translation warns
/// about each one, and a warning prints the whole function: for a trainer
/// with hundreds of state arguments that was most of the translation time.
void dropForeignArgumentAttributes(ModuleOp module) {
  auto isForeign = [](NamedAttribute attr) {
    Dialect *dialect = attr.getNameDialect();
    return dialect && !isa<LLVM::LLVMDialect>(dialect);
  };
  auto keepLLVM = [&](DictionaryAttr attrs) {
    SmallVector<NamedAttribute> kept;
    for (NamedAttribute attr : attrs)
      if (!isForeign(attr))
        kept.push_back(attr);
    return DictionaryAttr::get(attrs.getContext(), kept);
  };
  module.walk([&](LLVM::LLVMFuncOp func) {
    for (unsigned i = 0, e = func.getNumArguments(); i < e; ++i)
      if (DictionaryAttr attrs = func.getArgAttrDict(i))
        func.setArgAttrs(i, keepLLVM(attrs));
    for (unsigned i = 0, e = func.getNumResults(); i < e; ++i)
      if (DictionaryAttr attrs = func.getResultAttrDict(i))
        func.setResultAttrs(i, keepLLVM(attrs));
  });
}

unsigned operandCount(ModuleOp module, llvm::StringRef name) {
  auto func = module.lookupSymbol<func::FuncOp>(name);
  return func.getNumArguments() + func.getNumResults();
}

/// A trainer's module (an inference build has only the eval step).
bool isTrainer(ModuleOp module) { return static_cast<bool>(module.lookupSymbol<func::FuncOp>(kTrainStep)); }

/// The CUDA pipeline for `target`, its kernel module in `format`. A
/// trainer's entry points return without waiting for the GPU: every host
/// read of a result is a download queued behind them (lib/Trainer/TrainStep.h).
void buildCudaPipeline(PassManager &pm, const TargetChoice &target, llvm::StringRef format,
                       bool trainer) {
  LowerToCUDAOptions options;
  options.waitAtReturn = !trainer;
  options.chips = target.cudaArchs;
  options.allowTf32 = target.allowTf32;
  options.attention = target.cudnnAttention ? CudaAttention::Cudnn : CudaAttention::Kernels;
  options.conv = target.cudnnConv ? CudaConvStrategy::Cudnn : CudaConvStrategy::Gemm;
  options.scatter = target.atomicScatter ? CudaScatter::Atomic : CudaScatter::Deterministic;
  options.format = format.str();
  buildLowerToCUDAPipeline(pm, options);
  if (!target.kernelReport.empty()) {
    KernelReportPassOptions report;
    report.output = target.kernelReport;
    report.format = llvm::StringRef(target.kernelReport).ends_with(".json") ? "json" : "text";
    pm.addPass(createKernelReportPass(report));
  }
}

/// (kernel, ONNX nodes) of every generated kernel; the module attribute
/// they came from is removed (LLVM IR has no place for it).
std::vector<std::pair<std::string, std::string>> takeKernelTable(ModuleOp module) {
  std::vector<std::pair<std::string, std::string>> table;
  auto kernels = module->getAttrOfType<ArrayAttr>(kCudaKernelsAttr);
  if (!kernels)
    return table;
  for (Attribute attr : kernels) {
    auto kernel = cast<DictionaryAttr>(attr);
    std::string nodes;
    for (Attribute node : kernel.getAs<ArrayAttr>("onnx_nodes"))
      nodes += (nodes.empty() ? "" : ", ") + cast<StringAttr>(node).getValue().str();
    table.emplace_back(kernel.getAs<StringAttr>("name").getValue().str(), nodes);
  }
  module->removeAttr(kCudaKernelsAttr);
  return table;
}

/// A constructor that registers the CUDA device with the runner and trainer
/// (lib/Trainer/CudaDevice.cpp) and names each kernel's ONNX nodes to the
/// runtime, for its error messages.
void addCudaConstructor(llvm::Module &module,
                        const std::vector<std::pair<std::string, std::string>> &kernels) {
  llvm::LLVMContext &ctx = module.getContext();
  llvm::Type *voidType = llvm::Type::getVoidTy(ctx);
  llvm::PointerType *ptr = llvm::PointerType::getUnqual(ctx);
  auto *ctor = llvm::Function::Create(llvm::FunctionType::get(voidType, false),
                                      llvm::GlobalValue::InternalLinkage, "mpc_cuda_constructor",
                                      module);
  llvm::IRBuilder<> b(llvm::BasicBlock::Create(ctx, "entry", ctor));
  b.CreateCall(module.getOrInsertFunction("mpc_cuda_register_device",
                                          llvm::FunctionType::get(voidType, false)));
  llvm::FunctionCallee info = module.getOrInsertFunction(
      "mpcCudaRegisterKernelInfo", llvm::FunctionType::get(voidType, {ptr, ptr}, false));
  for (const auto &[name, nodes] : kernels)
    b.CreateCall(info, {b.CreateGlobalString(name), b.CreateGlobalString(nodes)});
  b.CreateRetVoid();
  llvm::appendToGlobalCtors(module, ctor, /*Priority=*/0);
}
} // namespace

llvm::Error emitTrainerObject(ModuleOp module, const TrainerData &data,
                              const TargetChoice &target, llvm::ArrayRef<std::string> paths,
                              TimingScope &timing, unsigned threads) {
  // The machine first: a bad --mcpu is reported before minutes of lowering.
  llvm::Expected<std::unique_ptr<llvm::TargetMachine>> machine = createTargetMachine(target.mcpu);
  if (!machine)
    return machine.takeError();
  // A trainer has both entry points; an inference build only mpc_eval_step.
  std::vector<EntryPoint> entries;
  if (isTrainer(module))
    entries.push_back({manifest::kTrainSymbol, ("_mlir_ciface_" + kTrainStep).str(),
                       operandCount(module, kTrainStep)});
  entries.push_back(
      {manifest::kEvalSymbol, ("_mlir_ciface_" + kEvalStep).str(), operandCount(module, kEvalStep)});

  PassManager pm(module.getContext());
  if (target.cuda)
    buildCudaPipeline(pm, target, "fatbin", isTrainer(module));
  else {
    LowerToLLVMOptions lowering;
    if (target.nativeDotProducts) {
      llvm::Expected<ResolvedCPU> cpu = resolveCPU(target.mcpu);
      if (!cpu)
        return cpu.takeError();
      lowering.nativeBf16Dot = useNativeBf16Dot(*cpu, true, "mpc-compile");
    }
    buildLowerToLLVMPipeline(pm, lowering);
  }
  TimingScope passTiming = timing.nest("pass pipeline");
  pm.enableTiming(passTiming);
  if (failed(pm.run(module)))
    return fail("lowering the model to LLVM failed (see the diagnostics above)");
  passTiming.stop();
  std::vector<std::pair<std::string, std::string>> kernels = takeKernelTable(module);
  dropForeignArgumentAttributes(module);
  registerBuiltinDialectTranslation(*module.getContext());
  registerLLVMDialectTranslation(*module.getContext());
  llvm::LLVMContext context;
  TimingScope translateTiming = timing.nest("translate to LLVM IR");
  std::unique_ptr<llvm::Module> llvmModule = translateModuleToLLVMIR(module, context, "mpc_trainer");
  translateTiming.stop();
  if (!llvmModule)
    return fail("translating the trainer to LLVM IR failed (see the diagnostics above)");
  for (const EntryPoint &entry : entries)
    if (llvm::Error error = addEntryPoint(*llvmModule, entry))
      return error;
  // Split code generation: the data (hundreds of MB for a large model) goes
  // into an object of its own rather than through bitcode to a thread.
  bool split = paths.size() > 1;
  if (!split)
    addTrainerData(*llvmModule, data);
  internalizeAllButABI(*llvmModule);
  if (target.cuda)
    addCudaConstructor(*llvmModule, kernels);
  llvmModule->setTargetTriple((*machine)->getTargetTriple());
  llvmModule->setDataLayout((*machine)->createDataLayout());
  if (llvm::verifyModule(*llvmModule, &llvm::errs()))
    return fail("the generated LLVM module is invalid");

  // LLVM's -O2 pipeline, as ExecutionEngine's JIT runs it.
  Optimizer optimize = [](llvm::Module &module, llvm::TargetMachine &machine) {
    return makeOptimizingTransformer(/*optLevel=*/2, /*sizeLevel=*/0, &machine)(&module);
  };
  if (!split) {
    TimingScope optimizerTiming = timing.nest("LLVM optimizer");
    if (llvm::Error error = optimize(*llvmModule, **machine))
      return error;
    optimizerTiming.stop();
    TimingScope codegenTiming = timing.nest("LLVM code generation");
    return emitObject(*llvmModule, **machine, paths.front());
  }
  TimingScope dataTiming = timing.nest("LLVM code generation (data)");
  llvm::Module dataModule("mpc_trainer_data", context);
  dataModule.setTargetTriple((*machine)->getTargetTriple());
  dataModule.setDataLayout((*machine)->createDataLayout());
  addTrainerData(dataModule, data);
  if (llvm::Error error = emitObject(dataModule, **machine, paths.back()))
    return error;
  dataTiming.stop();
  // The code in parts, each optimized and compiled on a thread of its own:
  // LLVM's optimizer on one thread was a third of ResNet-50's compile.
  TimingScope partsTiming = timing.nest("LLVM optimizer and code generation (in parts)");
  return optimizeAndEmitInParallel(
      std::move(llvmModule), [&] { return createTargetMachine(target.mcpu); }, optimize,
      paths.drop_back(), threads, partsTiming);
}

llvm::Error emitCudaKernels(ModuleOp module, const TargetChoice &target, bool cubin,
                            llvm::StringRef path) {
  if (target.cudaArchs.size() != 1)
    return fail(llvm::Twine("--emit=") + (cubin ? "cubin" : "ptx") +
                " writes one architecture's kernels: pass one --cuda-arch (e.g. sm_90)");
  PassManager pm(module.getContext());
  buildCudaPipeline(pm, target, cubin ? "bin" : "isa", isTrainer(module));
  if (failed(pm.run(module)))
    return fail("lowering to CUDA failed (see the diagnostics above)");
  std::error_code ec;
  llvm::ToolOutputFile out(path, ec, cubin ? llvm::sys::fs::OF_None : llvm::sys::fs::OF_Text);
  if (ec)
    return fail("cannot write '" + path + "': " + ec.message());
  for (auto binary : module.getOps<gpu::BinaryOp>())
    for (Attribute object : binary.getObjects())
      out.os() << cast<gpu::ObjectAttr>(object).getObject().getValue();
  out.keep();
  return llvm::Error::success();
}

namespace {
/// $MPC_TRAINER_LIB (another build of the runtime, or a test's stand-in)
/// or the library this build configured; "" when neither exists.
std::string trainerLibrary() {
  const char *fromEnv = std::getenv("MPC_TRAINER_LIB");
  return fromEnv && *fromEnv ? fromEnv : MPC_TRAINER_LIBRARY;
}
} // namespace

llvm::Error checkTrainerRuntime() {
  if (trainerLibrary().empty())
    return fail("this mpc-compile was built without the trainer runtime (lib/Trainer, CMake target "
                "MpcTrainer), so it cannot link executables; use --emit=obj and link the object "
                "with a runtime that provides main, or name one with MPC_TRAINER_LIB");
  return llvm::Error::success();
}

llvm::Error linkTrainerExecutable(llvm::ArrayRef<std::string> objects, llvm::StringRef output,
                                  bool cuda) {
  if (llvm::Error error = checkTrainerRuntime())
    return error;
  const char *fromEnv = std::getenv("MPC_CXX");
  std::string driver = fromEnv && *fromEnv ? fromEnv : MPC_CXX_COMPILER;
  llvm::ErrorOr<std::string> program = llvm::sys::findProgramByName(driver);
  if (!program)
    return fail("cannot find the C++ compiler '" + driver +
                "' to link with (set MPC_CXX to a C++ compiler driver such as c++ or clang++)");
  std::string runtime = trainerLibrary();
  llvm::SmallVector<llvm::StringRef> args = {*program};
  args.append(objects.begin(), objects.end());
  args.append({"-o", output});
  if (cuda) {
    if (llvm::StringRef(MPC_TRAINER_CUDA_LIBRARY).empty())
      return fail("this mpc-compile was built without the CUDA runtime (the CUDA toolkit was not "
                  "found at configure time: set MPC_CUDA_TOOLKIT), so it cannot link CUDA "
                  "executables; --emit=obj|ptx|cubin still work");
    // The device glue first: it needs the runner and the CUDA runtime.
    args.append({MPC_TRAINER_CUDA_LIBRARY, MPC_RUNTIME_CUDA_LIBRARY});
  }
  args.append({runtime, MPC_RUNTIME_CORE_LIBRARY, "-lm", "-lpthread", "-ldl"});
  if (llvm::StringRef(MPC_SANITIZE_LINK_FLAG).size())
    args.push_back(MPC_SANITIZE_LINK_FLAG);
  std::string message;
  int status = llvm::sys::ExecuteAndWait(*program, args, std::nullopt, {}, 0, 0, &message);
  if (status != 0)
    return fail("linking '" + output + "' with '" + *program + "' failed" +
                (message.empty() ? " (exit status " + llvm::Twine(status) + ")"
                                 : ": " + llvm::Twine(message)));
  return llvm::Error::success();
}

} // namespace mpc::compile
