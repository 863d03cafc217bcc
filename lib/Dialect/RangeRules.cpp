//===- RangeRules.cpp - per-op value-range transfer rules -----------------===//
//
// RangeOpInterface implementations: how each op bounds its result given
// bounds on its operands (docs/precision-range.md lists them). Operands the
// analysis knows nothing about arrive unbounded, and every rule stays sound
// on unbounded input, so no rule needs to check for "unknown".
//
//===----------------------------------------------------------------------===//
#include "mpc/Dialect/MpcDialect.h"
#include "mpc/Dialect/RangeRules.h"

#include <algorithm>
#include <cmath>

using namespace mlir;
using namespace mpc;

namespace {
/// Min, max and smallest non-zero magnitude of a stream of values.
struct Extremes {
  double lo = std::numeric_limits<double>::infinity(), hi = -lo, tiny = lo;
  bool sawNaN = false;

  void add(double x) {
    sawNaN |= std::isnan(x);
    lo = std::min(lo, x);
    hi = std::max(hi, x);
    if (x != 0)
      tiny = std::min(tiny, std::fabs(x));
  }
  Interval interval() const {
    return sawNaN ? Interval::unbounded() : Interval::of(lo, hi, std::isinf(tiny) ? 0 : tiny);
  }
};
} // namespace

Interval mpc::intervalOfElements(ElementsAttr elements) {
  if (!isa<FloatType>(elements.getElementType()) || elements.empty())
    return Interval::unbounded();
  Extremes extremes;
  // f32 weights are most of a model's bytes: read them as floats, not one
  // APFloat per element.
  auto dense = dyn_cast<DenseElementsAttr>(elements);
  if (dense && dense.getElementType().isF32()) {
    for (float x : dense.getValues<float>())
      extremes.add(x);
    return extremes.interval();
  }
  auto values = elements.tryGetValues<APFloat>();
  if (!values)
    return Interval::unbounded();
  for (const APFloat &value : *values)
    extremes.add(value.convertToDouble());
  return extremes.interval();
}

namespace {
int64_t elementCount(Value value) {
  auto shaped = cast<ShapedType>(value.getType());
  return shaped.hasStaticShape() ? shaped.getNumElements() : -1;
}

/// Data movement only copies elements: the result lies in the hull of the
/// float operands it copies from (index operands carry no data).
Interval hullOfFloatOperands(Operation *op, ArrayRef<Interval> operands) {
  std::optional<Interval> result;
  for (auto [value, range] : llvm::zip(op->getOperands(), operands)) {
    if (!isa<FloatType>(getElementTypeOrSelf(value.getType())))
      continue;
    result = result ? hull(*result, range) : range;
  }
  return result.value_or(Interval::unbounded());
}

/// Each output element of a reduction combines this many input elements.
int64_t reducedCount(Operation *op) {
  int64_t in = elementCount(op->getOperand(0)), out = elementCount(op->getResult(0));
  return in < 0 || out <= 0 ? -1 : in / out;
}

/// The sum of `count` products of elements of `a` and `b`: what a
/// contraction accumulates (each partial sum lies within this bound too).
Interval sumOfProducts(const Interval &a, const Interval &b, int64_t count) {
  if (count < 0)
    return Interval::unbounded();
  return sumOf(mul(a, b), count);
}
} // namespace

