//===- mpc-debug.cpp - find where mixed precision loses accuracy ----------===//
//
// `compare` runs the fp32 program and the mixed program on the same inputs
// with every named intermediate made a function result
// (mpc-expose-intermediates), and reports per op how far the mixed value is
// from the fp32 one. `search` runs mpc::searchPolicy with candidates compiled
// and run here, and writes the policy file it finds. See docs/mpc-debug.md.
//
//===----------------------------------------------------------------------===//
#include "ErrorMeasures.h"
#include "ModelPipeline.h"

#include "mpc/Dialect/MpcDialect.h"
#include "mpc/Import/ONNXImporter.h"
#include "mpc/InitAll.h"
#include "mpc/Precision/ExposedIntermediates.h"
#include "mpc/Precision/Passes.h"
#include "mpc/Precision/PolicySearch.h"
#include "mpc/Precision/PrecisionReport.h"
#include "mpc/Runtime/HostArray.h"
#include "mpc/Target/CPU/JitRunner.h"
#include "mpc/Target/CPU/Pipeline.h"
#include "mpc/Target/CPU/TargetMachine.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FileUtilities.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>
#include <cstdlib>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

namespace cl = llvm::cl;
using mpc::runtime::HostArray;
using namespace mpc::debug;

//===----------------------------------------------------------------------===//
// Command line
//===----------------------------------------------------------------------===//

static cl::OptionCategory category("mpc-debug options");
static cl::SubCommand compareCommand("compare",
                                     "per op, the error of the mixed program against fp32, and "
                                     "the first op over a tolerance");
static cl::SubCommand searchCommand("search", "a policy file that meets a tolerance with as much "
                                              "as possible in low precision");
static cl::SubCommandGroup bothCommands({&compareCommand, &searchCommand});

// Whatever comes before a subcommand: a misspelt one lands here.
static cl::list<std::string> strayArguments(cl::Positional, cl::Hidden,
                                            cl::sub(cl::SubCommand::getTopLevel()));
static cl::opt<std::string> modelPath(cl::Positional, cl::desc("<model.onnx | model.mlir>"),
                                      cl::sub(bothCommands), cl::cat(category));
static cl::opt<std::string> precision("precision", cl::desc("the mixed program's low type"),
                                      cl::value_desc("fp16|bf16"), cl::sub(bothCommands),
                                      cl::cat(category));
static cl::list<std::string> inputSpecs("input", cl::desc("data for a model input (one per input)"),
                                        cl::value_desc("NAME=FILE.npy"), cl::sub(bothCommands),
                                        cl::cat(category));
// Numbers are read as text and checked here, so that "abc" gets the same
// message as "-1".
static cl::opt<std::string> compareTolerance(
    "tolerance", cl::desc("an op or output over this max relative error is flagged (default 0.01)"),
    cl::value_desc("T"), cl::sub(compareCommand), cl::cat(category));
static cl::opt<std::string> searchTolerance(
    "tolerance",
    cl::desc("the largest max relative error the policy may leave on the outputs (required)"),
    cl::value_desc("T"), cl::sub(searchCommand), cl::cat(category));
static cl::opt<std::string> policyFile("policy-file",
                                       cl::desc("policy file of the mixed program "
                                                "(docs/precision-policy.md)"),
                                       cl::value_desc("file"), cl::sub(compareCommand),
                                       cl::cat(category));
static cl::opt<std::string> inputRanges("input-ranges",
                                        cl::desc("value ranges of graph inputs for precision "
                                                 "assignment, as mpc-run takes them "
                                                 "(docs/precision-range.md)"),
                                        cl::value_desc("NAME:LO:HI,..."), cl::sub(bothCommands),
                                        cl::cat(category));
static cl::opt<std::string> calibrationData("calibration-data",
                                            cl::desc("observed input ranges, as mpc-run takes "
                                                     "them: a directory of NAME.npy or "
                                                     "comma-separated .npy files"),
                                            cl::value_desc("path"), cl::sub(bothCommands),
                                            cl::cat(category));
static cl::opt<std::string> jsonPath("json", cl::desc("also write the comparison as JSON"),
                                     cl::value_desc("file"), cl::sub(compareCommand),
                                     cl::cat(category));
