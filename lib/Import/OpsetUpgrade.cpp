//===- OpsetUpgrade.cpp - older opsets through ONNX's version converter ---===//
//
// Models saved below kMinOpset are upgraded to kMinOpset with ONNX's own
// version converter, and the result is imported like any opset-13 model.
// The converter assumes a valid model: ONNX's checker runs first (it names
// the node it objects to), after a check of what the checker leaves out and
// the converter would crash on. Both report by throwing; that becomes
// an error naming the model and the node.
//
//===----------------------------------------------------------------------===//
#include "Importer.h"

#include "onnx/checker.h"
#include "onnx/shape_inference/implementation.h"
#include "onnx/version_converter/convert.h"

#include <exception>
#include <unordered_set>

using namespace mlir;
using namespace mpc::importer;

/// The default-domain opset the model imports, if any.
static std::optional<int64_t> defaultOpset(const onnx::ModelProto &model) {
  std::optional<int64_t> version;
  for (const onnx::OperatorSetIdProto &entry : model.opset_import())
    if (entry.domain().empty() || entry.domain() == "ai.onnx")
      version = entry.version();
  return version;
}

/// The checker's or converter's message on one line, without an
/// assertion's source position ("./onnx/...h:66: adapter_lookup: Assertion
/// `false` failed: No Adapter ...").
static std::string converterMessage(StringRef what) {
  size_t failed = what.find("failed: ");
  if (failed != StringRef::npos)
    what = what.drop_front(failed + 8);
  SmallVector<StringRef> lines;
  what.split(lines, '\n', /*MaxSplit=*/-1, /*KeepEmpty=*/false);
  std::string message;
  for (StringRef line : lines)
    if (!line.trim().empty())
      message += (message.empty() ? "" : " ") + line.trim().str();
  return message;
}

/// What of the graph's wiring the converter assumes without checking (its
/// graph import dereferences the producer of every value read): each node
/// input and graph output is defined before it is used, here or in an
/// enclosing graph. Empty when the wiring holds.
static std::string wiringProblem(const onnx::GraphProto &graph,
                                 std::unordered_set<std::string> defined) {
  for (const onnx::ValueInfoProto &input : graph.input())
    defined.insert(input.name());
  for (const onnx::TensorProto &initializer : graph.initializer())
    defined.insert(initializer.name());
  for (const onnx::NodeProto &node : graph.node()) {
    for (const std::string &input : node.input())
      if (!input.empty() && !defined.count(input))
        return "node '" + node.name() + "' (" + node.op_type() + ") reads '" + input +
               "', which nothing defined before it";
    for (const onnx::AttributeProto &attr : node.attribute()) {
      std::vector<const onnx::GraphProto *> bodies;
      if (attr.has_g())
        bodies.push_back(&attr.g());
      for (const onnx::GraphProto &body : attr.graphs())
        bodies.push_back(&body);
      for (const onnx::GraphProto *body : bodies) {
        std::string problem = wiringProblem(*body, defined);
        if (!problem.empty())
          return problem;
      }
    }
    for (const std::string &output : node.output())
      defined.insert(output);
  }
  for (const onnx::ValueInfoProto &output : graph.output())
    if (!defined.count(output.name()))
      return "graph output '" + output.name() + "' is not computed by the graph";
  return "";
}

/// ONNX's checker's objection to `model`, empty when it has none.
static std::string checkerProblem(const onnx::ModelProto &model) {
  try {
    onnx::checker::check_model(model);
    return "";
  } catch (const std::exception &e) {
    return converterMessage(e.what());
  }
}

/// The converter's message for `model`, empty when it converts.
static std::string conversionProblem(const onnx::ModelProto &model) {
  try {
    onnx::version_conversion::ConvertVersion(model, int(kMinOpset));
    return "";
  } catch (const std::exception &e) {
    return converterMessage(e.what());
  }
}

/// The first `count` nodes as a model of their own, returning what the last
/// one computes: graph order is topological, so the prefix is a valid graph.
static onnx::ModelProto graphPrefix(const onnx::ModelProto &model, int count) {
  onnx::ModelProto prefix = model;
  onnx::GraphProto *graph = prefix.mutable_graph();
  graph->mutable_node()->DeleteSubrange(count, graph->node_size() - count);
  graph->clear_output();
  for (const std::string &name : graph->node(count - 1).output())
    if (!name.empty())
      graph->add_output()->set_name(name);
  return prefix;
}

/// The node the converter stopped at, as `'name' (OpType)`, or empty. Its
/// messages rarely name the node ("Attribute spatial must have value 1"),
/// but it converts in graph order: the shortest prefix of the graph that
/// fails with the same message ends at that node (bisection; this runs only
/// after a failure).
static std::string blamedNode(const onnx::ModelProto &model, const std::string &problem) {
  int low = 1, high = model.graph().node_size();
  if (high == 0 || conversionProblem(graphPrefix(model, high)) != problem)
    return "";
  while (low < high) {
    int mid = low + (high - low) / 2;
    if (conversionProblem(graphPrefix(model, mid)) == problem)
      high = mid;
    else
      low = mid + 1;
  }
  const onnx::NodeProto &node = model.graph().node(high - 1);
  std::string name =
      node.name().empty() ? node.op_type() + "_" + std::to_string(high - 1) : node.name();
  return "node '" + name + "' (" + node.op_type() + ")";
}

