//===- AssignPrecision.cpp - mpc-assign-precision --------------------------===//
//
// Decides per op which float type it computes in, and records why. Types are
// left alone so the decision can be inspected (and reported) before
// mpc-insert-casts acts on it.
//
// Categories give the hard rules (compute-bound low, sensitive f32), a policy
// file's overrides beat them, and the rest (followers, data movement) is
// placed either greedily in program order (the TF-AMP-style baseline) or by
// an exact s-t minimum cut of op time plus cast cost. A value-range analysis
// forces ops whose values would overflow the low type to f32 first, so
// either strategy sees them as fixed.
//
//===----------------------------------------------------------------------===//
#include "MinCut.h"
#include "PolicyFile.h"
#include "PrecisionAttrs.h"
#include "RangeAnalysis.h"

#include "mpc/Dialect/MpcDialect.h"
#include "mpc/Precision/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Matchers.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/Support/FormatVariadic.h"

#include <string>

namespace mpc {
#define GEN_PASS_DEF_ASSIGNPRECISIONPASS
#include "mpc/Precision/Passes.h.inc"
} // namespace mpc

using namespace mlir;
using namespace mpc;

static bool hasFloatResult(Operation *op) {
  return llvm::any_of(op->getResultTypes(),
                      [](Type type) { return isa<FloatType>(getElementTypeOrSelf(type)); });
}

/// The float element type of the op's first float result.
static FloatType storedFloatType(Operation *op) {
  for (Type type : op->getResultTypes())
    if (auto floatType = dyn_cast<FloatType>(getElementTypeOrSelf(type)))
      return floatType;
  return {};
}

/// f32, or the widest operand type when that is wider (f64).
static FloatType atLeastF32(ArrayRef<Value> floatOperands) {
  FloatType widest = Float32Type::get(floatOperands.front().getContext());
  for (Value value : floatOperands) {
    auto type = cast<FloatType>(getElementTypeOrSelf(value.getType()));
    if (type.getWidth() > widest.getWidth())
      widest = type;
  }
  return widest;
}

static std::string typeName(Type type) {
  std::string name;
  llvm::raw_string_ostream os(name);
  type.print(os);
  return name;
}

//===----------------------------------------------------------------------===//
// Cost model
//===----------------------------------------------------------------------===//
//
// Costs are in bytes of memory traffic ("byte-equivalents"), so that memory
// time, arithmetic time and casts add up in one unit. The constants describe
// a GPU-class target, the one mixed precision is for; they are documented in
// docs/precision-policy.md and only their ratios matter.

/// f32 arithmetic per byte of bandwidth (A100: 19.5 TFLOP/s over 1.6 TB/s is
/// about 12; H100 is similar): an op below this intensity is memory-bound.
static constexpr int64_t kF32FlopsPerByte = 12;
/// How much faster the low type computes than f32 (tensor cores vs. FMA
/// units, taken conservatively).
static constexpr int64_t kLowPrecisionSpeedup = 8;
/// Fixed cost of a cast beyond its traffic: one more kernel launch and its
/// latency, about 1 us, written as the bytes moved in that time at 1 TB/s.
/// The op's own launch is paid at either precision and cancels out. For
/// small activations this term dominates, so the cut first avoids casts and
/// then saves traffic; for large ones traffic decides.
static constexpr int64_t kCastOverheadBytes = 1 << 20;

/// The element count of a float tensor value; 1 for a dynamic shape, whose
/// size the pass cannot know (such graphs are then decided by cast counts).
static int64_t floatElements(Value value) {
  auto shaped = dyn_cast<ShapedType>(value.getType());
  if (!shaped || !isa<FloatType>(shaped.getElementType()))
    return 0;
  return shaped.hasStaticShape() ? shaped.getNumElements() : 1;
}

/// Converting a tensor reads it in one type and writes it in the other.
static int64_t castCost(Value value, FloatType low) {
  return floatElements(value) * (4 + low.getWidth() / 8) + kCastOverheadBytes;
}

