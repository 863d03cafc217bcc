//===- AssignPrecision.cpp - mpc-assign-precision --------------------------===//
//
// Decides per op, from its PrecisionOpInterface category only, which float
// type it computes in, and records why. Types are left alone so the decision
// can be inspected (and reported) before mpc-insert-casts acts on it.
//
//===----------------------------------------------------------------------===//
#include "PrecisionAttrs.h"

#include "mpc/Dialect/MpcDialect.h"
#include "mpc/Passes.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Matchers.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/StringSwitch.h"

#include <string>

namespace mpc {
#define GEN_PASS_DEF_ASSIGNPRECISIONPASS
#include "mpc/Passes.h.inc"
} // namespace mpc

using namespace mlir;
using namespace mpc;

static bool hasFloatResult(Operation *op) {
  return llvm::any_of(op->getResultTypes(),
                      [](Type type) { return isa<FloatType>(getElementTypeOrSelf(type)); });
}

static std::string typeName(Type type) {
  std::string name;
  llvm::raw_string_ostream os(name);
  type.print(os);
  return name;
}

namespace {

struct Decision {
  FloatType precision;
  std::string reason;
};

/// Applies one policy to the ops of a module in program order, so that every
/// op sees the decisions already made for the ops feeding it.
class Assigner {
public:
  /// `policyType` is f32 for the fp32 policy, else the low type.
  explicit Assigner(FloatType policyType)
      : policyType(policyType), f32(Float32Type::get(policyType.getContext())) {}

  void assign(PrecisionOpInterface op);

private:
  std::optional<Decision> decide(PrecisionOpInterface op, ArrayRef<Value> floatOperands);
  Decision decideFollower(PrecisionOpInterface op, ArrayRef<Value> floatOperands);
  bool isCastOnce(Value value) const;
  void noteCastOnce(PrecisionOpInterface op);
  FloatType precisionOf(Value value) const;

  FloatType policyType;
  FloatType f32;
  /// Data-movement ops that only rearrange parameters or constants.
  llvm::DenseSet<Operation *> castOnceOps;
};

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

std::optional<Decision> Assigner::decide(PrecisionOpInterface op, ArrayRef<Value> floatOperands) {
  if (floatOperands.empty()) {
    // A source such as a parameter read: parameters are stored in f32.
    if (!hasFloatResult(op))
      return std::nullopt;
    noteCastOnce(op);
    return Decision{f32, "source: parameters are stored in f32"};
  }
  if (policyType == f32)
    return Decision{f32, "policy fp32"};

  switch (op.getPrecisionCategory()) {
  case PrecisionCategory::ComputeBound:
    return Decision{policyType, "compute-bound: " + typeName(policyType) +
                                    (op.accumulates() ? " with f32 accumulation" : "")};
  case PrecisionCategory::Sensitive:
    return Decision{f32, "numerically sensitive: kept in f32"};
  case PrecisionCategory::Follow:
  case PrecisionCategory::DataMovement:
    return decideFollower(op, floatOperands);
  }
  llvm_unreachable("unknown precision category");
}

void Assigner::assign(PrecisionOpInterface op) {
  SmallVector<Value> floatOperands;
  for (unsigned index : op.getPrecisionOperandIndices()) {
    Value value = op->getOperand(index);
    if (isa<FloatType>(getElementTypeOrSelf(value.getType())))
      floatOperands.push_back(value);
  }
  std::optional<Decision> decision = decide(op, floatOperands);
  if (!decision) {
    // A decision from an earlier run (or another policy) would be stale.
    op->removeAttr(kPrecisionAttr);
    op->removeAttr(kReasonAttr);
    return;
  }

  MLIRContext *context = op->getContext();
  op->setAttr(kPrecisionAttr, TypeAttr::get(decision->precision));
  op->setAttr(kReasonAttr, StringAttr::get(context, decision->reason));
  // acc_type is the ODS name every accumulating op declares; an op that does
  // not declare it falls back to getAccumulatorType()'s f32 default.
  StringAttr accName = StringAttr::get(context, "acc_type");
  if (op.accumulates() && isLowPrecision(decision->precision) &&
      llvm::is_contained(op->getName().getAttributeNames(), accName))
    op->setAttr(accName, TypeAttr::get(f32));
}

struct AssignPrecisionPass : mpc::impl::AssignPrecisionPassBase<AssignPrecisionPass> {
  using Base::Base;

  void runOnOperation() override {
    MLIRContext *context = &getContext();
    FloatType policyType = llvm::StringSwitch<FloatType>(policy)
                               .Case("fp32", Float32Type::get(context))
                               .Case("fp16", Float16Type::get(context))
                               .Case("bf16", BFloat16Type::get(context))
                               .Default(FloatType());
    if (!policyType) {
      // Reported at the module's location only: the module is not at fault.
      emitError(getOperation().getLoc())
          << "mpc-assign-precision: unknown policy '" << policy
          << "'; valid policies are fp32, fp16 and bf16";
      return signalPassFailure();
    }
    Assigner assigner(policyType);
    getOperation()->walk<WalkOrder::PreOrder>(
        [&](PrecisionOpInterface op) { assigner.assign(op); });
  }
};

} // namespace
