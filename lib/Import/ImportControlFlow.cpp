//===- ImportControlFlow.cpp - If, with its branch chosen at import -------===//
//
// mpc compiles static graphs, so an If is resolved while importing: its
// condition must be known then (a constant, a folded shape computation, or
// computed from graph inputs whose values are given), and the branch it
// picks is imported inline. The other branch leaves no trace but the names
// of its nodes, recorded as folded away.
//
//===----------------------------------------------------------------------===//
#include "Importer.h"

#include "llvm/ADT/StringExtras.h"

using namespace mlir;
using namespace mpc::importer;

//===----------------------------------------------------------------------===//
// Subgraphs
//===----------------------------------------------------------------------===//

LogicalResult GraphImporter::importSubgraphInitializers(const onnx::GraphProto &body) {
  if (body.sparse_initializer_size())
    return error(fileLocation) << "sparse initializers are not supported; densify them first";
  for (const onnx::TensorProto &tensor : body.initializer()) {
    Location loc = namedLoc(tensor.name());
    if (tensor.name().empty())
      return error(fileLocation) << "an initializer of subgraph '" << body.name()
                                 << "' has no name";
    std::string message;
    FailureOr<HostTensor> host = readHostTensor(tensor, message);
    if (failed(host))
      return error(loc) << "initializer '" << tensor.name() << "' " << message;
    auto slot = std::make_shared<ValueSlot>();
    slot->host = std::move(*host);
    slot->loc = loc;
    slot->nodeName = tensor.name();
    if (failed(define(tensor.name(), std::move(slot), loc)))
      return failure();
  }
  return success();
}

/// The element type and shape a slot holds, for checking declared outputs.
static std::pair<int32_t, ArrayRef<int64_t>> slotType(const ValueSlot &slot) {
  if (slot.host)
    return {slot.host->dtype, slot.host->shape};
  auto type =
      slot.parameter.empty() ? cast<RankedTensorType>(slot.value.getType()) : slot.parameterType;
  return {dtypeFor(type.getElementType()), type.getShape()};
}

FailureOr<SmallVector<SlotPtr>>
GraphImporter::subgraphOutputs(const onnx::GraphProto &body, StringRef owner, StringRef attribute) {
  SmallVector<SlotPtr> outputs;
  for (const onnx::ValueInfoProto &output : body.output()) {
    SlotPtr slot = lookup(output.name());
    if (!slot)
      return error(namedLoc(owner))
             << "node '" << owner << "': output '" << output.name() << "' of subgraph '"
             << attribute << "' is not computed by it or the enclosing graph";
    auto [dtype, shape] = slotType(*slot);
    std::string problem = checkDeclaredOutput(output, dtype, shape);
    if (!problem.empty())
      return error(namedLoc(owner)) << "node '" << owner << "': output '" << output.name()
                                    << "' of subgraph '" << attribute << "' " << problem;
    outputs.push_back(std::move(slot));
  }
  return outputs;
}

void GraphImporter::endScope() {
  Scope ended = std::move(scopes.back());
  scopes.pop_back();
  for (const auto &name : ended.defined)
    values.erase(name.getKey());
  for (auto &entry : ended.shadowed)
    values[entry.getKey()] = entry.getValue();
}

FailureOr<SmallVector<SlotPtr>>
GraphImporter::importSubgraph(const onnx::GraphProto &body, StringRef owner, StringRef attribute) {
  if (body.input_size())
    return error(namedLoc(owner)) << "node '" << owner << "': subgraph '" << attribute
                                  << "' declares " << body.input_size()
                                  << " input(s); an If branch takes none";
  scopes.emplace_back();
  FailureOr<SmallVector<SlotPtr>> outputs = failure();
  if (succeeded(importSubgraphInitializers(body)) &&
      succeeded(importNodes(body, owner.str() + "/" + attribute.str())))
    outputs = subgraphOutputs(body, owner, attribute);
  endScope();
  return outputs;
}