static cl::opt<std::string> outPath("o", cl::desc("the policy file to write"),
                                    cl::value_desc("file"), cl::sub(searchCommand),
                                    cl::cat(category));
static cl::opt<std::string> mcpu("mcpu", cl::init("native"),
                                 cl::desc("CPU the programs are compiled for, as mpc-run takes it "
                                          "(native, generic or an LLVM CPU name)"),
                                 cl::value_desc("cpu"), cl::sub(bothCommands), cl::cat(category));
static cl::opt<bool> nativeDotProducts("native-dot-products",
                                       cl::desc("bf16 contractions on AVX512-BF16 dot products where "
                                                "the CPU has them, as mpc-run takes it (not bit-exact)"),
                                       cl::sub(bothCommands), cl::cat(category));
// The hand-written parser this replaced took --output too; kept, unlisted.
static cl::alias outPathLong("output", cl::desc("Alias for -o"), cl::aliasopt(outPath));
static cl::opt<std::string> maxCandidatesText(
    "max-candidates",
    cl::desc("programs compiled and run at most, the all-low and fp32 runs included (default "
             "200, at least 4)"),
    cl::value_desc("N"), cl::sub(searchCommand), cl::cat(category));

namespace {

int failWith(const llvm::Twine &message) {
  llvm::errs() << "mpc-debug: error: " << message << "\n";
  return 1;
}

struct Options {
  std::string model, precision, policyFile, jsonPath, outPath;
  mpc::ResolvedCPU cpu;
  bool nativeBf16Dot = false;
  /// What mpc-run forwards to mpc-assign-precision besides the policy, so
  /// that both compile the same mixed program.
  std::vector<std::string> inputRanges;
  std::string calibrationData;
  double tolerance = 1e-2;
  unsigned maxCandidates = 200;
};

/// --tolerance and --max-candidates into `options`; false after an error.
bool readNumbers(Options &options) {
  cl::opt<std::string> &toleranceText = compareCommand ? compareTolerance : searchTolerance;
  if (toleranceText.getNumOccurrences()) {
    double t;
    if (llvm::StringRef(toleranceText).getAsDouble(t) || !std::isfinite(t) || t <= 0)
      return failWith("--tolerance must be a positive number, got '" + toleranceText + "'"), false;
    options.tolerance = t;
  }
  if (maxCandidatesText.getNumOccurrences()) {
    unsigned n;
    if (llvm::StringRef(maxCandidatesText).getAsInteger(10, n) || n < mpc::kMinSearchCandidates)
      return failWith("--max-candidates must be an integer >= " +
                      llvm::Twine(mpc::kMinSearchCandidates) + ", got '" + maxCandidatesText + "'"),
             false;
    options.maxCandidates = n;
  }
  return true;
}

/// Checks what llvm::cl cannot and fills `options`; false after an error.
bool readFlags(Options &options) {
  if (!strayArguments.empty())
    return failWith("unknown subcommand '" + strayArguments.front() + "' (use compare or search)"),
           false;
  if (!compareCommand && !searchCommand)
    return failWith("missing subcommand (compare or search); see mpc-debug --help"), false;
  if (!readNumbers(options))
    return false;
  if (modelPath.empty())
    return failWith("missing MODEL (an .onnx or .mlir file)"), false;
  if (precision.empty())
    return failWith("missing --precision (fp16 or bf16)"), false;
  if (precision != "fp16" && precision != "bf16")
    return failWith("--precision must be fp16 or bf16, got '" + precision + "'"), false;
  if (inputSpecs.empty())
    return failWith("missing --input NAME=FILE.npy (one per model input)"), false;
  if (searchCommand && !searchTolerance.getNumOccurrences())
    return failWith("search needs --tolerance T"), false;
  if (searchCommand && outPath.empty())
    return failWith("search needs -o POLICY.json"), false;
  options.model = modelPath;
  options.precision = precision;
  options.policyFile = policyFile;
  options.jsonPath = jsonPath;
  options.outPath = outPath;
  llvm::SmallVector<llvm::StringRef> ranges;
  llvm::StringRef(inputRanges).split(ranges, ',', /*MaxSplit=*/-1, /*KeepEmpty=*/false);
  for (llvm::StringRef range : ranges)
    options.inputRanges.push_back(range.str());
  options.calibrationData = calibrationData;
  llvm::Expected<mpc::ResolvedCPU> cpu = mpc::resolveCPU(mcpu);
  if (!cpu)
    return failWith(llvm::toString(cpu.takeError())), false;
  if (llvm::Error error = mpc::checkRunsOnHost(*cpu))
    return failWith(llvm::toString(std::move(error))), false;
  options.cpu = std::move(*cpu);
  options.nativeBf16Dot = mpc::useNativeBf16Dot(options.cpu, nativeDotProducts, "mpc-debug");
  return true;
}

bool readInputs(std::map<std::string, HostArray> &inputs) {
  for (llvm::StringRef spec : inputSpecs) {
    auto [name, file] = spec.split('=');
    if (name.empty() || file.empty())
      return failWith("--input expects NAME=FILE.npy, got '" + spec + "'"), false;
    if (inputs.count(name.str()))
      return failWith("--input '" + name + "' is given twice"), false;
    HostArray array;
    std::string error;
    if (!mpc::runtime::readNpy(file.str(), array, error))
      return failWith("--input '" + name + "': " + error), false;
    inputs.emplace(name.str(), std::move(array));
  }
  return true;
}

//===----------------------------------------------------------------------===//
// Building and running a variant
//===----------------------------------------------------------------------===//

/// A compiled and run variant: its outputs (the model's, then the exposed
/// intermediates').
struct Variant {
  std::vector<mpc::ExposedIntermediate> probes;
  /// The nodes a policy rule can force to f32 that ran in the low type.
  std::set<std::string> lowNodes;
  size_t numModelOutputs = 0;
  std::vector<std::string> outputNames;
  std::vector<HostArray> results;
  mpc::PrecisionReport report;
};

/// The share of matmul/conv FLOPs a variant ran in the low type.
double lowGemmShare(const mpc::PrecisionReport &report) {
  return report.gemmFlops ? double(report.lowPrecisionGemmFlops) / report.gemmFlops : 0;
}

/// Checks the data against @main's signature, but for the inputs in
/// `taken` (their values decided shapes: constants now); false after an error.
bool checkInputs(const mpc::runtime::EntrySignature &signature,
                 const std::map<std::string, HostArray> &inputs,
                 const std::vector<std::string> &taken) {
  for (const auto &spec : signature.inputs)
    if (!inputs.count(spec.name))
      return failWith("model input '" + spec.name + "' has no data: pass --input " + spec.name +
                      "=FILE.npy"),
             false;
  for (const auto &[name, array] : inputs)
    if (!llvm::is_contained(taken, name) &&
        llvm::none_of(signature.inputs,
                      [&, &name = name](const auto &spec) { return spec.name == name; }))
      return failWith("--input '" + name + "': the model has no input of that name"), false;
  for (const auto &spec : signature.inputs) {
    const HostArray &array = inputs.at(spec.name);
    if (array.kind() != spec.kind || array.shape() != spec.shape)
      return failWith("input '" + spec.name + "': the model expects " +
                      std::string(mpc::runtime::elementName(spec.kind)) +
                      " data of its declared shape"),
             false;
  }
  return true;
}

/// The node names a policy rule matches (the `mpc.node` of an op that
/// mpc-assign-precision decided) whose op it put in a type narrower than f32.
/// The report's node column is no substitute: it falls back to an op's name
/// location, which no rule matches.
std::set<std::string> lowPrecisionNodes(mlir::ModuleOp module) {
  std::set<std::string> nodes;
  module.walk([&](mlir::Operation *op) {
    auto node = op->getAttrOfType<mlir::StringAttr>(mpc::kNodeNameAttr);
    auto precision = op->getAttrOfType<mlir::TypeAttr>(mpc::kPrecisionAttr);
    auto type = precision ? llvm::dyn_cast<mlir::FloatType>(precision.getValue()) : nullptr;
    if (node && type && type.getWidth() < 32)
      nodes.insert(node.str());
  });
  return nodes;
}

/// The precision passes on `module` (with the intermediates exposed when
/// `withProbes`), filling the variant's report and probes.
bool assignPrecision(mlir::ModuleOp module, mlir::func::FuncOp entry, const Options &options,
                     llvm::StringRef precision, llvm::StringRef policyFile, bool withProbes,
                     Variant &variant) {
  mlir::PassManager precisionPm(module.getContext());
  mpc::AssignPrecisionPassOptions precisionOptions;
  // `precision` is "fp32" or --precision, checked when the options were read.
  precisionOptions.policy = *mpc::parsePrecisionPolicy(precision);
  precisionOptions.policyFile = policyFile.str();
  precisionOptions.inputRanges.assign(options.inputRanges.begin(), options.inputRanges.end());
  precisionOptions.calibrationData = options.calibrationData;
  mpc::tool::addInferencePasses(precisionPm, precisionOptions);
  // Merge identical ops now: if the LLVM pipeline's CSE merged two exposed
  // values later, the function would return one value twice.
  precisionPm.addPass(mlir::createCSEPass());
  if (mlir::failed(precisionPm.run(module)))
    return failWith("assigning precision " + precision + " to '" + options.model +
                    "' failed (see the diagnostics above)"),
           false;
  variant.report = mpc::collectPrecisionReport(module);
  variant.lowNodes = lowPrecisionNodes(module);
  if (!withProbes)
    return true;
  mlir::PassManager exposePm(module.getContext());
  exposePm.addPass(mpc::createExposeIntermediatesPass());
  mlir::FailureOr<std::vector<mpc::ExposedIntermediate>> probes;
  if (mlir::failed(exposePm.run(module)) ||
      mlir::failed(probes = mpc::readExposedIntermediates(entry)))
    return failWith("exposing the intermediates of '" + options.model +
                    "' failed (see the diagnostics above)"),
           false;
  variant.probes = std::move(*probes);
  return true;
}

/// Compiles `model` under `precision` (+ `policyFile`), exposing
/// intermediates when `withProbes`, and runs it on `inputs`.
bool runVariant(const Options &options, llvm::StringRef precision, llvm::StringRef policyFile,
                bool withProbes, const std::map<std::string, HostArray> &inputs, Variant &variant) {
  mlir::DialectRegistry registry;
  mpc::registerAllDialects(registry);
  mlir::MLIRContext context(registry);
  context.loadAllAvailableDialects();
  mlir::OwningOpRef<mlir::ModuleOp> module = mpc::tool::loadModel(context, options.model, inputs);
  if (!module)
    return failWith("could not load '" + options.model + "' (see the diagnostics above)"), false;
  auto entry = module->lookupSymbol<mlir::func::FuncOp>("main");
  if (!entry)
    return failWith("'" + options.model + "' has no function @main to run"), false;
  variant.numModelOutputs = entry.getNumResults();
  if (!assignPrecision(*module, entry, options, precision, policyFile, withProbes, variant))
    return false;

  llvm::Expected<mpc::runtime::EntrySignature> signature = mpc::runtime::readEntrySignature(entry);
  if (!signature)
    return failWith("'" + options.model + "': " + llvm::toString(signature.takeError())), false;
  if (!checkInputs(*signature, inputs, mpc::inputsTakenAsValues(*module)))
    return false;
  variant.outputNames.clear();
  for (const auto &spec : signature->outputs)
    variant.outputNames.push_back(spec.name);

  if (std::getenv("MPC_DEBUG_DUMP_IR")) // the program as compiled, for bug reports
    module->print(llvm::errs());
  mlir::PassManager pm(&context);
  mpc::LowerToLLVMOptions lowering;
  lowering.nativeBf16Dot = options.nativeBf16Dot;
  mpc::buildLowerToLLVMPipeline(pm, lowering);
  if (mlir::failed(pm.run(*module)))
    return failWith("compiling '" + options.model + "' failed (see the diagnostics above)"), false;
  auto program = mpc::runtime::JitProgram::compile(*module, "main", *signature, 2, nullptr, &options.cpu);
  if (!program)
    return failWith("JIT compilation failed: " + llvm::toString(program.takeError())), false;
  std::vector<const HostArray *> arguments;
  for (const auto &spec : signature->inputs)
    arguments.push_back(&inputs.at(spec.name));
  variant.results.clear();
  if (llvm::Error error = (*program)->run(arguments, variant.results))
    return failWith(llvm::toString(std::move(error))), false;
  return true;
}

double outputError(const Variant &mixed, const Variant &ref) {
  return mpc::debug::outputError(mixed.results, ref.results, ref.numModelOutputs);
}

//===----------------------------------------------------------------------===//
// compare
//===----------------------------------------------------------------------===//

struct OpError {
  const mpc::ExposedIntermediate *probe;
  std::string precision; ///< in the mixed program, "-" when it has no such op
  ErrorStats stats;
  bool present = false;
};

/// Matches the mixed program's probes to the fp32 program's by node, op and
/// result index, and measures each.
std::vector<OpError> measureOps(const Variant &mixed, const Variant &ref) {
  // A node may import as several ops of one kind (two adds): the key counts
  // occurrences so the n-th matches the n-th.
  using Key = std::tuple<std::string, std::string, unsigned, unsigned>;
  auto keysOf = [](const std::vector<mpc::ExposedIntermediate> &probes) {
    std::map<std::tuple<std::string, std::string, unsigned>, unsigned> seen;
    std::vector<Key> keys;
    for (const mpc::ExposedIntermediate &probe : probes) {
      unsigned nth = seen[std::make_tuple(probe.node, probe.op, probe.resultIndex)]++;
      keys.emplace_back(probe.node, probe.op, probe.resultIndex, nth);
    }
    return keys;
  };
  std::map<Key, const mpc::ExposedIntermediate *> mixedProbes;
  for (auto [key, probe] : llvm::zip(keysOf(mixed.probes), mixed.probes))
    mixedProbes.emplace(key, &probe);
  std::vector<Key> refKeys = keysOf(ref.probes);
  std::vector<OpError> errors;
  for (auto [i, probe] : llvm::enumerate(ref.probes)) {
    OpError error{&probe, "-", {}, false};
    auto it = mixedProbes.find(refKeys[i]);
    if (it != mixedProbes.end()) {
      error.present = true;
      error.precision = it->second->precision;
      error.stats = compareArrays(mixed.results[it->second->functionResult],
                                  ref.results[probe.functionResult], error.precision);
    }
    errors.push_back(error);
  }
  return errors;
}

void printTable(const Options &options, const std::vector<OpError> &errors, const OpError *first,
                double outError) {
  // Widths from the contents so long node names stay aligned.
  std::vector<std::vector<std::string>> rows;
  rows.push_back({"#", "node", "op", "precision", "max_abs", "max_rel", "max_ulp", "inf/nan",
                  "fp32 inf/nan", ""});
  for (auto [i, error] : llvm::enumerate(errors)) {
    std::string node = error.probe->node;
    if (error.probe->resultIndex)
      node += "#" + std::to_string(error.probe->resultIndex);
    const ErrorStats &s = error.stats;
    bool over = error.present && s.maxRel > options.tolerance;
    rows.push_back({std::to_string(i), node, error.probe->op, error.precision,
                    error.present ? formatNumber(s.maxAbs) : "-",
                    error.present ? formatNumber(s.maxRel) : "-",
                    error.present ? formatNumber(s.maxUlp) : "-",
                    std::to_string(s.infMixed) + "/" + std::to_string(s.nanMixed),
                    std::to_string(s.infRef) + "/" + std::to_string(s.nanRef),
                    &error == first ? "<- first over tolerance" : over ? "*" : ""});
  }
  std::vector<size_t> widths(rows[0].size(), 0);
  for (const auto &row : rows)
    for (auto [i, cell] : llvm::enumerate(row))
      widths[i] = std::max(widths[i], cell.size());
  llvm::raw_ostream &os = llvm::outs();
  os << "mpc-debug compare: " << options.model << ", fp32 vs " << options.precision
     << (options.policyFile.empty() ? "" : " (policy file " + options.policyFile + ")")
     << ", tolerance " << formatNumber(options.tolerance) << " (max relative error)\n";
  for (const auto &row : rows) {
    std::string line;
    for (auto [i, cell] : llvm::enumerate(row)) {
      line += cell;
      if (i + 1 < row.size())
        line += std::string(widths[i] - cell.size() + 2, ' ');
    }
    os << llvm::StringRef(line).rtrim() << "\n";
  }
  os << "outputs: max relative error " << formatNumber(outError)
     << (outError > options.tolerance ? " (over tolerance)" : " (within tolerance)") << "\n";
  if (first)
    os << "first op over tolerance: " << first->probe->node << " (" << first->probe->op << ", "
       << first->precision << ", max relative error " << formatNumber(first->stats.maxRel) << ")\n";
  else
    os << "first op over tolerance: none\n";
}

int writeJson(const Options &options, const std::vector<OpError> &errors, const OpError *first,
              double outError, const Variant &mixed, const Variant &ref) {
  llvm::json::Array ops;
  for (auto [i, error] : llvm::enumerate(errors)) {
    llvm::json::Object entry = statsJson(error.stats);
    entry["index"] = static_cast<int64_t>(i);
    entry["node"] = error.probe->node;
    entry["result"] = static_cast<int64_t>(error.probe->resultIndex);
    entry["op"] = error.probe->op;
    entry["precision"] = error.precision;
    entry["present"] = error.present;
    entry["over_tolerance"] = error.present && error.stats.maxRel > options.tolerance;
    ops.push_back(std::move(entry));
  }
  llvm::json::Array outputs;
  for (size_t i = 0; i < ref.numModelOutputs; ++i) {
    llvm::json::Object entry = statsJson(compareArrays(mixed.results[i], ref.results[i], "f32"));
    entry["name"] = ref.outputNames[i];
    outputs.push_back(std::move(entry));
  }
  llvm::json::Object root{
      {"model", options.model},
      {"precision", options.precision},
      {"policy_file", options.policyFile},
      {"tolerance", options.tolerance},
      {"relative_error_floor", kRelativeFloor},
      {"ops", std::move(ops)},
      {"outputs", std::move(outputs)},
      {"output_max_rel_error", jsonNumber(outError)},
      {"first_over_tolerance", first ? llvm::json::Value(first->probe->node) : nullptr}};
  std::error_code ec;
  llvm::raw_fd_ostream file(options.jsonPath, ec);
  if (ec)
    return failWith("cannot write --json '" + options.jsonPath + "': " + ec.message());
  file << llvm::formatv("{0:2}", llvm::json::Value(std::move(root))) << "\n";
  return 0;
}

int runCompare(const Options &options, const std::map<std::string, HostArray> &inputs) {
  Variant ref, mixed;
  if (!runVariant(options, "fp32", "", true, inputs, ref) ||
      !runVariant(options, options.precision, options.policyFile, true, inputs, mixed))
    return 1;
  std::vector<OpError> errors = measureOps(mixed, ref);
  const OpError *first = nullptr;
  for (const OpError &error : errors)
    if (!first && error.present && error.stats.maxRel > options.tolerance)
      first = &error;
  double outError = outputError(mixed, ref);
  printTable(options, errors, first, outError);
  return options.jsonPath.empty() ? 0 : writeJson(options, errors, first, outError, mixed, ref);
}

//===----------------------------------------------------------------------===//
// search
//===----------------------------------------------------------------------===//

bool writeText(const std::string &path, const std::string &text) {
  std::error_code ec;
  llvm::raw_fd_ostream file(path, ec);
  if (ec)
    return failWith("cannot write '" + path + "': " + ec.message()), false;
  file << text;
  return true;
}

/// What the all-low run tells the search: its outcome, the error of every
/// exposed value, and the nodes a rule could force to f32.
mpc::PolicySearchInput searchInput(const Options &options, const Variant &allLow,
                                   const Variant &ref) {
  mpc::PolicySearchInput input;
  input.tolerance = options.tolerance;
  input.maxCandidates = options.maxCandidates;
  input.allLow = {outputError(allLow, ref), lowGemmShare(allLow.report)};
  for (const OpError &error : measureOps(allLow, ref))
    input.intermediates.push_back(
        {error.probe->node,
         error.present ? std::optional<double>(error.stats.maxRel) : std::nullopt,
         error.probe->producers});
  input.lowNodes = allLow.lowNodes;
  return input;
}

int reportSearch(const Options &options, const mpc::PolicySearchResult &result) {
  llvm::raw_ostream &os = llvm::outs();
  switch (result.status) {
  case mpc::PolicySearchStatus::EvaluationFailed:
    return 1; // the run that failed said why
  case mpc::PolicySearchStatus::Nondeterministic:
    return failWith("even all-f32 misses the tolerance (output max relative error " +
                    formatNumber(result.outcome.outputError) +
                    " between two fp32 runs): the model is nondeterministic; no policy written");
  case mpc::PolicySearchStatus::NothingToForce:
    return failWith("the all-" + options.precision + " program misses the tolerance but has no " +
                    "low-precision op a rule could force to f32; no policy written");
  case mpc::PolicySearchStatus::AllForcedMisses:
    return failWith("forcing every low-precision op to f32 still misses the tolerance (output max "
                    "relative error " +
                    formatNumber(result.outcome.outputError) + "); no policy written");
  case mpc::PolicySearchStatus::AllLowMeetsTolerance:
    os << "the all-" << options.precision << " policy already meets the tolerance: "
       << "writing a policy with no rules\n";
    break;
  case mpc::PolicySearchStatus::Found:
    if (result.budgetReached)
      os << "stopped giving ops back after --max-candidates " << options.maxCandidates << "\n";
    break;
  }
  if (!writeText(options.outPath, mpc::forcedNodesPolicy(options.precision, result.forced)))
    return 1;
  std::string names;
  for (const std::string &node : result.forced)
    names += (names.empty() ? "" : ", ") + node;
  os << "ops forced to f32: " << result.forced.size()
     << (result.forced.empty() ? "" : " (" + names + ")") << "\n"
     << "matmul/conv FLOPs still " << options.precision << ": "
     << llvm::format("%.1f%%", 100 * result.outcome.lowGemmShare) << "\n"
     << "output max relative error: " << formatNumber(result.outcome.outputError)
     << " (tolerance " << formatNumber(options.tolerance) << ")\n"
     << "candidates evaluated: " << result.candidates << "\n"
     << "policy written to " << options.outPath << "\n";
  return 0;
}

int runSearch(const Options &options, const std::map<std::string, HostArray> &inputs) {
  Variant ref, allLow;
  if (!runVariant(options, "fp32", "", true, inputs, ref) ||
      !runVariant(options, options.precision, "", true, inputs, allLow))
    return 1;
  llvm::SmallString<128> scratch;
  if (std::error_code ec = llvm::sys::fs::createTemporaryFile("mpc-debug-policy", "json", scratch))
    return failWith("cannot create a temporary policy file: " + ec.message());
  llvm::FileRemover removeScratch(scratch);

  auto evaluate =
      [&](const std::set<std::string> &forced) -> llvm::FailureOr<mpc::CandidateOutcome> {
    std::vector<std::string> names(forced.begin(), forced.end());
    Variant mixed;
    if (!writeText(scratch.str().str(), mpc::forcedNodesPolicy(options.precision, names)) ||
        !runVariant(options, options.precision, scratch, false, inputs, mixed))
      return llvm::failure();
    return mpc::CandidateOutcome{outputError(mixed, ref), lowGemmShare(mixed.report)};
  };
  auto rerunFp32 = [&]() -> llvm::FailureOr<double> {
    Variant again;
    if (!runVariant(options, "fp32", "", false, inputs, again))
      return llvm::failure();
    return outputError(again, ref);
  };
  return reportSearch(options,
                      mpc::searchPolicy(searchInput(options, allLow, ref), {evaluate, rerunFp32}));
}

} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  for (cl::SubCommand *command : {&cl::SubCommand::getTopLevel(), &compareCommand, &searchCommand})
    cl::HideUnrelatedOptions(category, *command);
  cl::ParseCommandLineOptions(argc, argv,
                              "mpc-debug: where mixed precision loses accuracy "
                              "(docs/mpc-debug.md)\n");
  Options options;
  if (!readFlags(options))
    return 1;
  if (!llvm::sys::fs::exists(options.model))
    return failWith("model '" + options.model + "' does not exist");
  std::map<std::string, HostArray> inputs;
  if (!readInputs(inputs))
    return 1;
  return compareCommand ? runCompare(options, inputs) : runSearch(options, inputs);
}