/// A roofline estimate of the op's time at `precision`: the larger of its
/// traffic (every float operand read and result written once) and its
/// arithmetic. FLOPs are estimated generically, without naming ops: one per
/// result element, and for an accumulating op 2 * K per result element where
/// K is the innermost extent of its first operand (exact for matmul; a
/// stand-in for the reduction size of others). Ops forced to one precision
/// pay a constant, so the estimate only matters for the ops the cut moves.
static int64_t opCost(PrecisionOpInterface op, ArrayRef<Value> floatOperands, FloatType precision) {
  int64_t elements = 0, resultElements = 0;
  for (Value value : floatOperands)
    elements += floatElements(value);
  for (Value value : op->getResults())
    resultElements += floatElements(value);
  int64_t bytes = (elements + resultElements) * (precision.getWidth() / 8);

  int64_t flops = resultElements;
  if (op.accumulates() && !floatOperands.empty())
    if (auto shaped = dyn_cast<ShapedType>(floatOperands.front().getType());
        shaped && shaped.hasStaticShape() && shaped.getRank() > 0)
      flops = 2 * resultElements * shaped.getShape().back();
  int64_t flopsPerByte = kF32FlopsPerByte * (isLowPrecision(precision) ? kLowPrecisionSpeedup : 1);
  return std::max(bytes, flops / flopsPerByte);
}

//===----------------------------------------------------------------------===//
// Output layers
//===----------------------------------------------------------------------===//
//
// The compute-bound op that produces a model output (a classifier's final
// Gemm, a pooler) is rounded last: its low-precision rounding lands on the
// output itself, 2^-9 of every logit under bf16, where no later layer
// averages it, and a top-1 decided by a margin below that is decided by the
// rounding. Such a layer is typically a tiny share of the model's work, so
// under a low-precision policy it stays f32 when it is at most
// kOutputLayerFlopShare of the function's matmul/conv FLOPs; a larger one (a
// language model's vocabulary projection, a one-layer MLP) stays low.

/// The largest share of matmul/conv FLOPs an output layer may have to stay
/// f32: at most ~8% more compute time at the cost model's 8x speedup of the
/// low type.
static constexpr double kOutputLayerFlopShare = 0.01;

/// True when a function result is reached from `op`'s results through
/// followers and data movement only (bias adds, activations, reshapes).
static bool feedsOutputDirectly(Operation *op) {
  SmallVector<Value> worklist(op->getResults());
  llvm::DenseSet<Value> seen;
  while (!worklist.empty()) {
    Value value = worklist.pop_back_val();
    if (!seen.insert(value).second)
      continue;
    for (Operation *user : value.getUsers()) {
      if (isa<func::ReturnOp>(user))
        return true;
      auto reader = dyn_cast<PrecisionOpInterface>(user);
      if (reader && (reader.getPrecisionCategory() == PrecisionCategory::Follow ||
                     reader.getPrecisionCategory() == PrecisionCategory::DataMovement))
        llvm::append_range(worklist, user->getResults());
    }
  }
  return false;
}

/// The output layers of every function that stay f32, with their share of
/// the function's contraction (GEMM) FLOPs.
static llvm::DenseMap<Operation *, double> findOutputLayers(ModuleOp module) {
  llvm::DenseMap<Operation *, double> layers;
  module.walk([&](func::FuncOp function) {
    int64_t total = 0;
    SmallVector<PrecisionOpInterface> candidates;
    function.walk([&](PrecisionOpInterface op) {
      int64_t flops = op.getGemmFlops();
      total += flops;
      if (flops > 0 && feedsOutputDirectly(op))
        candidates.push_back(op);
    });
    for (PrecisionOpInterface op : candidates) {
      double share = double(op.getGemmFlops()) / double(total);
      if (share <= kOutputLayerFlopShare)
        layers[op] = share;
    }
  });
  return layers;
}

namespace {

struct Decision {
  FloatType precision;
  std::string reason;
};

/// One op that the min-cut places (or that constrains the ops it places).
struct CutNode {
  PrecisionOpInterface op;
  SmallVector<Value> floatOperands;
  /// Set for ops that may not move: the reason, and which side they are on.
  std::optional<Decision> forced;
  int64_t costF32 = 0, costLow = 0;
};

/// A tensor converted at most once per target type (mpc-insert-casts shares
/// casts among readers): it costs `weight` as soon as its producer and
/// readers do not all agree on a precision.
struct CastGroup {
  int64_t weight;
  /// Indices into the nodes; kF32Side / kLowSide for fixed endpoints.
  SmallVector<int> members;
};
constexpr int kF32Side = -1;
constexpr int kLowSide = -2;

/// Applies one policy to the ops of a module.
class Assigner {
public:
  /// `policyType` is f32 for the fp32 policy, else the low type.
  Assigner(FloatType policyType, FloatType accumulator,
           const llvm::DenseMap<Operation *, PolicyOverride> &overrides,
           const RangeAnalysis &ranges, llvm::DenseMap<Operation *, double> outputLayers)
      : policyType(policyType), f32(Float32Type::get(policyType.getContext())),
        accumulator(accumulator ? accumulator : f32), overrides(overrides), ranges(ranges),
        outputLayers(std::move(outputLayers)) {}