void GraphImporter::skipSubgraph(const onnx::GraphProto &body, StringRef owner,
                                 StringRef attribute) {
  std::string scope = owner.str() + "/" + attribute.str();
  for (int index = 0; index < body.node_size(); ++index) {
    const onnx::NodeProto &node = body.node(index);
    std::string name = nodeName(node, index, scope);
    nodeNames.push_back(name);
    for (const onnx::AttributeProto &attr : node.attribute()) {
      if (attr.has_g())
        skipSubgraph(attr.g(), name, attr.name());
      for (const onnx::GraphProto &nested : attr.graphs())
        skipSubgraph(nested, name, attr.name());
    }
  }
}

//===----------------------------------------------------------------------===//
// If
//===----------------------------------------------------------------------===//

namespace {
/// The condition's value. A condition computed from graph inputs asks for
/// their values (the import then starts again specialized on them); one
/// known only at run time is an error.
FailureOr<bool> condition(NodeImporter &n) {
  if (failed(n.require(0, "cond")))
    return failure();
  if (!n.isConstant(0)) {
    FailureOr<Value> cond = n.value(0);
    if (failed(cond))
      return failure();
    SmallVector<std::string> sources = n.graph.graphInputsOf(*cond);
    SmallVector<std::string> missing;
    if (!sources.empty() && n.graph.requestValues(sources, missing))
      return failure(); // no error: the import starts again with these values
    InFlightDiagnostic diag = n.error() << "the condition is data-dependent: mpc compiles static "
                                           "graphs and imports only the branch an If takes, so "
                                           "its condition must be known at compile time";
    if (sources.empty())
      return diag << " (a constant, or a shape computation the importer can fold)";
    diag << "; it is computed from graph input" << (sources.size() > 1 ? "s" : "") << " '"
         << llvm::join(sources, "', '") << "': give the value and the program is specialized "
         << "on it:";
    for (const std::string &name : missing)
      diag << " " << n.graph.inputValueFlag() << " " << name << "=FILE.npy";
    return diag;
  }
  const HostTensor &cond = n.host(0);
  if (cond.size() != 1)
    return n.error() << "the condition must hold exactly one value, got shape "
                     << shapeString(cond.shape);
  if (cond.dtype != kBool)
    return n.error() << "the condition must be a bool tensor, got " << dtypeName(cond.dtype);
  return cond.getInt(0) != 0;
}

LogicalResult importIf(NodeImporter &n) {
  FailureOr<const onnx::GraphProto *> thenBranch = n.graphAttr("then_branch");
  FailureOr<const onnx::GraphProto *> elseBranch =
      failed(thenBranch) ? thenBranch : n.graphAttr("else_branch");
  FailureOr<bool> cond = failed(elseBranch) ? FailureOr<bool>(failure()) : condition(n);
  if (failed(cond))
    return failure();
  StringRef taken = *cond ? "then_branch" : "else_branch";
  const onnx::GraphProto &branch = **(*cond ? thenBranch : elseBranch);
  if (size_t(branch.output_size()) != n.numOutputs())
    return n.error() << taken << " has " << branch.output_size() << " output(s) but the node has "
                     << n.numOutputs();
  n.graph.skipSubgraph(**(*cond ? elseBranch : thenBranch), n.name(),
                       *cond ? "else_branch" : "then_branch");
  FailureOr<SmallVector<SlotPtr>> outputs = n.graph.importSubgraph(branch, n.name(), taken);
  if (failed(outputs))
    return failure();
  for (auto [i, slot] : llvm::enumerate(*outputs))
    if (failed(n.setOutput(i, slot)))
      return failure();
  return success();
}

const OpImportInfo kTable[] = {
    {"If", 13, kMaxOpset, importIf, "the taken branch, inline",
     "the condition must be known at import (a constant, folded, or from a graph input given "
     "with --onnx-input-value); branches producing sequences or optionals are not supported"},
};
} // namespace

ArrayRef<OpImportInfo> mpc::importer::controlFlowOpTable() { return kTable; }
