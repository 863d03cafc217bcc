//===- MpcFolds.cpp - folding of data movement and elementwise ops ---------===//
//
// A folder stands in for the compiled code, so a folded element must be bit
// for bit what the program would compute (lib/Conversion/MpcToLinalg): float
// arithmetic runs in the type the lowering computes in (f32 for fp8, else the
// element type; one correctly rounded operation is the same whether or not
// LLVM widens it first) and rounds to nearest even into the element type.
// Only correctly rounded operations fold. An operation that makes a NaN out
// of numbers (0/0, inf - inf, sqrt(-1)) does not either: which NaN the
// hardware then gives is its own choice (x86: a negative one).
//
// Parameters (mpc.get_parameter) are never constants here: they are the
// model's trained state, not its structure.
//
//===----------------------------------------------------------------------===//
#include "Folding.h"

#include "mpc/Dialect/MpcDialect.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "llvm/ADT/APInt.h"

#include <cmath>
#include <optional>
#include <vector>

using namespace mlir;
using llvm::APFloat;
using llvm::APInt;

namespace mpc {
bool computesUnsigned(Operation *op) {
  auto isUnsigned = [](Type type) { return getElementTypeOrSelf(type).isUnsignedInteger(); };
  return op->hasAttr(kUnsignedOperandsAttr) || op->hasAttr(kUnsignedResultsAttr) ||
         llvm::any_of(op->getOperandTypes(), isUnsigned) ||
         llvm::any_of(op->getResultTypes(), isUnsigned);
}

namespace {

/// The largest non-splat constant a folder makes. MLIR keeps every attribute
/// until its context dies, so each value of a folded chain stays in memory for
/// the whole compilation: 2^20 elements (4 MiB of f32) is far more than shape
/// computations and masks need, yet bounds what a large constant subgraph can
/// cost. A splat costs one element whatever its shape and always folds.
constexpr int64_t kMaxFoldedElements = int64_t(1) << 20;

constexpr APFloat::roundingMode kRNE = APFloat::rmNearestTiesToEven;

/// A dense constant whose elements the folders read (integers, i1 included,
/// and floats), or null.
DenseElementsAttr constantOf(Attribute attr) {
  auto dense = dyn_cast_if_present<DenseElementsAttr>(attr);
  return dense && dense.getElementType().isIntOrFloat() ? dense : DenseElementsAttr();
}

bool withinCap(ShapedType type) { return type.getNumElements() <= kMaxFoldedElements; }

//===----------------------------------------------------------------------===//
// Walking constants
//===----------------------------------------------------------------------===//

SmallVector<int64_t> rowMajorStrides(ArrayRef<int64_t> shape) {
  SmallVector<int64_t> strides(shape.size(), 1);
  for (int64_t d = int64_t(shape.size()) - 2; d >= 0; --d)
    strides[d] = strides[d + 1] * shape[d + 1];
  return strides;
}

/// Strides that read a `from`-shaped operand along a walk over `to` with
/// numpy broadcasting: 0 along the dims it lacks or has as 1.
SmallVector<int64_t> broadcastStrides(ArrayRef<int64_t> from, ArrayRef<int64_t> to) {
  SmallVector<int64_t> own = rowMajorStrides(from), strides(to.size(), 0);
  size_t lead = to.size() - from.size();
  for (size_t d = 0; d < from.size(); ++d)
    if (from[d] != 1)
      strides[lead + d] = own[d];
  return strides;
}

/// For every element of `shape` in row-major order, the flat position it
/// reads: offset + sum over dims of index * stride.
std::vector<int64_t> positionsAlong(ArrayRef<int64_t> shape, int64_t offset,
                                    ArrayRef<int64_t> strides) {
  int64_t count = ShapedType::getNumElements(shape);
  std::vector<int64_t> positions;
  positions.reserve(count);
  SmallVector<int64_t> index(shape.size(), 0);
  int64_t at = offset;
  for (int64_t i = 0; i < count; ++i) {
    positions.push_back(at);
    // Advance like an odometer, innermost dim first.
    for (int64_t d = int64_t(shape.size()) - 1; d >= 0; --d) {
      at += strides[d];
      if (++index[d] < shape[d])
        break;
      at -= strides[d] * shape[d];
      index[d] = 0;
    }
  }
  return positions;
}

/// Element values are read as APFloat for floats and APInt for integers.
template <typename T> struct ElementsOf { using type = T; };

template <typename Fn> Attribute withElementValues(Type element, Fn &&fn) {
  if (isa<FloatType>(element))
    return fn(ElementsOf<APFloat>());
  return fn(ElementsOf<APInt>());
}

/// `source`'s elements at `positions`, as a constant of `type`.
Attribute take(DenseElementsAttr source, ArrayRef<int64_t> positions, ShapedType type) {
  if (source.isSplat() && !positions.empty())
    return source.resizeSplat(type);
  return withElementValues(source.getElementType(), [&](auto tag) -> Attribute {
    using T = typename decltype(tag)::type;
    auto values = source.getValues<T>().begin();
    SmallVector<T> result;
    result.reserve(positions.size());
    for (int64_t position : positions)
      result.push_back(values[position]);
    return DenseElementsAttr::get(type, result);
  });
}

/// Evaluates `fn` on every element of the broadcast operands: once when all
/// of them are splats; else per element, within the cap. Null when `fn`
/// gives up on any element.
template <typename In, typename Out, typename Fn>
Attribute evaluate(ArrayRef<DenseElementsAttr> operands, ShapedType type, Fn fn) {
  SmallVector<In> args;
  if (type.getNumElements() == 0)
    return DenseElementsAttr::get(type, ArrayRef<Out>());
  if (llvm::all_of(operands, [](DenseElementsAttr a) { return a.isSplat(); })) {
    for (DenseElementsAttr operand : operands)
      args.push_back(operand.getSplatValue<In>());
    std::optional<Out> value = fn(ArrayRef<In>(args));
    return value ? DenseElementsAttr::get(type, ArrayRef<Out>(*value)) : Attribute();
  }
  if (!withinCap(type))
    return {};
  using Iterator = decltype(std::declval<DenseElementsAttr>().getValues<In>().begin());
  SmallVector<Iterator> values;
  SmallVector<std::vector<int64_t>> positions;
  for (DenseElementsAttr operand : operands) {
    values.push_back(operand.getValues<In>().begin());
    positions.push_back(positionsAlong(
        type.getShape(), 0, broadcastStrides(operand.getType().getShape(), type.getShape())));
  }
  SmallVector<Out> result;
  result.reserve(type.getNumElements());
  for (int64_t i = 0, e = type.getNumElements(); i < e; ++i) {
    args.clear();
    for (auto [operand, at] : llvm::zip(values, positions))
      args.push_back(operand[at[i]]);
    std::optional<Out> value = fn(ArrayRef<In>(args));
    if (!value)
      return {};
    result.push_back(*value);
  }
  return DenseElementsAttr::get(type, result);
}

//===----------------------------------------------------------------------===//
// Arithmetic as the compiled code does it
//===----------------------------------------------------------------------===//

/// The type the lowering computes an element type in (computeTypeFor).
const llvm::fltSemantics &computeSemantics(Type element) {
  const llvm::fltSemantics &own = cast<FloatType>(element).getFloatSemantics();
  return APFloat::semanticsSizeInBits(own) == 8 ? APFloat::IEEEsingle() : own;
}

APFloat widened(APFloat value, const llvm::fltSemantics &to) {
  bool losesInfo = false;
  (void)value.convert(to, kRNE, &losesInfo);
  return value;
}

/// The result of an operation that returned `status`, unless it made a NaN.
std::optional<APFloat> unlessInvalid(const APFloat &value, APFloat::opStatus status) {
  if (status & APFloat::opInvalidOp)
    return std::nullopt;
  return value;
}

using FloatFn = llvm::function_ref<std::optional<APFloat>(ArrayRef<APFloat>)>;
using IntFn = llvm::function_ref<std::optional<APInt>(ArrayRef<APInt>)>;

/// Float elementwise op: operands widened to the compute type, the result
/// rounded back into the result's element type. An fp8 result that is
/// infinite or overflows into NaN is left to run time: the fp8 op gives it,
/// but precision assignment computes the op in f32 and casts back with
/// saturation, so what the program holds there depends on how it is built.
Attribute foldFloats(ArrayRef<DenseElementsAttr> operands, ShapedType type, FloatFn fn) {
  const llvm::fltSemantics &compute = computeSemantics(operands.front().getElementType());
  const llvm::fltSemantics &storage = cast<FloatType>(type.getElementType()).getFloatSemantics();
  bool float8 = APFloat::semanticsSizeInBits(storage) == 8;
  auto elementFn = [&](ArrayRef<APFloat> args) -> std::optional<APFloat> {
    SmallVector<APFloat, 2> wide;
    for (const APFloat &arg : args)
      wide.push_back(widened(arg, compute));
    std::optional<APFloat> value = fn(wide);
    if (!value)
      return std::nullopt;
    APFloat rounded = roundFloat(*value, storage, /*saturate=*/false);
    if (float8 && (rounded.isInfinity() || (rounded.isNaN() && !value->isNaN())))
      return std::nullopt;
    return rounded;
  };
  return evaluate<APFloat, APFloat>(operands, type, elementFn);
}

/// Folds an elementwise op whose operands are all constants; integers wrap
/// around as the lowering's arith ops do.
Attribute foldElementwise(Operation *op, ArrayRef<Attribute> attrs, FloatFn floatFn, IntFn intFn) {
  SmallVector<DenseElementsAttr> operands;
  for (Attribute attr : attrs) {
    DenseElementsAttr operand = constantOf(attr);
    if (!operand)
      return {};
    operands.push_back(operand);
  }
  auto type = cast<ShapedType>(op->getResult(0).getType());
  if (isa<FloatType>(operands.front().getElementType()))
    return foldFloats(operands, type, floatFn);
  // The integer folds are signed; unsigned values are left to the lowering.
  if (computesUnsigned(op))
    return {};
  return evaluate<APInt, APInt>(operands, type, intFn);
}

/// One operation of APFloat's, e.g. &APFloat::add.
template <APFloat::opStatus (APFloat::*Operation)(const APFloat &, APFloat::roundingMode)>
std::optional<APFloat> arithmetic(ArrayRef<APFloat> args) {
  APFloat value = args[0];
  APFloat::opStatus status = (value.*Operation)(args[1], kRNE);
  return unlessInvalid(value, status);
}

/// sqrt is correctly rounded in double, and a double holds more than twice
/// the digits of every narrower type, so rounding it again is exact.
std::optional<APFloat> squareRoot(const APFloat &x) {
  if (x.isNaN())
    return x.makeQuiet();
  if (x.isNegative() && !x.isZero())
    return std::nullopt;
  APFloat root(std::sqrt(widened(x, APFloat::IEEEdouble()).convertToDouble()));
  return widened(root, x.getSemantics());
}

std::optional<APInt> intNone(ArrayRef<APInt>) { return std::nullopt; }

/// arith.maximumf and minimumf as the CPU pipeline's arith-expand writes
/// them: `isnan(b) ? b : (a >u b ? a : b)`. A NaN operand wins, the right one
/// first; equal operands, +0 and -0 included, give the right one.
APFloat compiledMax(const APFloat &a, const APFloat &b) {
  if (b.isNaN())
    return b;
  return a.isNaN() || a > b ? a : b;
}
APFloat compiledMin(const APFloat &a, const APFloat &b) {
  if (b.isNaN())
    return b;
  return a.isNaN() || a < b ? a : b;
}

/// Comparisons: ordered for floats (false whenever NaN is involved), signed
/// for integers.
Attribute foldCompare(Operation *op, Attribute lhsAttr, Attribute rhsAttr,
                      llvm::function_ref<bool(APFloat::cmpResult)> floatPredicate,
                      llvm::function_ref<bool(const APInt &, const APInt &)> intPredicate) {
  DenseElementsAttr lhs = constantOf(lhsAttr), rhs = constantOf(rhsAttr);
  if (!lhs || !rhs || computesUnsigned(op))
    return {};
  auto type = cast<ShapedType>(op->getResult(0).getType());
  if (isa<FloatType>(lhs.getElementType()))
    return evaluate<APFloat, APInt>({lhs, rhs}, type, [&](ArrayRef<APFloat> args) {
      return std::optional<APInt>(APInt(1, floatPredicate(args[0].compare(args[1]))));
    });
  return evaluate<APInt, APInt>({lhs, rhs}, type, [&](ArrayRef<APInt> args) {
    return std::optional<APInt>(APInt(1, intPredicate(args[0], args[1])));
  });
}

bool isLess(APFloat::cmpResult r) { return r == APFloat::cmpLessThan; }
bool isGreater(APFloat::cmpResult r) { return r == APFloat::cmpGreaterThan; }

} // namespace

//===----------------------------------------------------------------------===//
// Elementwise unary
//===----------------------------------------------------------------------===//

OpFoldResult NegOp::fold(FoldAdaptor adaptor) {
  return foldElementwise(
      *this, adaptor.getInput(), [](ArrayRef<APFloat> x) { return std::optional<APFloat>(-x[0]); },
      [](ArrayRef<APInt> x) { return std::optional<APInt>(-x[0]); });
}

OpFoldResult AbsOp::fold(FoldAdaptor adaptor) {
  // abs of the most negative integer wraps to itself, as math.absi does.
  return foldElementwise(
      *this, adaptor.getInput(),
      [](ArrayRef<APFloat> x) { return std::optional<APFloat>(abs(x[0])); },
      [](ArrayRef<APInt> x) { return std::optional<APInt>(x[0].abs()); });
}

OpFoldResult SqrtOp::fold(FoldAdaptor adaptor) {
  return foldElementwise(
      *this, adaptor.getInput(), [](ArrayRef<APFloat> x) { return squareRoot(x[0]); }, intNone);
}

OpFoldResult ReciprocalOp::fold(FoldAdaptor adaptor) {
  return foldElementwise(
      *this, adaptor.getInput(),
      [](ArrayRef<APFloat> x) {
        APFloat one = APFloat::getOne(x[0].getSemantics());
        return arithmetic<&APFloat::divide>({one, x[0]});
      },
      intNone);
}

OpFoldResult ReluOp::fold(FoldAdaptor adaptor) {
  // maximumf(x, +0): NaN stays, relu(-0) is +0.
  return foldElementwise(
      *this, adaptor.getInput(),
      [](ArrayRef<APFloat> x) {
        return std::optional<APFloat>(compiledMax(x[0], APFloat::getZero(x[0].getSemantics())));
      },
      intNone);
}

OpFoldResult ClipOp::fold(FoldAdaptor adaptor) {
  std::optional<APFloat> min = getMin(), max = getMax();
  auto floatFn = [&](ArrayRef<APFloat> x) {
    // The lowering rounds each bound into the compute type.
    APFloat value = x[0];
    if (min)
      value = compiledMax(value, widened(*min, value.getSemantics()));
    if (max)
      value = compiledMin(value, widened(*max, value.getSemantics()));
    return std::optional<APFloat>(value);
  };
  // Integer bounds truncate toward zero; one the type cannot hold is left
  // to run time.
  auto intBound = [](const std::optional<APFloat> &bound, unsigned width) -> std::optional<APInt> {
    double value = bound->convertToDouble();
    if (!(std::abs(value) < 0x1p63))
      return std::nullopt;
    int64_t truncated = static_cast<int64_t>(value);
    if (!llvm::isIntN(width, truncated))
      return std::nullopt;
    return APInt(width, uint64_t(truncated), /*isSigned=*/true);
  };
  auto intFn = [&](ArrayRef<APInt> x) -> std::optional<APInt> {
    APInt value = x[0];
    for (auto [bound, isMin] : {std::pair(&min, true), std::pair(&max, false)}) {
      if (!*bound)
        continue;
      std::optional<APInt> limit = intBound(*bound, value.getBitWidth());
      if (!limit)
        return std::nullopt;
      value = isMin ? llvm::APIntOps::smax(value, *limit) : llvm::APIntOps::smin(value, *limit);
    }
    return value;
  };
  return foldElementwise(*this, adaptor.getInput(), floatFn, intFn);
}

//===----------------------------------------------------------------------===//
// Elementwise binary
//===----------------------------------------------------------------------===//

OpFoldResult AddOp::fold(FoldAdaptor adaptor) {
  return foldElementwise(*this, {adaptor.getLhs(), adaptor.getRhs()}, arithmetic<&APFloat::add>,
                         [](ArrayRef<APInt> x) { return std::optional<APInt>(x[0] + x[1]); });
}

OpFoldResult SubOp::fold(FoldAdaptor adaptor) {
  return foldElementwise(*this, {adaptor.getLhs(), adaptor.getRhs()},
                         arithmetic<&APFloat::subtract>,
                         [](ArrayRef<APInt> x) { return std::optional<APInt>(x[0] - x[1]); });
}

OpFoldResult MulOp::fold(FoldAdaptor adaptor) {
  return foldElementwise(*this, {adaptor.getLhs(), adaptor.getRhs()},
                         arithmetic<&APFloat::multiply>,
                         [](ArrayRef<APInt> x) { return std::optional<APInt>(x[0] * x[1]); });
}

OpFoldResult DivOp::fold(FoldAdaptor adaptor) {
  // Integer division truncates; by zero, or of the most negative value by
  // -1, it is undefined in the compiled code and stays there.
  return foldElementwise(*this, {adaptor.getLhs(), adaptor.getRhs()}, arithmetic<&APFloat::divide>,
                         [](ArrayRef<APInt> x) -> std::optional<APInt> {
                           bool overflow = false;
                           if (x[1].isZero())
                             return std::nullopt;
                           APInt quotient = x[0].sdiv_ov(x[1], overflow);
                           if (overflow)
                             return std::nullopt;
                           return quotient;
                         });
}

OpFoldResult MaxOp::fold(FoldAdaptor adaptor) {
  // arith.maximumf as compiled (compiledMax): NaN propagates.
  return foldElementwise(
      *this, {adaptor.getLhs(), adaptor.getRhs()},
      [](ArrayRef<APFloat> x) { return std::optional<APFloat>(compiledMax(x[0], x[1])); },
      [](ArrayRef<APInt> x) { return std::optional<APInt>(llvm::APIntOps::smax(x[0], x[1])); });
}

OpFoldResult MinOp::fold(FoldAdaptor adaptor) {
  return foldElementwise(
      *this, {adaptor.getLhs(), adaptor.getRhs()},
      [](ArrayRef<APFloat> x) { return std::optional<APFloat>(compiledMin(x[0], x[1])); },
      [](ArrayRef<APInt> x) { return std::optional<APInt>(llvm::APIntOps::smin(x[0], x[1])); });
}

//===----------------------------------------------------------------------===//
// Comparisons and select
//===----------------------------------------------------------------------===//

OpFoldResult EqualOp::fold(FoldAdaptor adaptor) {
  return foldCompare(
      *this, adaptor.getLhs(), adaptor.getRhs(),
      [](APFloat::cmpResult r) { return r == APFloat::cmpEqual; },
      [](const APInt &a, const APInt &b) { return a == b; });
}

OpFoldResult LessOp::fold(FoldAdaptor adaptor) {
  return foldCompare(*this, adaptor.getLhs(), adaptor.getRhs(), isLess,
                     [](const APInt &a, const APInt &b) { return a.slt(b); });
}

OpFoldResult LessEqualOp::fold(FoldAdaptor adaptor) {
  return foldCompare(
      *this, adaptor.getLhs(), adaptor.getRhs(),
      [](APFloat::cmpResult r) { return isLess(r) || r == APFloat::cmpEqual; },
      [](const APInt &a, const APInt &b) { return a.sle(b); });
}

OpFoldResult GreaterOp::fold(FoldAdaptor adaptor) {
  return foldCompare(*this, adaptor.getLhs(), adaptor.getRhs(), isGreater,
                     [](const APInt &a, const APInt &b) { return a.sgt(b); });
}

OpFoldResult GreaterEqualOp::fold(FoldAdaptor adaptor) {
  return foldCompare(
      *this, adaptor.getLhs(), adaptor.getRhs(),
      [](APFloat::cmpResult r) { return isGreater(r) || r == APFloat::cmpEqual; },
      [](const APInt &a, const APInt &b) { return a.sge(b); });
}

OpFoldResult WhereOp::fold(FoldAdaptor adaptor) {
  Type type = getType();
  // Both sides the same value, or a condition known everywhere: the side
  // taken, when it already has the result's shape.
  if (getX() == getY() && getX().getType() == type)
    return getX();
  DenseElementsAttr condition = constantOf(adaptor.getCondition());
  if (condition && condition.isSplat() && condition.getNumElements() > 0) {
    Value taken = condition.getSplatValue<APInt>().isOne() ? getX() : getY();
    if (taken.getType() == type)
      return taken;
  }
  DenseElementsAttr x = constantOf(adaptor.getX()), y = constantOf(adaptor.getY());
  auto shaped = cast<ShapedType>(type);
  if (!condition || !x || !y)
    return {};
  if (condition.isSplat() && x.isSplat() && y.isSplat() && shaped.getNumElements() > 0)
    return (condition.getSplatValue<APInt>().isOne() ? x : y).resizeSplat(shaped);
  if (!withinCap(shaped))
    return {};
  ArrayRef<int64_t> shape = shaped.getShape();
  auto positionsOf = [&](DenseElementsAttr operand) {
    return positionsAlong(shape, 0, broadcastStrides(operand.getType().getShape(), shape));
  };
  std::vector<int64_t> at = positionsOf(condition), xAt = positionsOf(x), yAt = positionsOf(y);
  auto taken = condition.getValues<APInt>().begin();
  return withElementValues(x.getElementType(), [&](auto tag) -> Attribute {
    using T = typename decltype(tag)::type;
    auto xs = x.getValues<T>().begin(), ys = y.getValues<T>().begin();
    SmallVector<T> result;
    result.reserve(at.size());
    for (size_t i = 0; i < at.size(); ++i)
      result.push_back(APInt(taken[at[i]]).isOne() ? xs[xAt[i]] : ys[yAt[i]]);
    return DenseElementsAttr::get(shaped, result);
  });
}

//===----------------------------------------------------------------------===//
// Reductions
//===----------------------------------------------------------------------===//

namespace {
enum class Reduction { Sum, Mean, Prod, Max, Min };

/// Integers reduce in their own width, wrapping, and a mean divides the sum
/// by the count truncating, as the lowering's arith ops do. Max and min are
/// exact in any type, floats included. Empty reductions are left alone.
Attribute foldReduction(Operation *op, Attribute inputAttr, ArrayRef<int64_t> axes,
                        Reduction reduction) {
  DenseElementsAttr input = constantOf(inputAttr);
  auto type = cast<ShapedType>(op->getResult(0).getType());
  if (!input || op->hasAttr("acc_type") || computesUnsigned(op))
    return {};
  bool orderFree = reduction == Reduction::Max || reduction == Reduction::Min;
  if (isa<FloatType>(input.getElementType()) && !orderFree)
    return {};
  ArrayRef<int64_t> shape = input.getType().getShape();
  SmallVector<int64_t> kept(shape);
  int64_t count = 1;
  for (int64_t axis : axes) {
    count *= shape[axis];
    kept[axis] = 1;
  }
  if (count == 0 || type.getNumElements() == 0)
    return {};
  if (input.isSplat() && orderFree)
    return input.resizeSplat(type);
  if (input.getNumElements() > kMaxFoldedElements)
    return {};
  SmallVector<int64_t> strides = rowMajorStrides(kept);
  for (int64_t axis : axes)
    strides[axis] = 0;
  std::vector<int64_t> into = positionsAlong(shape, 0, strides);
  return withElementValues(input.getElementType(), [&](auto tag) -> Attribute {
    using T = typename decltype(tag)::type;
    SmallVector<std::optional<T>> acc(type.getNumElements());
    for (auto [value, at] : llvm::zip(input.getValues<T>(), into)) {
      std::optional<T> &slot = acc[at];
      if (!slot) {
        slot = value;
        continue;
      }
      if constexpr (std::is_same_v<T, APFloat>) {
        // Which of +0 and -0 wins depends on the order the compiled code
        // combines elements in, which tiling and vectors choose.
        if (slot->isZero() && value.isZero() && slot->isNegative() != value.isNegative())
          return {};
        slot = reduction == Reduction::Max ? compiledMax(*slot, value) : compiledMin(*slot, value);
      } else {
        switch (reduction) {
        case Reduction::Sum:
        case Reduction::Mean:
          *slot += value;
          break;
        case Reduction::Prod:
          *slot *= value;
          break;
        case Reduction::Max:
          slot = llvm::APIntOps::smax(*slot, value);
          break;
        case Reduction::Min:
          slot = llvm::APIntOps::smin(*slot, value);
          break;
        }
      }
    }
    SmallVector<T> result;
    for (std::optional<T> &value : acc) {
      if constexpr (std::is_same_v<T, APInt>)
        if (reduction == Reduction::Mean)
          value = value->sdiv(APInt(value->getBitWidth(), uint64_t(count)));
      result.push_back(*value);
    }
    return DenseElementsAttr::get(type, result);
  });
}
} // namespace

OpFoldResult ReduceSumOp::fold(FoldAdaptor adaptor) {
  return foldReduction(*this, adaptor.getInput(), getAxes(), Reduction::Sum);
}
OpFoldResult ReduceMeanOp::fold(FoldAdaptor adaptor) {
  return foldReduction(*this, adaptor.getInput(), getAxes(), Reduction::Mean);
}
OpFoldResult ReduceProdOp::fold(FoldAdaptor adaptor) {
  return foldReduction(*this, adaptor.getInput(), getAxes(), Reduction::Prod);
}
OpFoldResult ReduceMaxOp::fold(FoldAdaptor adaptor) {
  return foldReduction(*this, adaptor.getInput(), getAxes(), Reduction::Max);
}
OpFoldResult ReduceMinOp::fold(FoldAdaptor adaptor) {
  return foldReduction(*this, adaptor.getInput(), getAxes(), Reduction::Min);
}

//===----------------------------------------------------------------------===//
// Data movement
//===----------------------------------------------------------------------===//

OpFoldResult ReshapeOp::fold(FoldAdaptor adaptor) {
  if (getInput().getType() == getType())
    return getInput();
  // reshape(reshape(x)) reads x: the elements never move.
  if (auto inner = getInput().getDefiningOp<ReshapeOp>()) {
    if (inner.getInput().getType() == getType())
      return inner.getInput();
    getInputMutable().assign(inner.getInput());
    return getResult();
  }
  DenseElementsAttr input = constantOf(adaptor.getInput());
  auto type = cast<ShapedType>(getType());
  if (!input || (!input.isSplat() && !withinCap(type)))
    return {};
  return input.reshape(type);
}

OpFoldResult TransposeOp::fold(FoldAdaptor adaptor) {
  ArrayRef<int64_t> perm = getPerm();
  if (llvm::equal(perm, llvm::seq<int64_t>(0, int64_t(perm.size()))))
    return getInput();
  DenseElementsAttr input = constantOf(adaptor.getInput());
  auto type = cast<ShapedType>(getType());
  if (!input || (!input.isSplat() && !withinCap(type)))
    return {};
  SmallVector<int64_t> inputStrides = rowMajorStrides(input.getType().getShape()), strides;
  for (int64_t dim : perm)
    strides.push_back(inputStrides[dim]);
  return take(input, positionsAlong(type.getShape(), 0, strides), type);
}

OpFoldResult BroadcastOp::fold(FoldAdaptor adaptor) {
  if (getInput().getType() == getType())
    return getInput();
  DenseElementsAttr input = constantOf(adaptor.getInput());
  auto type = cast<ShapedType>(getType());
  if (!input || (!input.isSplat() && !withinCap(type)))
    return {};
  return take(input,
              positionsAlong(type.getShape(), 0,
                             broadcastStrides(input.getType().getShape(), type.getShape())),
              type);
}

OpFoldResult SliceOp::fold(FoldAdaptor adaptor) {
  auto inputType = cast<ShapedType>(getInput().getType());
  bool whole = llvm::all_of(getOffsets(), [](int64_t o) { return o == 0; }) &&
               llvm::all_of(getStrides(), [](int64_t s) { return s == 1; }) &&
               getSizes() == inputType.getShape();
  if (whole)
    return getInput();
  DenseElementsAttr input = constantOf(adaptor.getInput());
  auto type = cast<ShapedType>(getType());
  if (!input || (!input.isSplat() && !withinCap(type)))
    return {};
  SmallVector<int64_t> inputStrides = rowMajorStrides(inputType.getShape()), strides;
  int64_t offset = 0;
  for (auto [dim, stride] : llvm::enumerate(getStrides())) {
    offset += getOffsets()[dim] * inputStrides[dim];
    strides.push_back(stride * inputStrides[dim]);
  }
  return take(input, positionsAlong(type.getShape(), offset, strides), type);
}

OpFoldResult ConcatOp::fold(FoldAdaptor adaptor) {
  if (getInputs().size() == 1)
    return getInputs().front();
  SmallVector<DenseElementsAttr> inputs;
  for (Attribute attr : adaptor.getInputs()) {
    DenseElementsAttr input = constantOf(attr);
    if (!input)
      return {};
    inputs.push_back(input);
  }
  auto type = cast<ShapedType>(getType());
  if (!withinCap(type))
    return {};
  int64_t axis = getAxis();
  int64_t outer = ShapedType::getNumElements(type.getShape().take_front(axis));
  return withElementValues(type.getElementType(), [&](auto tag) -> Attribute {
    using T = typename decltype(tag)::type;
    SmallVector<T> result;
    result.reserve(type.getNumElements());
    // Row-major: each input contributes one contiguous chunk per index of
    // the dims before the axis.
    for (int64_t o = 0; o < outer; ++o) {
      for (DenseElementsAttr input : inputs) {
        int64_t chunk = ShapedType::getNumElements(input.getType().getShape().drop_front(axis));
        auto values = input.getValues<T>().begin();
        for (int64_t j = 0; j < chunk; ++j)
          result.push_back(values[o * chunk + j]);
      }
    }
    return DenseElementsAttr::get(type, result);
  });
}

OpFoldResult GatherOp::fold(FoldAdaptor adaptor) {
  DenseElementsAttr data = constantOf(adaptor.getData());
  DenseElementsAttr indices = constantOf(adaptor.getIndices());
  auto type = cast<ShapedType>(getType());
  if (!data || !indices || !withinCap(type))
    return {};
  if (type.getNumElements() == 0)
    return take(data, {}, type);
  ArrayRef<int64_t> dataShape = data.getType().getShape();
  int64_t axis = getAxis(), dim = dataShape[axis];
  if (dim == 0)
    return {};
  int64_t inner = ShapedType::getNumElements(dataShape.drop_front(axis + 1));
  int64_t outer = ShapedType::getNumElements(dataShape.take_front(axis));
  // Negative indices count from the end; the rest are clamped into range,
  // as the lowering's normalizeIndex reads them.
  SmallVector<int64_t> rows;
  for (const APInt &raw : indices.getValues<APInt>()) {
    int64_t index = raw.getSExtValue();
    rows.push_back(std::clamp<int64_t>(index < 0 ? index + dim : index, 0, dim - 1));
  }
  std::vector<int64_t> positions;
  positions.reserve(type.getNumElements());
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t row : rows)
      for (int64_t j = 0; j < inner; ++j)
        positions.push_back((o * dim + row) * inner + j);
  return take(data, positions, type);
}

} // namespace mpc
