//===- NodeImporter.cpp - per-node access for the op importers ------------===//
#include "Importer.h"

#include "mlir/IR/Matchers.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/Endian.h"

using namespace mlir;
using namespace mpc::importer;

//===----------------------------------------------------------------------===//
// Types and tensors
//===----------------------------------------------------------------------===//

Type mpc::importer::elementTypeFor(int32_t dtype, MLIRContext *context) {
  switch (dtype) {
  case kFloat:
    return Float32Type::get(context);
  case kDouble:
    return Float64Type::get(context);
  case kFloat16:
    return Float16Type::get(context);
  case kBFloat16:
    return BFloat16Type::get(context);
  case kFloat8E4M3FN:
    return Float8E4M3FNType::get(context);
  case kFloat8E5M2:
    return Float8E5M2Type::get(context);
  case kInt64:
    return IntegerType::get(context, 64);
  case kInt32:
    return IntegerType::get(context, 32);
  case kInt16:
    return IntegerType::get(context, 16);
  case kInt8:
    return IntegerType::get(context, 8);
  case kUInt64:
    return IntegerType::get(context, 64, IntegerType::Unsigned);
  case kUInt32:
    return IntegerType::get(context, 32, IntegerType::Unsigned);
  case kUInt16:
    return IntegerType::get(context, 16, IntegerType::Unsigned);
  case kUInt8:
    return IntegerType::get(context, 8, IntegerType::Unsigned);
  case kBool:
    return IntegerType::get(context, 1);
  default:
    return nullptr;
  }
}

int32_t mpc::importer::dtypeFor(Type type) {
  if (type.isF32())
    return kFloat;
  if (type.isF64())
    return kDouble;
  if (type.isF16())
    return kFloat16;
  if (type.isBF16())
    return kBFloat16;
  if (isa<Float8E4M3FNType>(type))
    return kFloat8E4M3FN;
  if (isa<Float8E5M2Type>(type))
    return kFloat8E5M2;
  if (auto intType = dyn_cast<IntegerType>(type); intType && intType.isUnsigned()) {
    switch (intType.getWidth()) {
    case 8:
      return kUInt8;
    case 16:
      return kUInt16;
    case 32:
      return kUInt32;
    case 64:
      return kUInt64;
    default:
      return kUndefined;
    }
  }
  if (auto intType = dyn_cast<IntegerType>(type)) {
    switch (intType.getWidth()) {
    case 1:
      return kBool;
    case 8:
      return kInt8;
    case 16:
      return kInt16;
    case 32:
      return kInt32;
    case 64:
      return kInt64;
    default:
      break;
    }
  }
  return kUndefined;
}

std::string mpc::importer::typeName(Type elementType) {
  int32_t dtype = dtypeFor(elementType);
  if (dtype != kUndefined)
    return dtypeName(dtype);
  std::string text;
  llvm::raw_string_ostream os(text);
  os << elementType;
  return text;
}

std::string mpc::importer::shapeString(ArrayRef<int64_t> shape) {
  if (shape.empty())
    return "scalar";
  std::string s;
  for (auto [i, d] : llvm::enumerate(shape))
    s += (i ? "x" : "") + std::to_string(d);
  return s;
}

static int64_t intByteWidth(int32_t dtype) {
  switch (dtype) {
  case kInt64:
  case kUInt64:
    return 8;
  case kInt32:
  case kUInt32:
    return 4;
  case kInt16:
  case kUInt16:
    return 2;
  default:
    return 1;
  }
}