// Elementwise unary.
Interval NegOp::inferResultRange(ArrayRef<Interval> operands) { return neg(operands[0]); }
Interval AbsOp::inferResultRange(ArrayRef<Interval> operands) { return mpc::abs(operands[0]); }
Interval ExpOp::inferResultRange(ArrayRef<Interval> operands) { return mpc::exp(operands[0]); }
Interval LogOp::inferResultRange(ArrayRef<Interval> operands) { return mpc::log(operands[0]); }
Interval SqrtOp::inferResultRange(ArrayRef<Interval> operands) { return mpc::sqrt(operands[0]); }
Interval ReciprocalOp::inferResultRange(ArrayRef<Interval> operands) {
  return reciprocal(operands[0]);
}
Interval TanhOp::inferResultRange(ArrayRef<Interval> operands) { return mpc::tanh(operands[0]); }
Interval SigmoidOp::inferResultRange(ArrayRef<Interval> operands) { return sigmoid(operands[0]); }
Interval ReluOp::inferResultRange(ArrayRef<Interval> operands) { return relu(operands[0]); }
Interval ErfOp::inferResultRange(ArrayRef<Interval> operands) { return mpc::erf(operands[0]); }
Interval GeluOp::inferResultRange(ArrayRef<Interval> operands) { return gelu(operands[0]); }
Interval LeakyReluOp::inferResultRange(ArrayRef<Interval> operands) {
  return leakyRelu(operands[0], getAlphaAttr().getValueAsDouble());
}
Interval ClipOp::inferResultRange(ArrayRef<Interval> operands) {
  double inf = std::numeric_limits<double>::infinity();
  return clip(operands[0], getMinAttr() ? getMinAttr().getValueAsDouble() : -inf,
              getMaxAttr() ? getMaxAttr().getValueAsDouble() : inf);
}

// Elementwise binary (broadcasting changes which elements meet, not the
// values they take).
Interval AddOp::inferResultRange(ArrayRef<Interval> operands) {
  return add(operands[0], operands[1]);
}
Interval SubOp::inferResultRange(ArrayRef<Interval> operands) {
  return sub(operands[0], operands[1]);
}
Interval MulOp::inferResultRange(ArrayRef<Interval> operands) {
  // x * x is a square: non-negative, unlike the product of two independent
  // factors in the same interval.
  if (getLhs() == getRhs())
    return square(operands[0]);
  return mul(operands[0], operands[1]);
}
Interval DivOp::inferResultRange(ArrayRef<Interval> operands) {
  return div(operands[0], operands[1]);
}
Interval PowOp::inferResultRange(ArrayRef<Interval> operands) {
  return mpc::pow(operands[0], operands[1]);
}
Interval MaxOp::inferResultRange(ArrayRef<Interval> operands) {
  return mpc::max(operands[0], operands[1]);
}
Interval MinOp::inferResultRange(ArrayRef<Interval> operands) {
  return mpc::min(operands[0], operands[1]);
}
Interval WhereOp::inferResultRange(ArrayRef<Interval> operands) {
  return hull(operands[1], operands[2]);
}

Interval CastOp::inferResultRange(ArrayRef<Interval> operands) {
  // A float-to-float conversion keeps values (up to rounding); integer data
  // has no tracked range.
  return isa<FloatType>(getElementTypeOrSelf(getInput().getType())) ? operands[0]
                                                                      : Interval::unbounded();
}

// Contractions: |y| <= K * max|a| * max|b| where K counts the products that
// are summed into one output element.
Interval MatmulOp::inferResultRange(ArrayRef<Interval> operands) {
  auto lhs = cast<ShapedType>(getLhs().getType());
  int64_t k = lhs.getRank() > 0 ? lhs.getShape().back() : -1;
  return sumOfProducts(operands[0], operands[1], ShapedType::isDynamic(k) ? -1 : k);
}
Interval ConvOp::inferResultRange(ArrayRef<Interval> operands) {
  // The weight is [C_out, C_in / group, k...]: each output element sums the
  // product of every weight element of one output channel with an input.
  auto weight = cast<ShapedType>(getWeight().getType());
  int64_t count = weight.hasStaticShape() && weight.getRank() > 0
                      ? weight.getNumElements() / weight.getShape().front()
                      : -1;
  Interval result = sumOfProducts(operands[0], operands[1], count);
  return getBias() ? add(result, operands[2]) : result;
}

