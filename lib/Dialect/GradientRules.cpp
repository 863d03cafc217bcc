//===- GradientRules.cpp - vector-Jacobian products of the core ops -------===//
//
// One GradientOpInterface model per op: `gradient(op, builder, g, grads)`
// overloads below, attached by a single template. Each rule computes in the
// forward op's element type (a bf16 op has a bf16 backward) and builds only
// mpc ops and arith.constant, so the gradient graph goes through the same
// precision and lowering passes as the forward one. Ties and non-smooth
// points follow PyTorch; docs/training.md ("Autodiff") has the table.
//
//===----------------------------------------------------------------------===//
#include "mpc/Dialect/Gradients.h"
#include "mpc/Dialect/MpcDialect.h"

#include <cmath>
#include <numeric>

using namespace mlir;

namespace mpc {

//===----------------------------------------------------------------------===//
// Shared helpers
//===----------------------------------------------------------------------===//

Value reduceToShape(OpBuilder &builder, Location loc, Value grad, RankedTensorType target) {
  auto gradType = cast<RankedTensorType>(grad.getType());
  if (gradType.getShape() == target.getShape())
    return grad;
  // numpy broadcasting aligns shapes at the right: the extra leading axes and
  // the target's size-1 axes that grew are the ones the value was copied along.
  int64_t lead = gradType.getRank() - target.getRank();
  SmallVector<int64_t> axes;
  for (int64_t i = 0; i < gradType.getRank(); ++i)
    if (i < lead || (target.getDimSize(i - lead) == 1 && gradType.getDimSize(i) != 1))
      axes.push_back(i);
  Value reduced = grad;
  if (!axes.empty())
    reduced = ReduceSumOp::create(builder, loc, grad, axes, /*keepdims=*/false, TypeAttr());
  if (cast<RankedTensorType>(reduced.getType()).getShape() != target.getShape())
    reduced = ReshapeOp::create(builder, loc, reduced, target.getShape());
  return reduced;
}

namespace {

RankedTensorType typeOf(Value value) { return cast<RankedTensorType>(value.getType()); }

bool isFloatTensor(Value value) { return isa<FloatType>(typeOf(value).getElementType()); }

/// A rank-0 constant of `like`'s element type; binary ops broadcast it.
Value scalar(OpBuilder &b, Location loc, Value like, double value) {
  Type element = typeOf(like).getElementType();
  auto type = RankedTensorType::get({}, element);
  return arith::ConstantOp::create(b, loc, DenseElementsAttr::get(type, b.getFloatAttr(element, value)));
}

Value zeros(OpBuilder &b, Location loc, RankedTensorType type) {
  return arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(type, b.getFloatAttr(type.getElementType(), 0.0)));
}

Value add(OpBuilder &b, Location loc, Value x, Value y) { return AddOp::create(b, loc, x, y); }
Value sub(OpBuilder &b, Location loc, Value x, Value y) { return SubOp::create(b, loc, x, y); }
Value mul(OpBuilder &b, Location loc, Value x, Value y) { return MulOp::create(b, loc, x, y); }
Value div(OpBuilder &b, Location loc, Value x, Value y) { return DivOp::create(b, loc, x, y); }
Value mulBy(OpBuilder &b, Location loc, Value x, double c) { return mul(b, loc, x, scalar(b, loc, x, c)); }

/// `g` where `cond` holds, else 0 (the result has the broadcast shape).
Value gradWhere(OpBuilder &b, Location loc, Value cond, Value g) {
  return WhereOp::create(b, loc, cond, g, scalar(b, loc, g, 0.0));
}

/// The shape a reduction over `axes` keeps when keepdims is set.
SmallVector<int64_t> keptShape(RankedTensorType input, ArrayRef<int64_t> axes) {
  SmallVector<int64_t> shape(input.getShape());
  for (int64_t axis : axes)
    shape[axis] = 1;
  return shape;
}

/// Spreads a reduction result (or its gradient) back over the input's shape.
Value unreduce(OpBuilder &b, Location loc, Value reduced, RankedTensorType input,
               ArrayRef<int64_t> axes) {
  SmallVector<int64_t> kept = keptShape(input, axes);
  if (typeOf(reduced).getShape() != ArrayRef<int64_t>(kept))
    reduced = ReshapeOp::create(b, loc, reduced, kept);
  if (typeOf(reduced).getShape() == input.getShape())
    return reduced;
  return BroadcastOp::create(b, loc, reduced, input.getShape());
}

SmallVector<int64_t> trailingAxes(int64_t from, int64_t rank) {
  SmallVector<int64_t> axes(rank - from);
  std::iota(axes.begin(), axes.end(), from);
  return axes;
}

/// Swaps the last two dims (the matrix dims of a batched matmul operand).
Value transposeMatrices(OpBuilder &b, Location loc, Value x) {
  int64_t rank = typeOf(x).getRank();
  SmallVector<int64_t> perm(rank);
  std::iota(perm.begin(), perm.end(), 0);
  std::swap(perm[rank - 1], perm[rank - 2]);
  return TransposeOp::create(b, loc, x, perm);
}

Value concatAlong(OpBuilder &b, Location loc, ArrayRef<Value> pieces, int64_t axis) {
  if (pieces.size() == 1)
    return pieces.front();
  return ConcatOp::create(b, loc, pieces, static_cast<uint64_t>(axis));
}

/// Scatters the gradient of `slice` along one dim `d` into zeros of the
/// input's size there: result[offset + i * stride] = grad[i]. mpc has no
/// scatter op, so positive strides interleave zeros by reshape + concat and
/// the borders are concatenated zeros; a negative stride first reverses grad.
Value unsliceDim(OpBuilder &b, Location loc, Value grad, int64_t d, int64_t inputSize,
                 int64_t offset, int64_t stride) {
  RankedTensorType type = typeOf(grad);
  int64_t n = type.getDimSize(d);
  if (n == 1)
    stride = 1; // one element: its stride never matters
  int64_t low = offset;
  if (stride < 0) {
    SmallVector<int64_t> offsets(type.getRank(), 0), strides(type.getRank(), 1);
    offsets[d] = n - 1;
    strides[d] = -1;
    grad = SliceOp::create(b, loc, grad, offsets, type.getShape(), strides);
    low = offset + (n - 1) * stride;
    stride = -stride;
  }
  if (stride > 1) {
    SmallVector<int64_t> split(type.getShape());
    split.insert(split.begin() + d + 1, 1);
    Value column = ReshapeOp::create(b, loc, grad, split);
    split[d + 1] = stride - 1;
    Value gaps = zeros(b, loc, RankedTensorType::get(split, type.getElementType()));
    Value interleaved = concatAlong(b, loc, {column, gaps}, d + 1);
    SmallVector<int64_t> merged(type.getShape());
    merged[d] = n * stride;
    interleaved = ReshapeOp::create(b, loc, interleaved, merged);
    SmallVector<int64_t> offsets(type.getRank(), 0), sizes(merged), strides(type.getRank(), 1);
    sizes[d] = (n - 1) * stride + 1;
    grad = SliceOp::create(b, loc, interleaved, offsets, sizes, strides);
  }
  int64_t span = (n - 1) * stride + 1;
  SmallVector<Value> pieces;
  auto border = [&](int64_t size) {
    SmallVector<int64_t> shape(typeOf(grad).getShape());
    shape[d] = size;
    pieces.push_back(zeros(b, loc, RankedTensorType::get(shape, type.getElementType())));
  };
  if (low > 0)
    border(low);
  pieces.push_back(grad);
  if (inputSize - low - span > 0)
    border(inputSize - low - span);
  return concatAlong(b, loc, pieces, d);
}

using Grads = SmallVectorImpl<Value>;

//===----------------------------------------------------------------------===//
// Elementwise unary: d/dx given x, y = op(x) and the result gradient g
//===----------------------------------------------------------------------===//

LogicalResult gradient(NegOp, OpBuilder &b, Value g, Grads &grads) {
  grads.push_back(NegOp::create(b, g.getLoc(), g));
  return success();
}

LogicalResult gradient(AbsOp op, OpBuilder &b, Value g, Grads &grads) {
  // sign(x) * g, with 0 at x == 0 like PyTorch.
  Location loc = op.getLoc();
  Value x = op.getInput(), zero = scalar(b, loc, x, 0.0);
  Value negative = WhereOp::create(b, loc, LessOp::create(b, loc, x, zero), NegOp::create(b, loc, g), zero);
  grads.push_back(WhereOp::create(b, loc, GreaterOp::create(b, loc, x, zero), g, negative));
  return success();
}

LogicalResult gradient(ExpOp op, OpBuilder &b, Value g, Grads &grads) {
  grads.push_back(mul(b, op.getLoc(), g, op.getResult()));
  return success();
}

LogicalResult gradient(LogOp op, OpBuilder &b, Value g, Grads &grads) {
  grads.push_back(div(b, op.getLoc(), g, op.getInput()));
  return success();
}

LogicalResult gradient(SqrtOp op, OpBuilder &b, Value g, Grads &grads) {
  Location loc = op.getLoc();
  grads.push_back(div(b, loc, g, mulBy(b, loc, op.getResult(), 2.0)));
  return success();
}

LogicalResult gradient(ReciprocalOp op, OpBuilder &b, Value g, Grads &grads) {
  Location loc = op.getLoc();
  Value y = op.getResult();
  grads.push_back(NegOp::create(b, loc, mul(b, loc, g, mul(b, loc, y, y))));
  return success();
}

LogicalResult gradient(TanhOp op, OpBuilder &b, Value g, Grads &grads) {
  Location loc = op.getLoc();
  Value y = op.getResult();
  grads.push_back(mul(b, loc, g, sub(b, loc, scalar(b, loc, y, 1.0), mul(b, loc, y, y))));
  return success();
}

LogicalResult gradient(SigmoidOp op, OpBuilder &b, Value g, Grads &grads) {
  Location loc = op.getLoc();
  Value y = op.getResult();
  Value slope = mul(b, loc, y, sub(b, loc, scalar(b, loc, y, 1.0), y));
  grads.push_back(mul(b, loc, g, slope));
  return success();
}

LogicalResult gradient(ReluOp op, OpBuilder &b, Value g, Grads &grads) {
  Location loc = op.getLoc();
  Value x = op.getInput();
  grads.push_back(gradWhere(b, loc, GreaterOp::create(b, loc, x, scalar(b, loc, x, 0.0)), g));
  return success();
}

/// 2/sqrt(pi) * exp(-x^2).
Value erfSlope(OpBuilder &b, Location loc, Value x) {
  Value negSquare = NegOp::create(b, loc, mul(b, loc, x, x));
  return mulBy(b, loc, ExpOp::create(b, loc, negSquare), 2.0 / std::sqrt(M_PI));
}

LogicalResult gradient(ErfOp op, OpBuilder &b, Value g, Grads &grads) {
  grads.push_back(mul(b, op.getLoc(), g, erfSlope(b, op.getLoc(), op.getInput())));
  return success();
}

LogicalResult gradient(GeluOp op, OpBuilder &b, Value g, Grads &grads) {
  Location loc = op.getLoc();
  Value x = op.getInput(), one = scalar(b, loc, x, 1.0);
  Value slope;
  if (op.getApproximateTanh()) {
    // y = x/2 (1 + tanh(u)), u = k (x + a x^3):
    // y' = (1 + t)/2 + x/2 (1 - t^2) k (1 + 3 a x^2).
    const double k = std::sqrt(2.0 / M_PI), a = 0.044715;
    Value square = mul(b, loc, x, x);
    Value u = mulBy(b, loc, mul(b, loc, x, add(b, loc, one, mulBy(b, loc, square, a))), k);
    Value t = TanhOp::create(b, loc, u);
    Value du = mulBy(b, loc, add(b, loc, one, mulBy(b, loc, square, 3.0 * a)), k);
    Value dt = mul(b, loc, sub(b, loc, one, mul(b, loc, t, t)), du);
    slope = mulBy(b, loc, add(b, loc, add(b, loc, one, t), mul(b, loc, x, dt)), 0.5);
  } else {
    // y = x Phi(x): y' = Phi(x) + x phi(x).
    Value cdf = mulBy(b, loc, add(b, loc, one, ErfOp::create(b, loc, mulBy(b, loc, x, M_SQRT1_2))), 0.5);
    Value halfSquare = mulBy(b, loc, mul(b, loc, x, x), -0.5);
    Value pdf = mulBy(b, loc, ExpOp::create(b, loc, halfSquare), 1.0 / std::sqrt(2.0 * M_PI));
    slope = add(b, loc, cdf, mul(b, loc, x, pdf));
  }
  grads.push_back(mul(b, loc, g, slope));
  return success();
}

LogicalResult gradient(LeakyReluOp op, OpBuilder &b, Value g, Grads &grads) {
  Location loc = op.getLoc();
  Value x = op.getInput();
  Value positive = GreaterOp::create(b, loc, x, scalar(b, loc, x, 0.0));
  double alpha = op.getAlphaAttr().getValueAsDouble();
  grads.push_back(WhereOp::create(b, loc, positive, g, mulBy(b, loc, g, alpha)));
  return success();
}

LogicalResult gradient(ClipOp op, OpBuilder &b, Value g, Grads &grads) {
  // PyTorch's clamp: the gradient passes where min <= x <= max (bounds included).
  Location loc = op.getLoc();
  Value x = op.getInput(), grad = g, zero = scalar(b, loc, x, 0.0);
  if (FloatAttr min = op.getMinAttr())
    grad = WhereOp::create(b, loc, LessOp::create(b, loc, x, scalar(b, loc, x, min.getValueAsDouble())),
                           zero, grad);
  if (FloatAttr max = op.getMaxAttr())
    grad = WhereOp::create(b, loc, GreaterOp::create(b, loc, x, scalar(b, loc, x, max.getValueAsDouble())),
                           zero, grad);
  grads.push_back(grad);
  return success();
}

//===----------------------------------------------------------------------===//
// Broadcasting binary ops: each gradient is summed back to its operand's shape
//===----------------------------------------------------------------------===//

template <typename OpT>
void pushBinary(OpT op, OpBuilder &b, Value lhsGrad, Value rhsGrad, Grads &grads) {
  Location loc = op.getLoc();
  grads.push_back(reduceToShape(b, loc, lhsGrad, typeOf(op.getLhs())));
  grads.push_back(reduceToShape(b, loc, rhsGrad, typeOf(op.getRhs())));
}

LogicalResult gradient(AddOp op, OpBuilder &b, Value g, Grads &grads) {
  pushBinary(op, b, g, g, grads);
  return success();
}

LogicalResult gradient(SubOp op, OpBuilder &b, Value g, Grads &grads) {
  pushBinary(op, b, g, NegOp::create(b, op.getLoc(), g), grads);
  return success();
}

LogicalResult gradient(MulOp op, OpBuilder &b, Value g, Grads &grads) {
  Location loc = op.getLoc();
  pushBinary(op, b, mul(b, loc, g, op.getRhs()), mul(b, loc, g, op.getLhs()), grads);
  return success();
}

LogicalResult gradient(DivOp op, OpBuilder &b, Value g, Grads &grads) {
  // d(a/b)/db = -(a/b)/b: reuses the forward result.
  Location loc = op.getLoc();
  Value rhsGrad = NegOp::create(b, loc, div(b, loc, mul(b, loc, g, op.getResult()), op.getRhs()));
  pushBinary(op, b, div(b, loc, g, op.getRhs()), rhsGrad, grads);
  return success();
}

LogicalResult gradient(PowOp op, OpBuilder &b, Value g, Grads &grads) {
  // As PyTorch: the base gets 0 where the exponent is 0 (no 0 * inf), the
  // exponent gets 0 where the base is 0 (log 0 = -inf).
  Location loc = op.getLoc();
  Value base = op.getLhs(), exponent = op.getRhs();
  Value one = scalar(b, loc, base, 1.0), zero = scalar(b, loc, base, 0.0);
  Value power = PowOp::create(b, loc, base, sub(b, loc, exponent, one));
  Value baseGrad = mul(b, loc, g, mul(b, loc, exponent, power));
  baseGrad = WhereOp::create(b, loc, EqualOp::create(b, loc, exponent, zero), zero, baseGrad);
  Value expGrad = mul(b, loc, mul(b, loc, g, op.getResult()), LogOp::create(b, loc, base));
  expGrad = WhereOp::create(b, loc, EqualOp::create(b, loc, base, zero), zero, expGrad);
  pushBinary(op, b, baseGrad, expGrad, grads);
  return success();
}

/// max/min: the operand that wins gets g; ties split g evenly between both
/// (PyTorch's torch.maximum/torch.minimum).
template <typename WinsOp, typename OpT>
void pushExtremum(OpT op, OpBuilder &b, Value g, Grads &grads) {
  Location loc = op.getLoc();
  Value lhs = op.getLhs(), rhs = op.getRhs();
  Value half = mulBy(b, loc, g, 0.5);
  Value tie = EqualOp::create(b, loc, lhs, rhs);
  Value lhsGrad = WhereOp::create(b, loc, WinsOp::create(b, loc, lhs, rhs), g, gradWhere(b, loc, tie, half));
  Value rhsGrad = WhereOp::create(b, loc, WinsOp::create(b, loc, rhs, lhs), g, gradWhere(b, loc, tie, half));
  pushBinary(op, b, lhsGrad, rhsGrad, grads);
}

LogicalResult gradient(MaxOp op, OpBuilder &b, Value g, Grads &grads) {
  pushExtremum<GreaterOp>(op, b, g, grads);
  return success();
}

LogicalResult gradient(MinOp op, OpBuilder &b, Value g, Grads &grads) {
  pushExtremum<LessOp>(op, b, g, grads);
  return success();
}

LogicalResult gradient(WhereOp op, OpBuilder &b, Value g, Grads &grads) {
  Location loc = op.getLoc();
  Value zero = scalar(b, loc, g, 0.0);
  grads.push_back(Value());
  grads.push_back(reduceToShape(b, loc, WhereOp::create(b, loc, op.getCondition(), g, zero), typeOf(op.getX())));
  grads.push_back(reduceToShape(b, loc, WhereOp::create(b, loc, op.getCondition(), zero, g), typeOf(op.getY())));
  return success();
}

LogicalResult gradient(CastOp op, OpBuilder &b, Value g, Grads &grads) {
  // The cast back: gradients of a bf16 compute reach f32 masters in f32.
  if (!isFloatTensor(op.getInput()) || !isFloatTensor(op.getResult())) {
    grads.push_back(Value());
    return success();
  }
  grads.push_back(CastOp::create(b, op.getLoc(), op.getInput().getType(), g));
  return success();
}

//===----------------------------------------------------------------------===//
// Matmul, normalization, softmax
//===----------------------------------------------------------------------===//

/// The matrix [prod(leading dims), last dim] `value` (static shape) is a
/// view of.
Value asMatrix(OpBuilder &b, Location loc, Value value) {
  ArrayRef<int64_t> shape = typeOf(value).getShape();
  int64_t rows = 1;
  for (int64_t dim : shape.drop_back())
    rows *= dim;
  return ReshapeOp::create(b, loc, value, ArrayRef<int64_t>{rows, shape.back()});
}

LogicalResult gradient(MatmulOp op, OpBuilder &b, Value g, Grads &grads) {
  // dA = g B^T, dB = A^T g, in the forward's precision and accumulator; batch
  // dims that were broadcast are summed back.
  Location loc = op.getLoc();
  Value lhs = op.getLhs(), rhs = op.getRhs();
  TypeAttr acc = op.getAccTypeAttr();
  Value lhsGrad = MatmulOp::create(b, loc, g, transposeMatrices(b, loc, rhs), acc);
  grads.push_back(reduceToShape(b, loc, lhsGrad, typeOf(lhs)));
  // A batch of rows times one matrix (a linear layer over [batch, seq,
  // features]): dB sums over every row at once, one GEMM whose reduction
  // runs over batch and rows, accumulated in `acc` and rounded once, instead
  // of a GEMM per batch element rounded and then summed.
  if (typeOf(rhs).getRank() == 2 && typeOf(lhs).getRank() > 2 && typeOf(lhs).hasStaticShape()) {
    Value rows = asMatrix(b, loc, lhs);
    grads.push_back(MatmulOp::create(b, loc, transposeMatrices(b, loc, rows), asMatrix(b, loc, g), acc));
    return success();
  }
  Value rhsGrad = MatmulOp::create(b, loc, transposeMatrices(b, loc, lhs), g, acc);
  grads.push_back(reduceToShape(b, loc, rhsGrad, typeOf(rhs)));
  return success();
}

LogicalResult gradient(SoftmaxOp op, OpBuilder &b, Value g, Grads &grads) {
  // dx = y (g - sum(g y)) along the axis.
  Location loc = op.getLoc();
  Value y = op.getResult();
  int64_t axis = op.getAxis();
  Value dot = ReduceSumOp::create(b, loc, mul(b, loc, g, y), ArrayRef<int64_t>{axis}, true, op.getAccTypeAttr());
  grads.push_back(mul(b, loc, y, sub(b, loc, g, dot)));
  return success();
}

LogicalResult gradient(LogSoftmaxOp op, OpBuilder &b, Value g, Grads &grads) {
  // dx = g - softmax(x) sum(g) along the axis; softmax(x) = exp(y).
  Location loc = op.getLoc();
  int64_t axis = op.getAxis();
  Value total = ReduceSumOp::create(b, loc, g, ArrayRef<int64_t>{axis}, true, op.getAccTypeAttr());
  grads.push_back(sub(b, loc, g, mul(b, loc, ExpOp::create(b, loc, op.getResult()), total)));
  return success();
}

LogicalResult gradient(LayerNormOp op, OpBuilder &b, Value g, Grads &grads) {
  // With xhat = (x - mean) * rstd and dxhat = g * scale (means over the
  // normalized dims): dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)).
  Location loc = op.getLoc();
  Value x = op.getInput(), scale = op.getScale();
  RankedTensorType xType = typeOf(x);
  SmallVector<int64_t> axes = trailingAxes(op.getAxis(), xType.getRank());
  TypeAttr acc = op.getAccTypeAttr();
  auto mean = [&](Value v) { return ReduceMeanOp::create(b, loc, v, axes, true, acc).getResult(); };
  Value centered = sub(b, loc, x, mean(x));
  Value variance = mean(mul(b, loc, centered, centered));
  double epsilon = op.getEpsilonAttr().getValueAsDouble();
  Value rstd = ReciprocalOp::create(b, loc, SqrtOp::create(b, loc, add(b, loc, variance, scalar(b, loc, x, epsilon))));
  Value xhat = mul(b, loc, centered, rstd);
  Value dxhat = mul(b, loc, g, scale);
  Value inner = sub(b, loc, sub(b, loc, dxhat, mean(dxhat)), mul(b, loc, xhat, mean(mul(b, loc, dxhat, xhat))));
  grads.push_back(mul(b, loc, rstd, inner));
  grads.push_back(reduceToShape(b, loc, mul(b, loc, g, xhat), typeOf(scale)));
  if (Value bias = op.getBias())
    grads.push_back(reduceToShape(b, loc, g, typeOf(bias)));
  return success();
}

//===----------------------------------------------------------------------===//
// Reductions
//===----------------------------------------------------------------------===//

LogicalResult gradient(ReduceSumOp op, OpBuilder &b, Value g, Grads &grads) {
  grads.push_back(unreduce(b, op.getLoc(), g, typeOf(op.getInput()), op.getAxes()));
  return success();
}

LogicalResult gradient(ReduceMeanOp op, OpBuilder &b, Value g, Grads &grads) {
  Location loc = op.getLoc();
  RankedTensorType input = typeOf(op.getInput());
  int64_t count = 1;
  for (int64_t axis : op.getAxes())
    count *= input.getDimSize(axis);
  grads.push_back(unreduce(b, loc, mulBy(b, loc, g, 1.0 / double(count)), input, op.getAxes()));
  return success();
}

LogicalResult gradient(ReduceProdOp op, OpBuilder &b, Value g, Grads &grads) {
  // d/dx_i = product of the other elements. y / x_i fails at zeros, so:
  // with no zero in the group it is P / x_i (P = product of the non-zeros),
  // at the group's only zero it is P, and everything else is 0.
  Location loc = op.getLoc();
  Value x = op.getInput();
  RankedTensorType input = typeOf(x);
  ArrayRef<int64_t> axes = op.getAxes();
  Value zero = scalar(b, loc, x, 0.0), one = scalar(b, loc, x, 1.0);
  Value isZero = EqualOp::create(b, loc, x, zero);
  Value nonZeros = WhereOp::create(b, loc, isZero, one, x);
  Value product = ReduceProdOp::create(b, loc, nonZeros, axes, true, op.getAccTypeAttr());
  Value zeroCount = ReduceSumOp::create(b, loc, WhereOp::create(b, loc, isZero, one, zero), axes, true, TypeAttr());
  Value atZero = gradWhere(b, loc, EqualOp::create(b, loc, zeroCount, one), product);
  Value elsewhere = gradWhere(b, loc, EqualOp::create(b, loc, zeroCount, zero), div(b, loc, product, x));
  Value slope = WhereOp::create(b, loc, isZero, atZero, elsewhere);
  grads.push_back(mul(b, loc, unreduce(b, loc, g, input, axes), slope));
  return success();
}

/// reduce_max/min: g goes to the elements equal to the result, split evenly
/// among ties (PyTorch's amax/amin).
template <typename OpT>
LogicalResult extremumReductionGradient(OpT op, OpBuilder &b, Value g, Grads &grads) {
  Location loc = op.getLoc();
  Value x = op.getInput();
  RankedTensorType input = typeOf(x);
  ArrayRef<int64_t> axes = op.getAxes();
  Value hit = EqualOp::create(b, loc, x, unreduce(b, loc, op.getResult(), input, axes));
  Value ones = WhereOp::create(b, loc, hit, scalar(b, loc, x, 1.0), scalar(b, loc, x, 0.0));
  Value count = ReduceSumOp::create(b, loc, ones, axes, true, TypeAttr());
  Value share = div(b, loc, unreduce(b, loc, g, input, axes), count);
  grads.push_back(gradWhere(b, loc, hit, share));
  return success();
}

LogicalResult gradient(ReduceMaxOp op, OpBuilder &b, Value g, Grads &grads) {
  return extremumReductionGradient(op, b, g, grads);
}

LogicalResult gradient(ReduceMinOp op, OpBuilder &b, Value g, Grads &grads) {
  return extremumReductionGradient(op, b, g, grads);
}

//===----------------------------------------------------------------------===//
// Data movement
//===----------------------------------------------------------------------===//

LogicalResult gradient(ReshapeOp op, OpBuilder &b, Value g, Grads &grads) {
  grads.push_back(ReshapeOp::create(b, op.getLoc(), g, typeOf(op.getInput()).getShape()));
  return success();
}

LogicalResult gradient(TransposeOp op, OpBuilder &b, Value g, Grads &grads) {
  ArrayRef<int64_t> perm = op.getPerm();
  SmallVector<int64_t> inverse(perm.size());
  for (auto [i, p] : llvm::enumerate(perm))
    inverse[p] = i;
  grads.push_back(TransposeOp::create(b, op.getLoc(), g, inverse));
  return success();
}

LogicalResult gradient(ConcatOp op, OpBuilder &b, Value g, Grads &grads) {
  int64_t axis = op.getAxis(), offset = 0;
  int64_t rank = typeOf(g).getRank();
  for (Value input : op.getInputs()) {
    RankedTensorType type = typeOf(input);
    SmallVector<int64_t> offsets(rank, 0), strides(rank, 1);
    offsets[axis] = offset;
    offset += type.getDimSize(axis);
    grads.push_back(SliceOp::create(b, op.getLoc(), g, offsets, type.getShape(), strides));
  }
  return success();
}

LogicalResult gradient(SliceOp op, OpBuilder &b, Value g, Grads &grads) {
  Location loc = op.getLoc();
  RankedTensorType input = typeOf(op.getInput());
  if (typeOf(g).getNumElements() == 0) {
    grads.push_back(zeros(b, loc, input));
    return success();
  }
  Value grad = g;
  for (int64_t d = 0; d < input.getRank(); ++d) {
    int64_t offset = op.getOffsets()[d], stride = op.getStrides()[d];
    if (offset == 0 && stride == 1 && op.getSizes()[d] == input.getDimSize(d))
      continue;
    grad = unsliceDim(b, loc, grad, d, input.getDimSize(d), offset, stride);
  }
  grads.push_back(grad);
  return success();
}

LogicalResult gradient(BroadcastOp op, OpBuilder &b, Value g, Grads &grads) {
  grads.push_back(reduceToShape(b, op.getLoc(), g, typeOf(op.getInput())));
  return success();
}

LogicalResult gradient(GetParameterOp, OpBuilder &, Value, Grads &) {
  // A read of a frozen or integer parameter: a leaf with nothing to pass on.
  return success();
}

//===----------------------------------------------------------------------===//
// The interface model
//===----------------------------------------------------------------------===//

/// Adapts a `gradient` overload to GradientOpInterface. Every core op has one
/// result; operands that are not floats (conditions, integer data) get no
/// gradient whatever the rule computed.
template <typename OpT>
struct GradientModel : GradientOpInterface::ExternalModel<GradientModel<OpT>, OpT> {
  LogicalResult buildGradient(Operation *op, OpBuilder &builder, ArrayRef<Value> resultGrads,
                              SmallVectorImpl<Value> &operandGrads) const {
    operandGrads.clear();
    Value g = resultGrads.empty() ? Value() : resultGrads.front();
    if (!g) {
      operandGrads.resize(op->getNumOperands());
      return success();
    }
    if (failed(gradient(cast<OpT>(op), builder, g, operandGrads)))
      return failure();
    operandGrads.resize(op->getNumOperands());
    for (auto [operand, grad] : llvm::zip(op->getOperands(), operandGrads))
      if (grad && !isFloatTensor(operand))
        grad = Value();
    return success();
  }
};

template <typename... OpTs>
void attach(MLIRContext *context) {
  (OpTs::template attachInterface<GradientModel<OpTs>>(*context), ...);
}

} // namespace

void attachCoreGradientRules(MLIRContext *context) {
  attach<NegOp, AbsOp, ExpOp, LogOp, SqrtOp, ReciprocalOp, TanhOp, SigmoidOp, ReluOp, ErfOp, GeluOp,
         LeakyReluOp, ClipOp>(context);
  attach<AddOp, SubOp, MulOp, DivOp, PowOp, MaxOp, MinOp, WhereOp, CastOp>(context);
  attach<MatmulOp, SoftmaxOp, LogSoftmaxOp, LayerNormOp>(context);
  attach<ReduceSumOp, ReduceMeanOp, ReduceProdOp, ReduceMaxOp, ReduceMinOp>(context);
  attach<ReshapeOp, TransposeOp, ConcatOp, SliceOp, BroadcastOp, GetParameterOp>(context);
}

} // namespace mpc
