//===- LoweringUtils.cpp - shared helpers of the mpc -> linalg lowering ---===//
#include "LoweringUtils.h"

#include "mpc/Dialect/MpcDialect.h"

#include "mlir/Dialect/Utils/ReshapeOpsUtils.h"
#include "mlir/IR/AffineMap.h"

using namespace mlir;

namespace mpc::lowering {

bool isFloat8(Type type) {
  auto f = dyn_cast<FloatType>(type);
  return f && f.getWidth() == 8;
}

Type computeTypeFor(Type type) {
  return isFloat8(type) ? Float32Type::get(type.getContext()) : type;
}

static Value convertFloat(OpBuilder &b, Location loc, Value value, FloatType from, FloatType to) {
  Type f32 = b.getF32Type();
  // fp8 conversions exist only to and from f32 (see ExpandFloat8Casts), and
  // f16 <-> bf16 has no direct arith op; f32 holds both sides exactly.
  bool viaF32 = (from.getWidth() == to.getWidth()) ||
                ((isFloat8(from) || isFloat8(to)) && from != f32 && to != f32);
  if (viaF32) {
    Value wide = convertScalar(b, loc, value, f32);
    return convertScalar(b, loc, wide, to);
  }
  if (from.getWidth() < to.getWidth())
    return arith::ExtFOp::create(b, loc, to, value);
  return arith::TruncFOp::create(b, loc, to, value);
}

Value convertScalar(OpBuilder &b, Location loc, Value value, Type to, bool fromUnsigned,
                    bool toUnsigned) {
  Type from = value.getType();
  if (from == to)
    return value;
  auto fromFloat = dyn_cast<FloatType>(from);
  auto toFloat = dyn_cast<FloatType>(to);
  if (fromFloat && toFloat)
    return convertFloat(b, loc, value, fromFloat, toFloat);
  // Integer <-> fp8 goes through f32, the only type fp8 converts to and from.
  if (isFloat8(from) || isFloat8(to))
    return convertScalar(b, loc, convertScalar(b, loc, value, b.getF32Type(), fromUnsigned), to,
                         false, toUnsigned);
  if (toFloat) {
    if (from.isInteger(1) || fromUnsigned)
      return arith::UIToFPOp::create(b, loc, to, value);
    return arith::SIToFPOp::create(b, loc, to, value);
  }
  if (fromFloat) {
    if (to.isInteger(1))
      return arith::CmpFOp::create(b, loc, arith::CmpFPredicate::UNE, value,
                                   scalarConstant(b, loc, from, 0.0));
    if (toUnsigned)
      return arith::FPToUIOp::create(b, loc, to, value);
    return arith::FPToSIOp::create(b, loc, to, value);
  }
  unsigned fromWidth = from.getIntOrFloatBitWidth(), toWidth = to.getIntOrFloatBitWidth();
  if (toWidth == 1)
    return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne, value,
                                 scalarConstant(b, loc, from, 0.0));
  if (fromWidth == 1 || (fromUnsigned && fromWidth < toWidth))
    return arith::ExtUIOp::create(b, loc, to, value);
  if (fromWidth < toWidth)
    return arith::ExtSIOp::create(b, loc, to, value);
  return arith::TruncIOp::create(b, loc, to, value);
}

Value convertTensor(OpBuilder &b, Location loc, Value value, Type elementType) {
  auto type = cast<RankedTensorType>(value.getType());
  if (type.getElementType() == elementType)
    return value;
  return buildElementwise(b, loc, value, type.clone(elementType),
                          [&](OpBuilder &nb, Location nl, ValueRange args) {
                            return convertScalar(nb, nl, args[0], elementType);
                          });
}

Value scalarConstant(OpBuilder &b, Location loc, Type type, double value) {
  if (auto f = dyn_cast<FloatType>(type))
    return arith::ConstantOp::create(b, loc, b.getFloatAttr(f, value));
  return arith::ConstantOp::create(b, loc, b.getIntegerAttr(type, static_cast<int64_t>(value)));
}

AffineMap broadcastMap(ArrayRef<int64_t> operandShape, ArrayRef<int64_t> resultShape,
                       MLIRContext *ctx) {
  unsigned rank = resultShape.size(), offset = rank - operandShape.size();
  SmallVector<AffineExpr> exprs;
  for (auto [i, size] : llvm::enumerate(operandShape)) {
    unsigned dim = i + offset;
    if (size == 1 && resultShape[dim] != 1)
      exprs.push_back(getAffineConstantExpr(0, ctx));
    else
      exprs.push_back(getAffineDimExpr(dim, ctx));
  }
  return AffineMap::get(rank, 0, exprs, ctx);
}

Value emptyTensor(OpBuilder &b, Location loc, ArrayRef<int64_t> shape, Type elementType) {
  return tensor::EmptyOp::create(b, loc, shape, elementType);
}

