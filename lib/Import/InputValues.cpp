//===- InputValues.cpp - graph inputs whose values decide shapes ----------===//
//
// A Reshape's shape, a Slice's starts or a Pad's pads may be a graph input
// (or computed from one). mpc compiles static shapes, so such an input is
// imported as a constant of a value the caller gives: the node that needs a
// constant finds the graph inputs its operand is computed from and asks for
// their values; the import then starts again with those inputs defined as
// constants, which the shape chains fold as they fold any constant. The
// program is specialized on the values and no longer takes those inputs.
//
//===----------------------------------------------------------------------===//
#include "Importer.h"

#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/StringExtras.h"

using namespace mlir;
using namespace mpc::importer;
using mpc::runtime::ElementKind;
using mpc::runtime::HostArray;

static int32_t dtypeOfKind(ElementKind kind) {
  switch (kind) {
  case ElementKind::F64:
    return kDouble;
  case ElementKind::F32:
    return kFloat;
  case ElementKind::F16:
    return kFloat16;
  case ElementKind::BF16:
    return kBFloat16;
  case ElementKind::F8E4M3FN:
    return kFloat8E4M3FN;
  case ElementKind::F8E5M2:
    return kFloat8E5M2;
  case ElementKind::I64:
    return kInt64;
  case ElementKind::I32:
    return kInt32;
  case ElementKind::I8:
    return kInt8;
  case ElementKind::U8:
    return kUInt8;
  case ElementKind::Bool:
    return kBool;
  case ElementKind::I16:
    return kInt16;
  case ElementKind::U16:
    return kUInt16;
  case ElementKind::U32:
    return kUInt32;
  case ElementKind::U64:
    return kUInt64;
  }
  return kUndefined;
}

/// Element i of an integer or bool array, widened to int64.
static int64_t intElement(const HostArray &array, int64_t i) {
  switch (array.kind()) {
  case ElementKind::I64:
    return array.as<int64_t>()[i];
  case ElementKind::I32:
    return array.as<int32_t>()[i];
  case ElementKind::I8:
    return array.as<int8_t>()[i];
  case ElementKind::I16:
    return array.as<int16_t>()[i];
  case ElementKind::U16:
    return array.as<uint16_t>()[i];
  case ElementKind::U32:
    return array.as<uint32_t>()[i];
  case ElementKind::U64: // values past INT64_MAX wrap, as ONNX's int64 shape inputs would
    return static_cast<int64_t>(array.as<uint64_t>()[i]);
  default: // U8, Bool
    return array.as<uint8_t>()[i];
  }
}

/// Element i of a float array, widened to double.
static double floatElement(const HostArray &array, int64_t i, int32_t dtype) {
  switch (array.kind()) {
  case ElementKind::F64:
    return array.as<double>()[i];
  case ElementKind::F32:
    return array.as<float>()[i];
  case ElementKind::F16:
  case ElementKind::BF16:
    return decodeFloatBits(array.as<uint16_t>()[i], dtype);
  default: // the fp8 types
    return decodeFloatBits(array.as<uint8_t>()[i], dtype);
  }
}

FailureOr<HostTensor> mpc::importer::hostTensorOf(const HostArray &array, StringRef what,
                                                  std::string &error) {
  int64_t count = array.numElements();
  if (count > kMaxHostElements) {
    error = (what + " has " + Twine(count) + " elements, more than a shape input can hold (" +
             Twine(kMaxHostElements) + ")")
                .str();
    return failure();
  }
  HostTensor host;
  host.dtype = dtypeOfKind(array.kind());
  host.shape.assign(array.shape().begin(), array.shape().end());
  for (int64_t i = 0; i < count; ++i) {
    if (host.isFloat())
      host.floats.push_back(floatElement(array, i, host.dtype));
    else
      host.ints.push_back(intElement(array, i));
  }
  return host;
}

LogicalResult GraphImporter::importInputValue(const onnx::ValueInfoProto &input) {
  const std::string &name = input.name();
  Location loc = namedLoc(name);
  std::string message;
  FailureOr<HostTensor> host = hostTensorOf(*options.inputValue(name),
                                            "the value of graph input '" + name + "'", message);
  if (failed(host))
    return error(loc) << message;
  const onnx::TypeProto::Tensor &declared = input.type().tensor_type();
  if (declared.elem_type() != kUndefined && declared.elem_type() != host->dtype)
    return error(loc) << "graph input '" << name << "' is declared as "
                      << dtypeName(declared.elem_type()) << ", but the value given for it ("
                      << options.inputValueFlag << ") holds " << dtypeName(host->dtype);
  if (declared.has_shape()) {
    const auto &dims = declared.shape().dim();
    bool matches = dims.size() == int(host->shape.size());
    for (int i = 0; matches && i < dims.size(); ++i)
      matches = !dims[i].has_dim_value() || dims[i].dim_value() == host->shape[i];
    if (!matches)
      return error(loc) << "graph input '" << name << "': the value given for it ("
                        << options.inputValueFlag << ") has shape " << shapeString(host->shape)
                        << ", which does not match the shape the model declares";
  }
  auto slot = std::make_shared<ValueSlot>();
  slot->host = std::move(*host);
  slot->loc = loc;
  slot->nodeName = name;
  return define(name, std::move(slot), loc);
}

