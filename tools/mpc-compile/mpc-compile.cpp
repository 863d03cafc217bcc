//===- mpc-compile.cpp - ONNX model -> standalone trainer or runner -------===//
//
// Imports the model, builds @train_step (loss, autodiff, loss scaling,
// optimizer; docs/training.md) and @eval_step from it (--train), or only
// @eval_step (--infer), compiles them ahead of time for the CPU with the
// manifest and initial state embedded (or, --weights external, only
// described), and links the object with the runtime (lib/Trainer), whose
// main trains or runs inference as the manifest's "mode" says.
// docs/mpc-compile.md has the details.
//
//===----------------------------------------------------------------------===//
#include "Manifest.h"
#include "ObjectEmitter.h"
#include "OnnxModel.h"
#include "OnnxSignature.h"
#include "TrainerPipeline.h"

#include "mpc/Codegen/CUDA/Passes.h"
#include "mpc/Import/ONNXImporter.h"
#include "mpc/InitAll.h"
#include "mpc/Train/TrainIR.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Support/Timing.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FileUtilities.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Threading.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>
#include <set>

namespace cl = llvm::cl;
using namespace mpc::compile;

/// Code parts per core of an executable (see main).
static constexpr unsigned kPartsPerCore = 4;

static cl::OptionCategory category("mpc-compile options");
static cl::opt<std::string> modelPath(cl::Positional, cl::Required,
                                      cl::desc("<model.onnx | trainer.mlir>"), cl::cat(category));
static cl::opt<std::string> outputPath("o", cl::desc("output file (the executable, object or MLIR)"),
                                       cl::value_desc("file"), cl::cat(category));
static cl::opt<bool> train("train", cl::desc("build a training executable"), cl::cat(category));
static cl::opt<bool> infer("infer", cl::desc("build an inference executable"), cl::cat(category));
static cl::opt<std::string> weights("weights", cl::init("embedded"),
                                    cl::desc("embedded (default: the weights are in the "
                                             "executable) or external (the runner or trainer "
                                             "reads them with --weights FILE)"),
                                    cl::cat(category));
static cl::opt<std::string> loss("loss", cl::desc("cross_entropy or mse"), cl::cat(category));
static cl::opt<std::string> label("label", cl::init("label"),
                                  cl::desc("name of the new label input (default: label)"),
                                  cl::cat(category));
static cl::opt<std::string> lossOutput("output", cl::desc("model output the loss is taken on "
                                                          "(default: the only one)"),
                                       cl::value_desc("name"), cl::cat(category));
static cl::opt<std::string> optimizer("optimizer", cl::desc("sgd or adamw"), cl::cat(category));
static cl::opt<double> lr("lr", cl::desc("learning rate (default: sgd 0.01, adamw 0.001)"),
                          cl::cat(category));
static cl::opt<double> momentum("momentum", cl::init(0.0), cl::desc("SGD momentum (default 0)"),
                                cl::cat(category));
static cl::opt<bool> nesterov("nesterov", cl::desc("SGD Nesterov momentum"), cl::cat(category));
static cl::opt<double> weightDecay("weight-decay",
                                   cl::desc("SGD: L2 penalty (default 0); AdamW: decoupled weight "
                                            "decay (default 0.01)"),
                                   cl::cat(category));
static cl::opt<std::string> betas("betas", cl::init("0.9,0.999"),
                                  cl::desc("AdamW B1,B2 (default 0.9,0.999)"), cl::cat(category));
static cl::opt<double> eps("eps", cl::init(1e-8), cl::desc("AdamW epsilon (default 1e-8)"),
                           cl::cat(category));
static cl::opt<std::string> precision("precision", cl::init("fp32"),
                                      cl::desc("fp32, fp16 or bf16 (default fp32)"), cl::cat(category));
static cl::opt<std::string> policyFile("policy-file",
                                       cl::desc("JSON policy file for mpc-assign-precision"),
                                       cl::cat(category));