Value filledTensor(OpBuilder &b, Location loc, ArrayRef<int64_t> shape, Value scalar) {
  Value empty = emptyTensor(b, loc, shape, scalar.getType());
  return linalg::FillOp::create(b, loc, ValueRange{scalar}, ValueRange{empty}).getResult(0);
}

Value buildElementwise(OpBuilder &b, Location loc, ValueRange operands,
                       RankedTensorType resultType, const BodyFn &body) {
  MLIRContext *ctx = b.getContext();
  ArrayRef<int64_t> shape = resultType.getShape();
  SmallVector<AffineMap> maps;
  for (Value operand : operands)
    maps.push_back(broadcastMap(cast<RankedTensorType>(operand.getType()).getShape(), shape, ctx));
  maps.push_back(AffineMap::getMultiDimIdentityMap(shape.size(), ctx));
  SmallVector<utils::IteratorType> iterators(shape.size(), utils::IteratorType::parallel);
  Value init = emptyTensor(b, loc, shape, resultType.getElementType());
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{resultType}, operands, ValueRange{init}, maps, iterators,
      [&](OpBuilder &nested, Location nestedLoc, ValueRange args) {
        Value result = body(nested, nestedLoc, args.drop_back());
        linalg::YieldOp::create(nested, nestedLoc, result);
      });
  return generic.getResult(0);
}

SmallVector<int64_t> dropDims(ArrayRef<int64_t> shape, ArrayRef<int64_t> dims) {
  SmallVector<int64_t> kept;
  for (auto [i, size] : llvm::enumerate(shape))
    if (!llvm::is_contained(dims, static_cast<int64_t>(i)))
      kept.push_back(size);
  return kept;
}

Value buildReduction(OpBuilder &b, Location loc, Value input, ArrayRef<int64_t> dims, Value init,
                     const BodyFn &combine, ValueRange extraInputs) {
  MLIRContext *ctx = b.getContext();
  ArrayRef<int64_t> shape = cast<RankedTensorType>(input.getType()).getShape();
  unsigned rank = shape.size();
  SmallVector<AffineExpr> keptExprs;
  SmallVector<utils::IteratorType> iterators;
  for (unsigned i = 0; i < rank; ++i) {
    bool reduced = llvm::is_contained(dims, static_cast<int64_t>(i));
    iterators.push_back(reduced ? utils::IteratorType::reduction : utils::IteratorType::parallel);
    if (!reduced)
      keptExprs.push_back(getAffineDimExpr(i, ctx));
  }
  AffineMap reducedMap = AffineMap::get(rank, 0, keptExprs, ctx);
  SmallVector<Value> inputs{input};
  llvm::append_range(inputs, extraInputs);
  SmallVector<AffineMap> maps{AffineMap::getMultiDimIdentityMap(rank, ctx)};
  maps.append(extraInputs.size() + 1, reducedMap);
  Value out = filledTensor(b, loc, dropDims(shape, dims), init);
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{out.getType()}, inputs, ValueRange{out}, maps, iterators,
      [&](OpBuilder &nested, Location nestedLoc, ValueRange args) {
        linalg::YieldOp::create(nested, nestedLoc, combine(nested, nestedLoc, args));
      });
  return generic.getResult(0);
}

/// Row-major flattening to one dim (a scalar becomes one element).
static Value flatten(OpBuilder &b, Location loc, Value input) {
  auto type = cast<RankedTensorType>(input.getType());
  if (type.getRank() == 1)
    return input;
  auto flatType = RankedTensorType::get({type.getNumElements()}, type.getElementType());
  if (type.getRank() == 0)
    return tensor::ExpandShapeOp::create(b, loc, flatType, input, ArrayRef<ReassociationIndices>{});
  ReassociationIndices all = llvm::to_vector<2>(llvm::seq<int64_t>(0, type.getRank()));
  return tensor::CollapseShapeOp::create(b, loc, flatType, input, ArrayRef<ReassociationIndices>{all});
}

Value reshapeTensor(OpBuilder &b, Location loc, Value input, ArrayRef<int64_t> shape) {
  auto type = cast<RankedTensorType>(input.getType());
  if (type.getShape() == shape)
    return input;
  Value flat = flatten(b, loc, input);
  auto resultType = RankedTensorType::get(shape, type.getElementType());
  if (shape.size() == 1)
    return flat;
  if (shape.empty())
    return tensor::CollapseShapeOp::create(b, loc, resultType, flat, ArrayRef<ReassociationIndices>{});
  ReassociationIndices all = llvm::to_vector<2>(llvm::seq<int64_t>(0, shape.size()));
  return tensor::ExpandShapeOp::create(b, loc, resultType, flat, ArrayRef<ReassociationIndices>{all});
}

Type accumulatorType(Operation *op) {
  if (auto precision = dyn_cast<PrecisionOpInterface>(op))
    if (Type type = precision.getAccumulatorType())
      return type;
  return getElementTypeOrSelf(op->getResult(0).getType());
}