/// Upsample (and Resize before opset 11) place output sample x at x / scale
/// in the input ("asymmetric"); Upsample's nearest takes the floor of that.
/// The converter makes them Resize-13 nodes without those attributes, whose
/// defaults (half_pixel, round_prefer_floor) shift linear samples. Per
/// Upsample or Resize node of the graph, in order: its name (the converter
/// drops an Upsample's) and the attributes that keep the old meaning (none
/// for an old Resize's nearest: opset 10 rounds down when upsampling and up
/// when downsampling, which one attribute cannot say).
struct ResizeSemantics {
  std::string name;
  std::vector<std::pair<std::string, std::string>> attrs;
};

static std::vector<ResizeSemantics> resizeSemantics(const onnx::GraphProto &graph) {
  std::vector<ResizeSemantics> semantics;
  for (const onnx::NodeProto &node : graph.node()) {
    if (node.op_type() != "Upsample" && node.op_type() != "Resize")
      continue;
    std::string mode = "nearest";
    for (const onnx::AttributeProto &attr : node.attribute())
      if (attr.name() == "mode")
        mode = attr.s();
    ResizeSemantics &entry = semantics.emplace_back();
    entry.name = node.name();
    if (mode == "nearest" && node.op_type() == "Resize")
      continue;
    entry.attrs.emplace_back("coordinate_transformation_mode", "asymmetric");
    if (mode == "nearest")
      entry.attrs.emplace_back("nearest_mode", "floor");
  }
  return semantics;
}

/// Gives the converted Resize nodes what resizeSemantics recorded (the
/// converter keeps the nodes' order and adds no other Resize).
static void keepResizeSemantics(onnx::GraphProto &graph,
                                const std::vector<ResizeSemantics> &semantics) {
  std::vector<onnx::NodeProto *> resizes;
  for (onnx::NodeProto &node : *graph.mutable_node())
    if (node.op_type() == "Resize")
      resizes.push_back(&node);
  if (resizes.size() != semantics.size())
    return;
  for (size_t i = 0; i < resizes.size(); ++i) {
    if (resizes[i]->name().empty())
      resizes[i]->set_name(semantics[i].name);
    for (const auto &[name, value] : semantics[i].attrs) {
      onnx::AttributeProto *attr = resizes[i]->add_attribute();
      attr->set_name(name);
      attr->set_type(onnx::AttributeProto::STRING);
      attr->set_s(value);
    }
  }
}

static const UpgradedOpInfo kUpgradedOps[] = {
    {"Scatter", 9, 10, "ScatterElements (same inputs and axis)"},
    {"Upsample", 7, 9, "Resize (scales; nearest or linear, asymmetric coordinates as Upsample's)"},
};

ArrayRef<UpgradedOpInfo> mpc::importer::upgradedOps() { return kUpgradedOps; }

FailureOr<int64_t> mpc::importer::upgradeOpset(onnx::ModelProto &model, StringRef sourceName,
                                               Location loc) {
  std::optional<int64_t> version = defaultOpset(model);
  if (!version || *version >= kMinOpset || *version < 1)
    return int64_t(0);
  // A newer ONNX may save an old-opset model with a newer IR version, which
  // the checker of the ONNX mpc links refuses; the models of opsets below 13
  // use nothing of the IR versions after it.
  if (model.ir_version() > onnx::Version::IR_VERSION)
    model.set_ir_version(onnx::Version::IR_VERSION);
  std::string problem = wiringProblem(model.graph(), {});
  if (problem.empty())
    problem = checkerProblem(model);
  std::string node;
  if (problem.empty()) {
    try {
      // Softmax's adapter needs its input's rank, which the converter does
      // not infer itself.
      onnx::shape_inference::InferShapes(model);
      std::vector<ResizeSemantics> semantics;
      if (*version <= 10)
        semantics = resizeSemantics(model.graph());
      model = onnx::version_conversion::ConvertVersion(model, int(kMinOpset));
      keepResizeSemantics(*model.mutable_graph(), semantics);
      return *version;
    } catch (const std::exception &e) {
      problem = converterMessage(e.what());
    }
    node = blamedNode(model, problem);
  }
  InFlightDiagnostic diag = emitError(loc)
                            << sourceName << ": opset " << *version
                            << " of the default ONNX domain is below " << kMinOpset
                            << " and ONNX's version converter could not upgrade the model";
  if (!node.empty())
    diag << ": " << node;
  return diag << " (" << problem << ")";
}
