//===- mpc-run.cpp - run an ONNX or mpc model on the CPU ------------------===//
//
// Imports the model with its input shapes fixed by the given data, assigns
// precision, lowers to LLVM, JIT-compiles and runs it, and writes every graph
// output as DIR/<name>.npy in the graph's declared element type.
//
//===----------------------------------------------------------------------===//
#include "ModelPipeline.h"
#include "OnnxSignature.h"

#include "mpc/Dialect/MpcDialect.h"
#include "mpc/Import/ONNXImporter.h"
#include "mpc/InitAll.h"
#include "mpc/Inference/Passes.h"
#include "mpc/Precision/Passes.h"
#include "mpc/Runtime/Allocator.h"
#include "mpc/Runtime/AsyncRuntime.h"
#include "mpc/Runtime/HostArray.h"
#include "mpc/Target/CPU/JitRunner.h"
#include "mpc/Target/CPU/Pipeline.h"
#include "mpc/Target/CPU/TargetMachine.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/Timing.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>
#include <map>

namespace cl = llvm::cl;
using mpc::runtime::HostArray;

// --help lists these groups only (libLLVM's own options are hidden in main).
static cl::OptionCategory modelCategory("Model and data");
static cl::OptionCategory precisionCategory("Precision");
static cl::OptionCategory executionCategory("Execution");
static cl::OptionCategory debugCategory("Debugging");

static cl::opt<std::string> modelPath(cl::Positional, cl::desc("<model.onnx | model.mlir>"),
                                      cl::cat(modelCategory));
static cl::list<std::string> inputSpecs("input", cl::desc("NAME=FILE.npy: data for a graph input (repeat)"),
                                        cl::value_desc("name=file.npy"), cl::cat(modelCategory));
static cl::opt<std::string> outputDir("output-dir",
                                      cl::desc("directory for the outputs (<output name>.npy)"),
                                      cl::cat(modelCategory));
static cl::opt<std::string> entryName("entry", cl::init("main"),
                                      cl::desc("function to run (an .mlir module may hold several)"),
                                      cl::cat(modelCategory));
static cl::opt<std::string> precision("precision", cl::init("fp32"),
                                      cl::desc("precision policy: fp32, fp16 or bf16; 'none' runs "
                                               "the IR's own types (no precision passes)"),
                                      cl::cat(precisionCategory));
static cl::opt<std::string> policyFile("policy-file", cl::init(""),
                                       cl::desc("JSON policy file for mpc-assign-precision "
                                                "(docs/precision-policy.md)"),
                                       cl::cat(precisionCategory));
static cl::opt<std::string> inputRanges("input-ranges", cl::init(""),
                                        cl::desc("NAME:LO:HI,...: value ranges of graph inputs, so "
                                                 "precision assignment keeps ops that would overflow "
                                                 "the low type in f32 (docs/precision-range.md)"),
                                        cl::cat(precisionCategory));
static cl::opt<std::string> calibrationData("calibration-data", cl::init(""),
                                            cl::desc("directory of NAME.npy (or comma-separated "
                                                     ".npy files): observed input ranges, as "
                                                     "--input-ranges"),
                                            cl::cat(precisionCategory));
static cl::opt<bool> nativeDotProducts(
    "native-dot-products", cl::init(false),
    cl::desc("bf16 matmuls and convolutions on AVX512-BF16 dot products (vdpbf16ps) where the --mcpu "
             "CPU has them: faster, not bit-exact (another summation order, denormals flushed; "
             "docs/numerics.md). Without avx512bf16: a warning, and the exact code"),
    cl::cat(precisionCategory));
static cl::opt<bool> emulateNativeDotProducts(
    "emulate-native-dot-products", cl::init(false), cl::Hidden,
    cl::desc("--native-dot-products' packing and loops with each pair dot product as two f32 FMAs "
             "in its order (denormals kept), on any CPU: for tests on hosts without avx512bf16"),
    cl::cat(precisionCategory));
static cl::opt<unsigned> iterations("iterations", cl::init(1),
                                    cl::desc("run N times; report compile time and mean run time (N > 1: "
                                             "after one more warm-up run, reported on its own; 0: compile only, report "
                                             "the compile time)"),
                                    cl::cat(executionCategory));
static cl::opt<unsigned> optLevel("jit-opt-level", cl::init(2), cl::desc("LLVM optimization level (0-3)"),
                                  cl::cat(executionCategory));
