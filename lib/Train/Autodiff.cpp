//===- Autodiff.cpp - reverse-mode differentiation of @main's loss --------===//
//
// Walks @main's single block backwards from the loss, asking each op on a
// path parameter -> loss for its vector-Jacobian product (GradientOpInterface,
// lib/Dialect/GradientRules*.cpp). The pass never names an op: what an op's
// gradient is lives with the op. docs/training.md ("Autodiff") has the design.
//
//===----------------------------------------------------------------------===//
#include "mpc/Dialect/MpcDialect.h"
#include "mpc/Train/Passes.h"
#include "mpc/Train/TrainIR.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "llvm/ADT/DenseSet.h"

namespace mpc {
#define GEN_PASS_DEF_AUTODIFFPASS
#include "mpc/Train/Passes.h.inc"
} // namespace mpc

using namespace mlir;
namespace train = mpc::train;

namespace {

bool isFloatTensor(Value value) {
  auto type = dyn_cast<RankedTensorType>(value.getType());
  return type && isa<FloatType>(type.getElementType());
}

Value filled(OpBuilder &b, Location loc, RankedTensorType type, double value) {
  return arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(type, b.getFloatAttr(type.getElementType(), value)));
}

/// " (ONNX node 'X')" when the op was imported from one, for diagnostics.
std::string nodeSuffix(Operation *op) {
  if (auto node = op->getAttrOfType<StringAttr>(mpc::kNodeNameAttr))
    return (" (ONNX node '" + node.getValue() + "')").str();
  return "";
}

class Differentiator {
public:
  Differentiator(func::FuncOp func, OpBuilder &builder) : func(func), builder(builder) {}

  /// Marks the float values that depend on a `param` argument: only they
  /// get gradients, so ops off every parameter's path are never visited.
  void markActive(ArrayRef<unsigned> params, ArrayRef<Operation *> forward) {
    for (unsigned index : params)
      if (isFloatTensor(func.getArgument(index)))
        active.insert(func.getArgument(index));
    for (Operation *op : forward)
      if (llvm::any_of(op->getOperands(), [&](Value v) { return active.contains(v); }))
        for (Value result : op->getResults())
          if (isFloatTensor(result))
            active.insert(result);
  }

  LogicalResult backward(Value loss, Value seed, ArrayRef<Operation *> forward) {
    if (active.contains(loss))
      grads[loss] = seed;
    for (Operation *op : llvm::reverse(forward))
      if (failed(visit(op)))
        return failure();
    return success();
  }

  Value gradientOf(Value value) const { return grads.lookup(value); }

private:
  LogicalResult visit(Operation *op) {
    SmallVector<Value> resultGrads;
    for (Value result : op->getResults())
      resultGrads.push_back(grads.lookup(result));
    if (llvm::all_of(resultGrads, [](Value g) { return !g; }))
      return success();
    auto rule = dyn_cast<mpc::GradientOpInterface>(op);
    if (!rule)
      return op->emitError() << "mpc-autodiff: '" << op->getName() << "'" << nodeSuffix(op)
                             << " is on a path from a trained parameter to the loss but has no "
                                "gradient rule (GradientOpInterface); add a rule in "
                                "lib/Dialect/GradientRules*.cpp or freeze the parameters before it";
    SmallVector<Value> operandGrads;
    if (failed(rule.buildGradient(builder, resultGrads, operandGrads)))
      return failure();
    if (operandGrads.size() != op->getNumOperands())
      return op->emitError() << "mpc-autodiff: the gradient rule of '" << op->getName() << "'"
                             << nodeSuffix(op) << " returned " << operandGrads.size()
                             << " operand gradients for " << op->getNumOperands() << " operands";
    for (auto [index, operand, grad] : llvm::enumerate(op->getOperands(), operandGrads)) {
      if (!grad || !active.contains(operand))
        continue;
      if (grad.getType() != operand.getType())
        return op->emitError() << "mpc-autodiff: the gradient rule of '" << op->getName() << "'"
                               << nodeSuffix(op) << " gave operand #" << index << " a gradient of type "
                               << grad.getType() << ", expected " << operand.getType();
      accumulate(operand, grad, op->getLoc());
    }
    return success();
  }

  /// A value used several times gets the sum of its uses' gradients.
  void accumulate(Value value, Value grad, Location loc) {
    Value &slot = grads[value];
    slot = slot ? mpc::AddOp::create(builder, loc, slot, grad).getResult() : grad;
  }

  func::FuncOp func;
  OpBuilder &builder;
  DenseSet<Value> active;
  DenseMap<Value, Value> grads;
};

struct AutodiffPassImpl : mpc::impl::AutodiffPassBase<AutodiffPassImpl> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto main = module.lookupSymbol<func::FuncOp>("main");
    if (!main || main.isExternal() || !main.getBody().hasOneBlock()) {
      module.emitError("mpc-autodiff: needs a @main function with a single block");
      return signalPassFailure();
    }
    std::optional<unsigned> lossIndex = train::findResult(main, train::kRoleLoss);
    if (!lossIndex) {
      main.emitError("mpc-autodiff: @main has no result with mpc.role = \"loss\"; "
                     "run mpc-append-loss first");
      return signalPassFailure();
    }
    func::ReturnOp ret = train::getReturn(main);
    Value loss = ret.getOperand(*lossIndex);
    auto lossType = dyn_cast<RankedTensorType>(loss.getType());
    if (!lossType || lossType.getRank() != 0 || !isFloatTensor(loss)) {
      main.emitError() << "mpc-autodiff: the loss must be a rank-0 float tensor, got " << loss.getType();
      return signalPassFailure();
    }
    SmallVector<unsigned> params;
    for (unsigned i = 0, e = main.getNumArguments(); i < e; ++i)
      if (train::argRole(main, i) == train::kRoleParam)
        params.push_back(i);

    Block &body = main.front();
    SmallVector<Operation *> forward;
    for (Operation &op : body.without_terminator())
      forward.push_back(&op);
    llvm::DenseSet<Operation *> forwardSet(forward.begin(), forward.end());

    OpBuilder builder(ret);
    Value seed = filled(builder, ret.getLoc(), lossType, 1.0);
    seed.getDefiningOp()->setAttr(train::kGradSeedAttr, builder.getUnitAttr());

    Differentiator diff(main, builder);
    diff.markActive(params, forward);
    if (failed(diff.backward(loss, seed, forward)))
      return signalPassFailure();

    for (unsigned index : params) {
      Value arg = main.getArgument(index);
      Value grad = diff.gradientOf(arg);
      if (!grad)
        grad = filled(builder, ret.getLoc(), cast<RankedTensorType>(arg.getType()), 0.0);
      train::appendResult(main, grad, train::argName(main, index), train::kRoleGrad);
    }

    // Rules build every operand's gradient; drop those no parameter needed.
    // The seed stays even when unused: mpc-loss-scaling looks for it.
    for (Operation &op : llvm::make_early_inc_range(llvm::reverse(body)))
      if (!forwardSet.contains(&op) && &op != seed.getDefiningOp() && isOpTriviallyDead(&op))
        op.erase();
  }
};

} // namespace
