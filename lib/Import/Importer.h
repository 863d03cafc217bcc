//===- Importer.h - state shared by the ONNX op importers -------*- C++ -*-===//
//
// GraphImporter walks one ONNX graph; for each node it builds a NodeImporter,
// the only interface the per-op import functions (Import*.cpp) see: typed
// access to inputs (host constants or MLIR values), attributes with ONNX
// defaults, outputs, and checked op creation with node-prefixed errors.
//
//===----------------------------------------------------------------------===//
#ifndef MPC_LIB_IMPORT_IMPORTER_H
#define MPC_LIB_IMPORT_IMPORTER_H

#include "HostTensor.h"

#include "mpc/Dialect/MpcDialect.h"
#include "mpc/Import/ONNXImporter.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Diagnostics.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"

#include "onnx/onnx_pb.h"

#include <memory>
#include <optional>

namespace mpc::importer {
class NodeImporter;

/// One row of the supported-op table: the single source of truth for what
/// the importer accepts and for docs/supported-ops.md.
struct OpImportInfo {
  const char *opType;
  int64_t minOpset;
  int64_t maxOpset;
  mlir::LogicalResult (*import)(NodeImporter &);
  /// What the op becomes ("mpc.matmul + mpc.add", "host only", ...).
  const char *mapsTo;
  const char *notes;
};

/// The per-family tables (defined next to their import functions).
llvm::ArrayRef<OpImportInfo> elementwiseOpTable();
llvm::ArrayRef<OpImportInfo> nnOpTable();
llvm::ArrayRef<OpImportInfo> shapeOpTable();
llvm::ArrayRef<OpImportInfo> structuralOpTable();
llvm::ArrayRef<OpImportInfo> resizeOpTable();
llvm::ArrayRef<OpImportInfo> einsumOpTable();
llvm::ArrayRef<OpImportInfo> mathOpTable();
llvm::ArrayRef<OpImportInfo> lossOpTable();
llvm::ArrayRef<OpImportInfo> compositeReduceOpTable();
llvm::ArrayRef<OpImportInfo> normalizationOpTable();
llvm::ArrayRef<OpImportInfo> arithOpTable();
llvm::ArrayRef<OpImportInfo> indexingOpTable();
llvm::ArrayRef<OpImportInfo> signalOpTable();
llvm::ArrayRef<OpImportInfo> oneHotCompressOpTable();
llvm::ArrayRef<OpImportInfo> quantizeOpTable();
llvm::ArrayRef<OpImportInfo> controlFlowOpTable();
/// All rows, sorted by op type.
std::vector<OpImportInfo> supportedOps();
const OpImportInfo *findOp(llvm::StringRef opType);

inline constexpr int64_t kMinOpset = 13;
/// Opsets 22-28 were admitted after comparing every table op's schema history
/// (onnx 1.23.2): there they only add element types (bfloat16, float4e2m1,
/// float8e8m0, int2/uint2, float6), which the importer rejects by name as
/// before, or attributes for those types only (Cast's round_mode, 24+, applies
/// to float8e8m0 alone). The exception keeps a lower maximum in its row: Range
/// (stash_type from 27).
inline constexpr int64_t kMaxOpset = 28;

/// An op that ONNX's version converter replaces while upgrading a model to
/// kMinOpset: such models import as what it becomes. Listed beside the op
/// table in docs/supported-ops.md.
struct UpgradedOpInfo {
  const char *opType;
  int64_t minOpset;
  /// The last opset that defines it.
  int64_t maxOpset;
  const char *becomes;
};
llvm::ArrayRef<UpgradedOpInfo> upgradedOps();

/// Upgrades a model saved below kMinOpset to kMinOpset with ONNX's version
/// converter. Returns the opset it was saved at, 0 when it needed no
/// upgrade; the error names `sourceName` and, where it can, the node.
mlir::FailureOr<int64_t> upgradeOpset(onnx::ModelProto &model, llvm::StringRef sourceName,
                                      mlir::Location loc);

/// What an ONNX value name refers to. Identity-like nodes share a slot.
struct ValueSlot {
  /// The MLIR value; for a host constant or parameter, its materialization
  /// (made on first use as data).
  mlir::Value value;
  /// A constant read from the model, or the elements of a folded constant
  /// `value` once something needed them on the host.
  std::optional<HostTensor> host;
  /// Non-empty: a float initializer, read with mpc.get_parameter.
  std::string parameter;
  mlir::RankedTensorType parameterType;
  /// Where a host constant came from, for its materialization.
  mlir::LocationAttr loc;
  std::string nodeName;
};
using SlotPtr = std::shared_ptr<ValueSlot>;

class GraphImporter {
public:
  /// `valueInputs`: the graph inputs imported as constants of their values
  /// (ONNXImportOptions::inputValue).
  GraphImporter(const onnx::ModelProto &model, llvm::StringRef sourceName,
                mlir::MLIRContext *context, const ONNXImportOptions &options,
                const llvm::StringSet<> &valueInputs);
  mlir::OwningOpRef<mlir::ModuleOp> run();
  /// The graph inputs whose values a failed run() asked for without an
  /// error: importing again with them among `valueInputs` gets further.
  llvm::ArrayRef<std::string> requestedValues() const { return requested; }