  /// Program order, so that every op sees the decisions made for the ops
  /// feeding it.
  void assignGreedy(ArrayRef<PrecisionOpInterface> ops);
  void assignMinCut(ArrayRef<PrecisionOpInterface> ops);

private:
  std::optional<Decision> decideGreedy(PrecisionOpInterface op, ArrayRef<Value> floatOperands);
  Decision decideFollower(PrecisionOpInterface op, ArrayRef<Value> floatOperands);
  std::optional<Decision> decideOverride(Operation *op) const;
  std::optional<Decision> decideRange(PrecisionOpInterface op,
                                      ArrayRef<Value> floatOperands) const;
  bool isCastOnce(Value value) const;
  void noteCastOnce(PrecisionOpInterface op);
  FloatType precisionOf(Value value) const;
  void apply(PrecisionOpInterface op, const Decision &decision);

  SmallVector<CastGroup> buildCastGroups(ArrayRef<CutNode> nodes) const;
  std::string explainCut(unsigned node, ArrayRef<CutNode> nodes, ArrayRef<CastGroup> groups,
                         ArrayRef<SmallVector<unsigned>> groupsOf, ArrayRef<bool> low) const;

  FloatType policyType;
  FloatType f32;
  FloatType accumulator;
  const llvm::DenseMap<Operation *, PolicyOverride> &overrides;
  const RangeAnalysis &ranges;
  /// Small output layers kept in f32, with their share of the FLOPs.
  llvm::DenseMap<Operation *, double> outputLayers;
  /// Data-movement ops that only rearrange parameters or constants.
  llvm::DenseSet<Operation *> castOnceOps;
  /// The min-cut's node index of each op it places.
  llvm::DenseMap<Operation *, unsigned> nodeIndex;
};

} // namespace

static SmallVector<Value> getFloatPrecisionOperands(PrecisionOpInterface op) {
  SmallVector<Value> floatOperands;
  for (unsigned index : op.getPrecisionOperandIndices()) {
    Value value = op->getOperand(index);
    if (isa<FloatType>(getElementTypeOrSelf(value.getType())))
      floatOperands.push_back(value);
  }
  return floatOperands;
}

/// Values that exist before the program runs (constants, parameters and
/// rearrangements of them): converting them costs one cast for the whole
/// run, so they never pull an op up to f32.
bool Assigner::isCastOnce(Value value) const {
  Operation *def = value.getDefiningOp();
  return def && (castOnceOps.contains(def) || matchPattern(def, m_Constant()));
}

/// A data-movement op is as static as everything it reads: a gather from a
/// parameter table at run-time indices is not.
void Assigner::noteCastOnce(PrecisionOpInterface op) {
  if (op.getPrecisionCategory() == PrecisionCategory::DataMovement &&
      llvm::all_of(op->getOperands(), [&](Value value) { return isCastOnce(value); }))
    castOnceOps.insert(op);
}

/// The precision a value will have once casts are inserted: its producer's
/// decision when there is one, else its current element type.
FloatType Assigner::precisionOf(Value value) const {
  if (Operation *def = value.getDefiningOp())
    if (FloatType assigned = getAssignedPrecision(def))
      return assigned;
  return dyn_cast<FloatType>(getElementTypeOrSelf(value.getType()));
}