static Value extremeValue(OpBuilder &b, Location loc, Type type, bool negative, bool isUnsigned) {
  if (auto f = dyn_cast<FloatType>(type)) {
    const llvm::fltSemantics &sem = f.getFloatSemantics();
    llvm::APFloat value = llvm::APFloat::semanticsHasInf(sem)
                              ? llvm::APFloat::getInf(sem, negative)
                              : llvm::APFloat::getLargest(sem, negative);
    return arith::ConstantOp::create(b, loc, b.getFloatAttr(f, value));
  }
  unsigned width = type.getIntOrFloatBitWidth();
  llvm::APInt value = isUnsigned ? (negative ? llvm::APInt::getMinValue(width)
                                             : llvm::APInt::getMaxValue(width))
                                 : (negative ? llvm::APInt::getSignedMinValue(width)
                                             : llvm::APInt::getSignedMaxValue(width));
  return arith::ConstantOp::create(b, loc, b.getIntegerAttr(type, value));
}

Value lowestValue(OpBuilder &b, Location loc, Type type, bool isUnsigned) {
  return extremeValue(b, loc, type, true, isUnsigned);
}
Value highestValue(OpBuilder &b, Location loc, Type type, bool isUnsigned) {
  return extremeValue(b, loc, type, false, isUnsigned);
}

Value maxScalar(OpBuilder &b, Location loc, Value x, Value y, bool isUnsigned) {
  if (isa<FloatType>(x.getType()))
    return arith::MaximumFOp::create(b, loc, x, y);
  if (isUnsigned)
    return arith::MaxUIOp::create(b, loc, x, y);
  return arith::MaxSIOp::create(b, loc, x, y);
}

Value minScalar(OpBuilder &b, Location loc, Value x, Value y, bool isUnsigned) {
  if (isa<FloatType>(x.getType()))
    return arith::MinimumFOp::create(b, loc, x, y);
  if (isUnsigned)
    return arith::MinUIOp::create(b, loc, x, y);
  return arith::MinSIOp::create(b, loc, x, y);
}

Value indexConst(OpBuilder &b, Location loc, int64_t v) {
  return arith::ConstantIndexOp::create(b, loc, v);
}

Type wideAccumulator(OpBuilder &b, Type type) {
  auto f = dyn_cast<FloatType>(type);
  return f && f.getWidth() < 32 ? b.getF32Type() : type;
}

Value normalizeIndex(OpBuilder &b, Location loc, Value raw, int64_t size) {
  Type type = raw.getType();
  Value zero = scalarConstant(b, loc, type, 0);
  Value isNegative = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, raw, zero);
  Value wrapped = arith::SelectOp::create(
      b, loc, isNegative, arith::AddIOp::create(b, loc, raw, scalarConstant(b, loc, type, size)),
      raw);
  Value clamped = arith::MaxSIOp::create(
      b, loc, zero, arith::MinSIOp::create(b, loc, wrapped, scalarConstant(b, loc, type, size - 1)));
  return arith::IndexCastOp::create(b, loc, b.getIndexType(), clamped);
}

Value multiplyAccumulate(OpBuilder &b, Location loc, Value lhs, Value rhs, Value acc) {
  Type accType = acc.getType();
  lhs = convertScalar(b, loc, lhs, accType);
  rhs = convertScalar(b, loc, rhs, accType);
  if (isa<FloatType>(accType))
    return arith::AddFOp::create(b, loc, acc, arith::MulFOp::create(b, loc, lhs, rhs));
  return arith::AddIOp::create(b, loc, acc, arith::MulIOp::create(b, loc, lhs, rhs));
}

Value finishAccumulation(OpBuilder &b, Location loc, Value acc, RankedTensorType resultType,
                         Value bias, int64_t biasDim) {
  Type accType = getElementTypeOrSelf(acc.getType());
  if (!bias && accType == resultType.getElementType())
    return acc;
  MLIRContext *ctx = b.getContext();
  unsigned rank = resultType.getRank();
  SmallVector<Value> inputs{acc};
  SmallVector<AffineMap> maps{AffineMap::getMultiDimIdentityMap(rank, ctx)};
  if (bias) {
    inputs.push_back(bias);
    maps.push_back(AffineMap::get(rank, 0, getAffineDimExpr(biasDim, ctx)));
  }
  maps.push_back(AffineMap::getMultiDimIdentityMap(rank, ctx));
  SmallVector<utils::IteratorType> iterators(rank, utils::IteratorType::parallel);
  Value init = emptyTensor(b, loc, resultType.getShape(), resultType.getElementType());
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{resultType}, inputs, ValueRange{init}, maps, iterators,
      [&](OpBuilder &nb, Location nl, ValueRange args) {
        Value value = args[0];
        if (bias)
          value = arith::AddFOp::create(nb, nl, value, convertScalar(nb, nl, args[1], accType));
        linalg::YieldOp::create(nb, nl, convertScalar(nb, nl, value, resultType.getElementType()));
      });
  return generic.getResult(0);
}

} // namespace mpc::lowering
