//===- RangeAnalysis.cpp - value ranges of float tensors ------------------===//
//
// One forward pass in program order: SSA values are defined before use, so
// every operand's range is final when its reader asks. Ops say how they map
// ranges through RangeOpInterface; this file only knows where ranges start
// (arguments, constants) and how to judge them against a float type.
//
//===----------------------------------------------------------------------===//
#include "RangeAnalysis.h"
#include "PrecisionAttrs.h"

#include "mpc/Dialect/RangeRules.h"
#include "mpc/Runtime/FloatConversions.h"
#include "mpc/Runtime/HostArray.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Matchers.h"
#include "llvm/ADT/APFloat.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

#include <cmath>
#include <cstdio>

using namespace mlir;
using namespace mpc;

static llvm::Error fail(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

/// A short number for a reason: 3 digits for predictions (they are bounds,
/// not measurements), all 6 for a type's limits (65504, not 6.55e+04).
static std::string number(double value, int digits = 3) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%.*g", digits, value);
  return buffer;
}

llvm::Expected<InputRanges> mpc::parseInputRanges(llvm::ArrayRef<std::string> entries) {
  InputRanges ranges;
  for (llvm::StringRef entry : entries) {
    // An empty entry (a trailing comma) names nothing.
    if (entry.trim().empty())
      continue;
    // Split from the right: a graph input's name may itself contain ':'.
    auto [rest, hiText] = entry.trim().rsplit(':');
    auto [name, loText] = rest.rsplit(':');
    double lo, hi;
    if (name.empty() || loText.getAsDouble(lo) || hiText.getAsDouble(hi))
      return fail("input-ranges: expected NAME:LO:HI (e.g. x:-1:1), got '" + entry + "'");
    if (!std::isfinite(lo) || !std::isfinite(hi) || lo > hi)
      return fail("input-ranges: '" + entry + "' needs finite LO <= HI");
    if (!ranges.try_emplace(name, Interval::of(lo, hi)).second)
      return fail("input-ranges: input '" + name + "' is given twice");
  }
  return ranges;
}

/// Every function argument name of the module, with its type.
static llvm::StringMap<Type> argumentNames(ModuleOp module) {
  llvm::StringMap<Type> names;
  module.walk([&](func::FuncOp function) {
    for (unsigned i = 0; i < function.getNumArguments(); ++i)
      if (auto name = function.getArgAttrOfType<StringAttr>(i, kIONameAttr))
        names.try_emplace(name.getValue(), function.getArgumentTypes()[i]);
  });
  return names;
}

llvm::Error mpc::checkInputNames(const InputRanges &ranges, ModuleOp module,
                                 llvm::StringRef option) {
  llvm::StringMap<Type> names = argumentNames(module);
  for (const auto &entry : ranges) {
    if (names.contains(entry.getKey()))
      continue;
    std::string known;
    for (const auto &name : names)
      known += (known.empty() ? "'" : ", '") + name.getKey().str() + "'";
    return fail(option + ": no graph input is named '" + entry.getKey() + "'; inputs are " +
                (known.empty() ? std::string("none") : known));
  }
  return llvm::Error::success();
}

/// The observed range of a float .npy array.
static llvm::Expected<Interval> rangeOfNpy(const std::string &path) {
  runtime::HostArray array;
  std::string error;
  if (!runtime::readNpy(path, array, error))
    return fail("calibration-data: " + error);
  auto at = [&](int64_t i) -> double {
    switch (array.kind()) {
    case runtime::ElementKind::F64:
      return array.as<double>()[i];
    case runtime::ElementKind::F32:
      return array.as<float>()[i];
    case runtime::ElementKind::F16:
      return runtime::halfBitsToFloat(array.as<uint16_t>()[i]);
    case runtime::ElementKind::BF16:
      return runtime::bfloat16BitsToFloat(array.as<uint16_t>()[i]);
    default:
      return NAN; // excluded below
    }
  };
  runtime::ElementKind kind = array.kind();
  if (kind != runtime::ElementKind::F64 && kind != runtime::ElementKind::F32 &&
      kind != runtime::ElementKind::F16 && kind != runtime::ElementKind::BF16)
    return fail("calibration-data: '" + path + "' holds " +
                std::string(runtime::elementName(kind)) +
                " values; only float inputs (f64, f32, f16, bf16) have ranges");
  if (array.numElements() == 0)
    return fail("calibration-data: '" + path + "' is empty");
  double lo = INFINITY, hi = -INFINITY, tiny = INFINITY;
  for (int64_t i = 0; i < array.numElements(); ++i) {
    double x = at(i);
    if (!std::isfinite(x))
      return fail("calibration-data: '" + path + "' holds a NaN or infinite value at element " +
                  llvm::Twine(i));
    lo = std::min(lo, x);
    hi = std::max(hi, x);
    if (x != 0)
      tiny = std::min(tiny, std::fabs(x));
  }
  return Interval::of(lo, hi, std::isinf(tiny) ? 0 : tiny);
}