std::optional<Decision> Assigner::decideOverride(Operation *op) const {
  auto it = overrides.find(op);
  if (it == overrides.end())
    return std::nullopt;
  const PolicyRule &rule = *it->second.rule;
  std::string selector;
  switch (rule.kind) {
  case PolicyRule::Kind::OpName:
    selector = "op " + rule.subject;
    break;
  case PolicyRule::Kind::Glob:
    selector = "match '" + rule.subject + "'";
    break;
  case PolicyRule::Kind::Between:
    selector = "between '" + rule.subject + "' and '" + rule.last + "'";
    break;
  }
  std::string reason = "override rule #" + std::to_string(rule.index) + " (" + selector + ")";
  // The override is obeyed, but a predicted overflow must not vanish from
  // the report: the user may not know the values exceed the type.
  if (std::optional<std::string> warning = ranges.checkFits(op, rule.precision))
    reason += "; warning: " + *warning;
  return Decision{rule.precision, reason};
}

/// f32 for an op whose values would overflow or underflow the policy's low
/// type. Only the op itself is forced: the strategy places its readers,
/// which are forced too only if their own values do not fit.
std::optional<Decision> Assigner::decideRange(PrecisionOpInterface op,
                                              ArrayRef<Value> floatOperands) const {
  if (floatOperands.empty() || !isLowPrecision(policyType))
    return std::nullopt;
  std::optional<std::string> problem = ranges.checkFits(op, policyType);
  if (!problem)
    return std::nullopt;
  return Decision{atLeastF32(floatOperands), *problem};
}

Decision Assigner::decideFollower(PrecisionOpInterface op, ArrayRef<Value> floatOperands) {
  bool movesData = op.getPrecisionCategory() == PrecisionCategory::DataMovement;
  SmallVector<FloatType> runTime;
  for (Value value : floatOperands)
    if (!isCastOnce(value))
      runTime.push_back(precisionOf(value));

  if (runTime.empty()) {
    noteCastOnce(op);
    return {f32, movesData ? "parameter or constant data: stays f32"
                           : "inputs are parameters or constants: kept in f32"};
  }
  // Moving data must not change it, so it keeps its type (when its inputs
  // agree on one); a follower computes in the policy's type or in f32.
  if (movesData) {
    bool agree = llvm::all_equal(runTime);
    return {agree ? runTime.front() : f32,
            agree ? "data movement follows its data" : "data movement of mixed precisions: f32"};
  }
  if (llvm::all_of(runTime, isLowPrecision))
    return {policyType, "follows its inputs (all low)"};
  return {f32, "follows an f32 input"};
}

std::optional<Decision> Assigner::decideGreedy(PrecisionOpInterface op,
                                               ArrayRef<Value> floatOperands) {
  if (floatOperands.empty()) {
    // A source such as a parameter read keeps the type its data is stored in
    // (f32 for ONNX float initializers, but an f16 model stores f16).
    if (!hasFloatResult(op))
      return std::nullopt;
    noteCastOnce(op);
    FloatType stored = storedFloatType(op);
    return Decision{stored, "source: stored in " + typeName(stored)};
  }
  // Full precision never narrows: an op the model computes in f64 stays f64.
  FloatType full = atLeastF32(floatOperands);
  if (policyType == f32)
    return Decision{full, "policy fp32"};

  switch (op.getPrecisionCategory()) {
  case PrecisionCategory::ComputeBound:
    if (auto layer = outputLayers.find(op); layer != outputLayers.end())
      return Decision{full, "output layer: kept in " + typeName(full) + " (" +
                                llvm::formatv("{0:f2}", 100 * layer->second).str() +
                                "% of the matmul/conv FLOPs; low rounding would reach the output)"};
    return Decision{
        policyType,
        "compute-bound: " + typeName(policyType) +
            (op.accumulates() ? " with " + typeName(accumulator) + " accumulation" : "")};
  case PrecisionCategory::Sensitive:
    return Decision{full, "numerically sensitive: kept in " + typeName(full)};
  case PrecisionCategory::Follow:
  case PrecisionCategory::DataMovement:
    return decideFollower(op, floatOperands);
  }
  llvm_unreachable("unknown precision category");
}