  mlir::MLIRContext *getContext() const { return context; }
  llvm::StringRef getSourceName() const { return sourceName; }
  mlir::Location fileLoc() const { return fileLocation; }
  mlir::OpBuilder &bodyBuilder() { return builder; }
  SlotPtr lookup(llvm::StringRef name) const;
  bool isConsumed(llvm::StringRef name) const { return consumed.contains(name); }
  mlir::LogicalResult define(llvm::StringRef name, SlotPtr slot, mlir::Location loc);
  /// The slot as an MLIR value: reads a parameter or materializes a host
  /// constant (once, at the top of the function).
  mlir::FailureOr<mlir::Value> materialize(ValueSlot &slot, mlir::Location useLoc,
                                           llvm::StringRef useNode);
  /// Builds an arith.constant of `host` at the top of the function.
  mlir::FailureOr<mlir::Value> makeConstant(const HostTensor &host, mlir::Location loc,
                                            llvm::StringRef nodeName);
  /// Same for a `shape`-shaped tensor of copies of element 0 of `value`
  /// (a splat attribute: no host memory however large the shape).
  mlir::FailureOr<mlir::Value> makeSplat(const HostTensor &value, llvm::ArrayRef<int64_t> shape,
                                         mlir::Location loc, llvm::StringRef nodeName);
  /// The value a float initializer was imported with (null if none).
  mlir::DenseElementsAttr parameterValue(llvm::StringRef name);
  /// Moves a constant a folder made to the top of the function, named after
  /// the node that folded.
  void adoptConstant(mlir::Operation *constant, llvm::StringRef nodeName);

  /// The graph inputs (function arguments) `value` is computed from.
  llvm::SmallVector<std::string> graphInputsOf(mlir::Value value) const;
  /// Asks ONNXImportOptions::inputValue for `names`: true when it has every
  /// one (they join requestedValues()); else fills `missing`.
  bool requestValues(llvm::ArrayRef<std::string> names, llvm::SmallVectorImpl<std::string> &missing);
  llvm::StringRef inputValueFlag() const { return options.inputValueFlag; }
  /// The default-domain opset the model was saved with when ONNX's version
  /// converter upgraded it before import (0 if it was not): node errors name
  /// it, since the opset they report is the upgraded one.
  void setUpgradedFromOpset(int64_t opset) { upgradedFrom = opset; }
  int64_t upgradedFromOpset() const { return upgradedFrom; }