FailureOr<HostTensor> mpc::importer::readHostTensor(const onnx::TensorProto &tensor,
                                                    std::string &error) {
  if (tensor.data_location() == onnx::TensorProto::EXTERNAL) {
    error = "stores its data in an external file, which is not supported; save the model "
            "with its data inline (onnx.save_model(model, path, save_as_external_data=False))";
    return failure();
  }
  if (tensor.has_segment()) {
    error = "is segmented, which is not supported";
    return failure();
  }
  int32_t dtype = tensor.data_type();
  if (!isHostDType(dtype)) {
    error = "has unsupported data type " + dtypeName(dtype);
    return failure();
  }
  HostTensor host;
  host.dtype = dtype;
  for (int64_t d : tensor.dims())
    host.shape.push_back(d);
  int64_t n = checkedNumElements(host.shape);
  if (n < 0) {
    error = "has an invalid or too large shape";
    return failure();
  }
  bool isFloat = isFloatDType(dtype);
  int64_t width = isFloat ? floatByteWidth(dtype) : intByteWidth(dtype);
  auto sizeError = [&](int64_t found) {
    error = "holds " + std::to_string(found) + " values but its shape " + shapeString(host.shape) +
            " needs " + std::to_string(n);
    return failure();
  };
  if (tensor.has_raw_data()) {
    const std::string &raw = tensor.raw_data();
    if (int64_t(raw.size()) != n * width)
      return sizeError(int64_t(raw.size()) / width);
    const char *p = raw.data();
    for (int64_t i = 0; i < n; ++i, p += width) {
      uint64_t bits = 0;
      switch (width) {
      case 8:
        bits = llvm::support::endian::read64le(p);
        break;
      case 4:
        bits = llvm::support::endian::read32le(p);
        break;
      case 2:
        bits = llvm::support::endian::read16le(p);
        break;
      default:
        bits = uint8_t(*p);
        break;
      }
      if (isFloat) {
        host.floats.push_back(decodeFloatBits(bits, dtype));
      } else {
        // Sign-extend from the stored width; wrapToDType re-applies
        // signedness for unsigned types.
        int64_t v = width == 8 ? int64_t(bits) : llvm::SignExtend64(bits, unsigned(width * 8));
        host.ints.push_back(wrapToDType(v, dtype));
      }
    }
    return host;
  }
  switch (dtype) {
  case kFloat:
    if (tensor.float_data_size() != n)
      return sizeError(tensor.float_data_size());
    host.floats.assign(tensor.float_data().begin(), tensor.float_data().end());
    return host;
  case kDouble:
    if (tensor.double_data_size() != n)
      return sizeError(tensor.double_data_size());
    host.floats.assign(tensor.double_data().begin(), tensor.double_data().end());
    return host;
  case kInt64:
    if (tensor.int64_data_size() != n)
      return sizeError(tensor.int64_data_size());
    host.ints.assign(tensor.int64_data().begin(), tensor.int64_data().end());
    return host;
  case kUInt32:
  case kUInt64:
    if (tensor.uint64_data_size() != n)
      return sizeError(tensor.uint64_data_size());
    for (uint64_t v : tensor.uint64_data())
      host.ints.push_back(wrapToDType(int64_t(v), dtype));
    return host;
  default:
    // Everything narrower is stored in int32_data (floats as their bits).
    if (tensor.int32_data_size() != n)
      return sizeError(tensor.int32_data_size());
    for (int32_t v : tensor.int32_data()) {
      if (isFloat)
        host.floats.push_back(decodeFloatBits(uint32_t(v), dtype));
      else
        host.ints.push_back(wrapToDType(v, dtype));
    }
    return host;
  }
}

//===----------------------------------------------------------------------===//
// NodeImporter
//===----------------------------------------------------------------------===//

NodeImporter::Capture::Capture(MLIRContext *context)
    : handler(context, [this](Diagnostic &diag) {
        if (!text.empty())
          text += "; ";
        text += diag.str();
        return success();
      }) {}

NodeImporter::NodeImporter(GraphImporter &graph, const onnx::NodeProto &node, StringRef name,
                           int64_t opset)
    : graph(graph), node(node), nodeName(name.str()), opsetVersion(opset),
      location(NameLoc::get(StringAttr::get(graph.getContext(), name), graph.fileLoc())) {}