void Assigner::apply(PrecisionOpInterface op, const Decision &decision) {
  MLIRContext *context = op->getContext();
  op->setAttr(kPrecisionAttr, TypeAttr::get(decision.precision));
  op->setAttr(kReasonAttr, StringAttr::get(context, decision.reason));
  // acc_type is the ODS name every accumulating op declares; an op that does
  // not declare it falls back to getAccumulatorType()'s f32 default.
  StringAttr accName = StringAttr::get(context, "acc_type");
  if (!op.accumulates() || !llvm::is_contained(op->getName().getAttributeNames(), accName))
    return;
  auto it = overrides.find(op);
  FloatType ruleAccumulator = it == overrides.end() ? FloatType() : it->second.rule->accumulator;
  if (ruleAccumulator)
    op->setAttr(accName, TypeAttr::get(ruleAccumulator));
  else if (isLowPrecision(decision.precision))
    op->setAttr(accName, TypeAttr::get(accumulator));
}

void Assigner::assignGreedy(ArrayRef<PrecisionOpInterface> ops) {
  for (PrecisionOpInterface op : ops) {
    // The category's decision is still computed for an overridden op: it
    // records whether the op is static data that readers can cast once.
    SmallVector<Value> floatOperands = getFloatPrecisionOperands(op);
    std::optional<Decision> decision = decideGreedy(op, floatOperands);
    if (std::optional<Decision> forced = decideRange(op, floatOperands))
      decision = forced;
    if (std::optional<Decision> pinned = decideOverride(op))
      decision = pinned;
    apply(op, *decision);
  }
}

//===----------------------------------------------------------------------===//
// Min-cut placement
//===----------------------------------------------------------------------===//

SmallVector<CastGroup> Assigner::buildCastGroups(ArrayRef<CutNode> nodes) const {
  // The side a fixed value or reader sits on: a third type (an override to
  // fp16 under bf16) counts as f32, which differs from the low type too.
  auto sideOf = [&](Type type) { return type == policyType ? kLowSide : kF32Side; };

  llvm::MapVector<Value, llvm::SetVector<int>> readers;
  for (auto [index, node] : llvm::enumerate(nodes)) {
    for (Value value : node.floatOperands) {
      // mpc-fold-casts folds casts of constants away. A parameter is not
      // free: the program converts it once per run (per training step),
      // shared by all its readers, so it is a fixed f32 member like an
      // argument. Counting it lets the cut keep a bias add in f32 when that
      // saves the bias cast (measured in docs/precision-benchmarks.md).
      Operation *def = value.getDefiningOp();
      if (def && matchPattern(def, m_Constant()))
        continue;
      auto producer = def ? nodeIndex.find(def) : nodeIndex.end();
      // A fixed value of a third type (an f16 argument under bf16) is cast
      // whichever side its readers take: no choice depends on it.
      FloatType fixedType = precisionOf(value);
      if (producer == nodeIndex.end() && fixedType != f32 && fixedType != policyType)
        continue;
      llvm::SetVector<int> &members = readers[value];
      if (members.empty())
        members.insert(producer != nodeIndex.end() ? int(producer->second) : sideOf(fixedType));
      members.insert(index);
    }
    // Readers that keep a result's old type: mpc-insert-casts casts back for
    // them (function results, ops without a decision, non-precision operands).
    for (Value result : node.op->getResults()) {
      if (!floatElements(result))
        continue;
      for (OpOperand &use : result.getUses()) {
        Operation *owner = use.getOwner();
        if (nodeIndex.contains(owner) &&
            llvm::is_contained(getPrecisionOperands(owner), use.getOperandNumber()))
          continue;
        llvm::SetVector<int> &members = readers[result];
        if (members.empty())
          members.insert(index);
        members.insert(sideOf(getElementTypeOrSelf(result.getType())));
      }
    }
  }

  SmallVector<CastGroup> groups;
  for (auto &[value, members] : readers)
    if (members.size() > 1)
      groups.push_back({castCost(value, policyType), SmallVector<int>(members.getArrayRef())});
  return groups;
}

/// Why the cut put `node` where it did: what moving it alone would cost.
std::string Assigner::explainCut(unsigned node, ArrayRef<CutNode> nodes, ArrayRef<CastGroup> groups,
                                 ArrayRef<SmallVector<unsigned>> groupsOf,
                                 ArrayRef<bool> low) const {
  auto castsWith = [&](bool nodeLow) {
    int64_t total = 0;
    for (unsigned group : groupsOf[node]) {
      bool anyLow = false, anyF32 = false;
      for (int member : groups[group].members) {
        bool isLow = member == kLowSide ||
                     (member >= 0 && (unsigned(member) == node ? nodeLow : low[member]));
        (isLow ? anyLow : anyF32) = true;
      }
      if (anyLow && anyF32)
        total += groups[group].weight;
    }
    return total;
  };
  bool isLow = low[node];
  int64_t traffic =
      isLow ? nodes[node].costF32 - nodes[node].costLow : nodes[node].costLow - nodes[node].costF32;
  int64_t casts = castsWith(!isLow) - castsWith(isLow);
  return "min-cut: " + typeName(isLow ? policyType : f32) + " saves " +
         std::to_string(traffic + casts) + " bytes (traffic " + std::to_string(traffic) +
         ", casts " + std::to_string(casts) + ")";
}