static cl::opt<std::string> mcpu("mcpu", cl::init("native"),
                                 cl::desc("CPU to compile for: native (this machine), generic or an "
                                          "LLVM CPU name (skylake, znver4, an x86-64 level ...) whose "
                                          "code this machine runs"),
                                 cl::cat(executionCategory));
static cl::opt<bool> printTarget("print-target", cl::init(false),
                                 cl::desc("print the --mcpu CPU's name, what mpc's code generation "
                                          "uses of it and every feature LLVM enables for it, then exit "
                                          "(no model needed)"),
                                 cl::cat(executionCategory));
static cl::opt<bool> foldParameterCasts(
    "fold-parameter-casts", cl::init(true),
    cl::desc("Round f32 weights to the policy's precision once at compile time "
             "(mpc-fold-parameter-casts; same results) instead of on every run"),
    cl::cat(executionCategory));
static cl::opt<bool> outlineKernels("outline-kernels", cl::init(true),
                                    cl::desc("Compile each distinct kernel once, as a function of its own "
                                             "(=false: all inline in the model function, to compare)"),
                                    cl::cat(executionCategory));
static cl::opt<bool> libmMath("libm-math", cl::init(false),
                              cl::desc("call libm for f32 tanh/erf/exp/log... instead of inline "
                                       "polynomial approximations (slower; for comparisons)"),
                              cl::cat(executionCategory));
static cl::opt<bool> cudaSchedule(
    "cuda-schedule", cl::init(false),
    cl::desc("run the CUDA target's kernels (blocks and threads as loops, GEMMs as generated "
             "kernels) on the CPU, sequentially: checks them against the CPU target without a GPU"),
    cl::cat(executionCategory));
static cl::opt<bool> printIRAfterAll("print-ir-after-all", cl::init(false),
                                     cl::desc("print the IR after every pass (to stderr)"),
                                     cl::cat(debugCategory));