InFlightDiagnostic NodeImporter::error() {
  InFlightDiagnostic diag = emitError(location) << graph.getSourceName() << ": node '" << nodeName
                                                << "' (" << opType() << ", opset " << opsetVersion;
  int64_t saved = graph.upgradedFromOpset();
  if (saved && (node.domain().empty() || node.domain() == "ai.onnx"))
    diag << ", upgraded from the model's opset " << saved;
  diag << "): ";
  return diag;
}

LogicalResult NodeImporter::resolveInputs() {
  for (const std::string &input : node.input()) {
    if (input.empty()) {
      inputs.push_back(nullptr);
      continue;
    }
    SlotPtr slot = graph.lookup(input);
    if (!slot)
      return error() << "input '" << input
                     << "' is not a graph input, an initializer or the output of an earlier "
                        "node (nodes must be in topological order)";
    inputs.push_back(std::move(slot));
  }
  return success();
}

bool NodeImporter::isConstant(size_t i) const {
  if (!hasInput(i))
    return false;
  const ValueSlot &slot = *inputs[i];
  DenseElementsAttr constant;
  return slot.host || (slot.value && matchPattern(slot.value, m_Constant(&constant)));
}

bool NodeImporter::allConstant() const {
  for (size_t i = 0; i < inputs.size(); ++i)
    if (inputs[i] && !isConstant(i))
      return false;
  return true;
}

const HostTensor &NodeImporter::host(size_t i) const {
  ValueSlot &slot = *inputs[i];
  if (!slot.host) {
    DenseElementsAttr constant;
    (void)matchPattern(slot.value, m_Constant(&constant));
    slot.host = hostTensorOf(constant);
  }
  return *slot.host;
}

ArrayRef<int64_t> NodeImporter::shapeOf(size_t i) const {
  const ValueSlot &slot = *inputs[i];
  if (slot.host)
    return slot.host->shape;
  if (!slot.parameter.empty())
    return slot.parameterType.getShape();
  return cast<RankedTensorType>(slot.value.getType()).getShape();
}

int32_t NodeImporter::dtypeOf(size_t i) const {
  const ValueSlot &slot = *inputs[i];
  if (slot.host)
    return slot.host->dtype;
  if (!slot.parameter.empty())
    return dtypeFor(slot.parameterType.getElementType());
  return dtypeFor(cast<RankedTensorType>(slot.value.getType()).getElementType());
}

LogicalResult NodeImporter::require(size_t i, StringRef what) {
  if (hasInput(i))
    return success();
  return error() << "missing required input #" << i << " (" << what << ")";
}

FailureOr<Value> NodeImporter::value(size_t i) {
  if (failed(require(i, "operand")))
    return failure();
  return graph.materialize(*inputs[i], location, nodeName);
}

FailureOr<SmallVector<int64_t>> NodeImporter::hostInts(size_t i, StringRef what) {
  if (failed(require(i, what)) || failed(requireConstant(i, what)))
    return failure();
  const HostTensor &t = host(i);
  if (t.isFloat() || t.dtype == kBool || t.shape.size() > 1)
    return error() << what << " (input '" << node.input(int(i))
                   << "') must be a 1-D integer tensor, got " << dtypeName(t.dtype) << " of shape "
                   << shapeString(t.shape);
  return SmallVector<int64_t>(t.ints.begin(), t.ints.end());
}

FailureOr<HostTensor> NodeImporter::hostValues(size_t i, StringRef what) {
  if (failed(require(i, what)))
    return failure();
  if (isConstant(i))
    return host(i);
  if (DenseElementsAttr value = graph.parameterValue(inputs[i]->parameter))
    return hostTensorOf(value);
  // A graph input (or a value computed from one): its value is asked for and
  // the import restarts specialized on it, as for shapes read by hostInts.
  if (failed(requireConstant(i, what)))
    return failure();
  return host(i);
}