  /// Imports a subgraph (an If branch) inline, in a scope of its own: its
  /// names shadow the enclosing ones until it ends, its initializers are
  /// constants. `owner` names the node it belongs to; unnamed nodes inside
  /// are named `<owner>/<attribute>/<OpType>_<index>`. Returns its outputs.
  mlir::FailureOr<llvm::SmallVector<SlotPtr>>
  importSubgraph(const onnx::GraphProto &body, llvm::StringRef owner, llvm::StringRef attribute);
  /// Records the nodes of a subgraph that is not imported (the If branch not
  /// taken) as folded away, so that a precision policy may name them.
  void skipSubgraph(const onnx::GraphProto &body, llvm::StringRef owner, llvm::StringRef attribute);

private:
  mlir::LogicalResult importOpset();
  mlir::LogicalResult importInitializers();
  mlir::LogicalResult importInputs(llvm::SmallVectorImpl<mlir::Type> &argTypes,
                                   llvm::SmallVectorImpl<std::string> &argNames);
  mlir::FailureOr<mlir::RankedTensorType> inputType(const onnx::ValueInfoProto &input);
  /// Defines a graph input in `valueInputs` as the constant of its value.
  mlir::LogicalResult importInputValue(const onnx::ValueInfoProto &input);
  /// Imports `graph`'s nodes; `scope` prefixes the names of unnamed nodes
  /// (empty for the main graph).
  mlir::LogicalResult importNodes(const onnx::GraphProto &graph, llvm::StringRef scope);
  /// Defines a subgraph's initializers as host constants.
  mlir::LogicalResult importSubgraphInitializers(const onnx::GraphProto &body);
  /// The values a subgraph's outputs name, checked against their declarations.
  mlir::FailureOr<llvm::SmallVector<SlotPtr>>
  subgraphOutputs(const onnx::GraphProto &body, llvm::StringRef owner, llvm::StringRef attribute);
  /// Forgets the innermost scope's names, bringing back those they shadowed.
  void endScope();
  mlir::LogicalResult importOutputs(mlir::func::FuncOp func);
  /// Marks every name `graph` (subgraphs included) reads as consumed.
  void markConsumed(const onnx::GraphProto &graph);
  /// Erases what folding left unread (the operands of folded ops) and
  /// records the nodes no op is named after any more (kFoldedNodesAttr).
  void recordFoldedNodes(mlir::func::FuncOp func);
  mlir::InFlightDiagnostic error(mlir::Location loc);
  mlir::Location namedLoc(llvm::StringRef name);

  const onnx::ModelProto &model;
  std::string sourceName;
  mlir::MLIRContext *context;
  const ONNXImportOptions &options;
  mlir::Location fileLocation;
  int64_t opset = 0;
  mlir::OwningOpRef<mlir::ModuleOp> module;
  mlir::OpBuilder builder;
  /// Parameter reads and materialized constants go to the top of the
  /// function, in first-use order: after the last one made so far.
  mlir::OpBuilder entryBuilder;
  mlir::Block *entryBlock = nullptr;
  mlir::Operation *lastEntryOp = nullptr;
  void positionEntryBuilder();
  llvm::StringMap<SlotPtr> values;
  /// One per subgraph being imported: the names it defined, and the
  /// enclosing definitions they shadow (restored when it ends).
  struct Scope {
    llvm::StringSet<> defined;
    llvm::StringMap<SlotPtr> shadowed;
  };
  std::vector<Scope> scopes;
  llvm::StringMap<bool> consumed;
  const llvm::StringSet<> &valueInputs;
  std::vector<std::string> requested;
  int64_t upgradedFrom = 0;
  /// Every node's name (as diagnostics and mpc.node spell it), in graph order.
  std::vector<std::string> nodeNames;
};

/// The view of one node that the per-op import functions work with.
class NodeImporter {
public:
  NodeImporter(GraphImporter &graph, const onnx::NodeProto &node, llvm::StringRef name,
               int64_t opset);

  llvm::StringRef opType() const { return node.op_type(); }
  llvm::StringRef name() const { return nodeName; }
  int64_t opset() const { return opsetVersion; }
  mlir::Location loc() const { return location; }
  mlir::MLIRContext *getContext() const { return graph.getContext(); }
  mlir::OpBuilder &builder() { return graph.bodyBuilder(); }

  /// An error on the node's location: "<file>: node '<name>' (<op>, opset N): ".
  mlir::InFlightDiagnostic error();
  /// Looks up the node's inputs; errors on undefined names.
  mlir::LogicalResult resolveInputs();

