//===- ImportMath.cpp - math functions, logic, activations, CumSum/Prod ---===//
//
// Trigonometric, hyperbolic and rounding functions become their mpc ops.
// Everything else here is a composition of existing mpc ops, so it lowers
// on every target and differentiates through the existing gradient rules:
// the logical ops and IsNaN/IsInf are selects on bools, the activations
// (Elu ... PRelu) are the formulas of the ONNX spec written so that no
// branch overflows (a where() whose untaken branch is inf would give NaN
// gradients), CumSum is a product with a 0/1 triangular matrix, and CumProd
// a product reduction over x masked (to 1) by the same triangle.
//
//===----------------------------------------------------------------------===//
#include "Importer.h"

#include <limits>
#include <numeric>

using namespace mlir;
using namespace mpc::importer;

namespace {

/// Builds a composition op by op. A failure is reported by NodeImporter
/// when it happens; every later result is then a null Value.
class Emitter {
public:
  Emitter(NodeImporter &n, Type element) : n(n), element(element) {}

  Value constant(double value) { return take(n.scalar(element, value)); }
  Value boolean(bool value) { return take(n.scalar(n.builder().getI1Type(), value)); }
  template <typename OpTy> Value unary(Value x) {
    return x ? take(n.createOrFold<OpTy>(x.getType(), x)) : Value();
  }
  template <typename OpTy> Value binary(Value a, Value b) {
    return a && b ? take(n.createOrFold<OpTy>(n.inferred(), a, b)) : Value();
  }
  Value where(Value c, Value x, Value y) {
    return c && x && y ? take(n.createOrFold<mpc::WhereOp>(n.inferred(), c, x, y)) : Value();
  }
  Value scaled(Value x, double factor) {
    return factor == 1.0 ? x : binary<mpc::MulOp>(x, constant(factor));
  }
  Value clip(Value x, double lo, double hi) {
    if (!x)
      return {};
    OpBuilder &b = n.builder();
    return take(n.createOrFold<mpc::ClipOp>(x.getType(), x, b.getF64FloatAttr(lo),
                                            b.getF64FloatAttr(hi)));
  }
  template <typename OpTy> Value reduce(Value x, int64_t axis, bool keepdims) {
    int64_t axes[] = {axis};
    return x ? take(n.createOrFold<OpTy>(n.inferred(), x, ArrayRef<int64_t>(axes), keepdims,
                                         TypeAttr()))
             : Value();
  }
  Value logicalNot(Value x) { return where(x, boolean(false), boolean(true)); }
  /// alpha * (exp(min(x, 0) / alpha) - 1): the negative half of the ELU
  /// family, 0 for x >= 0, and exp never sees a positive argument.
  Value negativeElu(Value x, double alpha, bool divideByAlpha) {
    Value negative = binary<mpc::MinOp>(x, constant(0.0));
    if (divideByAlpha)
      negative = scaled(negative, 1.0 / alpha);
    Value expm1 = binary<mpc::SubOp>(unary<mpc::ExpOp>(negative), constant(1.0));
    return scaled(expm1, alpha);
  }
  /// The ELU family: max(x, 0) + negativeElu (built in this order).
  Value elu(Value x, double alpha, bool divideByAlpha) {
    Value positive = positivePart(x);
    return binary<mpc::AddOp>(positive, negativeElu(x, alpha, divideByAlpha));
  }
  /// max(x, 0) rather than relu: the gradient of max splits a tie, so
  /// these compositions get the mean of the one-sided slopes at 0 (1/2 for
  /// Softplus and 1 for Celu, their true slopes; (1 + alpha)/2 for Elu)
  /// where relu would give 0.
  Value positivePart(Value x) { return binary<mpc::MaxOp>(x, constant(0.0)); }
  /// log(1 + exp(x)) as max(x, 0) + log1p(exp(-|x|)): no overflow. mpc has
  /// no log1p, and log(1 + t) loses all of t below 2^-24 (softplus(-17)
  /// would be 0, or 2x off); 2 atanh(t / (2 + t)) equals log1p(t) and keeps
  /// every small t to a few ulp, with a finite gradient everywhere.
  Value softplus(Value x) {
    Value tail = unary<mpc::ExpOp>(unary<mpc::NegOp>(unary<mpc::AbsOp>(x)));
    Value ratio = binary<mpc::DivOp>(tail, binary<mpc::AddOp>(tail, constant(2.0)));
    Value log1p = scaled(unary<mpc::AtanhOp>(ratio), 2.0);
    return binary<mpc::AddOp>(positivePart(x), log1p);
  }