static cl::opt<std::string> lossScale("loss-scale",
                                      cl::desc("dynamic, none or a fixed scale (default: dynamic "
                                               "for fp16, none otherwise)"),
                                      cl::cat(category));
static cl::opt<int64_t> batch("batch", cl::init(0),
                              cl::desc("batch size (fixes the inputs' dynamic first dim)"),
                              cl::cat(category));
static cl::list<std::string> inputValues(
    "onnx-input-value",
    cl::desc("NAME=FILE.npy: the value of a graph input that decides a shape (Reshape's shape, "
             "Slice's starts, Pad's pads, ...); the program is specialized on it and no longer "
             "takes that input (repeatable)"),
    cl::value_desc("NAME=FILE.npy"), cl::cat(category));
static cl::opt<std::string> target("target", cl::init("cpu"),
                                   cl::desc("cpu (default) or cuda"),
                                   cl::cat(category));
static cl::list<std::string> cudaArch("cuda-arch", cl::CommaSeparated,
                                      cl::desc("CUDA: GPU architectures given a cubin each "
                                               "(default sm_80,sm_89,sm_90; the newest is also "
                                               "embedded as PTX for newer GPUs)"),
                                      cl::cat(category));
static cl::opt<bool> allowTf32("allow-tf32",
                               cl::desc("CUDA: let cuBLASLt use TF32 tensor cores for f32 GEMMs"),
                               cl::cat(category));
static cl::opt<std::string> cudaAttention(
    "cuda-attention", cl::init("kernels"),
    cl::desc("CUDA: kernels (default: attention as generated kernels and cuBLASLt GEMMs) or "
             "cudnn (cuDNN's fused flash attention where the attention qualifies)"),
    cl::cat(category));
static cl::opt<std::string> cudaConv("cuda-conv", cl::init("gemm"),
                                     cl::desc("CUDA: how forward convolutions run: gemm (im2col "
                                              "+ cuBLASLt, the default) or cudnn (cuDNN for "
                                              "f32/f16/bf16 convolutions of one element type)"),
                                     cl::cat(category));
static cl::opt<std::string> cudaScatter(
    "cuda-scatter", cl::init("deterministic"),
    cl::desc("CUDA: how scatter-adds (Gather's gradient) run: deterministic (each element's "
             "updates added in order, the same on every run; the default) or atomic (atomic "
             "adds: faster, sums vary from run to run)"),
    cl::cat(category));
static cl::opt<std::string> kernelReport(
    "kernel-report",
    cl::desc("CUDA: write the kernel report (every kernel: fused ops, grid/block, bytes, FLOPs, "
             "ONNX nodes) to FILE (- for stdout; JSON when FILE ends in .json)"),
    cl::value_desc("file"), cl::cat(category));
static cl::opt<std::string> mcpu("mcpu", cl::init("native"),
                                 cl::desc("native (the host CPU), generic or an LLVM CPU name"),
                                 cl::cat(category));
static cl::opt<bool> nativeDotProducts(
    "native-dot-products", cl::init(false),
    cl::desc("CPU: bf16 matmuls and convolutions (forward and backward) on AVX512-BF16 dot "
             "products (vdpbf16ps) where the --mcpu CPU has them: faster, not bit-exact "
             "(docs/numerics.md). Without avx512bf16: a warning, and the exact code"),
    cl::cat(category));
static cl::opt<std::string> emit("emit", cl::init("exe"),
                                 cl::desc("exe (default), obj, mlir (the @train_step/@eval_step "
                                          "module), or for CUDA ptx / cubin (one --cuda-arch)"),
                                 cl::cat(category));
static cl::opt<bool> fromMlir("from-mlir",
                              cl::desc("the input is an .mlir module that already holds "
                                       "@train_step and @eval_step (implied by a .mlir name)"),
                              cl::cat(category));