  // Inputs. Optional inputs may be absent (missing or named "").
  size_t numInputs() const { return inputs.size(); }
  bool hasInput(size_t i) const { return i < inputs.size() && inputs[i]; }
  /// A constant: read from the model (initializers other than float ones,
  /// Constant nodes, shapes) or folded from constants.
  bool isConstant(size_t i) const;
  /// True when every present input is a constant.
  bool allConstant() const;
  /// A constant input's elements on the host (decoded once).
  const HostTensor &host(size_t i) const;
  llvm::ArrayRef<int64_t> shapeOf(size_t i) const;
  int64_t rankOf(size_t i) const { return int64_t(shapeOf(i).size()); }
  /// The input's ONNX element type.
  int32_t dtypeOf(size_t i) const;
  /// The input as an MLIR value (materializing host constants).
  mlir::FailureOr<mlir::Value> value(size_t i);
  /// Requires input i to be present (error naming `what` otherwise).
  mlir::LogicalResult require(size_t i, llvm::StringRef what);
  /// Requires input i to be a constant. When it is computed from graph
  /// inputs, fails asking for their values (GraphImporter::requestValues),
  /// or, without them, with an error naming them and the flag that gives them.
  mlir::LogicalResult requireConstant(size_t i, llvm::StringRef what);
  /// Input i must be a constant (shapes, axes...): its integer values.
  mlir::FailureOr<llvm::SmallVector<int64_t>> hostInts(size_t i, llvm::StringRef what);
  /// Same for a scalar (or one-element) input.
  mlir::FailureOr<double> hostScalar(size_t i, llvm::StringRef what);
  /// Input i's elements when they are known at import: a constant, a float
  /// initializer (which also stays a parameter), as Resize's scales, or a graph
  /// input whose value is given (requireConstant).
  mlir::FailureOr<HostTensor> hostValues(size_t i, llvm::StringRef what);

  // Attributes. A missing attribute takes `dflt`; with no default it is an
  // error. A present attribute of the wrong type is always an error.
  const onnx::AttributeProto *attr(llvm::StringRef name) const;
  mlir::FailureOr<int64_t> intAttr(llvm::StringRef name, std::optional<int64_t> dflt);
  mlir::FailureOr<double> floatAttr(llvm::StringRef name, std::optional<double> dflt);
  mlir::FailureOr<std::string> stringAttr(llvm::StringRef name, std::optional<std::string> dflt);
  /// Missing -> std::nullopt (no error).
  mlir::FailureOr<std::optional<llvm::SmallVector<int64_t>>> intsAttr(llvm::StringRef name);
  mlir::FailureOr<HostTensor> tensorAttr(const onnx::AttributeProto &attr);
  /// A required graph attribute (an If branch).
  mlir::FailureOr<const onnx::GraphProto *> graphAttr(llvm::StringRef name);

  // Outputs.
  size_t numOutputs() const { return size_t(node.output_size()); }
  bool outputUsed(size_t i) const;
  mlir::LogicalResult setOutput(size_t i, mlir::Value value);
  mlir::LogicalResult setOutput(size_t i, HostTensor host);
  /// Output i names the value `slot` describes (an inlined subgraph's output).
  mlir::LogicalResult setOutput(size_t i, SlotPtr slot);
  /// Output i names the same value as input j (Identity, Dropout).
  mlir::LogicalResult aliasOutput(size_t i, size_t j);
  /// Errors when any output from `first` on is consumed (e.g. MaxPool
  /// Indices), naming `what`.
  mlir::LogicalResult rejectUsedOutputs(size_t first, llvm::StringRef what);

  /// `axis` in [-rank, rank) (or [-rank, rank] with `inclusive`), made
  /// non-negative; errors name the attribute.
  mlir::FailureOr<int64_t> normalizeAxis(int64_t axis, int64_t rank, llvm::StringRef what,
                                         bool inclusive = false);
  /// Sorted, unique, non-negative axes.
  mlir::FailureOr<llvm::SmallVector<int64_t>> normalizeAxes(llvm::ArrayRef<int64_t> axes,
                                                            int64_t rank, llvm::StringRef what);

