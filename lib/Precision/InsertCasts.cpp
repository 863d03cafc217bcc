//===- InsertCasts.cpp - mpc-insert-casts ----------------------------------===//
//
// Makes the IR's types say what mpc-assign-precision decided: an op with
// `mpc.precision` P reads its precision operands as P and produces P. Every
// other reader of a retyped value (func.return, ops without a decision, or an
// operand its op keeps out of its precision) gets a cast back to the type it
// read before, so function signatures and unrelated ops never change.
//
//===----------------------------------------------------------------------===//
#include "PrecisionAttrs.h"

#include "mpc/Dialect/MpcDialect.h"
#include "mpc/Precision/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"

namespace mpc {
#define GEN_PASS_DEF_INSERTCASTSPASS
#include "mpc/Precision/Passes.h.inc"
} // namespace mpc

using namespace mlir;
using namespace mpc;

/// A static float tensor type, the only kind mpc.cast converts.
static RankedTensorType asFloatTensor(Type type) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  return tensor && isa<FloatType>(tensor.getElementType()) ? tensor : RankedTensorType();
}

namespace {

class CastInserter {
public:
  explicit CastInserter(MLIRContext *context) : builder(context) {}

  void retype(Operation *op, FloatType precision);

private:
  Value castTo(Value value, RankedTensorType type);
  bool readsAtAssignedPrecision(OpOperand &use) const;

  OpBuilder builder;
  /// One cast per (value, type), placed right after the value's definition
  /// so that every reader can share it.
  llvm::DenseMap<std::pair<Value, Type>, Value> casts;
  llvm::DenseSet<Operation *> insertedCasts;
};

Value CastInserter::castTo(Value value, RankedTensorType type) {
  Value &cached = casts[{value, type}];
  if (!cached) {
    builder.setInsertionPointAfterValue(value);
    auto cast = CastOp::create(builder, value.getLoc(), type, value);
    insertedCasts.insert(cast);
    cached = cast.getResult();
  }
  return cached;
}

/// True when the reader will itself convert this operand to its own
/// precision (it has one and the operand is among its precision operands).
bool CastInserter::readsAtAssignedPrecision(OpOperand &use) const {
  Operation *owner = use.getOwner();
  if (insertedCasts.contains(owner) || !getAssignedPrecision(owner))
    return false;
  return llvm::is_contained(getPrecisionOperands(owner), use.getOperandNumber());
}

void CastInserter::retype(Operation *op, FloatType precision) {
  for (unsigned index : getPrecisionOperands(op)) {
    Value operand = op->getOperand(index);
    RankedTensorType type = asFloatTensor(operand.getType());
    if (type && type.getElementType() != precision)
      op->setOperand(index, castTo(operand, type.clone(precision)));
  }

  for (OpResult result : op->getResults()) {
    RankedTensorType oldType = asFloatTensor(result.getType());
    if (!oldType || oldType.getElementType() == precision)
      continue;
    result.setType(oldType.clone(precision));
    SmallVector<OpOperand *> keepOldType;
    for (OpOperand &use : result.getUses())
      if (!readsAtAssignedPrecision(use))
        keepOldType.push_back(&use);
    for (OpOperand *use : keepOldType)
      use->set(castTo(result, oldType));
  }
}

struct InsertCastsPass : mpc::impl::InsertCastsPassBase<InsertCastsPass> {
  void runOnOperation() override {
    CastInserter inserter(&getContext());
    // Program order: an op's operands are final before the op is visited, so
    // the casts created for them are never invalidated by a later retype.
    getOperation()->walk<WalkOrder::PreOrder>([&](Operation *op) {
      if (FloatType precision = getAssignedPrecision(op))
        inserter.retype(op, precision);
    });
  }
};

} // namespace
