//===- JitRunner.cpp - run a lowered mpc module in-process ----------------===//
#include "mpc/Target/CPU/JitRunner.h"

#include "mpc/Dialect/MpcDialect.h"
#include "mpc/Runtime/AsyncRuntime.h"
#include "mpc/Runtime/FloatConversions.h"
#include "mpc/Runtime/PackedCall.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/Timing.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/TargetParser/Host.h"

using namespace mlir;

namespace mpc::runtime {
namespace {
llvm::Error fail(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

std::string describeType(Type type) {
  std::string text;
  llvm::raw_string_ostream os(text);
  type.print(os);
  return text;
}

std::string describe(ElementKind kind, llvm::ArrayRef<int64_t> shape) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << "tensor<";
  for (int64_t d : shape)
    os << d << "x";
  os << elementName(kind) << ">";
  return text;
}

llvm::Expected<TensorSpec> specOf(Type type, std::string name) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  if (!tensor || !tensor.hasStaticShape())
    return fail("'" + name + "' has type " + llvm::Twine(describeType(type)) +
                "; only statically shaped tensors can be passed to or from the JIT");
  llvm::Expected<ElementKind> kind = elementKindOf(tensor.getElementType());
  if (!kind)
    return kind.takeError();
  return TensorSpec{std::move(name), *kind, std::vector<int64_t>(tensor.getShape())};
}

/// The host (CPU name and features) without `cpu`; else `cpu`'s name and
/// the features it was resolved with.
llvm::Expected<llvm::orc::JITTargetMachineBuilder> machineBuilder(const ResolvedCPU *cpu) {
  if (!cpu)
    return llvm::orc::JITTargetMachineBuilder::detectHost();
  llvm::orc::JITTargetMachineBuilder builder{llvm::Triple(llvm::sys::getProcessTriple())};
  builder.setCPU(cpu->cpu);
  builder.addFeatures(cpu->features);
  return builder;
}
} // namespace

llvm::Expected<ElementKind> elementKindOf(Type type) {
  if (type.isF64()) return ElementKind::F64;
  if (type.isF32()) return ElementKind::F32;
  if (type.isF16()) return ElementKind::F16;
  if (type.isBF16()) return ElementKind::BF16;
  if (isa<Float8E4M3FNType>(type)) return ElementKind::F8E4M3FN;
  if (isa<Float8E5M2Type>(type)) return ElementKind::F8E5M2;
  if (type.isUnsignedInteger(64)) return ElementKind::U64;
  if (type.isUnsignedInteger(32)) return ElementKind::U32;
  if (type.isUnsignedInteger(16)) return ElementKind::U16;
  if (type.isUnsignedInteger(8)) return ElementKind::U8;
  if (type.isInteger(64)) return ElementKind::I64;
  if (type.isInteger(32)) return ElementKind::I32;
  if (type.isInteger(16)) return ElementKind::I16;
  if (type.isInteger(8)) return ElementKind::I8;
  if (type.isInteger(1)) return ElementKind::Bool;
  return fail("element type " + llvm::Twine(describeType(type)) + " has no host representation");
}

llvm::Expected<EntrySignature> readEntrySignature(func::FuncOp func) {
  EntrySignature signature;
  FunctionType type = func.getFunctionType();
  for (auto [i, input] : llvm::enumerate(type.getInputs())) {
    auto name = func.getArgAttrOfType<StringAttr>(i, kIONameAttr);
    llvm::Expected<TensorSpec> spec =
        specOf(input, name ? name.str() : ("arg" + llvm::Twine(i)).str());
    if (!spec)
      return spec.takeError();
    signature.inputs.push_back(std::move(*spec));
  }
  for (auto [i, result] : llvm::enumerate(type.getResults())) {
    auto name = func.getResultAttrOfType<StringAttr>(i, kIONameAttr);
    llvm::Expected<TensorSpec> spec =
        specOf(result, name ? name.str() : ("result" + llvm::Twine(i)).str());
    if (!spec)
      return spec.takeError();
    signature.outputs.push_back(std::move(*spec));
  }
  return signature;
}

JitProgram::JitProgram() = default;
JitProgram::~JitProgram() {
  // A worker may still be leaving the compiled code of a parallel loop's
  // last task when the entry function has returned.
  waitForIdleWorkers();
}