void Assigner::assignMinCut(ArrayRef<PrecisionOpInterface> ops) {
  SmallVector<CutNode> nodes;
  for (PrecisionOpInterface op : ops) {
    SmallVector<Value> floatOperands = getFloatPrecisionOperands(op);
    std::optional<Decision> pinned = decideOverride(op);
    // Sources and rearranged parameters are read once per run whatever
    // their readers choose: they are not placed, only recorded.
    bool isSource = floatOperands.empty();
    if (!isSource)
      noteCastOnce(op);
    if (isSource || castOnceOps.contains(op)) {
      std::optional<Decision> decision = decideGreedy(op, floatOperands);
      apply(op, pinned ? *pinned : *decision);
      continue;
    }

    CutNode node{op, floatOperands, pinned};
    // Compute-bound and sensitive ops are placed by their category alone;
    // the greedy rules already word that decision and its reason.
    PrecisionCategory category = op.getPrecisionCategory();
    if (!pinned &&
        (category == PrecisionCategory::ComputeBound || category == PrecisionCategory::Sensitive))
      node.forced = decideGreedy(op, floatOperands);
    if (!pinned)
      if (std::optional<Decision> forced = decideRange(op, floatOperands))
        node.forced = forced;
    node.costF32 = opCost(op, floatOperands, f32);
    node.costLow = opCost(op, floatOperands, policyType);
    nodeIndex[op] = nodes.size();
    nodes.push_back(std::move(node));
  }
  if (nodes.empty())
    return;

  SmallVector<CastGroup> groups = buildCastGroups(nodes);
  enum : unsigned { kSource = 0, kSink = 1, kFirstNode = 2 };
  // Source side = f32, sink side = low: an edge s->v is cut when v goes low.
  MinCutGraph graph(kFirstNode + nodes.size());
  for (auto [index, node] : llvm::enumerate(nodes)) {
    unsigned vertex = kFirstNode + index;
    int64_t base = std::min(node.costF32, node.costLow);
    bool forcedLow = node.forced && node.forced->precision == policyType;
    bool forcedF32 = node.forced && !forcedLow;
    graph.addEdge(kSource, vertex, forcedF32 ? MinCutGraph::kInfinite : node.costLow - base);
    graph.addEdge(vertex, kSink, forcedLow ? MinCutGraph::kInfinite : node.costF32 - base);
  }
  SmallVector<SmallVector<unsigned>> groupsOf(nodes.size());
  for (auto [index, group] : llvm::enumerate(groups)) {
    // Two helper vertices make the group cost its weight once when its
    // members are split, however many readers are on the other side.
    unsigned in = graph.addNode(), out = graph.addNode();
    graph.addEdge(in, out, group.weight);
    for (int member : group.members) {
      unsigned vertex = member == kF32Side   ? kSource
                        : member == kLowSide ? kSink
                                             : kFirstNode + member;
      graph.addEdge(vertex, in, MinCutGraph::kInfinite);
      graph.addEdge(out, vertex, MinCutGraph::kInfinite);
      if (member >= 0)
        groupsOf[member].push_back(index);
    }
  }
  graph.solve(kSource, kSink);

  SmallVector<bool> low;
  for (unsigned index = 0; index < nodes.size(); ++index)
    low.push_back(!graph.onSourceSide(kFirstNode + index));
  for (auto [index, node] : llvm::enumerate(nodes)) {
    if (node.forced) {
      apply(node.op, *node.forced);
      continue;
    }
    apply(node.op,
          {low[index] ? policyType : f32, explainCut(index, nodes, groups, groupsOf, low)});
  }
}

//===----------------------------------------------------------------------===//
// The pass
//===----------------------------------------------------------------------===//