SmallVector<std::string> GraphImporter::graphInputsOf(Value value) const {
  llvm::SetVector<Value> pending;
  pending.insert(value);
  SmallVector<std::string> names;
  // Every value is visited once; the walk ends at arguments and at ops
  // without operands (parameters, constants).
  for (size_t next = 0; next < pending.size(); ++next) {
    Value v = pending[next];
    if (auto arg = dyn_cast<BlockArgument>(v)) {
      auto func = cast<func::FuncOp>(arg.getOwner()->getParentOp());
      if (auto name = func.getArgAttrOfType<StringAttr>(arg.getArgNumber(), mpc::kIONameAttr))
        names.push_back(name.str());
      continue;
    }
    for (Value operand : v.getDefiningOp()->getOperands())
      pending.insert(operand);
  }
  return names;
}

bool GraphImporter::requestValues(ArrayRef<std::string> names,
                                  SmallVectorImpl<std::string> &missing) {
  for (const std::string &name : names)
    if (!options.inputValue || !options.inputValue(name))
      missing.push_back(name);
  if (!missing.empty())
    return false;
  requested.insert(requested.end(), names.begin(), names.end());
  return true;
}

LogicalResult NodeImporter::requireConstant(size_t i, StringRef what) {
  if (isConstant(i))
    return success();
  const ValueSlot &slot = *inputs[i];
  SmallVector<std::string> sources;
  if (slot.value)
    sources = graph.graphInputsOf(slot.value);
  if (sources.empty())
    return error() << what << " (input '" << node.input(int(i))
                   << "') must be a constant: an initializer, a Constant node or a shape "
                      "computation the importer can fold; data-dependent "
                   << what << " is not supported";
  SmallVector<std::string> missing;
  if (graph.requestValues(sources, missing))
    return failure(); // no error: the import starts again with these values
  InFlightDiagnostic diag = error() << what << " (input '" << node.input(int(i)) << "') ";
  if (sources.size() == 1 && sources.front() == node.input(int(i)))
    diag << "is a graph input";
  else
    diag << "is computed from graph input" << (sources.size() > 1 ? "s" : "") << " '"
         << llvm::join(sources, "', '") << "'";
  diag << ", whose value decides a shape; mpc compiles static shapes, so give the value and the "
          "program is specialized on it:";
  for (const std::string &name : missing)
    diag << " " << graph.inputValueFlag() << " " << name << "=FILE.npy";
  return diag;
}

//===----------------------------------------------------------------------===//
// Public API
//===----------------------------------------------------------------------===//

bool mpc::readInputValue(StringRef spec, StringRef flag, InputValues &values, std::string &error) {
  auto [name, file] = spec.rsplit('=');
  if (!spec.contains('=') || name.empty() || file.empty()) {
    error = (flag + " expects NAME=FILE.npy, got '" + spec + "'").str();
    return false;
  }
  if (values.count(name.str())) {
    error = (flag + " '" + name + "' is given twice").str();
    return false;
  }
  HostArray array;
  std::string message;
  if (!runtime::readNpy(file.str(), array, message)) {
    error = (flag + " '" + name + "': " + message).str();
    return false;
  }
  values.emplace(name.str(), std::move(array));
  return true;
}

void mpc::useInputValues(ONNXImportOptions &options, const InputValues &values, StringRef flag) {
  options.inputValueFlag = flag.str();
  options.inputValue = [&values](StringRef name) -> const HostArray * {
    auto it = values.find(name.str());
    return it == values.end() ? nullptr : &it->second;
  };
}

std::vector<std::string> mpc::inputsTakenAsValues(ModuleOp module) {
  std::vector<std::string> names;
  if (auto taken = module->getAttrOfType<ArrayAttr>(kInputValuesAttr))
    for (auto name : taken.getAsRange<StringAttr>())
      names.push_back(name.str());
  return names;
}

std::string mpc::unusedInputValue(ModuleOp module, const InputValues &values, StringRef flag) {
  std::vector<std::string> taken = inputsTakenAsValues(module);
  for (const auto &[name, array] : values)
    if (!llvm::is_contained(taken, name))
      return (flag + " '" + name + "': the model has no graph input of that name whose value " +
              "decides a shape (inputs that only carry data stay inputs of the program); drop it")
          .str();
  return "";
}