llvm::Expected<InputRanges> mpc::readCalibrationRanges(llvm::StringRef spec, ModuleOp module) {
  llvm::StringMap<Type> names = argumentNames(module);
  llvm::SmallVector<std::pair<std::string, std::string>> files; // name, path
  if (llvm::sys::fs::is_directory(spec)) {
    // A directory must cover every float input: calibrating some inputs and
    // silently not others would make the prediction look complete.
    for (const auto &name : names) {
      if (!isa<FloatType>(getElementTypeOrSelf(name.getValue())))
        continue;
      llvm::SmallString<128> path(spec);
      llvm::sys::path::append(path, name.getKey() + ".npy");
      if (!llvm::sys::fs::exists(path))
        return fail("calibration-data: directory '" + spec + "' has no '" + name.getKey() +
                    ".npy' for graph input '" + name.getKey() + "'");
      files.push_back({name.getKey().str(), path.str().str()});
    }
  } else {
    llvm::SmallVector<llvm::StringRef> paths;
    spec.split(paths, ',', /*MaxSplit=*/-1, /*KeepEmpty=*/false);
    for (llvm::StringRef path : paths) {
      if (!llvm::sys::fs::exists(path))
        return fail("calibration-data: no such file or directory '" + path + "'");
      files.push_back({llvm::sys::path::stem(path).str(), path.str()});
    }
  }
  InputRanges ranges;
  for (auto &[name, path] : files) {
    llvm::Expected<Interval> range = rangeOfNpy(path);
    if (!range)
      return range.takeError();
    ranges[name] = *range;
  }
  if (llvm::Error error = checkInputNames(ranges, module, "calibration-data"))
    return std::move(error);
  return ranges;
}

RangeAnalysis::RangeAnalysis(ModuleOp module, const InputRanges &inputs) {
  module.walk([&](func::FuncOp function) {
    for (BlockArgument arg : function.getArguments()) {
      auto name = function.getArgAttrOfType<StringAttr>(arg.getArgNumber(), kIONameAttr);
      auto it = name ? inputs.find(name.getValue()) : inputs.end();
      if (it == inputs.end())
        continue;
      ranges[arg] = it->second;
      namedInputs[arg] = name.getValue().str();
    }
  });
  // Pre-order visits producers before readers within each block.
  module.walk<WalkOrder::PreOrder>([&](Operation *op) {
    if (op->getNumResults() == 0)
      return;
    Attribute constant;
    if (matchPattern(op, m_Constant(&constant))) {
      if (auto elements = dyn_cast<ElementsAttr>(constant))
        ranges[op->getResult(0)] = intervalOfElements(elements);
      return;
    }
    auto rule = dyn_cast<RangeOpInterface>(op);
    if (!rule)
      return;
    SmallVector<Interval> operands;
    for (Value operand : op->getOperands())
      operands.push_back(rangeOf(operand));
    ranges[op->getResult(0)] = rule.inferResultRange(operands);
  });
}

Interval RangeAnalysis::rangeOf(Value value) const {
  auto it = ranges.find(value);
  return it == ranges.end() ? Interval::unbounded() : it->second;
}

/// "(input x in [-100, 100])": the ranged graph inputs the value depends on,
/// so the user sees which of their numbers led to the prediction.
std::string RangeAnalysis::describeInputs(Value value) const {
  llvm::SetVector<Value> seen;
  SmallVector<Value> work{value};
  SmallVector<std::string> found;
  while (!work.empty()) {
    Value current = work.pop_back_val();
    if (!seen.insert(current))
      continue;
    if (auto it = namedInputs.find(current); it != namedInputs.end())
      found.push_back(it->second + " in " + rangeOf(current).str());
    if (Operation *def = current.getDefiningOp())
      llvm::append_range(work, def->getOperands());
  }
  if (found.empty())
    return "(from parameter and constant values)";
  llvm::sort(found);
  constexpr size_t kShown = 3;
  std::string text = found.size() == 1 ? "(input " : "(inputs ";
  for (size_t i = 0; i < std::min(found.size(), kShown); ++i)
    text += (i ? ", " : "") + found[i];
  if (found.size() > kShown)
    text += ", ...";
  return text + ")";
}

std::optional<std::string> RangeAnalysis::checkFits(Operation *op, FloatType type) const {
  if (type.getWidth() >= 32)
    return std::nullopt;
  const llvm::fltSemantics &semantics = type.getFloatSemantics();
  double largest = llvm::APFloat::getLargest(semantics).convertToDouble();
  double smallest = llvm::APFloat::getSmallest(semantics).convertToDouble();
  std::string name = llvm::isa<Float16Type>(type) ? "fp16"
                     : llvm::isa<BFloat16Type>(type) ? "bf16"
                                                     : "the low type";

  // The result first: it is what the op itself produces in `type`. Then the
  // operands, which would be cast into `type` before the op reads them.
  SmallVector<std::pair<Value, std::string>> values;
  for (Value result : op->getResults())
    values.push_back({result, "|y|"});
  for (unsigned index : getPrecisionOperands(op))
    values.push_back({op->getOperand(index), "operand #" + std::to_string(index) + " |x|"});

  for (auto &[value, label] : values) {
    if (!isa<FloatType>(getElementTypeOrSelf(value.getType())))
      continue;
    Interval range = rangeOf(value);
    double magnitude = range.maxAbs();
    if (!range.isBounded())
      continue; // no prediction without a bound
    if (magnitude * kOverflowMargin > largest)
      return "range: " + label + " may reach " + number(magnitude) +
             " > " + name + " max " + number(largest, 6) +
             (magnitude > largest ? "" : " / 2 (safety margin)") + " " + describeInputs(value);
    if (magnitude > 0 && magnitude < smallest)
      return "range: every non-zero " + label + " is below " + number(magnitude) + " < " + name +
             " smallest subnormal " + number(smallest, 3) + " (flushes to 0) " +
             describeInputs(value);
  }
  return std::nullopt;
}