namespace {

struct AssignPrecisionPass : mpc::impl::AssignPrecisionPassBase<AssignPrecisionPass> {
  using Base::Base;

  /// The type the policy names (f32 for fp32).
  FloatType policyFloatType() {
    MLIRContext *context = &getContext();
    switch (policy) {
    case PrecisionPolicy::FP32:
      return Float32Type::get(context);
    case PrecisionPolicy::FP16:
      return Float16Type::get(context);
    case PrecisionPolicy::BF16:
      return BFloat16Type::get(context);
    }
    llvm_unreachable("unknown precision policy");
  }

  /// Calibration ranges, then user ranges over them (a stated range is a
  /// promise about all inputs, calibration only a sample). Null after an
  /// error.
  std::optional<InputRanges> readInputRanges() {
    Location loc = getOperation().getLoc();
    InputRanges inputs;
    if (!calibrationData.empty()) {
      llvm::Expected<InputRanges> observed = readCalibrationRanges(calibrationData, getOperation());
      if (!observed) {
        emitError(loc) << "mpc-assign-precision: " << llvm::toString(observed.takeError());
        return std::nullopt;
      }
      inputs = std::move(*observed);
    }
    if (!inputRanges.empty()) {
      llvm::Expected<InputRanges> given = parseInputRanges(inputRanges);
      llvm::Error error = given ? checkInputNames(*given, getOperation(), "input-ranges")
                                : given.takeError();
      if (error) {
        emitError(loc) << "mpc-assign-precision: " << llvm::toString(std::move(error));
        return std::nullopt;
      }
      for (auto &entry : *given)
        inputs[entry.getKey()] = entry.getValue();
    }
    return inputs;
  }

  void runOnOperation() override {
    // Errors are reported at the module's location only: the module is not
    // at fault, the options are.
    Location loc = getOperation().getLoc();
    FloatType policyType = policyFloatType();

    // Only ops that take a float precision get a decision (and can match a
    // rule); a decision from an earlier run on any other op would be stale.
    SmallVector<PrecisionOpInterface> ops;
    SmallVector<Operation *> decidable;
    getOperation()->walk<WalkOrder::PreOrder>([&](PrecisionOpInterface op) {
      if (getFloatPrecisionOperands(op).empty() && !hasFloatResult(op)) {
        op->removeAttr(kPrecisionAttr);
        op->removeAttr(kReasonAttr);
        return;
      }
      ops.push_back(op);
      decidable.push_back(op);
    });

    PolicyFile file;
    llvm::DenseMap<Operation *, PolicyOverride> overrides;
    std::vector<std::string> notes;
    if (!policyFile.empty()) {
      llvm::Expected<PolicyFile> parsed = parsePolicyFile(policyFile, &getContext());
      if (!parsed) {
        emitError(loc) << "mpc-assign-precision: " << llvm::toString(parsed.takeError());
        return signalPassFailure();
      }
      file = std::move(*parsed);
      if (file.defaultType)
        policyType = file.defaultType;
      SmallVector<StringRef> folded;
      if (auto names = getOperation()->getAttrOfType<ArrayAttr>(kFoldedNodesAttr))
        for (auto name : names.getAsRange<StringAttr>())
          folded.push_back(name.getValue());
      auto matched = matchPolicyRules(file, decidable, folded);
      if (!matched) {
        emitError(loc) << "mpc-assign-precision: " << llvm::toString(matched.takeError());
        return signalPassFailure();
      }
      overrides = std::move(matched->overrides);
      notes = std::move(matched->notes);
    }
    setPolicyNotes(getOperation(), notes);

    std::optional<InputRanges> inputs = readInputRanges();
    if (!inputs)
      return signalPassFailure();
    RangeAnalysis ranges(getOperation(), *inputs);
    Assigner assigner(policyType, file.accumulator, overrides, ranges,
                      isLowPrecision(policyType) ? findOutputLayers(getOperation())
                                                 : llvm::DenseMap<Operation *, double>());
    // With one precision there is nothing to cut: fp32 places every op in
    // f32 except the overridden ones.
    if (strategy == PlacementStrategy::Greedy || policyType.getWidth() == 32)
      assigner.assignGreedy(ops);
    else
      assigner.assignMinCut(ops);
  }
};

} // namespace
