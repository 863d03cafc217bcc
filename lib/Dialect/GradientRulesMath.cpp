//===- GradientRulesMath.cpp - gradients of trigonometric and rounding ops ===//
//
// d/dx of the trigonometric and hyperbolic functions as g * slope(x, y),
// built from mpc ops in the forward op's element type like the core rules.
// Floor, Ceil, Round and Sign are piecewise constant: no gradient flows
// through them (PyTorch's zeros).
//
//===----------------------------------------------------------------------===//
#include "mpc/Dialect/Gradients.h"
#include "mpc/Dialect/MpcDialect.h"

using namespace mlir;

namespace mpc {
namespace {

Value scalarLike(OpBuilder &b, Location loc, Value like, double value) {
  Type element = cast<RankedTensorType>(like.getType()).getElementType();
  auto type = RankedTensorType::get({}, element);
  return arith::ConstantOp::create(b, loc, DenseElementsAttr::get(type, b.getFloatAttr(element, value)));
}

/// c + sign * x^2: the quadratic every inverse function's slope is made of.
Value shiftedSquare(OpBuilder &b, Location loc, Value x, double c, double sign) {
  Value square = MulOp::create(b, loc, x, x);
  if (sign < 0)
    return SubOp::create(b, loc, scalarLike(b, loc, x, c), square);
  return AddOp::create(b, loc, square, scalarLike(b, loc, x, c));
}

/// The slope as a value to multiply g by, or (for 1/q forms) the divisor.
struct Slope {
  Value factor;
  bool divides = false;
};

Slope slope(SinOp op, OpBuilder &b, Location loc) { return {CosOp::create(b, loc, op.getInput())}; }
Slope slope(CosOp op, OpBuilder &b, Location loc) {
  return {NegOp::create(b, loc, SinOp::create(b, loc, op.getInput()))};
}
Slope slope(TanOp op, OpBuilder &b, Location loc) { return {shiftedSquare(b, loc, op.getResult(), 1, 1)}; }
Slope slope(AsinOp op, OpBuilder &b, Location loc) {
  return {SqrtOp::create(b, loc, shiftedSquare(b, loc, op.getInput(), 1, -1)), true};
}
Slope slope(AcosOp op, OpBuilder &b, Location loc) {
  Value root = SqrtOp::create(b, loc, shiftedSquare(b, loc, op.getInput(), 1, -1));
  return {NegOp::create(b, loc, root), true};
}
Slope slope(AtanOp op, OpBuilder &b, Location loc) { return {shiftedSquare(b, loc, op.getInput(), 1, 1), true}; }
Slope slope(SinhOp op, OpBuilder &b, Location loc) { return {CoshOp::create(b, loc, op.getInput())}; }
Slope slope(CoshOp op, OpBuilder &b, Location loc) { return {SinhOp::create(b, loc, op.getInput())}; }
Slope slope(AsinhOp op, OpBuilder &b, Location loc) {
  return {SqrtOp::create(b, loc, shiftedSquare(b, loc, op.getInput(), 1, 1)), true};
}
Slope slope(AcoshOp op, OpBuilder &b, Location loc) {
  return {SqrtOp::create(b, loc, shiftedSquare(b, loc, op.getInput(), -1, 1)), true};
}
Slope slope(AtanhOp op, OpBuilder &b, Location loc) {
  return {shiftedSquare(b, loc, op.getInput(), 1, -1), true};
}

template <typename OpT>
struct SmoothGradient : GradientOpInterface::ExternalModel<SmoothGradient<OpT>, OpT> {
  LogicalResult buildGradient(Operation *op, OpBuilder &b, ArrayRef<Value> resultGrads,
                              SmallVectorImpl<Value> &operandGrads) const {
    operandGrads.assign(1, Value());
    Value g = resultGrads.empty() ? Value() : resultGrads.front();
    if (!g)
      return success();
    Slope s = slope(cast<OpT>(op), b, op->getLoc());
    operandGrads[0] = s.divides ? Value(DivOp::create(b, op->getLoc(), g, s.factor))
                                : Value(MulOp::create(b, op->getLoc(), g, s.factor));
    return success();
  }
};

template <typename OpT>
struct ConstantPiecesGradient
    : GradientOpInterface::ExternalModel<ConstantPiecesGradient<OpT>, OpT> {
  LogicalResult buildGradient(Operation *, OpBuilder &, ArrayRef<Value>,
                              SmallVectorImpl<Value> &operandGrads) const {
    operandGrads.assign(1, Value());
    return success();
  }
};

template <typename... OpTs>
void attachSmooth(MLIRContext *context) {
  (OpTs::template attachInterface<SmoothGradient<OpTs>>(*context), ...);
}
template <typename... OpTs>
void attachConstantPieces(MLIRContext *context) {
  (OpTs::template attachInterface<ConstantPiecesGradient<OpTs>>(*context), ...);
}

} // namespace

void attachMathGradientRules(MLIRContext *context) {
  attachSmooth<SinOp, CosOp, TanOp, AsinOp, AcosOp, AtanOp, SinhOp, CoshOp, AsinhOp, AcoshOp,
               AtanhOp>(context);
  attachConstantPieces<FloorOp, CeilOp, RoundOp, SignOp>(context);
}

} // namespace mpc
