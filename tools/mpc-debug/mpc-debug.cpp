//===- mpc-debug.cpp - find where mixed precision loses accuracy ----------===//
//
// `compare` runs the fp32 program and the mixed program on the same inputs
// with every named intermediate made a function result, and reports per op how
// far the mixed value is from the fp32 one. `search` uses those errors to find
// a policy file that forces as few ops to f32 as it can while the model
// outputs stay within a tolerance. See docs/mpc-debug.md.
//
//===----------------------------------------------------------------------===//
#include "ModelPipeline.h"
#include "mpc/Precision/PrecisionReport.h"

#include "mpc/Dialect/MpcDialect.h"
#include "mpc/InitAll.h"
#include "mpc/Runtime/FloatConversions.h"
#include "mpc/Runtime/HostArray.h"
#include "mpc/Target/CPU/JitRunner.h"
#include "mpc/Target/CPU/Pipeline.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FileUtilities.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <cmath>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

using mpc::runtime::HostArray;

namespace {

const char *kUsage =
    "usage: mpc-debug compare MODEL --precision fp16|bf16 --input NAME=FILE.npy ...\n"
    "                 [--policy-file F] [--tolerance T] [--json OUT.json]\n"
    "       mpc-debug search MODEL --precision fp16|bf16 --tolerance T --input NAME=FILE.npy ...\n"
    "                 -o POLICY.json [--max-candidates N]\n"
    "(docs/mpc-debug.md)\n";

int failWith(const llvm::Twine &message) {
  llvm::errs() << "mpc-debug: error: " << message << "\n";
  return 1;
}

/// The relative error's denominator is max(|fp32 value|, floor) with floor
/// this fraction of the tensor's largest |fp32 value|: values near zero
/// (cancellation, relu's zeros) would otherwise make any absolute difference
/// an unbounded relative one.
constexpr double kRelativeFloor = 1e-3;

//===----------------------------------------------------------------------===//
// Command line
//===----------------------------------------------------------------------===//

struct Options {
  std::string command, model, precision, policyFile, jsonPath, outPath;
  std::vector<std::string> inputSpecs;
  double tolerance = 1e-2;
  bool toleranceGiven = false;
  unsigned maxCandidates = 200;
};

bool parseArgs(int argc, char **argv, Options &options) {
  if (argc < 2) {
    failWith("missing subcommand (compare or search)");
    llvm::errs() << kUsage;
    return false;
  }
  options.command = argv[1];
  if (options.command == "-h" || options.command == "--help") {
    llvm::outs() << kUsage;
    std::exit(0);
  }
  if (options.command != "compare" && options.command != "search") {
    failWith("unknown subcommand '" + options.command + "' (use compare or search)");
    llvm::errs() << kUsage;
    return false;
  }
  for (int i = 2; i < argc; ++i) {
    llvm::StringRef arg = argv[i];
    std::string key = arg.str(), value;
    bool hasInlineValue = false;
    if (arg.starts_with("-") && arg.contains('=')) {
      auto [k, v] = arg.split('=');
      key = k.str();
      value = v.str();
      hasInlineValue = true;
    }
    auto takeValue = [&](std::string &out) {
      if (hasInlineValue) {
        out = value;
        return true;
      }
      if (i + 1 >= argc) {
        failWith("option '" + key + "' needs a value");
        return false;
      }
      out = argv[++i];
      return true;
    };
    if (key == "--precision" || key == "-precision") {
      if (!takeValue(options.precision))
        return false;
    } else if (key == "--input" || key == "-input") {
      std::string spec;
      if (!takeValue(spec))
        return false;
      options.inputSpecs.push_back(spec);
    } else if (key == "--policy-file" || key == "-policy-file") {
      if (!takeValue(options.policyFile))
        return false;
    } else if (key == "--json" || key == "-json") {
      if (!takeValue(options.jsonPath))
        return false;
    } else if (key == "-o" || key == "--output") {
      if (!takeValue(options.outPath))
        return false;
    } else if (key == "--tolerance" || key == "-tolerance") {
      std::string text;
      if (!takeValue(text))
        return false;
      double t;
      if (llvm::StringRef(text).getAsDouble(t) || !std::isfinite(t) || t <= 0)
        return failWith("--tolerance must be a positive number, got '" + text + "'"), false;
      options.tolerance = t;
      options.toleranceGiven = true;
    } else if (key == "--max-candidates") {
      std::string text;
      if (!takeValue(text))
        return false;
      unsigned n;
      // The all-low run, the fp32 rerun and the all-forced check come first.
      if (llvm::StringRef(text).getAsInteger(10, n) || n < 4)
        return failWith("--max-candidates must be an integer >= 4, got '" + text + "'"), false;
      options.maxCandidates = n;
    } else if (arg.starts_with("-") && arg != "-") {
      return failWith("unknown option '" + arg + "'"), false;
    } else if (options.model.empty()) {
      options.model = arg.str();
    } else {
      return failWith("unexpected argument '" + arg + "' (the model is '" + options.model + "')"), false;
    }
  }
  if (options.model.empty())
    return failWith("missing MODEL (an .onnx or .mlir file)"), false;
  if (options.precision.empty())
    return failWith("missing --precision (fp16 or bf16)"), false;
  if (options.precision != "fp16" && options.precision != "bf16")
    return failWith("--precision must be fp16 or bf16, got '" + options.precision + "'"), false;
  if (options.inputSpecs.empty())
    return failWith("missing --input NAME=FILE.npy (one per model input)"), false;
  if (options.command == "search") {
    if (!options.toleranceGiven)
      return failWith("search needs --tolerance T"), false;
    if (options.outPath.empty())
      return failWith("search needs -o POLICY.json"), false;
    if (!options.policyFile.empty())
      return failWith("search writes a policy file; it does not take --policy-file"), false;
  } else if (!options.outPath.empty()) {
    return failWith("-o is for search; compare writes --json"), false;
  }
  return true;
}

bool readInputs(const Options &options, std::map<std::string, HostArray> &inputs) {
  for (llvm::StringRef spec : options.inputSpecs) {
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

/// One exposed intermediate: result `resultIndex` of the op named `node`.
struct Probe {
  std::string node, op, precision;
  unsigned resultIndex = 0;
  unsigned functionResult = 0;
  /// Probes (indices) whose values this op reads, looking through casts.
  std::vector<size_t> producers;
};

/// A compiled and run variant: its outputs (the model's, then the probes').
struct Variant {
  std::vector<Probe> probes;
  size_t numModelOutputs = 0;
  std::vector<std::string> outputNames;
  std::vector<HostArray> results;
  mpc::PrecisionReport report;
};

bool isFloatTensor(mlir::Type type) {
  auto tensor = llvm::dyn_cast<mlir::RankedTensorType>(type);
  return tensor && llvm::isa<mlir::FloatType>(tensor.getElementType());
}

std::string typeName(mlir::Type type) {
  std::string text;
  llvm::raw_string_ostream os(text);
  type.print(os);
  return text;
}

/// Makes every float result of a named op (casts aside: they belong to the
/// op they convert for) an extra result of `func`, cast to f32 so the fp32
/// and mixed variants return the same types and can be compared directly.
std::vector<Probe> exposeIntermediates(mlir::func::FuncOp func) {
  std::vector<Probe> probes;
  mlir::Operation *ret = func.getBody().back().getTerminator();
  mlir::OpBuilder builder(ret);
  llvm::SmallVector<mlir::Value> values(ret->getOperands());
  llvm::DenseMap<mlir::Value, size_t> probeOf;
  mlir::Type f32 = builder.getF32Type();
  size_t numOriginal = values.size();
  func.walk([&](mlir::Operation *op) {
    if (llvm::isa<mpc::CastOp>(op) || op->getNumOperands() == 0)
      return;
    auto node = op->getAttrOfType<mlir::StringAttr>(mpc::kNodeNameAttr);
    if (!node)
      return;
    for (unsigned index = 0; index < op->getNumResults(); ++index) {
      mlir::Value result = op->getResult(index);
      if (!isFloatTensor(result.getType()))
        continue;
      Probe probe;
      probe.node = node.str();
      probe.op = op->getName().getStringRef().str();
      auto tensor = llvm::cast<mlir::RankedTensorType>(result.getType());
      probe.precision = typeName(tensor.getElementType());
      probe.resultIndex = index;
      for (mlir::Value operand : op->getOperands()) {
        while (auto cast = operand.getDefiningOp<mpc::CastOp>())
          operand = cast.getInput();
        auto it = probeOf.find(operand);
        if (it != probeOf.end())
          probe.producers.push_back(it->second);
      }
      mlir::Type exposedType = tensor.clone(f32);
      mlir::Value exposed = result;
      // A value the function already returns (itself or cast to f32) is read
      // from that result: returning one value twice crashes the out-parameter
      // promotion of the LLVM pipeline (bufferization's
      // promoteBufferResultsToOutParams), and two casts of one value would be
      // merged into one by CSE.
      auto existing = llvm::find_if(values, [&](mlir::Value value) {
        if (auto cast = value.getDefiningOp<mpc::CastOp>())
          if (cast.getType() == exposedType && cast.getInput() == result)
            return true;
        return value == result && value.getType() == exposedType;
      });
      if (existing != values.end()) {
        probe.functionResult = existing - values.begin();
      } else {
        if (tensor.getElementType() != f32)
          exposed = mpc::CastOp::create(builder, op->getLoc(), exposedType, result);
        probe.functionResult = values.size();
        values.push_back(exposed);
      }
      probeOf[result] = probes.size();
      probes.push_back(std::move(probe));
    }
  });
  ret->setOperands(values);
  llvm::SmallVector<mlir::Type> resultTypes;
  for (mlir::Value value : values)
    resultTypes.push_back(value.getType());
  llvm::SmallVector<mlir::DictionaryAttr> resultAttrs;
  for (size_t i = 0; i < values.size(); ++i)
    resultAttrs.push_back(i < numOriginal ? func.getResultAttrDict(i)
                                          : builder.getDictionaryAttr({}));
  func.setFunctionType(builder.getFunctionType(func.getFunctionType().getInputs(), resultTypes));
  func.setAllResultAttrs(resultAttrs);
  return probes;
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

  mlir::PassManager precisionPm(&context);
  // `precision` is "fp32" or --precision, which parseArgs checked.
  mpc::tool::addInferencePasses(precisionPm, *mpc::parsePrecisionPolicy(precision), policyFile);
  // Merge identical ops now: if the LLVM pipeline's CSE merged two exposed
  // values later, the function would return one value twice (see above).
  precisionPm.addPass(mlir::createCSEPass());
  if (mlir::failed(precisionPm.run(*module)))
    return failWith("assigning precision " + precision + " to '" + options.model +
                    "' failed (see the diagnostics above)"),
           false;
  variant.report = mpc::collectPrecisionReport(*module);
  if (withProbes)
    variant.probes = exposeIntermediates(entry);

  llvm::Expected<mpc::runtime::EntrySignature> signature = mpc::runtime::readEntrySignature(entry);
  if (!signature)
    return failWith("'" + options.model + "': " + llvm::toString(signature.takeError())), false;
  for (const auto &spec : signature->inputs)
    if (!inputs.count(spec.name))
      return failWith("model input '" + spec.name + "' has no data: pass --input " + spec.name +
                      "=FILE.npy"),
             false;
  for (const auto &[name, array] : inputs)
    if (llvm::none_of(signature->inputs,
                      [&, &name = name](const auto &spec) { return spec.name == name; }))
      return failWith("--input '" + name + "': the model has no input of that name"), false;
  for (const auto &spec : signature->inputs) {
    const HostArray &array = inputs.at(spec.name);
    if (array.kind() != spec.kind || array.shape() != spec.shape)
      return failWith("input '" + spec.name + "': the model expects " +
                      std::string(mpc::runtime::elementName(spec.kind)) +
                      " data of its declared shape"),
             false;
  }
  variant.outputNames.clear();
  for (const auto &spec : signature->outputs)
    variant.outputNames.push_back(spec.name);

  if (std::getenv("MPC_DEBUG_DUMP_IR")) // the program as compiled, for bug reports
    module->print(llvm::errs());
  mlir::PassManager pm(&context);
  mpc::buildLowerToLLVMPipeline(pm);
  if (mlir::failed(pm.run(*module)))
    return failWith("compiling '" + options.model + "' failed (see the diagnostics above)"), false;
  auto program = mpc::runtime::JitProgram::compile(*module, "main", *signature, 2);
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

//===----------------------------------------------------------------------===//
// Error measures
//===----------------------------------------------------------------------===//

struct ErrorStats {
  double maxAbs = 0, maxRel = 0, maxUlp = 0;
  int64_t infMixed = 0, nanMixed = 0, infRef = 0, nanRef = 0;
  bool comparable = true; ///< false when the shapes or kinds differ
};

/// The spacing of `type`'s values at |x| (its unit in the last place);
/// subnormal spacing below the smallest normal.
double ulpOf(double x, llvm::StringRef type) {
  int mantissaBits = 23, minExponent = -126;
  if (type == "f16") {
    mantissaBits = 10;
    minExponent = -14;
  } else if (type == "bf16") {
    mantissaBits = 7;
  } else if (type == "f64") {
    mantissaBits = 52;
    minExponent = -1022;
  }
  int exponent = 0;
  if (x != 0 && std::isfinite(x)) {
    std::frexp(std::fabs(x), &exponent);
    exponent -= 1; // frexp's mantissa is in [0.5, 1)
  }
  exponent = std::max(exponent, minExponent);
  return std::ldexp(1.0, exponent - mantissaBits);
}

double valueAt(const HostArray &array, int64_t i) {
  switch (array.kind()) {
  case mpc::runtime::ElementKind::F32:
    return array.as<float>()[i];
  case mpc::runtime::ElementKind::F64:
    return array.as<double>()[i];
  default:
    return std::numeric_limits<double>::quiet_NaN();
  }
}

ErrorStats compareArrays(const HostArray &mixed, const HostArray &ref, llvm::StringRef lowType) {
  ErrorStats stats;
  if (mixed.shape() != ref.shape() || mixed.kind() != ref.kind() ||
      (ref.kind() != mpc::runtime::ElementKind::F32 && ref.kind() != mpc::runtime::ElementKind::F64)) {
    stats.comparable = false;
    return stats;
  }
  int64_t n = ref.numElements();
  double scale = 0;
  for (int64_t i = 0; i < n; ++i) {
    double r = valueAt(ref, i);
    if (std::isfinite(r))
      scale = std::max(scale, std::fabs(r));
  }
  double floor = scale > 0 ? scale * kRelativeFloor : std::numeric_limits<double>::min();
  const double inf = std::numeric_limits<double>::infinity();
  for (int64_t i = 0; i < n; ++i) {
    double m = valueAt(mixed, i), r = valueAt(ref, i);
    stats.infMixed += std::isinf(m);
    stats.nanMixed += std::isnan(m);
    stats.infRef += std::isinf(r);
    stats.nanRef += std::isnan(r);
    // Matching non-finite values agree; one finite and one not differ without bound.
    if (!std::isfinite(m) || !std::isfinite(r)) {
      bool same = (std::isnan(m) && std::isnan(r)) || m == r;
      if (!same)
        stats.maxAbs = stats.maxRel = stats.maxUlp = inf;
      continue;
    }
    double diff = std::fabs(m - r);
    stats.maxAbs = std::max(stats.maxAbs, diff);
    stats.maxRel = std::max(stats.maxRel, diff / std::max(std::fabs(r), floor));
    stats.maxUlp = std::max(stats.maxUlp, diff / ulpOf(r, lowType));
  }
  return stats;
}

std::string number(double value) {
  if (std::isinf(value))
    return "inf";
  if (std::isnan(value))
    return "nan";
  std::string text;
  llvm::raw_string_ostream(text) << llvm::format("%.3g", value);
  return text;
}

llvm::json::Value jsonNumber(double value) {
  if (!std::isfinite(value))
    return number(value); // JSON has no inf/nan: "inf"/"nan" strings
  return value;
}

llvm::json::Object statsJson(const ErrorStats &stats) {
  return llvm::json::Object{{"max_abs_error", jsonNumber(stats.maxAbs)},
                            {"max_rel_error", jsonNumber(stats.maxRel)},
                            {"max_ulp_error", jsonNumber(stats.maxUlp)},
                            {"inf_mixed", stats.infMixed},
                            {"nan_mixed", stats.nanMixed},
                            {"inf_fp32", stats.infRef},
                            {"nan_fp32", stats.nanRef}};
}

/// Max relative error over the model outputs (the first numModelOutputs).
double outputError(const Variant &mixed, const Variant &ref) {
  double worst = 0;
  for (size_t i = 0; i < ref.numModelOutputs; ++i) {
    const HostArray &r = ref.results[i];
    ErrorStats stats = compareArrays(mixed.results[i], r, "f32");
    if (!stats.comparable) // an integer output: any difference is a failure
      worst = std::max(worst, std::memcmp(mixed.results[i].data(), r.data(), r.sizeInBytes()) == 0
                                  ? 0.0
                                  : std::numeric_limits<double>::infinity());
    else
      worst = std::max(worst, stats.maxRel);
  }
  return worst;
}

//===----------------------------------------------------------------------===//
// compare
//===----------------------------------------------------------------------===//

struct OpError {
  const Probe *probe;
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
  auto keysOf = [](const std::vector<Probe> &probes) {
    std::map<std::tuple<std::string, std::string, unsigned>, unsigned> seen;
    std::vector<Key> keys;
    for (const Probe &probe : probes) {
      unsigned nth = seen[std::make_tuple(probe.node, probe.op, probe.resultIndex)]++;
      keys.emplace_back(probe.node, probe.op, probe.resultIndex, nth);
    }
    return keys;
  };
  std::map<Key, const Probe *> mixedProbes;
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

  // The table: widths from the contents so long node names stay aligned.
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
                    error.present ? number(s.maxAbs) : "-", error.present ? number(s.maxRel) : "-",
                    error.present ? number(s.maxUlp) : "-",
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
     << ", tolerance " << number(options.tolerance) << " (max relative error)\n";
  for (const auto &row : rows) {
    std::string line;
    for (auto [i, cell] : llvm::enumerate(row)) {
      line += cell;
      if (i + 1 < row.size())
        line += std::string(widths[i] - cell.size() + 2, ' ');
    }
    os << llvm::StringRef(line).rtrim() << "\n";
  }
  double outError = outputError(mixed, ref);
  os << "outputs: max relative error " << number(outError)
     << (outError > options.tolerance ? " (over tolerance)" : " (within tolerance)") << "\n";
  if (first)
    os << "first op over tolerance: " << first->probe->node << " (" << first->probe->op << ", "
       << first->precision << ", max relative error " << number(first->stats.maxRel) << ")\n";
  else
    os << "first op over tolerance: none\n";

  if (!options.jsonPath.empty()) {
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
  }
  return 0;
}

//===----------------------------------------------------------------------===//
// search
//===----------------------------------------------------------------------===//

/// A glob that matches exactly `name` (policy rules take GlobPatterns).
std::string escapeGlob(llvm::StringRef name) {
  std::string text;
  for (char c : name) {
    if (llvm::StringRef("*?[]{}\\").contains(c))
      text.push_back('\\');
    text.push_back(c);
  }
  return text;
}

std::string policyText(llvm::StringRef precision, const std::vector<std::string> &forced) {
  llvm::json::Array rules;
  for (const std::string &node : forced)
    rules.push_back(llvm::json::Object{{"match", escapeGlob(node)}, {"precision", "fp32"}});
  llvm::json::Object root{{"default", precision}, {"rules", std::move(rules)}};
  std::string text;
  llvm::raw_string_ostream(text) << llvm::formatv("{0:2}", llvm::json::Value(std::move(root))) << "\n";
  return text;
}

bool writeText(const std::string &path, const std::string &text) {
  std::error_code ec;
  llvm::raw_fd_ostream file(path, ec);
  if (ec)
    return failWith("cannot write '" + path + "': " + ec.message()), false;
  file << text;
  return true;
}

struct SearchState {
  const Options &options;
  const std::map<std::string, HostArray> &inputs;
  const Variant &ref;
  std::string scratchPolicy;
  unsigned candidates = 0;
  std::map<std::set<std::string>, std::pair<double, double>> cache; // forced -> (error, low gemm share)
  bool failed = false;

  /// Output error and low-precision share of matmul/conv FLOPs with `forced`
  /// node names forced to f32.
  std::pair<double, double> evaluate(const std::vector<std::string> &forced) {
    std::set<std::string> key(forced.begin(), forced.end());
    auto it = cache.find(key);
    if (it != cache.end())
      return it->second;
    if (failed || candidates >= options.maxCandidates) {
      failed = true;
      return {std::numeric_limits<double>::infinity(), 0};
    }
    ++candidates;
    std::vector<std::string> sorted(key.begin(), key.end());
    Variant mixed;
    if (!writeText(scratchPolicy, policyText(options.precision, sorted)) ||
        !runVariant(options, options.precision, scratchPolicy, false, inputs, mixed)) {
      failed = true;
      return {std::numeric_limits<double>::infinity(), 0};
    }
    double share = mixed.report.gemmFlops
                       ? double(mixed.report.lowPrecisionGemmFlops) / mixed.report.gemmFlops
                       : 0;
    return cache[key] = {outputError(mixed, ref), share};
  }
};

int runSearch(const Options &options, const std::map<std::string, HostArray> &inputs) {
  Variant ref, allLow;
  if (!runVariant(options, "fp32", "", true, inputs, ref) ||
      !runVariant(options, options.precision, "", true, inputs, allLow))
    return 1;
  llvm::SmallString<128> scratch;
  if (std::error_code ec = llvm::sys::fs::createTemporaryFile("mpc-debug-policy", "json", scratch))
    return failWith("cannot create a temporary policy file: " + ec.message());
  llvm::FileRemover removeScratch(scratch);
  SearchState state{options, inputs, ref, scratch.str().str(), 0, {}, false};
  llvm::raw_ostream &os = llvm::outs();
  double tol = options.tolerance;

  // The all-low run (one candidate) gives the per-op errors the search ranks by.
  ++state.candidates;
  double lowError = outputError(allLow, ref);
  double lowShare = allLow.report.gemmFlops
                        ? double(allLow.report.lowPrecisionGemmFlops) / allLow.report.gemmFlops
                        : 0;
  state.cache[{}] = {lowError, lowShare};
  auto finish = [&](const std::vector<std::string> &forced, double error, double share) {
    if (!writeText(options.outPath, policyText(options.precision, forced)))
      return 1;
    std::string names;
    for (const std::string &node : forced)
      names += (names.empty() ? "" : ", ") + node;
    os << "ops forced to f32: " << forced.size() << (forced.empty() ? "" : " (" + names + ")") << "\n"
       << "matmul/conv FLOPs still " << options.precision << ": "
       << llvm::format("%.1f%%", 100 * share) << "\n"
       << "output max relative error: " << number(error) << " (tolerance " << number(tol) << ")\n"
       << "candidates evaluated: " << state.candidates << "\n"
       << "policy written to " << options.outPath << "\n";
    return 0;
  };
  if (lowError <= tol) {
    os << "the all-" << options.precision << " policy already meets the tolerance: "
       << "writing a policy with no rules\n";
    return finish({}, lowError, lowShare);
  }

  // Nondeterminism (or an f32 bug) would make every candidate fail: check that
  // the fp32 program reproduces itself before searching.
  {
    ++state.candidates;
    Variant again;
    if (!runVariant(options, "fp32", "", false, inputs, again))
      return 1;
    double error = outputError(again, ref);
    if (error > tol)
      return failWith("even all-f32 misses the tolerance (output max relative error " + number(error) +
                      " between two fp32 runs): the model is nondeterministic; no policy written");
  }

  // Sensitivity per node: how much its own error exceeds what it read (error
  // growth), then its error itself. Only nodes that ran low are candidates.
  std::vector<OpError> errors = measureOps(allLow, ref);
  std::map<std::string, double> maxRelOfProbe;
  std::map<std::string, std::pair<double, double>> score; // node -> (growth, error)
  std::vector<std::string> order;                          // program order
  std::set<std::string> lowNodes;
  for (const mpc::PrecisionReportRow &row : allLow.report.rows)
    if (row.lowPrecision && row.node != "-" && !llvm::StringRef(row.node).starts_with("@"))
      lowNodes.insert(row.node);
  const auto &refProbes = ref.probes;
  for (auto [i, error] : llvm::enumerate(errors)) {
    if (!error.present)
      continue;
    double own = std::isnan(error.stats.maxRel) ? std::numeric_limits<double>::infinity()
                                                : error.stats.maxRel;
    double in = 0;
    for (size_t p : refProbes[i].producers)
      if (errors[p].present)
        in = std::max(in, errors[p].stats.maxRel);
    double growth = std::isinf(own) && std::isinf(in) ? 0 : own - in;
    const std::string &node = refProbes[i].node;
    if (!lowNodes.count(node))
      continue;
    if (!score.count(node))
      order.push_back(node);
    auto &s = score[node];
    s.first = std::max(s.first, growth);
    s.second = std::max(s.second, own);
  }
  // Low nodes without a probe (no float result) rank last, in program order.
  for (const std::string &node : lowNodes)
    if (!score.count(node)) {
      score[node] = {-1, 0};
      order.push_back(node);
    }
  // Ties keep program order (std::sort with the position as the last key:
  // libstdc++'s stable_sort warns under clang 22).
  std::map<std::string, size_t> position;
  for (auto [i, node] : llvm::enumerate(order))
    position[node] = i;
  std::vector<std::string> ranked = order;
  std::sort(ranked.begin(), ranked.end(), [&](const std::string &a, const std::string &b) {
    return std::make_pair(score[b], position[a]) < std::make_pair(score[a], position[b]);
  });
  if (ranked.empty())
    return failWith("the all-" + options.precision + " program misses the tolerance but has no " +
                    "low-precision op a rule could force to f32; no policy written");

  // Bisect the number k of most sensitive nodes forced to f32: the smallest
  // k whose policy passes (assuming more f32 never hurts).
  auto prefix = [&](size_t k) { return std::vector<std::string>(ranked.begin(), ranked.begin() + k); };
  size_t lo = 0, hi = ranked.size();
  if (state.evaluate(prefix(hi)).first > tol) {
    if (state.failed && state.candidates < options.maxCandidates)
      return 1;
    return failWith("forcing every low-precision op to f32 still misses the tolerance (output max "
                    "relative error " + number(state.evaluate(prefix(hi)).first) +
                    "); no policy written");
  }
  while (hi - lo > 1 && !state.failed) {
    size_t mid = (lo + hi) / 2;
    if (state.evaluate(prefix(mid)).first <= tol)
      hi = mid;
    else
      lo = mid;
  }
  if (state.failed && state.candidates < options.maxCandidates)
    return 1;
  std::vector<std::string> forced = prefix(hi);

  // Give back: regions (runs of forced nodes adjacent in program order) from
  // the least sensitive, then single nodes of a region that could not go back
  // whole; keep each change that still passes.
  std::set<std::string> forcedSet(forced.begin(), forced.end());
  std::vector<std::vector<std::string>> regions;
  for (const std::string &node : order) {
    if (!forcedSet.count(node)) {
      if (!regions.empty() && !regions.back().empty())
        regions.emplace_back();
      continue;
    }
    if (regions.empty())
      regions.emplace_back();
    regions.back().push_back(node);
  }
  llvm::erase_if(regions, [](const auto &region) { return region.empty(); });
  auto regionScore = [&](const std::vector<std::string> &region) {
    std::pair<double, double> best{-std::numeric_limits<double>::infinity(), 0};
    for (const std::string &node : region)
      best = std::max(best, score[node]);
    return best;
  };
  std::sort(regions.begin(), regions.end(), [&](const auto &a, const auto &b) {
    return std::make_pair(regionScore(a), position[a.front()]) <
           std::make_pair(regionScore(b), position[b.front()]);
  });
  auto without = [&](const std::set<std::string> &drop) {
    std::vector<std::string> kept;
    for (const std::string &node : forced)
      if (!drop.count(node))
        kept.push_back(node);
    return kept;
  };
  for (const auto &region : regions) {
    if (state.failed)
      break;
    std::set<std::string> drop(region.begin(), region.end());
    if (region.size() < forced.size() && state.evaluate(without(drop)).first <= tol) {
      forced = without(drop);
      continue;
    }
    if (region.size() == 1)
      continue;
    std::vector<std::string> byScore = region;
    std::sort(byScore.begin(), byScore.end(), [&](const std::string &a, const std::string &b) {
      return std::make_pair(score[a], position[a]) < std::make_pair(score[b], position[b]);
    });
    for (const std::string &node : byScore) {
      if (state.failed || forced.size() == 1)
        break;
      if (state.evaluate(without({node})).first <= tol)
        forced = without({node});
    }
  }
  if (state.failed && state.candidates < options.maxCandidates)
    return 1;
  if (state.failed)
    os << "stopped giving ops back after --max-candidates " << options.maxCandidates << "\n";
  // `forced` passed when it was last evaluated; its numbers are cached.
  state.failed = false;
  auto [error, share] = state.evaluate(forced);
  return finish(forced, error, share);
}

} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  Options options;
  if (!parseArgs(argc, argv, options))
    return 1;
  if (!llvm::sys::fs::exists(options.model))
    return failWith("model '" + options.model + "' does not exist");
  std::map<std::string, HostArray> inputs;
  if (!readInputs(options, inputs))
    return 1;
  return options.command == "compare" ? runCompare(options, inputs) : runSearch(options, inputs);
}