FailureOr<double> NodeImporter::hostScalar(size_t i, StringRef what) {
  if (failed(require(i, what)) || failed(requireConstant(i, what)))
    return failure();
  if (host(i).size() != 1)
    return error() << what << " (input '" << node.input(int(i))
                   << "') must hold exactly one value, got shape " << shapeString(host(i).shape);
  return host(i).getDouble(0);
}

//===----------------------------------------------------------------------===//
// Attributes
//===----------------------------------------------------------------------===//

static StringRef attrTypeName(int type) {
  switch (type) {
  case onnx::AttributeProto::FLOAT:
    return "a float";
  case onnx::AttributeProto::INT:
    return "an int";
  case onnx::AttributeProto::STRING:
    return "a string";
  case onnx::AttributeProto::TENSOR:
    return "a tensor";
  case onnx::AttributeProto::GRAPH:
    return "a graph";
  case onnx::AttributeProto::FLOATS:
    return "a list of floats";
  case onnx::AttributeProto::INTS:
    return "a list of ints";
  case onnx::AttributeProto::STRINGS:
    return "a list of strings";
  case onnx::AttributeProto::TENSORS:
    return "a list of tensors";
  case onnx::AttributeProto::GRAPHS:
    return "a list of graphs";
  case onnx::AttributeProto::SPARSE_TENSOR:
    return "a sparse tensor";
  default:
    return "of an unknown kind";
  }
}

const onnx::AttributeProto *NodeImporter::attr(StringRef name) const {
  for (const onnx::AttributeProto &a : node.attribute())
    if (a.name() == name)
      return &a;
  return nullptr;
}

/// Old exporters leave `type` unset; infer it from the one filled field.
static int attrType(const onnx::AttributeProto &a) {
  if (a.type() != onnx::AttributeProto::UNDEFINED)
    return a.type();
  if (a.has_i())
    return onnx::AttributeProto::INT;
  if (a.has_f())
    return onnx::AttributeProto::FLOAT;
  if (a.has_s())
    return onnx::AttributeProto::STRING;
  if (a.has_t())
    return onnx::AttributeProto::TENSOR;
  if (a.has_g())
    return onnx::AttributeProto::GRAPH;
  if (a.ints_size())
    return onnx::AttributeProto::INTS;
  if (a.floats_size())
    return onnx::AttributeProto::FLOATS;
  return onnx::AttributeProto::UNDEFINED;
}

/// The attribute if present and of `type`; failure after an error if of the
/// wrong type; nullptr when missing.
static FailureOr<const onnx::AttributeProto *> typedAttr(NodeImporter &n, StringRef name,
                                                         int type) {
  const onnx::AttributeProto *a = n.attr(name);
  if (!a)
    return static_cast<const onnx::AttributeProto *>(nullptr);
  if (!a->ref_attr_name().empty())
    return n.error() << "attribute '" << name
                     << "' refers to a function attribute; model-local functions are not "
                        "supported";
  if (attrType(*a) != type)
    return n.error() << "attribute '" << name << "' must be " << attrTypeName(type)
                     << ", but it is " << attrTypeName(attrType(*a));
  return a;
}

FailureOr<int64_t> NodeImporter::intAttr(StringRef name, std::optional<int64_t> dflt) {
  FailureOr<const onnx::AttributeProto *> a = typedAttr(*this, name, onnx::AttributeProto::INT);
  if (failed(a))
    return failure();
  if (*a)
    return (*a)->i();
  if (dflt)
    return *dflt;
  return error() << "missing required attribute '" << name << "'";
}

FailureOr<double> NodeImporter::floatAttr(StringRef name, std::optional<double> dflt) {
  FailureOr<const onnx::AttributeProto *> a = typedAttr(*this, name, onnx::AttributeProto::FLOAT);
  if (failed(a))
    return failure();
  if (*a)
    return double((*a)->f());
  // ONNX float attributes are float32, defaults included.
  if (dflt)
    return double(float(*dflt));
  return error() << "missing required attribute '" << name << "'";
}