llvm::Expected<std::unique_ptr<JitProgram>>
JitProgram::compile(ModuleOp module, llvm::StringRef entry, EntrySignature signature,
                    unsigned optLevel, TimingScope *timing, const ResolvedCPU *cpu) {
  static bool targetsReady = [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
    return true;
  }();
  (void)targetsReady;
  registerBuiltinDialectTranslation(*module->getContext());
  registerLLVMDialectTranslation(*module->getContext());

  std::unique_ptr<JitProgram> program(new JitProgram());
  program->signature_ = std::move(signature);
  auto builder = machineBuilder(cpu);
  if (!builder)
    return builder.takeError();
  auto machine = builder->createTargetMachine();
  if (!machine)
    return machine.takeError();
  program->targetMachine_ = std::move(*machine);
  // The engine's code generator, for the same CPU (without one the engine
  // would make its own for the host).
  auto engineMachine = builder->createTargetMachine();
  if (!engineMachine)
    return engineMachine.takeError();
  program->optimizer_ = makeOptimizingTransformer(optLevel, 0, program->targetMachine_.get());

  TimingScope untimed;
  TimingScope &parent = timing ? *timing : untimed;
  ExecutionEngineOptions options;
  auto translate = [&](Operation *op, llvm::LLVMContext &context) {
    TimingScope scope = parent.nest("translate to LLVM IR");
    return translateModuleToLLVMIR(op, context);
  };
  options.llvmModuleBuilder = translate;
  auto optimize = [&](llvm::Module *llvmModule) {
    TimingScope scope = parent.nest("LLVM optimizer");
    return program->optimizer_(llvmModule);
  };
  options.transformer = optimize;
  options.jitCodeGenOptLevel = static_cast<llvm::CodeGenOptLevel>(optLevel);
  auto engine = ExecutionEngine::create(module, options, std::move(*engineMachine));
  if (!engine)
    return engine.takeError();
  // LLJIT generates machine code for the whole module at the first lookup.
  TimingScope codegen = parent.nest("LLVM code generation and linking");
  program->engine_ = std::move(*engine);
  // Conversions compiled code may call: ours, bit-exact, rather than
  // whatever the host's libgcc has (or lacks).
  program->engine_->registerSymbols([](llvm::orc::MangleAndInterner interner) {
    llvm::orc::SymbolMap symbols;
    for (auto &[name, address] : conversionLibcalls())
      symbols[interner(name)] = {llvm::orc::ExecutorAddr::fromPtr(address),
                                 llvm::JITSymbolFlags::Exported};
    // Parallel loops call mpc's async runtime (AsyncRuntime.h), not MLIR's
    // shared library.
    for (auto &[name, address] : asyncRuntimeSymbols())
      symbols[interner(name)] = {llvm::orc::ExecutorAddr::fromPtr(address),
                                 llvm::JITSymbolFlags::Exported};
    return symbols;
  });
  program->engine_->initialize();
  std::string wrapper = ("_mlir_ciface_" + entry).str();
  auto packed = program->engine_->lookupPacked(wrapper);
  if (!packed)
    return fail("the compiled module has no '" + wrapper + "' (was the entry function '" + entry +
                "' lowered with C-interface wrappers?): " + llvm::toString(packed.takeError()));
  program->packedEntry_ = *packed;
  codegen.stop();
  return program;
}

llvm::Error JitProgram::run(llvm::ArrayRef<const HostArray *> inputs, std::vector<HostArray> &outputs) {
  if (inputs.size() != signature_.inputs.size())
    return fail("the program takes " + llvm::Twine(signature_.inputs.size()) + " inputs, " +
                llvm::Twine(inputs.size()) + " given");
  for (auto [array, spec] : llvm::zip(inputs, signature_.inputs))
    if (array->kind() != spec.kind || array->shape() != spec.shape)
      return fail("input '" + spec.name + "' must be " + describe(spec.kind, spec.shape) + ", got " +
                  describe(array->kind(), array->shape()));
  if (outputs.empty())
    for (const TensorSpec &spec : signature_.outputs)
      outputs.emplace_back(spec.kind, spec.shape);
  bool outputsMatch = outputs.size() == signature_.outputs.size();
  for (auto [array, spec] : llvm::zip(outputs, signature_.outputs))
    outputsMatch &= array.kind() == spec.kind && array.shape() == spec.shape;
  if (!outputsMatch)
    return fail("the output buffers do not match the program's " +
                llvm::Twine(signature_.outputs.size()) + " outputs");

  PackedCall call;
  for (const HostArray *array : inputs)
    call.add(array->data(), array->shape());
  for (HostArray &array : outputs)
    call.add(array.data(), array.shape());
  call.call(packedEntry_);
  return llvm::Error::success();
}

} // namespace mpc::runtime
