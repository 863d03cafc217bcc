//===- PrecisionReport.cpp - collect the precision report -----------------===//
//
// Everything the writers show is computed here, once: the rows, the dataflow
// graph and the estimates (FLOPs, bytes, roofline time).
//
//===----------------------------------------------------------------------===//
#include "mpc/Precision/PrecisionReport.h"
#include "PrecisionAttrs.h"

#include "mpc/Dialect/MpcDialect.h"

#include "mlir/Interfaces/FunctionInterfaces.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/SmallPtrSet.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/Path.h"

#include <algorithm>
#include <set>

using namespace mlir;

namespace mpc {

const RooflineModel &getRooflineModel() {
  // Dense datasheet peaks of an H100 SXM, the class of GPU mpc-compile
  // targets: f32 GEMMs on the CUDA cores (PyTorch's default, no TF32), 16-
  // and 8-bit GEMMs on the tensor cores; HBM3 bandwidth.
  static const RooflineModel model{67e12, 989e12, 1979e12, 67e12, 3.35e12};
  return model;
}

static std::string printed(Type type) {
  if (!type)
    return "-";
  std::string text;
  llvm::raw_string_ostream os(text);
  type.print(os);
  return text;
}

/// Elements of a static shape (1 for a scalar); nullopt when not static, so
/// that dynamic shapes give no estimate rather than a wrong one.
static std::optional<int64_t> staticElements(Type type) {
  auto shaped = dyn_cast<ShapedType>(type);
  if (!shaped)
    return type.isIntOrIndexOrFloat() ? std::optional<int64_t>(1) : std::nullopt;
  if (!shaped.hasStaticShape())
    return std::nullopt;
  return shaped.getNumElements();
}

static int64_t elementsOr0(Type type) { return staticElements(type).value_or(0); }

/// Storage per element: whole bytes, as tensors of i1 take a byte each.
static int64_t elementBytes(Type element) {
  if (element.isIntOrFloat())
    return (element.getIntOrFloatBitWidth() + 7) / 8;
  return element.isIndex() ? 8 : 0;
}

/// The ONNX node name when the importer kept one; a name location otherwise.
static std::string nodeName(Operation *op) {
  if (auto read = dyn_cast<GetParameterOp>(op))
    return ("@" + read.getNameAttr().getValue()).str();
  if (auto node = op->getAttrOfType<StringAttr>(kNodeNameAttr))
    return node.str();
  Location loc = op->getLoc();
  if (auto fused = dyn_cast<FusedLoc>(loc))
    for (Location part : fused.getLocations())
      if (isa<NameLoc>(part)) {
        loc = part;
        break;
      }
  if (auto name = dyn_cast<NameLoc>(loc))
    return name.getName().str();
  return "-";
}

static int64_t bytesOf(Type type, Type element) { return elementsOr0(type) * elementBytes(element); }

/// Bytes of the values an op touches, with its float values in `precision`
/// (the ones mpc-insert-casts retypes), or as they are when it is null.
struct Traffic {
  int64_t read = 0, written = 0;
};
static Traffic trafficAt(Operation *op, FloatType precision) {
  auto at = [&](Type type) {
    Type element = getElementTypeOrSelf(type);
    return bytesOf(type, precision && isa<FloatType>(element) ? precision : element);
  };
  Traffic traffic;
  SmallVector<unsigned> precisionOperands = getPrecisionOperands(op);
  for (OpOperand &operand : op->getOpOperands()) {
    Type type = operand.get().getType();
    traffic.read += llvm::is_contained(precisionOperands, operand.getOperandNumber())
                        ? at(type)
                        : bytesOf(type, getElementTypeOrSelf(type));
  }
  for (Type type : op->getResultTypes())
    traffic.written += at(type);
  return traffic;
}

static double rooflineTime(int64_t flops, bool gemm, FloatType precision, int64_t bytes) {
  const RooflineModel &model = getRooflineModel();
  double rate = model.vectorFlopsPerSecond;
  if (gemm && precision)
    rate = precision.getWidth() <= 8    ? model.gemmFlopsPerSecond8
           : precision.getWidth() <= 16 ? model.gemmFlopsPerSecond16
                                        : model.gemmFlopsPerSecondF32;
  return std::max(double(flops) / rate, double(bytes) / model.bytesPerSecond);
}

static std::map<std::string, std::string> decisionDetails(Operation *op) {
  std::map<std::string, std::string> details;
  for (NamedAttribute attr : op->getDiscardableAttrs()) {
    StringRef name = attr.getName().getValue();
    if (!name.consume_front("mpc.") || attr.getName() == kNodeNameAttr ||
        attr.getName() == kPrecisionAttr || attr.getName() == kReasonAttr)
      continue;
    std::string text;
    if (auto str = dyn_cast<StringAttr>(attr.getValue())) {
      text = str.str();
    } else {
      llvm::raw_string_ostream os(text);
      attr.getValue().print(os);
    }
    details[name.str()] = text;
  }
  return details;
}

static void estimate(Operation *op, PrecisionReportRow &row) {
  if (auto precisionOp = dyn_cast<PrecisionOpInterface>(op)) {
    row.gemmFlops = precisionOp.getGemmFlops();
    row.flops = precisionOp.getFlops();
  }
  // Sources (parameter reads, constants) hold the same f32 data either way
  // and move nothing: what reads them pays for the traffic.
  if (op->getNumOperands() == 0)
    return;
  FloatType assigned = getAssignedPrecision(op);
  Traffic mixed = trafficAt(op, assigned);
  Traffic f32 = trafficAt(op, Float32Type::get(op->getContext()));
  row.activationBytes = mixed.written;
  row.activationBytesF32 = f32.written;
  FloatType computed = assigned;
  if (!computed)
    if (auto precisionOp = dyn_cast<PrecisionOpInterface>(op))
      computed = dyn_cast_or_null<FloatType>(precisionOp.getComputeType());
  bool gemm = row.gemmFlops > 0;
  row.time = rooflineTime(row.flops, gemm, computed, mixed.read + mixed.written);
  row.timeF32 = rooflineTime(row.flops, gemm, Float32Type::get(op->getContext()),
                             f32.read + f32.written);
}

static PrecisionReportRow collectRow(Operation *op) {
  PrecisionReportRow row;
  if (auto function = op->getParentOfType<FunctionOpInterface>())
    row.function = function.getName().str();
  else
    row.function = "-";
  row.node = nodeName(op);
  row.op = op->getName().getStringRef().str();
  auto precisionOp = dyn_cast<PrecisionOpInterface>(op);
  Type precision = getAssignedPrecision(op);
  if (!precision && precisionOp)
    precision = precisionOp.getComputeType();
  // A source (a parameter read) computes nothing: it is what it produces.
  if (!precision && op->getNumResults() > 0)
    precision = dyn_cast<FloatType>(getElementTypeOrSelf(op->getResult(0).getType()));
  row.precision = printed(precision);
  row.lowPrecision = isLowPrecision(precision);
  Type accumulator;
  if (auto acc = op->getAttrOfType<TypeAttr>("acc_type"))
    accumulator = acc.getValue();
  else if (precisionOp && precisionOp.accumulates() && precisionOp.getComputeType())
    accumulator = precisionOp.getAccumulatorType();
  row.accumulator = printed(accumulator);
  row.category = precisionOp ? stringifyPrecisionCategory(precisionOp.getPrecisionCategory()).str()
                             : std::string("-");
  auto reason = op->getAttrOfType<StringAttr>(kReasonAttr);
  row.reason = reason ? reason.str() : "-";
  row.details = decisionDetails(op);

  llvm::SmallPtrSet<Operation *, 4> castsIn, castsOut;
  for (Value operand : op->getOperands())
    if (auto cast = operand.getDefiningOp<CastOp>())
      castsIn.insert(cast);
  for (Operation *user : op->getUsers())
    if (isa<CastOp>(user))
      castsOut.insert(user);
  row.castsIn = castsIn.size();
  row.castsOut = castsOut.size();
  estimate(op, row);
  return row;
}

namespace {

/// Builds the graph while the rows are collected, so that a node can point
/// at its row.
class GraphBuilder {
public:
  explicit GraphBuilder(PrecisionReport &report) : report(report) {}