FailureOr<std::string> NodeImporter::stringAttr(StringRef name, std::optional<std::string> dflt) {
  FailureOr<const onnx::AttributeProto *> a = typedAttr(*this, name, onnx::AttributeProto::STRING);
  if (failed(a))
    return failure();
  if (*a)
    return (*a)->s();
  if (dflt)
    return *dflt;
  return error() << "missing required attribute '" << name << "'";
}

FailureOr<std::optional<SmallVector<int64_t>>> NodeImporter::intsAttr(StringRef name) {
  const onnx::AttributeProto *raw = attr(name);
  // An empty list is serialized without a type hint by some exporters.
  if (raw && raw->type() == onnx::AttributeProto::UNDEFINED && attrType(*raw) == 0)
    return std::optional<SmallVector<int64_t>>(SmallVector<int64_t>{});
  FailureOr<const onnx::AttributeProto *> a = typedAttr(*this, name, onnx::AttributeProto::INTS);
  if (failed(a))
    return failure();
  if (!*a)
    return std::optional<SmallVector<int64_t>>();
  return std::optional<SmallVector<int64_t>>(
      SmallVector<int64_t>((*a)->ints().begin(), (*a)->ints().end()));
}

FailureOr<HostTensor> NodeImporter::tensorAttr(const onnx::AttributeProto &a) {
  std::string message;
  FailureOr<HostTensor> t = readHostTensor(a.t(), message);
  if (failed(t))
    return error() << "tensor attribute '" << a.name() << "' " << message;
  return t;
}

FailureOr<const onnx::GraphProto *> NodeImporter::graphAttr(StringRef name) {
  FailureOr<const onnx::AttributeProto *> a = typedAttr(*this, name, onnx::AttributeProto::GRAPH);
  if (failed(a))
    return failure();
  if (!*a)
    return error() << "missing required attribute '" << name << "'";
  return &(*a)->g();
}

//===----------------------------------------------------------------------===//
// Outputs
//===----------------------------------------------------------------------===//

bool NodeImporter::outputUsed(size_t i) const {
  return i < numOutputs() && !node.output(int(i)).empty() && graph.isConsumed(node.output(int(i)));
}

LogicalResult NodeImporter::setOutput(size_t i, Value value) {
  if (i >= numOutputs() || node.output(int(i)).empty())
    return success();
  auto slot = std::make_shared<ValueSlot>();
  slot->value = value;
  return graph.define(node.output(int(i)), std::move(slot), location);
}

LogicalResult NodeImporter::setOutput(size_t i, HostTensor host) {
  if (i >= numOutputs() || node.output(int(i)).empty())
    return success();
  auto slot = std::make_shared<ValueSlot>();
  slot->host = std::move(host);
  slot->loc = location;
  slot->nodeName = nodeName;
  return graph.define(node.output(int(i)), std::move(slot), location);
}

LogicalResult NodeImporter::setOutput(size_t i, SlotPtr slot) {
  if (i >= numOutputs() || node.output(int(i)).empty())
    return success();
  return graph.define(node.output(int(i)), std::move(slot), location);
}

LogicalResult NodeImporter::aliasOutput(size_t i, size_t j) {
  if (failed(require(j, "input")))
    return failure();
  if (i >= numOutputs() || node.output(int(i)).empty())
    return success();
  return graph.define(node.output(int(i)), inputs[j], location);
}

LogicalResult NodeImporter::rejectUsedOutputs(size_t first, StringRef what) {
  for (size_t i = first; i < numOutputs(); ++i)
    if (outputUsed(i))
      return error() << "output #" << i << " ('" << node.output(int(i)) << "', " << what
                     << ") is used, which is not supported; only output #0 can be used";
  return success();
}

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