namespace {
int failWith(const llvm::Twine &message) {
  llvm::errs() << "mpc-compile: error: " << message << "\n";
  return 1;
}

bool isOneOf(llvm::StringRef value, std::initializer_list<llvm::StringRef> choices) {
  return llvm::is_contained(choices, value);
}

/// The flags only a training build reads.
std::vector<std::pair<const char *, const cl::Option *>> trainingFlags() {
  return {{"--loss", &loss},         {"--label", &label},         {"--output", &lossOutput},
          {"--optimizer", &optimizer}, {"--lr", &lr},               {"--momentum", &momentum},
          {"--nesterov", &nesterov}, {"--weight-decay", &weightDecay}, {"--betas", &betas},
          {"--eps", &eps},           {"--loss-scale", &lossScale}};
}

/// Checks the flags common to both modes; returns an error message or "".
std::string readCommonFlags(TrainOptions &options) {
  if (train == infer)
    return train ? "--train and --infer exclude each other: pass one"
                 : "pass --train (a training executable, with --loss, --optimizer and, for a "
                   "dynamic batch, --batch) or --infer (an inference executable)";
  if (!isOneOf(target, {"cpu", "cuda"}))
    return "unknown --target '" + target + "' (use cpu or cuda)";
  bool cuda = target == "cuda";
  if (!cuda && (cudaArch.getNumOccurrences() || allowTf32 || kernelReport.getNumOccurrences() ||
                cudaAttention.getNumOccurrences() || cudaConv.getNumOccurrences() ||
                cudaScatter.getNumOccurrences()))
    return "--cuda-arch, --allow-tf32, --cuda-conv, --cuda-attention, --cuda-scatter and "
           "--kernel-report are --target cuda settings";
  if (!isOneOf(cudaAttention, {"kernels", "cudnn"}))
    return "unknown --cuda-attention '" + cudaAttention + "' (use kernels or cudnn)";
  if (!isOneOf(cudaConv, {"gemm", "cudnn"}))
    return "unknown --cuda-conv '" + cudaConv + "' (use gemm or cudnn)";
  if (!isOneOf(cudaScatter, {"deterministic", "atomic"}))
    return "unknown --cuda-scatter '" + cudaScatter + "' (use deterministic or atomic)";
  if (!isOneOf(emit, {"exe", "obj", "mlir", "ptx", "cubin"}))
    return "unknown --emit '" + emit + "' (use exe, obj or mlir; with --target cuda also ptx or "
                                       "cubin)";
  if (!cuda && isOneOf(emit, {"ptx", "cubin"}))
    return "--emit=" + emit + " needs --target cuda";
  for (size_t i = 0; i < cudaArch.size(); ++i) {
    if (!mpc::minimumPtxVersion(cudaArch[i]))
      return "unknown --cuda-arch '" + cudaArch[i] + "' (known: " + mpc::kKnownCudaArchs + ")";
    for (size_t j = 0; j < i; ++j)
      if (cudaArch[i] == cudaArch[j])
        return "--cuda-arch names " + cudaArch[i] + " twice";
  }
  if (isOneOf(emit, {"ptx", "cubin"}) && cudaArch.size() != 1)
    return "--emit=" + emit + " writes one architecture's kernels: pass one --cuda-arch "
                              "(e.g. --cuda-arch sm_90)";
  if (emit != "mlir" && outputPath.empty())
    return "-o FILE is required with --emit=" + emit;
  std::optional<mpc::PrecisionPolicy> policy = mpc::parsePrecisionPolicy(precision);
  if (!policy)
    return "unknown --precision '" + precision + "' (use fp32, fp16 or bf16)";
  if (batch.getNumOccurrences() && batch <= 0)
    return "--batch must be a positive number, got " + std::to_string(batch);
  options.precision = *policy;
  options.policyFile = policyFile;
  return "";
}

/// --infer's flags: the common ones and none of training's.
std::string readInferFlags(TrainOptions &options) {
  for (auto [name, option] : trainingFlags())
    if (option->getNumOccurrences())
      return std::string(name) + " is a training flag; --infer builds an inference executable "
                                 "(drop " + name + ", or build a trainer with --train)";
  return "";
}

/// Checks the flags and fills `options`; returns an error message or "".
std::string readFlags(TrainOptions &options) {
  if (std::string error = readCommonFlags(options); !error.empty())
    return error;
  if (!isOneOf(weights, {"embedded", "external"}))
    return "unknown --weights '" + weights + "' (use embedded or external)";
  if (infer)
    return readInferFlags(options);
  std::optional<mpc::LossKind> lossKind = mpc::parseLossKind(loss);
  if (!lossKind)
    return loss.empty() ? std::string("--train needs --loss cross_entropy or --loss mse")
                        : "unknown --loss '" + loss + "' (use cross_entropy or mse)";
  if (label.empty())
    return "--label must name the label input";
  std::optional<mpc::OptimizerKind> optimizerKind = mpc::parseOptimizerKind(optimizer);
  if (!optimizerKind)
    return optimizer.empty() ? std::string("--train needs --optimizer sgd or --optimizer adamw")
                             : "unknown --optimizer '" + optimizer + "' (use sgd or adamw)";

  bool sgd = *optimizerKind == mpc::OptimizerKind::SGD;
  options.loss = *lossKind;
  options.label = label;
  options.output = lossOutput;
  options.optimizer = *optimizerKind;
  options.lr = lr.getNumOccurrences() ? lr : (sgd ? 0.01 : 0.001);
  options.weightDecay = weightDecay.getNumOccurrences() ? weightDecay : (sgd ? 0.0 : 0.01);
  options.momentum = momentum;
  options.nesterov = nesterov;
  options.eps = eps;
  if (!(options.lr > 0) || !std::isfinite(options.lr))
    return "--lr must be a positive number";
  if (!(options.weightDecay >= 0) || !std::isfinite(options.weightDecay))
    return "--weight-decay must be zero or positive";
  if (sgd) {
    if (betas.getNumOccurrences() || eps.getNumOccurrences())
      return "--betas and --eps are AdamW settings; SGD takes --momentum and --nesterov";
    if (!(momentum >= 0 && momentum < 1))
      return "--momentum must be in [0, 1)";
    if (nesterov && momentum == 0)
      return "--nesterov needs a --momentum above 0 (as PyTorch's SGD)";
  } else {
    if (momentum.getNumOccurrences() || nesterov)
      return "--momentum and --nesterov are SGD settings; AdamW takes --betas B1,B2 and --eps";
    auto [first, second] = llvm::StringRef(betas).split(',');
    if (first.trim().empty() || second.trim().empty() ||
        !llvm::to_float(first.trim(), options.beta1) || !llvm::to_float(second.trim(), options.beta2) ||
        !(options.beta1 >= 0 && options.beta1 < 1) || !(options.beta2 >= 0 && options.beta2 < 1))
      return "--betas expects B1,B2 with both in [0, 1), e.g. 0.9,0.999; got '" + betas + "'";
    if (!(eps > 0))
      return "--eps must be positive";
  }

  bool fp16 = options.precision == mpc::PrecisionPolicy::FP16;
  std::string scale = lossScale.getNumOccurrences() ? lossScale.getValue()
                                                    : (fp16 ? "dynamic" : "none");
  if (scale == "dynamic" || scale == "none") {
    options.lossScaleMode = scale == "dynamic" ? mpc::LossScalingMode::Dynamic
                                               : mpc::LossScalingMode::None;
    options.lossScale = 65536.0;
  } else {
    options.lossScaleMode = mpc::LossScalingMode::Static;
    if (scale.empty() || !llvm::to_float(scale, options.lossScale) || !(options.lossScale > 0) ||
        !std::isfinite(options.lossScale))
      return "--loss-scale expects dynamic, none or a positive number, got '" + scale + "'";
  }
  return "";
}

/// A floating-point tensor: what a loss can be taken on.
bool isLossType(std::optional<mpc::runtime::ElementKind> kind) {
  using mpc::runtime::ElementKind;
  return kind == ElementKind::F32 || kind == ElementKind::F16 || kind == ElementKind::BF16 ||
         kind == ElementKind::F64;
}

/// Batch and name checks that need the ONNX graph, with mpc-compile's flags
/// in the advice; "" when fine or when the file cannot be parsed (the
/// importer then says why).
std::string checkOnnxModel(const TrainOptions &options) {
  mpc::tool::OnnxSignature signature;
  std::string unreadable;
  if (!mpc::tool::readOnnxSignature(modelPath, signature, unreadable))
    return "";
  std::set<std::string> valued;
  for (llvm::StringRef spec : inputValues)
    valued.insert(spec.rsplit('=').first.str());
  for (const mpc::tool::OnnxValue &input : signature.inputs) {
    if (input.name == options.label)
      return "--label '" + options.label + "' clashes with the model's input of that name; pick "
             "another name with --label";
    // A valued input becomes a constant: no batch dimension of the program.
    if (!input.dims || input.dims->empty() || valued.count(input.name))
      continue;
    const std::optional<int64_t> &first = input.dims->front();
    if (!first && !batch.getNumOccurrences())
      return "model input '" + input.name + "' has a dynamic batch dimension" +
             (input.firstDimParam.empty() ? "" : " ('" + input.firstDimParam + "')") +
             "; pass --batch N";
    if (first && batch.getNumOccurrences() && *first != batch)
      return "--batch " + std::to_string(batch) + " does not match model input '" + input.name +
             "', whose batch dimension is fixed to " + std::to_string(*first);
  }
  if (infer)
    return ""; // every output is written; no loss to pick one for
  std::string names;
  int floatOutputs = 0;
  bool found = false;
  for (const mpc::tool::OnnxValue &output : signature.outputs) {
    names += (names.empty() ? "" : ", ") + output.name;
    floatOutputs += isLossType(output.kind);
    found |= output.name == options.output;
  }
  if (!options.output.empty() && !found)
    return "--output '" + options.output + "': the model has no output of that name (its outputs: " +
           names + ")";
  if (options.output.empty() && floatOutputs > 1)
    return "the model has " + std::to_string(floatOutputs) + " float outputs (of " + names +
           "): name the one the loss is taken on with --output NAME";
  return "";
}

/// @train_step and @eval_step (--infer: @eval_step alone) from an ONNX
/// model; null after diagnostics.
mlir::OwningOpRef<mlir::ModuleOp> buildFromOnnx(mlir::MLIRContext &context,
                                                const TrainOptions &options) {
  mpc::ONNXImportOptions import;
  if (batch.getNumOccurrences())
    import.batchSize = batch;
  mpc::InputValues values;
  for (const std::string &spec : inputValues) {
    std::string error;
    if (!mpc::readInputValue(spec, "--onnx-input-value", values, error))
      return failWith(error), nullptr;
  }
  mpc::useInputValues(import, values, "--onnx-input-value");
  mlir::OwningOpRef<mlir::ModuleOp> trainModule = mpc::importONNXFile(modelPath, &context, import);
  if (!trainModule)
    return nullptr;
  if (std::string unused = mpc::unusedInputValue(*trainModule, values, "--onnx-input-value");
      !unused.empty())
    return failWith(unused), nullptr;
  if (infer)
    return succeeded(buildEvalStep(*trainModule, options)) ? std::move(trainModule) : nullptr;
  mlir::OwningOpRef<mlir::ModuleOp> evalModule = trainModule->clone();
  if (failed(buildEvalStep(*evalModule, options)) || failed(buildTrainStep(*trainModule, options)) ||
      failed(mergeEvalStep(*trainModule, *evalModule)))
    return nullptr;
  return trainModule;
}

/// The batch size the manifest records: --batch, else the first input's
/// leading dim (0 for an inference function whose inputs are all scalars).
int64_t manifestBatch(mlir::ModuleOp module) {
  if (batch.getNumOccurrences())
    return batch;
  auto func = module.lookupSymbol<mlir::func::FuncOp>(infer ? kEvalStep : kTrainStep);
  for (unsigned i = 0, e = func.getNumArguments(); i < e; ++i)
    if (mpc::train::argRole(func, i) == mpc::train::kRoleInput)
      if (auto type = llvm::dyn_cast<mlir::RankedTensorType>(func.getArgumentTypes()[i]))
        if (type.getRank() > 0)
          return type.getDimSize(0);
  return 0;
}

RunConfig runConfig(const TrainOptions &options, mlir::ModuleOp module) {
  RunConfig config;
  config.model = llvm::sys::path::filename(modelPath).str();
  config.batch = manifestBatch(module);
  config.precision = mpc::stringifyPrecisionPolicy(options.precision).str();
  config.target = target;
  config.externalWeights = weights == "external";
  if (infer) {
    config.mode = "infer";
    return config;
  }
  config.loss = mpc::stringifyLossKind(options.loss).str();
  config.label = options.label;
  config.optimizer = mpc::stringifyOptimizerKind(options.optimizer).str();
  config.lr = options.lr;
  config.momentum = options.momentum;
  config.nesterov = options.nesterov;
  config.weightDecay = options.weightDecay;
  config.beta1 = options.beta1;
  config.beta2 = options.beta2;
  config.eps = options.eps;
  config.lossScaleMode = mpc::stringifyLossScalingMode(options.lossScaleMode).str();
  config.lossScale = options.lossScale;
  return config;
}

mpc::compile::TargetChoice targetChoice() {
  mpc::compile::TargetChoice choice;
  choice.mcpu = mcpu;
  choice.nativeDotProducts = nativeDotProducts;
  choice.cuda = target == "cuda";
  choice.cudaArchs.assign(cudaArch.begin(), cudaArch.end());
  choice.allowTf32 = allowTf32;
  choice.cudnnAttention = cudaAttention == "cudnn";
  choice.cudnnConv = cudaConv == "cudnn";
  choice.atomicScatter = cudaScatter == "atomic";
  choice.kernelReport = kernelReport;
  return choice;
}

int writeMlir(mlir::ModuleOp module) {
  std::error_code ec;
  llvm::ToolOutputFile out(outputPath.empty() ? "-" : outputPath.getValue(), ec,
                           llvm::sys::fs::OF_Text);
  if (ec)
    return failWith("cannot write '" + outputPath + "': " + ec.message());
  module.print(out.os());
  out.os() << "\n";
  out.keep();
  return 0;
}
} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  // --mlir-timing: where the compile time goes (each pass, LLVM, link);
  // --mlir-disable-threading: all of it on one thread.
  mlir::registerDefaultTimingManagerCLOptions();
  mlir::registerMLIRContextCLOptions();
  for (llvm::StringRef name :
       {"mlir-timing", "mlir-timing-display", "mlir-output-format", "mlir-disable-threading"})
    if (cl::Option *option = cl::getRegisteredOptions().lookup(name))
      option->addCategory(category);
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(argc, argv,
                              "mpc-compile: ONNX model -> standalone training or inference "
                              "executable\n");
  TrainOptions options;
  if (std::string error = readFlags(options); !error.empty())
    return failWith(error);
  bool mlirInput = fromMlir || llvm::StringRef(modelPath).ends_with(".mlir");
  if (!llvm::sys::fs::exists(modelPath))
    return failWith("cannot open '" + modelPath + "': no such file");
  if (mlirInput && inputValues.getNumOccurrences())
    return failWith("--onnx-input-value gives graph-input values to the ONNX importer; '" +
                    modelPath + "' is an MLIR module");
  if (!mlirInput)
    if (std::string error = checkOnnxModel(options); !error.empty())
      return failWith(error);

  mlir::DialectRegistry registry;
  mpc::registerAllDialects(registry);
  mlir::MLIRContext context(registry);
  context.loadAllAvailableDialects();

  mlir::DefaultTimingManager timingManager;
  mlir::applyDefaultTimingManagerCLOptions(timingManager);
  mlir::TimingScope timing = timingManager.getRootScope();
  mlir::TimingScope buildTiming = timing.nest(infer ? "import, @eval_step"
                                                    : "import, @train_step and @eval_step");
  mlir::OwningOpRef<mlir::ModuleOp> module =
      mlirInput ? mlir::parseSourceFile<mlir::ModuleOp>(modelPath, &context)
                : buildFromOnnx(context, options);
  buildTiming.stop();
  const char *what = infer ? "inference function" : "trainer";
  if (!module)
    return failWith(llvm::Twine("could not build the ") + what + " from '" + modelPath +
                    "' (see the diagnostics above)");
  if (infer && mlirInput)
    if (auto trainStep = module->lookupSymbol<mlir::func::FuncOp>(kTrainStep))
      trainStep.erase(); // a trainer module given to --infer: only its inference half is built
  if (failed(infer ? checkInferenceModule(*module) : checkTrainerModule(*module)))
    return 1;
  if (emit == "mlir")
    return writeMlir(*module);
  if (isOneOf(emit, {"ptx", "cubin"})) {
    if (llvm::Error error = emitCudaKernels(*module, targetChoice(), emit == "cubin", outputPath))
      return failWith(llvm::toString(std::move(error)));
    return 0;
  }

  std::optional<OnnxPieces> onnx;
  if (!mlirInput) {
    std::vector<std::string> names = parameterStateNames(*module);
    OnnxPieces pieces;
    std::string error;
    if (!splitOnnxModel(modelPath, std::set<std::string>(names.begin(), names.end()), pieces.head,
                        pieces.graph, pieces.initializers, error))
      return failWith(error);
    onnx = std::move(pieces);
  }
  std::optional<TrainerData> data = buildTrainerData(*module, runConfig(options, *module), onnx);
  if (!data)
    return 1;

  if (emit == "obj") {
    if (llvm::Error error =
            emitTrainerObject(*module, *data, targetChoice(), {outputPath.getValue()}, timing))
      return failWith(llvm::toString(std::move(error)));
    return 0;
  }
  if (llvm::Error error = checkTrainerRuntime())
    return failWith(llvm::toString(std::move(error)));
  // The CPU code of an executable in objects optimized and generated side by
  // side, several per core (a part's time is not quite proportional to its
  // size: the threads take the next part as they finish one), and one object
  // for the data (--mlir-disable-threading: one in all).
  unsigned cores = target == "cuda" || !context.isMultithreadingEnabled()
                       ? 1
                       : llvm::hardware_concurrency().compute_thread_count();
  unsigned parts = cores > 1 ? kPartsPerCore * cores + 1 : 1;
  std::vector<std::string> objects;
  std::vector<std::unique_ptr<llvm::FileRemover>> removers;
  for (unsigned i = 0; i < parts; ++i) {
    llvm::SmallString<128> object;
    if (std::error_code ec = llvm::sys::fs::createTemporaryFile("mpc-trainer", "o", object))
      return failWith("cannot create a temporary object file: " + ec.message());
    objects.push_back(object.str().str());
    removers.push_back(std::make_unique<llvm::FileRemover>(object));
  }
  if (llvm::Error error = emitTrainerObject(*module, *data, targetChoice(), objects, timing, cores))
    return failWith(llvm::toString(std::move(error)));
  mlir::TimingScope linkTiming = timing.nest("link");
  if (llvm::Error error = linkTrainerExecutable(objects, outputPath, target == "cuda"))
    return failWith(llvm::toString(std::move(error)));
  return 0;
}