  LogicalResult finish(Value result) { return result ? n.setOutput(0, result) : failure(); }

private:
  Value take(FailureOr<Value> value) { return succeeded(value) ? *value : Value(); }

  NodeImporter &n;
  Type element;
};

Type elementTypeOf(Value v) { return cast<RankedTensorType>(v.getType()).getElementType(); }

/// Input i as a value after checking that it is a float tensor; null (with
/// the error reported) otherwise.
Value floatInput(NodeImporter &n, size_t i, StringRef what) {
  if (failed(n.require(i, what)))
    return {};
  if (!isFloatDType(n.dtypeOf(i))) {
    n.error() << what << " must be a float tensor, got " << dtypeName(n.dtypeOf(i));
    return {};
  }
  FailureOr<Value> x = n.value(i);
  return succeeded(x) ? *x : Value();
}

Value boolInput(NodeImporter &n, size_t i, StringRef what) {
  if (failed(n.require(i, what)))
    return {};
  if (n.dtypeOf(i) != kBool) {
    n.error() << what << " must be bool, got " << dtypeName(n.dtypeOf(i));
    return {};
  }
  FailureOr<Value> x = n.value(i);
  return succeeded(x) ? *x : Value();
}

//===----------------------------------------------------------------------===//
// Math functions
//===----------------------------------------------------------------------===//

template <typename OpTy> LogicalResult importMath(NodeImporter &n) {
  if (failed(n.require(0, "input")))
    return failure();
  FailureOr<Value> x = n.value(0);
  if (failed(x))
    return failure();
  FailureOr<Value> result = n.createOrFold<OpTy>(x->getType(), *x);
  if (failed(result))
    return failure();
  return n.setOutput(0, *result);
}

/// Floor and Ceil of constants (shape computations) stay host-evaluated, in
/// the constant's own type.
template <typename OpTy, HostUnary Kind> LogicalResult importRounding(NodeImporter &n) {
  if (failed(n.require(0, "X")))
    return failure();
  int64_t count = checkedNumElements(n.shapeOf(0));
  if (!n.allConstant() || count < 0 || count > kMaxHostElements)
    return importMath<OpTy>(n);
  std::string message;
  FailureOr<HostTensor> folded = hostUnary(Kind, n.host(0), message);
  if (failed(folded))
    return n.error() << message;
  return n.setOutput(0, std::move(*folded));
}

//===----------------------------------------------------------------------===//
// Logic
//===----------------------------------------------------------------------===//

/// Constant operands (shape computations) are evaluated on the host.
FailureOr<bool> foldLogicOnHost(NodeImporter &n, size_t arity, std::optional<HostBinary> binary) {
  Shape shape(n.shapeOf(0));
  std::string message;
  if (arity == 2) {
    FailureOr<Shape> broadcast = rules::broadcast(n.shapeOf(0), n.shapeOf(1), message);
    if (failed(broadcast))
      return n.shapeError(message);
    shape = *broadcast;
  }
  int64_t count = checkedNumElements(shape);
  if (!n.allConstant() || count < 0 || count > kMaxHostElements)
    return false;
  FailureOr<HostTensor> folded = binary ? hostBinary(*binary, n.host(0), n.host(1), message)
                                        : hostUnary(HostUnary::Not, n.host(0), message);
  if (failed(folded))
    return n.error() << message;
  if (failed(n.setOutput(0, std::move(*folded))))
    return failure();
  return true;
}

enum class Logic { And, Or, Xor };

template <Logic Kind> LogicalResult importLogic(NodeImporter &n) {
  Value a = boolInput(n, 0, "A");
  Value b = a ? boolInput(n, 1, "B") : Value();
  if (!b)
    return failure();
  constexpr HostBinary host = Kind == Logic::And  ? HostBinary::And
                              : Kind == Logic::Or ? HostBinary::Or
                                                  : HostBinary::Xor;
  FailureOr<bool> folded = foldLogicOnHost(n, 2, host);
  if (failed(folded) || *folded)
    return failure(failed(folded));
  Emitter e(n, elementTypeOf(a));
  if (Kind == Logic::And)
    return e.finish(e.where(a, b, e.boolean(false)));
  if (Kind == Logic::Or)
    return e.finish(e.where(a, e.boolean(true), b));
  return e.finish(e.where(a, e.logicalNot(b), b));
}

LogicalResult importNot(NodeImporter &n) {
  Value x = boolInput(n, 0, "X");
  if (!x)
    return failure();
  FailureOr<bool> folded = foldLogicOnHost(n, 1, std::nullopt);
  if (failed(folded) || *folded)
    return failure(failed(folded));
  Emitter e(n, elementTypeOf(x));
  return e.finish(e.logicalNot(x));
}

/// NaN is the one value not equal to itself (mpc.equal is ordered).
LogicalResult importIsNaN(NodeImporter &n) {
  Value x = floatInput(n, 0, "X");
  if (!x)
    return failure();
  Emitter e(n, elementTypeOf(x));
  return e.finish(e.logicalNot(e.binary<mpc::EqualOp>(x, x)));
}

LogicalResult importIsInf(NodeImporter &n) {
  FailureOr<int64_t> negative = n.intAttr("detect_negative", 1);
  FailureOr<int64_t> positive = n.intAttr("detect_positive", 1);
  Value x = succeeded(negative) && succeeded(positive) ? floatInput(n, 0, "X") : Value();
  if (!x)
    return failure();
  Emitter e(n, elementTypeOf(x));
  double inf = std::numeric_limits<double>::infinity();
  if (*negative && *positive)
    return e.finish(e.binary<mpc::EqualOp>(e.unary<mpc::AbsOp>(x), e.constant(inf)));
  if (*negative || *positive)
    return e.finish(e.binary<mpc::EqualOp>(x, e.constant(*positive ? inf : -inf)));
  FailureOr<Value> none = n.graph.makeSplat(HostTensor::fromInts({0}, {}, kBool), n.shapeOf(0),
                                            n.loc(), n.name());
  return failed(none) ? failure() : n.setOutput(0, *none);
}

//===----------------------------------------------------------------------===//
// Activations
//===----------------------------------------------------------------------===//

/// The one-input activations: `build` gets the float input and its
/// attributes' values (ONNX defaults filled in).
template <typename Build>
LogicalResult importActivation(NodeImporter &n, ArrayRef<std::pair<StringRef, double>> attrs,
                               Build build) {
  SmallVector<double> values;
  for (auto [name, dflt] : attrs) {
    FailureOr<double> value = n.floatAttr(name, dflt);
    if (failed(value))
      return failure();
    values.push_back(*value);
  }
  Value x = floatInput(n, 0, "X");
  if (!x)
    return failure();
  Emitter e(n, elementTypeOf(x));
  return e.finish(build(e, x, ArrayRef<double>(values)));
}

LogicalResult importElu(NodeImporter &n) {
  return importActivation(n, {{"alpha", 1.0}}, [](Emitter &e, Value x, ArrayRef<double> a) {
    return e.elu(x, a[0], false);
  });
}

LogicalResult importCelu(NodeImporter &n) {
  return importActivation(n, {{"alpha", 1.0}}, [&](Emitter &e, Value x, ArrayRef<double> a) {
    if (a[0] == 0.0) {
      n.error() << "attribute 'alpha' must not be 0";
      return Value();
    }
    return e.elu(x, a[0], true);
  });
}

LogicalResult importSelu(NodeImporter &n) {
  return importActivation(
      n, {{"alpha", 1.67326319217681884765625}, {"gamma", 1.05070102214813232421875}},
      [](Emitter &e, Value x, ArrayRef<double> a) {
        return e.scaled(e.elu(x, a[0], false), a[1]);
      });
}

LogicalResult importHardSigmoid(NodeImporter &n) {
  return importActivation(n, {{"alpha", 0.2}, {"beta", 0.5}},
                          [](Emitter &e, Value x, ArrayRef<double> a) {
                            Value line = e.binary<mpc::AddOp>(e.scaled(x, a[0]), e.constant(a[1]));
                            return e.clip(line, 0.0, 1.0);
                          });
}

LogicalResult importHardSwish(NodeImporter &n) {
  return importActivation(n, {}, [](Emitter &e, Value x, ArrayRef<double>) {
    Value line = e.binary<mpc::AddOp>(e.scaled(x, 1.0 / 6.0), e.constant(0.5));
    return e.binary<mpc::MulOp>(x, e.clip(line, 0.0, 1.0));
  });
}

LogicalResult importSoftplus(NodeImporter &n) {
  return importActivation(n, {}, [](Emitter &e, Value x, ArrayRef<double>) { return e.softplus(x); });
}

LogicalResult importMish(NodeImporter &n) {
  return importActivation(n, {}, [](Emitter &e, Value x, ArrayRef<double>) {
    return e.binary<mpc::MulOp>(x, e.unary<mpc::TanhOp>(e.softplus(x)));
  });
}

LogicalResult importSwish(NodeImporter &n) {
  return importActivation(n, {{"alpha", 1.0}}, [](Emitter &e, Value x, ArrayRef<double> a) {
    return e.binary<mpc::MulOp>(x, e.unary<mpc::SigmoidOp>(e.scaled(x, a[0])));
  });
}

LogicalResult importSoftsign(NodeImporter &n) {
  return importActivation(n, {}, [](Emitter &e, Value x, ArrayRef<double>) {
    Value denominator = e.binary<mpc::AddOp>(e.unary<mpc::AbsOp>(x), e.constant(1.0));
    return e.binary<mpc::DivOp>(x, denominator);
  });
}

LogicalResult importThresholdedRelu(NodeImporter &n) {
  return importActivation(n, {{"alpha", 1.0}}, [](Emitter &e, Value x, ArrayRef<double> a) {
    Value above = e.binary<mpc::GreaterOp>(x, e.constant(a[0]));
    return e.where(above, x, e.constant(0.0));
  });
}

LogicalResult importPRelu(NodeImporter &n) {
  Value x = floatInput(n, 0, "X");
  Value slope = x ? floatInput(n, 1, "slope") : Value();
  if (!slope)
    return failure();
  if (!rules::broadcastsTo(n.shapeOf(1), n.shapeOf(0)))
    return n.error() << "slope of shape " << shapeString(n.shapeOf(1))
                     << " does not broadcast to X's shape " << shapeString(n.shapeOf(0));
  if (elementTypeOf(slope) != elementTypeOf(x))
    return n.error() << "X and slope element types differ";
  Emitter e(n, elementTypeOf(x));
  Value negative = e.binary<mpc::LessOp>(x, e.constant(0.0));
  return e.finish(e.where(negative, e.binary<mpc::MulOp>(slope, x), x));
}

//===----------------------------------------------------------------------===//
// ArgMax / ArgMin
//===----------------------------------------------------------------------===//

/// The extreme along the axis, then the first (or last) index holding it:
/// the min (max) over where(x == extreme, index, length (-1)). A NaN in a
/// row matches nothing: that row's index is `length` (or -1).
template <bool IsMax> LogicalResult importArgExtreme(NodeImporter &n) {
  FailureOr<int64_t> axisAttr = n.intAttr("axis", 0);
  FailureOr<int64_t> keepdims = n.intAttr("keepdims", 1);
  FailureOr<int64_t> last = n.intAttr("select_last_index", 0);
  if (failed(axisAttr) || failed(keepdims) || failed(last) || failed(n.require(0, "data")))
    return failure();
  if (n.rankOf(0) == 0)
    return n.error() << "data must have rank >= 1";
  FailureOr<int64_t> axis = n.normalizeAxis(*axisAttr, n.rankOf(0), "axis");
  FailureOr<Value> x = failed(axis) ? FailureOr<Value>(failure()) : n.value(0);
  if (failed(x))
    return failure();
  int64_t length = n.shapeOf(0)[*axis];
  std::vector<int64_t> positions(static_cast<size_t>(length));
  std::iota(positions.begin(), positions.end(), 0);
  // [length, 1, ...]: broadcasts against the dims from the axis on.
  Shape indexShape(size_t(n.rankOf(0) - *axis), 1);
  indexShape[0] = length;
  FailureOr<Value> index =
      n.graph.makeConstant(HostTensor::fromInts(positions, indexShape, kInt64), n.loc(), n.name());
  if (failed(index))
    return failure();
  Emitter e(n, n.builder().getI64Type());
  Value extreme = IsMax ? e.reduce<mpc::ReduceMaxOp>(*x, *axis, true)
                        : e.reduce<mpc::ReduceMinOp>(*x, *axis, true);
  Value hit = e.binary<mpc::EqualOp>(*x, extreme);
  Value candidates = e.where(hit, *index, e.constant(*last ? -1.0 : double(length)));
  return e.finish(*last ? e.reduce<mpc::ReduceMaxOp>(candidates, *axis, *keepdims != 0)
                        : e.reduce<mpc::ReduceMinOp>(candidates, *axis, *keepdims != 0));
}

//===----------------------------------------------------------------------===//
// CumSum
//===----------------------------------------------------------------------===//

/// The triangular matrix costs n^2 elements (and the product n per output):
/// beyond this the scan would need its own op.
constexpr int64_t kMaxCumSumLength = 2048;

/// Whether input `in` along the axis enters output `out` of a cumulative op.
bool cumulativeTakes(int64_t out, int64_t in, bool exclusive, bool reverse) {
  return reverse ? (exclusive ? in > out : in >= out) : (exclusive ? in < out : in <= out);
}

struct Cumulative {
  int64_t axis;
  int64_t length;
  bool exclusive;
  bool reverse;
};

/// CumSum's and CumProd's attributes and axis input, for an x already checked.
FailureOr<Cumulative> cumulativeAxis(NodeImporter &n) {
  FailureOr<int64_t> exclusive = n.intAttr("exclusive", 0);
  FailureOr<int64_t> reverse = n.intAttr("reverse", 0);
  FailureOr<double> axisValue = succeeded(exclusive) && succeeded(reverse)
                                    ? n.hostScalar(1, "axis")
                                    : FailureOr<double>(failure());
  FailureOr<int64_t> axis = failed(axisValue)
                                ? FailureOr<int64_t>(failure())
                                : n.normalizeAxis(int64_t(*axisValue), n.rankOf(0), "axis");
  if (failed(axis))
    return failure();
  int64_t length = n.shapeOf(0)[*axis];
  if (length > kMaxCumSumLength)
    return n.error() << n.opType() << " along an axis of " << length
                     << " elements is not supported (at most " << kMaxCumSumLength << ")";
  return Cumulative{*axis, length, *exclusive != 0, *reverse != 0};
}

/// T[j][i] = 1 when input j is summed into output i (`transposed`: T[i][j]).
HostTensor cumSumMatrix(int64_t length, int32_t dtype, bool exclusive, bool reverse,
                        bool transposed) {
  std::vector<double> values(size_t(length * length), 0.0);
  for (int64_t j = 0; j < length; ++j)
    for (int64_t i = 0; i < length; ++i) {
      values[size_t(transposed ? i * length + j : j * length + i)] =
          cumulativeTakes(i, j, exclusive, reverse) ? 1.0 : 0.0;
    }
  if (isFloatDType(dtype))
    return HostTensor::fromDoubles(values, {length, length}, dtype);
  return HostTensor::fromInts(std::vector<int64_t>(values.begin(), values.end()), {length, length},
                              dtype);
}

LogicalResult importCumSum(NodeImporter &n) {
  if (failed(n.require(0, "x")))
    return failure();
  if (n.rankOf(0) == 0)
    return n.error() << "x must have rank >= 1";
  FailureOr<Cumulative> c = cumulativeAxis(n);
  if (failed(c))
    return failure();
  ArrayRef<int64_t> shape = n.shapeOf(0);
  int64_t length = c->length;
  int64_t before = 1, after = 1;
  for (int64_t d = 0; d < c->axis; ++d)
    before *= shape[d];
  for (size_t d = size_t(c->axis) + 1; d < shape.size(); ++d)
    after *= shape[d];
  // Summing along the last dim is x @ T; along an inner dim, T^T @ x with x
  // viewed as [before, length, after] (T^T broadcast over `before`).
  bool last = after == 1;
  HostTensor matrix = cumSumMatrix(length, n.dtypeOf(0), c->exclusive, c->reverse, !last);
  FailureOr<Value> t = n.graph.makeConstant(matrix, n.loc(), n.name());
  FailureOr<Value> x = failed(t) ? FailureOr<Value>(failure()) : n.value(0);
  if (succeeded(x))
    x = last ? n.reshape(*x, {before, length}) : n.reshape(*x, {before, length, after});
  if (failed(x))
    return failure();
  FailureOr<Value> sums = last ? n.createOrFold<mpc::MatmulOp>(n.inferred(), *x, *t, TypeAttr())
                               : n.createOrFold<mpc::MatmulOp>(n.inferred(), *t, *x, TypeAttr());
  if (succeeded(sums))
    sums = n.reshape(*sums, shape);
  if (failed(sums))
    return failure();
  return n.setOutput(0, *sums);
}

const char *kMath = "float data; libm (CPU) or libdevice (CUDA), not approximated";

/// M[i][j] = true when input j multiplies into output i, shaped
/// [length, length, 1...] to broadcast against x with a dim inserted at the
/// axis (`trailing` dims after it).
HostTensor cumProdMask(int64_t length, int64_t trailing, bool exclusive, bool reverse) {
  std::vector<int64_t> values(size_t(length * length), 0);
  for (int64_t i = 0; i < length; ++i)
    for (int64_t j = 0; j < length; ++j)
      values[size_t(i * length + j)] = cumulativeTakes(i, j, exclusive, reverse);
  SmallVector<int64_t> shape = {length, length};
  shape.append(size_t(trailing), 1);
  return HostTensor::fromInts(values, shape, kBool);
}

/// reduce_prod(where(M, x[..., newaxis at axis, ...], 1)) over the original
/// axis: n products per output, as CumSum's matmul costs n multiplies.
LogicalResult importCumProd(NodeImporter &n) {
  if (failed(n.require(0, "x")))
    return failure();
  if (n.rankOf(0) == 0 || n.dtypeOf(0) == kBool)
    return n.error() << "x must be a numeric tensor of rank >= 1, got " << dtypeName(n.dtypeOf(0))
                     << " " << shapeString(n.shapeOf(0));
  FailureOr<Cumulative> c = cumulativeAxis(n);
  if (failed(c))
    return failure();
  ArrayRef<int64_t> shape = n.shapeOf(0);
  Shape inserted(shape.begin(), shape.end());
  inserted.insert(inserted.begin() + c->axis, 1);
  HostTensor mask = cumProdMask(c->length, n.rankOf(0) - 1 - c->axis, c->exclusive, c->reverse);
  FailureOr<Value> m = n.graph.makeConstant(mask, n.loc(), n.name());
  FailureOr<Value> x = failed(m) ? m : n.value(0);
  FailureOr<Value> expanded = failed(x) ? x : n.reshape(*x, inserted);
  FailureOr<Value> one = failed(expanded) ? expanded : n.scalar(elementTypeOf(*x), 1.0);
  if (failed(one))
    return failure();
  Emitter e(n, elementTypeOf(*x));
  return e.finish(e.reduce<mpc::ReduceProdOp>(e.where(*m, *expanded, *one), c->axis + 1, false));
}

const OpImportInfo kTable[] = {
    {"Acos", 13, kMaxOpset, importMath<mpc::AcosOp>, "mpc.acos", kMath},
    {"Acosh", 13, kMaxOpset, importMath<mpc::AcoshOp>, "mpc.acosh", kMath},
    {"And", 13, kMaxOpset, importLogic<Logic::And>, "mpc.where",
     "bool data; evaluated at import when both inputs are constants"},
    {"ArgMax", 13, kMaxOpset, importArgExtreme<true>, "mpc.reduce_max + mpc.equal + mpc.reduce_min",
     "keepdims, select_last_index; the first index of the row's maximum (a row with NaN gives "
     "the axis length, or -1 with select_last_index)"},
    {"ArgMin", 13, kMaxOpset, importArgExtreme<false>, "mpc.reduce_min + mpc.equal + mpc.reduce_min",
     "keepdims, select_last_index; as ArgMax"},
    {"Asin", 13, kMaxOpset, importMath<mpc::AsinOp>, "mpc.asin", kMath},
    {"Asinh", 13, kMaxOpset, importMath<mpc::AsinhOp>, "mpc.asinh", kMath},
    {"Atan", 13, kMaxOpset, importMath<mpc::AtanOp>, "mpc.atan", kMath},
    {"Atanh", 13, kMaxOpset, importMath<mpc::AtanhOp>, "mpc.atanh", kMath},
    {"Ceil", 13, kMaxOpset, importRounding<mpc::CeilOp, HostUnary::Ceil>, "mpc.ceil",
     "float data; evaluated at import when the input is a constant"},
    {"Celu", 13, kMaxOpset, importCelu, "mpc.max + mpc.exp ...",
     "max(x, 0) + alpha (exp(min(x, 0) / alpha) - 1)"},
    {"Cos", 13, kMaxOpset, importMath<mpc::CosOp>, "mpc.cos", kMath},
    {"Cosh", 13, kMaxOpset, importMath<mpc::CoshOp>, "mpc.cosh", kMath},
    {"CumProd", 26, kMaxOpset, importCumProd, "mpc.where + mpc.reduce_prod",
     "x masked by a constant triangle, multiplied along the axis; axis is compile-time; "
     "exclusive, reverse; at most 2048 elements along the axis"},
    {"CumSum", 13, kMaxOpset, importCumSum, "mpc.matmul",
     "x times a constant 0/1 triangular matrix; axis is compile-time; exclusive, reverse; "
     "at most 2048 elements along the axis"},
    {"Elu", 13, kMaxOpset, importElu, "mpc.max + mpc.exp ...",
     "max(x, 0) + alpha (exp(min(x, 0)) - 1)"},
    {"Floor", 13, kMaxOpset, importRounding<mpc::FloorOp, HostUnary::Floor>, "mpc.floor",
     "float data; evaluated at import when the input is a constant"},
    {"HardSigmoid", 13, kMaxOpset, importHardSigmoid, "mpc.mul + mpc.add + mpc.clip",
     "clip(alpha x + beta, 0, 1)"},
    {"HardSwish", 14, kMaxOpset, importHardSwish, "mpc.mul + mpc.add + mpc.clip",
     "x clip(x / 6 + 1/2, 0, 1)"},
    {"IsInf", 13, kMaxOpset, importIsInf, "mpc.equal", "detect_negative, detect_positive"},
    {"IsNaN", 13, kMaxOpset, importIsNaN, "mpc.equal + mpc.where", "x != x"},
    {"Mish", 18, kMaxOpset, importMish, "mpc.tanh + softplus", "x tanh(softplus(x))"},
    {"Not", 13, kMaxOpset, importNot, "mpc.where",
     "bool data; evaluated at import when the input is a constant"},
    {"Or", 13, kMaxOpset, importLogic<Logic::Or>, "mpc.where",
     "bool data; evaluated at import when both inputs are constants"},
    {"PRelu", 13, kMaxOpset, importPRelu, "mpc.less + mpc.mul + mpc.where",
     "slope broadcasts to X (unidirectional)"},
    {"Round", 13, kMaxOpset, importMath<mpc::RoundOp>, "mpc.round", "float data; half to even"},
    {"Selu", 13, kMaxOpset, importSelu, "mpc.max + mpc.exp ...",
     "gamma (max(x, 0) + alpha (exp(min(x, 0)) - 1))"},
    {"Sign", 13, kMaxOpset, importMath<mpc::SignOp>, "mpc.sign",
     "float, int32 and int64 data; NaN stays NaN"},
    {"Sin", 13, kMaxOpset, importMath<mpc::SinOp>, "mpc.sin", kMath},
    {"Sinh", 13, kMaxOpset, importMath<mpc::SinhOp>, "mpc.sinh", kMath},
    {"Softplus", 13, kMaxOpset, importSoftplus, "mpc.max + mpc.exp + mpc.atanh ...",
     "max(x, 0) + log1p(exp(-abs(x))), log1p(t) as 2 atanh(t / (2 + t))"},
    {"Softsign", 13, kMaxOpset, importSoftsign, "mpc.abs + mpc.div", "x / (1 + abs(x))"},
    {"Swish", 24, kMaxOpset, importSwish, "mpc.mul + mpc.sigmoid", "x sigmoid(alpha x)"},
    {"Tan", 13, kMaxOpset, importMath<mpc::TanOp>, "mpc.tan", kMath},
    {"ThresholdedRelu", 13, kMaxOpset, importThresholdedRelu, "mpc.greater + mpc.where",
     "x > alpha ? x : 0"},
    {"Xor", 13, kMaxOpset, importLogic<Logic::Xor>, "mpc.where",
     "bool data; evaluated at import when both inputs are constants"},
};
} // namespace

ArrayRef<OpImportInfo> mpc::importer::mathOpTable() { return kTable; }