  void addFunction(FunctionOpInterface function);
  void addOp(Operation *op, std::optional<size_t> row);

private:
  size_t addNode(PrecisionReportNode node) {
    report.nodes.push_back(std::move(node));
    return report.nodes.size() - 1;
  }

  PrecisionReport &report;
  llvm::DenseMap<Value, size_t> producers;
  std::set<std::pair<size_t, size_t>> edges;
};

void GraphBuilder::addFunction(FunctionOpInterface function) {
  if (function.isExternal())
    return;
  for (BlockArgument arg : function.getArguments()) {
    PrecisionReportNode node;
    node.kind = PrecisionReportNode::Kind::Input;
    node.function = function.getName().str();
    auto name = function.getArgAttrOfType<StringAttr>(arg.getArgNumber(), kIONameAttr);
    node.label = name ? name.str() : "%arg" + std::to_string(arg.getArgNumber());
    node.precision = printed(getElementTypeOrSelf(arg.getType()));
    producers[arg] = addNode(std::move(node));
  }
}

void GraphBuilder::addOp(Operation *op, std::optional<size_t> row) {
  auto function = op->getParentOfType<FunctionOpInterface>();
  if (!function)
    return;
  PrecisionReportNode node;
  node.function = function.getName().str();
  node.row = row;
  if (row) {
    node.label = report.rows[*row].op;
    node.precision = report.rows[*row].precision;
  } else if (isa<CastOp>(op)) {
    node.kind = PrecisionReportNode::Kind::Cast;
    node.label = printed(getElementTypeOrSelf(op->getOperand(0).getType())) + " -> " +
                 printed(getElementTypeOrSelf(op->getResult(0).getType()));
    node.precision = printed(getElementTypeOrSelf(op->getResult(0).getType()));
  } else if (op->hasTrait<OpTrait::ReturnLike>() && op->getParentOp() == function) {
    node.kind = PrecisionReportNode::Kind::Output;
    node.label = "return";
    node.precision = "-";
  } else {
    node.label = op->getName().getStringRef().str();
    node.precision = op->getNumResults() ? printed(getElementTypeOrSelf(op->getResult(0).getType()))
                                         : std::string("-");
  }
  bool isCast = node.kind == PrecisionReportNode::Kind::Cast;
  size_t id = addNode(std::move(node));
  for (Value operand : op->getOperands()) {
    auto producer = producers.find(operand);
    if (producer == producers.end() || !edges.insert({producer->second, id}).second)
      continue;
    bool fromCast = report.nodes[producer->second].kind == PrecisionReportNode::Kind::Cast;
    report.edges.push_back({producer->second, id, isCast || fromCast});
  }
  for (Value result : op->getResults())
    producers[result] = id;
}

} // namespace

PrecisionReport collectPrecisionReport(ModuleOp module) {
  PrecisionReport report;
  report.notes = getPolicyNotes(module);
  if (auto opset = module->getAttrOfType<IntegerAttr>(kUpgradedFromOpsetAttr))
    report.notes.insert(report.notes.begin(),
                        "the model was saved at ONNX opset " + std::to_string(opset.getInt()) +
                            " and upgraded with ONNX's version converter at import");
  GraphBuilder graph(report);
  const RooflineModel &model = getRooflineModel();
  module->walk<WalkOrder::PreOrder>([&](Operation *op) {
    if (auto function = dyn_cast<FunctionOpInterface>(op)) {
      graph.addFunction(function);
      return;
    }
    if (isa<CastOp>(op)) {
      ++report.numCasts;
      // A cast is pure overhead of mixed precision: its result is one more
      // tensor to store, and it reads and writes at memory speed.
      Traffic traffic = trafficAt(op, FloatType());
      double time = double(traffic.read + traffic.written) / model.bytesPerSecond;
      report.castBytes += traffic.written;
      report.castTime += time;
      report.time += time;
      graph.addOp(op, std::nullopt);
      return;
    }
    if (!isa<PrecisionOpInterface>(op) && !op->hasAttr(kPrecisionAttr)) {
      if (!isa<ModuleOp>(op))
        graph.addOp(op, std::nullopt);
      return;
    }
    PrecisionReportRow row = collectRow(op);
    ++report.opsPerPrecision[row.precision];
    report.gemmFlops += row.gemmFlops;
    report.flops += row.flops;
    if (row.lowPrecision) {
      report.lowPrecisionGemmFlops += row.gemmFlops;
      report.lowPrecisionFlops += row.flops;
    }
    report.activationBytes += row.activationBytes;
    report.activationBytesF32 += row.activationBytesF32;
    report.time += row.time;
    report.timeF32 += row.timeF32;
    report.rows.push_back(std::move(row));
    graph.addOp(op, report.rows.size() - 1);
  });
  return report;
}

std::optional<PrecisionReportFormat> precisionReportFormatFor(StringRef path) {
  if (path == "-")
    return PrecisionReportFormat::Text;
  return llvm::StringSwitch<std::optional<PrecisionReportFormat>>(
             llvm::sys::path::extension(path).lower())
      .Case(".txt", PrecisionReportFormat::Text)
      .Case(".json", PrecisionReportFormat::JSON)
      .Case(".dot", PrecisionReportFormat::Dot)
      .Case(".html", PrecisionReportFormat::HTML)
      .Default(std::nullopt);
}

StringRef precisionColor(StringRef precision) {
  // Blue for full precision, oranges for 16 bits, red-violet for 8 bits:
  // the eye finds the low-precision regions first.
  if (precision == "f32" || precision == "f64")
    return "#9ecae1";
  if (precision == "bf16")
    return "#fd8d3c";
  if (precision == "f16")
    return "#fdbe85";
  if (precision.starts_with("f8"))
    return "#e377c2";
  return "#e0e0e0";
}

} // namespace mpc