// Normalizations.
Interval SoftmaxOp::inferResultRange(ArrayRef<Interval>) { return Interval::of(0, 1); }
Interval LogSoftmaxOp::inferResultRange(ArrayRef<Interval> operands) {
  // x_i - max(x) - log(sum exp(x_j - max)): the last term is in [0, log N].
  auto type = cast<ShapedType>(getInput().getType());
  int64_t axis = getAxis() < 0 ? getAxis() + type.getRank() : getAxis();
  if (axis < 0 || axis >= type.getRank() || ShapedType::isDynamic(type.getDimSize(axis)))
    return Interval::of(-std::numeric_limits<double>::infinity(), 0);
  const Interval &x = operands[0];
  return Interval::of(x.lo - x.hi - std::log(double(type.getDimSize(axis))), 0);
}
Interval LayerNormOp::inferResultRange(ArrayRef<Interval> operands) {
  // A value normalized by the (biased) standard deviation of N values lies
  // within sqrt(N - 1) of 0, whatever the input; epsilon only shrinks it.
  int64_t n = 1;
  auto type = cast<ShapedType>(getInput().getType());
  for (int64_t dim = getAxis() < 0 ? getAxis() + type.getRank() : getAxis(); dim < type.getRank();
       ++dim)
    n *= type.getDimSize(dim);
  double bound = std::sqrt(double(std::max<int64_t>(n - 1, 0)));
  Interval result = mul(Interval::of(-bound, bound), operands[1]);
  return getBias() ? add(result, operands[2]) : result;
}
Interval BatchNormOp::inferResultRange(ArrayRef<Interval> operands) {
  // Inference form, with the running statistics as operands.
  Interval stddev = mpc::sqrt(add(operands[4], Interval::point(getEpsilon().convertToDouble())));
  return add(mul(div(sub(operands[0], operands[3]), stddev), operands[1]), operands[2]);
}

// Reductions.
Interval ReduceSumOp::inferResultRange(ArrayRef<Interval> operands) {
  int64_t count = reducedCount(*this);
  return count < 0 ? Interval::unbounded() : sumOf(operands[0], count);
}
Interval ReduceMeanOp::inferResultRange(ArrayRef<Interval> operands) { return operands[0]; }
Interval ReduceProdOp::inferResultRange(ArrayRef<Interval> operands) {
  int64_t count = reducedCount(*this);
  if (count < 0)
    return Interval::unbounded();
  return mpc::pow(operands[0], Interval::point(double(count)));
}
Interval ReduceMaxOp::inferResultRange(ArrayRef<Interval> operands) { return operands[0]; }
Interval ReduceMinOp::inferResultRange(ArrayRef<Interval> operands) { return operands[0]; }

// Pooling: padding never wins a max; an average that counts pads mixes in 0.
Interval MaxPoolOp::inferResultRange(ArrayRef<Interval> operands) { return operands[0]; }
Interval AvgPoolOp::inferResultRange(ArrayRef<Interval> operands) {
  return getCountIncludePad() ? hull(operands[0], Interval::point(0)) : operands[0];
}

// Data movement.
Interval ReshapeOp::inferResultRange(ArrayRef<Interval> operands) {
  return hullOfFloatOperands(*this, operands);
}
Interval TransposeOp::inferResultRange(ArrayRef<Interval> operands) {
  return hullOfFloatOperands(*this, operands);
}
Interval ConcatOp::inferResultRange(ArrayRef<Interval> operands) {
  return hullOfFloatOperands(*this, operands);
}
Interval SliceOp::inferResultRange(ArrayRef<Interval> operands) {
  return hullOfFloatOperands(*this, operands);
}
Interval BroadcastOp::inferResultRange(ArrayRef<Interval> operands) {
  return hullOfFloatOperands(*this, operands);
}
Interval GatherOp::inferResultRange(ArrayRef<Interval> operands) {
  return hullOfFloatOperands(*this, operands);
}
Interval GetParameterOp::inferResultRange(ArrayRef<Interval>) {
  // Training turns parameter reads into function arguments, so a read that
  // is still here sees exactly the stored values.
  auto parameter = SymbolTable::lookupNearestSymbolFrom<ParameterOp>(*this, getNameAttr());
  return parameter ? intervalOfElements(parameter.getValue()) : Interval::unbounded();
}