FailureOr<int64_t> NodeImporter::normalizeAxis(int64_t axis, int64_t rank, StringRef what,
                                               bool inclusive) {
  int64_t hi = inclusive ? rank : rank - 1;
  if (axis < -rank || axis > hi)
    return error() << what << " " << axis << " is out of range [" << -rank << ", " << hi
                   << "] for a rank-" << rank << " tensor";
  return axis < 0 ? axis + rank : axis;
}

FailureOr<SmallVector<int64_t>> NodeImporter::normalizeAxes(ArrayRef<int64_t> axes, int64_t rank,
                                                            StringRef what) {
  SmallVector<int64_t> result;
  for (int64_t a : axes) {
    FailureOr<int64_t> axis = normalizeAxis(a, rank, what);
    if (failed(axis))
      return failure();
    result.push_back(*axis);
  }
  llvm::sort(result);
  if (std::adjacent_find(result.begin(), result.end()) != result.end())
    return error() << what << " repeats an axis";
  return result;
}

std::string NodeImporter::check(Operation *op, const std::string &captured) {
  auto fail = [&](std::string why) {
    op->erase();
    return captured.empty() ? why : why + ": " + captured;
  };
  if (auto infer = dyn_cast<InferTypeOpInterface>(op)) {
    SmallVector<Type> types;
    if (failed(infer.inferReturnTypes(getContext(), op->getLoc(), op->getOperands(),
                                      op->getRawDictionaryAttrs(), op->getPropertiesStorage(),
                                      op->getRegions(), types)) ||
        types.size() != op->getNumResults())
      return fail("invalid operands for '" + op->getName().getStringRef().str() + "'");
    for (auto [result, type] : llvm::zip(op->getResults(), types))
      result.setType(type);
  }
  op->setAttr(kNodeNameAttr, StringAttr::get(getContext(), nodeName));
  if (failed(verify(op, /*verifyRecursively=*/false)))
    return fail("invalid '" + op->getName().getStringRef().str() + "'");
  for (Type type : op->getResultTypes()) {
    auto tensor = dyn_cast<RankedTensorType>(type);
    if (!tensor || !tensor.hasStaticShape() || checkedNumElements(tensor.getShape()) < 0)
      return fail("'" + op->getName().getStringRef().str() +
                  "' would produce a tensor without a valid static shape");
  }
  return "";
}

Value NodeImporter::fold(Operation *op) {
  SmallVector<Value, 1> results;
  SmallVector<Operation *> constants;
  // An in-place fold (reshape of a reshape) keeps the op and gives no results.
  if (failed(builder().tryFold(op, results, &constants)) || results.empty())
    return op->getResult(0);
  op->erase();
  for (Operation *constant : constants)
    graph.adoptConstant(constant, nodeName);
  return results.front();
}

FailureOr<Value> NodeImporter::scalar(Type elementType, double value) {
  int32_t dtype = dtypeFor(elementType);
  if (dtype == kUndefined)
    return error() << "cannot make a constant of element type " << elementType;
  HostTensor t = isFloatDType(dtype) ? HostTensor::fromDoubles({value}, {}, dtype)
                                     : HostTensor::fromInts({int64_t(value)}, {}, dtype);
  return graph.makeConstant(t, location, nodeName);
}

FailureOr<Value> NodeImporter::reshape(Value input, ArrayRef<int64_t> shape) {
  auto type = cast<RankedTensorType>(input.getType());
  if (type.getShape() == shape)
    return input;
  std::string message;
  if (failed(shape::reshape(type.getShape(), shape, message)))
    return shapeError(message);
  return createOrFold<mpc::ReshapeOp>(inferred(), input, shape);
}

FailureOr<Value> NodeImporter::castTo(Value input, Type elementType) {
  auto type = cast<RankedTensorType>(input.getType());
  if (type.getElementType() == elementType)
    return input;
  return createOrFold<mpc::CastOp>(type.clone(elementType), input, true);
}

LogicalResult NodeImporter::shapeError(const std::string &message) { return error() << message; }