  /// Creates an mpc op with `OpTy::create(builder, loc, args...)`, infers
  /// its result types (pass a placeholder result type), tags it with mpc.node,
  /// verifies it and folds it: the op's folder sees which operands are
  /// constants and may replace the op by a constant or by one of its
  /// operands. Returns the op's result or what it folded into. On failure
  /// the op is erased and the error (inference's or the verifier's message,
  /// node-prefixed) is emitted.
  template <typename OpTy, typename... Args>
  mlir::FailureOr<mlir::Value> createOrFold(Args &&...args) {
    OpTy op;
    std::string problem;
    {
      Capture capture(getContext());
      op = OpTy::create(builder(), location, std::forward<Args>(args)...);
      problem = check(op.getOperation(), capture.text);
    }
    if (!problem.empty()) {
      error() << problem;
      return mlir::failure();
    }
    return fold(op.getOperation());
  }
  /// A placeholder result type for createOrFold(); inference replaces it.
  mlir::Type inferred() const { return mlir::NoneType::get(getContext()); }
  /// A rank-0 constant of `elementType` holding `value`.
  mlir::FailureOr<mlir::Value> scalar(mlir::Type elementType, double value);
  /// mpc.reshape unless the shape is already `shape`.
  mlir::FailureOr<mlir::Value> reshape(mlir::Value input, llvm::ArrayRef<int64_t> shape);
  /// mpc.cast unless the element type is already `elementType`.
  mlir::FailureOr<mlir::Value> castTo(mlir::Value input, mlir::Type elementType);
  /// Reports a shape-rule failure (the ShapeInference message).
  mlir::LogicalResult shapeError(const std::string &message);

  GraphImporter &graph;

private:
  /// Collects diagnostics emitted while one op is built and checked.
  struct Capture {
    explicit Capture(mlir::MLIRContext *context);
    std::string text;
    mlir::ScopedDiagnosticHandler handler;
  };
  /// Infers, tags and verifies a new op; on failure erases it and returns
  /// the reason (empty on success).
  std::string check(mlir::Operation *op, const std::string &captured);
  /// The op's result, or what its folder replaced it with (the op is then
  /// erased and new constants join the others at the top of the function).
  mlir::Value fold(mlir::Operation *op);

  const onnx::NodeProto &node;
  std::string nodeName;
  int64_t opsetVersion;
  mlir::Location location;
  llvm::SmallVector<SlotPtr> inputs;
};

/// A Reduce* node's reduction: sorted non-negative axes (empty when there is
/// nothing to reduce: noop_with_empty_axes, or a rank-0 input) and keepdims.
struct ReduceSpec {
  llvm::SmallVector<int64_t> axes;
  bool keepdims = true;
};
/// Reads a Reduce* node's data input, axes (the constant input 1 when
/// `axesInput`, else the attribute), keepdims and noop_with_empty_axes, and
/// checks the reduced shape.
mlir::FailureOr<ReduceSpec> readReduceSpec(NodeImporter &n, bool axesInput);

/// The MLIR element type of an ONNX data type, or null when the data path
/// does not support it.
mlir::Type elementTypeFor(int32_t dtype, mlir::MLIRContext *context);
/// The inverse (kUndefined when there is none).
int32_t dtypeFor(mlir::Type elementType);
/// The ONNX spelling of an MLIR element type, for messages.
std::string typeName(mlir::Type elementType);
/// Decodes a TensorProto (raw or typed fields) into a host tensor. Errors
/// name `what`.
mlir::FailureOr<HostTensor> readHostTensor(const onnx::TensorProto &tensor, std::string &error);
/// A host array's elements (an input's given value); errors name `what`.
mlir::FailureOr<HostTensor> hostTensorOf(const runtime::HostArray &array, llvm::StringRef what,
                                         std::string &error);
/// A constant's elements on the host (the inverse of GraphImporter::makeConstant).
HostTensor hostTensorOf(mlir::DenseElementsAttr constant);
/// The name diagnostics and mpc.node give node `index` of a graph: its own,
/// or `<scope>/<OpType>_<index>` (just `<OpType>_<index>` in the main graph).
std::string nodeName(const onnx::NodeProto &node, int index, llvm::StringRef scope);
/// Why a declared graph output (or subgraph output) disagrees with what the
/// import computed, empty when it agrees; a mismatch means the model and the
/// importer disagree on semantics.
std::string checkDeclaredOutput(const onnx::ValueInfoProto &output, int32_t dtype,
                                llvm::ArrayRef<int64_t> shape);
/// Static shape spelled as "2x3x4" (or "scalar").
std::string shapeString(llvm::ArrayRef<int64_t> shape);
} // namespace mpc::importer

#endif // MPC_LIB_IMPORT_IMPORTER_H