namespace {
using Clock = std::chrono::steady_clock;

/// `--threads N`. Debian's libLLVM already registers an undocumented
/// `--threads=<int>` (registering another aborts), so mpc-run documents and
/// reads that one, and defines its own only where it is missing.
cl::opt<int> &threadsOption() {
  constexpr const char *help = "threads for the large loops (default: MPC_NUM_THREADS, else the "
                               "number of cores); 1 compiles sequential code";
  auto &registered = cl::getRegisteredOptions();
  auto found = registered.find("threads");
  if (found != registered.end())
    if (auto *existing = dynamic_cast<cl::opt<int> *>(found->second)) {
      existing->setDescription(help);
      existing->addCategory(executionCategory);
      return *existing;
    }
  static cl::opt<int> own("threads", cl::init(0), cl::desc(help), cl::cat(executionCategory));
  return own;
}

/// A model input as checkInputs sees it, from the ONNX graph or from the
/// entry function of an .mlir module.
struct DeclaredInput {
  std::string name;
  /// Unset when the element type has no host representation.
  std::optional<mpc::runtime::ElementKind> kind;
  std::string typeName;
  /// -1 for a dynamic dim; unset when the model declares no shape.
  std::optional<std::vector<int64_t>> dims;
};

int failWith(const llvm::Twine &message) {
  llvm::errs() << "mpc-run: error: " << message << "\n";
  return 1;
}

/// 2x3, ?x3 (dynamic dim) or "scalar".
std::string dimsText(llvm::ArrayRef<int64_t> dims) {
  if (dims.empty())
    return "scalar";
  std::string text;
  for (size_t i = 0; i < dims.size(); ++i)
    text += (i ? "x" : "") + (dims[i] < 0 ? std::string("?") : std::to_string(dims[i]));
  return text;
}

/// NAME=FILE pairs, read. Returns false after printing an error.
bool readInputs(std::map<std::string, HostArray> &inputs, std::map<std::string, std::string> &files) {
  for (llvm::StringRef spec : inputSpecs) {
    auto [name, file] = spec.split('=');
    if (name.empty() || file.empty()) {
      failWith("--input expects NAME=FILE.npy, got '" + spec + "'");
      return false;
    }
    if (inputs.count(name.str())) {
      failWith("--input '" + name + "' is given twice");
      return false;
    }
    HostArray array;
    std::string error;
    if (!mpc::runtime::readNpy(file.str(), array, error)) {
      failWith("--input '" + name + "': " + error);
      return false;
    }
    inputs.emplace(name.str(), std::move(array));
    files.emplace(name.str(), file.str());
  }
  return true;
}

std::string shapeText(const std::optional<std::vector<int64_t>> &dims) {
  return dims ? dimsText(*dims) : "any shape";
}

/// Every model input has data of its element type and shape (dynamic dims
/// match anything), and no data is left over. Prints every problem found;
/// false if there was one.
bool checkInputs(const std::vector<DeclaredInput> &declared,
                 const std::map<std::string, HostArray> &inputs,
                 const std::map<std::string, std::string> &files) {
  bool ok = true;
  auto report = [&](const llvm::Twine &message) {
    failWith(message);
    ok = false;
  };
  llvm::StringSet<> known;
  std::string names;
  for (const auto &input : declared) {
    known.insert(input.name);
    names += (names.empty() ? "" : ", ") + input.name;
  }
  for (const auto &[name, array] : inputs)
    if (!known.contains(name))
      report("--input '" + name + "': the model has no input of that name (its inputs: " + names + ")");
  for (const auto &input : declared) {
    auto it = inputs.find(input.name);
    if (it == inputs.end()) {
      report("model input '" + input.name + "' (" + input.typeName + ", " + shapeText(input.dims) +
             ") has no data: pass --input " + input.name + "=FILE.npy");
      continue;
    }
    const HostArray &array = it->second;
    const std::string &file = files.at(input.name);
    std::string given(mpc::runtime::elementName(array.kind()));
    if (!input.kind) {
      report("model input '" + input.name + "' has element type " + input.typeName +
             ", which mpc-run cannot feed");
      continue;
    }
    if (array.kind() != *input.kind) {
      report("input '" + input.name + "': the model expects element type " + input.typeName + ", '" +
             file + "' holds " + given);
      continue;
    }
    if (!input.dims)
      continue;
    const std::vector<int64_t> &dims = *input.dims, &shape = array.shape();
    bool matches = dims.size() == shape.size();
    for (size_t i = 0; matches && i < dims.size(); ++i)
      matches = dims[i] < 0 || dims[i] == shape[i];
    if (!matches)
      report("input '" + input.name + "': the model expects shape " + shapeText(input.dims) +
             " (rank " + llvm::Twine(dims.size()) + "), '" + file + "' has shape " +
             dimsText(shape) + " (rank " + llvm::Twine(shape.size()) + ")");
  }
  return ok;
}

/// The entry function's inputs in the form checkInputs takes.
std::vector<DeclaredInput> declaredInputs(const mpc::runtime::EntrySignature &signature) {
  std::vector<DeclaredInput> declared;
  for (const auto &spec : signature.inputs)
    declared.push_back({spec.name, spec.kind, std::string(mpc::runtime::elementName(spec.kind)),
                        spec.shape});
  return declared;
}

/// The ONNX graph's inputs in the form checkInputs takes.
std::vector<DeclaredInput> declaredInputs(const mpc::tool::OnnxSignature &onnx) {
  std::vector<DeclaredInput> declared;
  for (const mpc::tool::OnnxValue &input : onnx.inputs) {
    std::optional<std::vector<int64_t>> dims;
    if (input.dims) {
      dims.emplace();
      for (const std::optional<int64_t> &dim : *input.dims)
        dims->push_back(dim.value_or(-1));
    }
    declared.push_back({input.name, input.kind, input.typeName(), std::move(dims)});
  }
  return declared;
}

mlir::OwningOpRef<mlir::ModuleOp> loadModel(mlir::MLIRContext &context,
                                            const std::map<std::string, HostArray> &inputs) {
  return mpc::tool::loadModel(context, modelPath, inputs);
}

/// A file name from an ONNX tensor name, which may contain '/' or ':'.
std::string outputFileName(llvm::StringRef name) {
  std::string file;
  for (char c : name)
    file.push_back(llvm::isAlnum(c) || c == '_' || c == '-' || c == '.' ? c : '_');
  return file + ".npy";
}
} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::opt<int> &threads = threadsOption();
  // --mlir-timing: where the compile time goes (import, each pass, LLVM).
  mlir::registerDefaultTimingManagerCLOptions();
  for (llvm::StringRef name : {"mlir-timing", "mlir-timing-display", "mlir-output-format"})
    if (cl::Option *option = cl::getRegisteredOptions().lookup(name))
      option->addCategory(debugCategory);
  // The rest of what is registered by now is libLLVM's: back-end internals
  // (--amdgpu-*, --x86-*, ...) that would bury mpc-run's options in --help.
  cl::HideUnrelatedOptions({&modelCategory, &precisionCategory, &executionCategory, &debugCategory});
  cl::ParseCommandLineOptions(argc, argv, "mpc-run: run an ONNX (or mpc .mlir) model on the CPU\n");
  // 'none' is mpc-run's own: no precision passes at all.
  std::optional<mpc::PrecisionPolicy> policy = mpc::parsePrecisionPolicy(precision);
  if (!policy && precision != "none")
    return failWith("unknown --precision '" + precision + "' (use fp32, fp16, bf16 or none)");
  llvm::Expected<mpc::ResolvedCPU> cpu = mpc::resolveCPU(mcpu);
  if (!cpu)
    return failWith(llvm::toString(cpu.takeError()));
  if (printTarget) {
    llvm::outs() << mpc::describe(*cpu);
    return 0;
  }
  if (llvm::Error error = mpc::checkRunsOnHost(*cpu))
    return failWith(llvm::toString(std::move(error)));
  if (modelPath.empty() || outputDir.empty())
    return failWith("a model and --output-dir are required (--print-target needs neither)");
  if (optLevel > 3)
    return failWith("--jit-opt-level must be 0, 1, 2 or 3");
  if (threads < 0)
    return failWith("--threads must be at least 1 (0: MPC_NUM_THREADS or the number of cores)");
  if (threads > 0)
    mpc::runtime::setNumThreads(threads);

  std::map<std::string, HostArray> inputs;
  std::map<std::string, std::string> files;
  if (!readInputs(inputs, files))
    return 1;
  if (llvm::StringRef(modelPath).ends_with(".onnx")) {
    mpc::tool::OnnxSignature onnx;
    std::string error;
    if (!mpc::tool::readOnnxSignature(modelPath, onnx, error))
      return failWith(error);
    if (!checkInputs(declaredInputs(onnx), inputs, files))
      return 1;
  }

  mlir::DialectRegistry registry;
  mpc::registerAllDialects(registry);
  mlir::MLIRContext context(registry);
  context.loadAllAvailableDialects();

  mlir::DefaultTimingManager timingManager;
  mlir::applyDefaultTimingManagerCLOptions(timingManager);
  mlir::TimingScope timing = timingManager.getRootScope();
  auto compileStart = Clock::now();
  mlir::TimingScope importTiming = timing.nest("import");
  mlir::OwningOpRef<mlir::ModuleOp> module = loadModel(context, inputs);
  importTiming.stop();
  if (!module)
    return failWith("could not load '" + modelPath + "' (see the diagnostics above)");
  auto entry = module->lookupSymbol<mlir::func::FuncOp>(entryName);
  if (!entry)
    return failWith("'" + modelPath + "' has no function @" + entryName + " to run");
  llvm::Expected<mpc::runtime::EntrySignature> signature = mpc::runtime::readEntrySignature(entry);
  if (!signature)
    return failWith("'" + modelPath + "': " + llvm::toString(signature.takeError()));
  // Inputs whose values decided shapes are constants of the program now.
  for (const std::string &name : mpc::inputsTakenAsValues(*module))
    inputs.erase(name);
  if (!checkInputs(declaredInputs(*signature), inputs, files))
    return 1;

  mlir::PassManager pm(&context);
  if (printIRAfterAll) {
    context.disableMultithreading();
    // Weights would drown the IR: elide large constants.
    pm.enableIRPrinting([](mlir::Pass *, mlir::Operation *) { return false; },
                        [](mlir::Pass *, mlir::Operation *) { return true; },
                        /*printModuleScope=*/true, /*printAfterOnlyOnChange=*/false,
                        /*printAfterOnlyOnFailure=*/false, llvm::errs(),
                        mlir::OpPrintingFlags().elideLargeElementsAttrs(16));
  }
  if (!policy && !policyFile.empty())
    return failWith("--policy-file needs a precision policy (not --precision none)");
  if (!policy && (!inputRanges.empty() || !calibrationData.empty()))
    return failWith("--input-ranges and --calibration-data need a precision policy (not "
                    "--precision none)");
  if (policy) {
    mpc::AssignPrecisionPassOptions precisionOptions;
    precisionOptions.policy = *policy;
    precisionOptions.policyFile = policyFile;
    llvm::SmallVector<llvm::StringRef> ranges;
    llvm::StringRef(inputRanges).split(ranges, ',', /*MaxSplit=*/-1, /*KeepEmpty=*/false);
    for (llvm::StringRef range : ranges)
      precisionOptions.inputRanges.push_back(range.str());
    precisionOptions.calibrationData = calibrationData;
    mpc::tool::addInferencePasses(pm, precisionOptions);
    if (foldParameterCasts)
      pm.addPass(mpc::createFoldParameterCastsPass());
  }
  mpc::LowerToLLVMOptions lowering;
  // One thread: no async code at all, not a pool of one.
  lowering.parallelLoops = mpc::runtime::numThreads() > 1;
  lowering.outlineKernels = outlineKernels;
  lowering.approximateMath = !libmMath;
  lowering.cudaSchedule = cudaSchedule;
  lowering.nativeBf16Dot = !cudaSchedule && (emulateNativeDotProducts ||
                                              mpc::useNativeBf16Dot(*cpu, nativeDotProducts, "mpc-run"));
  lowering.emulateBf16Dot = emulateNativeDotProducts;
  mpc::buildLowerToLLVMPipeline(pm, lowering);
  mlir::TimingScope passTiming = timing.nest("pass pipeline");
  pm.enableTiming(passTiming);
  if (mlir::failed(pm.run(*module)))
    return failWith("compiling '" + modelPath + "' failed (see the diagnostics above)");

  passTiming.stop();
  mlir::TimingScope jitTiming = timing.nest("LLVM JIT");
  auto program = mpc::runtime::JitProgram::compile(*module, entryName, *signature, optLevel, &jitTiming, &*cpu);
  jitTiming.stop();
  if (!program)
    return failWith("JIT compilation failed: " + llvm::toString(program.takeError()));
  double compileSeconds = std::chrono::duration<double>(Clock::now() - compileStart).count();
  // From here on: the runs' buffers stay mapped from one run to the next.
  // (Not during compilation, whose freed memory would only raise the peak.)
  mpc::runtime::keepFreedBuffersForReuse();

  std::vector<const HostArray *> arguments;
  for (const auto &spec : signature->inputs)
    arguments.push_back(&inputs.at(spec.name));
  std::vector<HostArray> outputs;
  auto runOnce = [&]() -> llvm::Expected<double> {
    auto start = Clock::now();
    if (llvm::Error error = (*program)->run(arguments, outputs))
      return std::move(error);
    return std::chrono::duration<double>(Clock::now() - start).count();
  };
  // With several iterations the first run is a warm-up, timed on its own and
  // left out of the mean: it pays for what later runs reuse (the thread
  // pool's start, page faults on fresh buffers and on the weights). It was
  // a quarter of a 4-iteration ResNet-18 mean on 2 threads.
  double firstSeconds = 0;
  if (iterations > 1) {
    llvm::Expected<double> first = runOnce();
    if (!first)
      return failWith(llvm::toString(first.takeError()));
    firstSeconds = *first;
  }
  double runSeconds = 0;
  for (unsigned i = 0; i < iterations; ++i) {
    llvm::Expected<double> seconds = runOnce();
    if (!seconds)
      return failWith(llvm::toString(seconds.takeError()));
    runSeconds += *seconds;
  }

  if (iterations == 0) {
    llvm::outs() << llvm::format("compile: %.1f ms (not run: --iterations 0)\n", compileSeconds * 1e3);
    return 0;
  }
  if (std::error_code ec = llvm::sys::fs::create_directories(outputDir))
    return failWith("cannot create --output-dir '" + outputDir + "': " + ec.message());
  for (auto [spec, array] : llvm::zip(signature->outputs, outputs)) {
    llvm::SmallString<256> path(outputDir);
    llvm::sys::path::append(path, outputFileName(spec.name));
    std::string error;
    if (!mpc::runtime::writeNpy(path.str().str(), array, error))
      return failWith("output '" + spec.name + "': " + error);
  }
  if (iterations > 1)
    llvm::outs() << llvm::format("compile: %.1f ms, run: %.3f ms mean over %u iterations (after a first run "
                                 "of %.3f ms, not counted)\n",
                                 compileSeconds * 1e3, runSeconds * 1e3 / iterations,
                                 static_cast<unsigned>(iterations), firstSeconds * 1e3);
  return 0;
}