// Trigonometric, hyperbolic and rounding functions. NaN results (inputs
// outside a function's domain) are left out, as everywhere in the analysis:
// the input is clamped to the domain before the rule applies.
namespace {
/// [f(lo), f(hi)] for a non-decreasing f on [domainLo, domainHi].
template <typename F>
Interval increasing(const Interval &a, F f, double domainLo, double domainHi,
                    double minNonZero = 0) {
  return Interval::of(f(std::clamp(a.lo, domainLo, domainHi)),
                      f(std::clamp(a.hi, domainLo, domainHi)), minNonZero);
}
constexpr double kInf = std::numeric_limits<double>::infinity();
/// Non-zero integers are at least 1 in magnitude.
Interval integral(const Interval &a, double (*f)(double)) {
  return increasing(a, f, -kInf, kInf, 1.0);
}
} // namespace

Interval SinOp::inferResultRange(ArrayRef<Interval>) { return Interval::of(-1, 1); }
Interval CosOp::inferResultRange(ArrayRef<Interval>) { return Interval::of(-1, 1); }
Interval TanOp::inferResultRange(ArrayRef<Interval>) { return Interval::unbounded(); }
Interval AsinOp::inferResultRange(ArrayRef<Interval> operands) {
  return increasing(operands[0], [](double x) { return std::asin(x); }, -1, 1);
}
Interval AcosOp::inferResultRange(ArrayRef<Interval> operands) {
  Interval x = operands[0];
  return Interval::of(std::acos(std::clamp(x.hi, -1.0, 1.0)), std::acos(std::clamp(x.lo, -1.0, 1.0)));
}
Interval AtanOp::inferResultRange(ArrayRef<Interval> operands) {
  return increasing(operands[0], [](double x) { return std::atan(x); }, -kInf, kInf);
}
Interval SinhOp::inferResultRange(ArrayRef<Interval> operands) {
  return increasing(operands[0], [](double x) { return std::sinh(x); }, -kInf, kInf);
}
Interval CoshOp::inferResultRange(ArrayRef<Interval> operands) {
  Interval x = operands[0];
  double hi = std::cosh(std::max(std::fabs(x.lo), std::fabs(x.hi)));
  double lo = x.contains(0) ? 1.0 : std::cosh(std::min(std::fabs(x.lo), std::fabs(x.hi)));
  return Interval::of(lo, hi, 1.0);
}
Interval AsinhOp::inferResultRange(ArrayRef<Interval> operands) {
  return increasing(operands[0], [](double x) { return std::asinh(x); }, -kInf, kInf);
}
Interval AcoshOp::inferResultRange(ArrayRef<Interval> operands) {
  return increasing(operands[0], [](double x) { return std::acosh(x); }, 1, kInf);
}
Interval AtanhOp::inferResultRange(ArrayRef<Interval> operands) {
  return increasing(operands[0], [](double x) { return std::atanh(x); }, -1, 1);
}
Interval FloorOp::inferResultRange(ArrayRef<Interval> operands) {
  return integral(operands[0], [](double x) { return std::floor(x); });
}
Interval CeilOp::inferResultRange(ArrayRef<Interval> operands) {
  return integral(operands[0], [](double x) { return std::ceil(x); });
}
Interval RoundOp::inferResultRange(ArrayRef<Interval> operands) {
  return integral(operands[0], [](double x) { return std::nearbyint(x); });
}
Interval SignOp::inferResultRange(ArrayRef<Interval> operands) {
  return integral(operands[0], [](double x) { return double((x > 0) - (x < 0)); });
}
