//===- MpcOps.cpp - mpc op type inference and verifiers -------------------===//
//
// Result types come from the pure rules in ShapeInference.h; the importer uses
// the same rules, so what it builds always verifies.
//
//===----------------------------------------------------------------------===//
#include "mpc/Dialect/MpcDialect.h"
#include "mpc/Dialect/ShapeInference.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace mpc;

namespace {
/// The shape of a static ranked tensor value, or failure with a diagnostic.
FailureOr<ArrayRef<int64_t>> staticShape(std::optional<Location> loc, Value v) {
  auto type = dyn_cast_or_null<RankedTensorType>(v ? v.getType() : Type());
  if (!type || !type.hasStaticShape())
    return emitOptionalError(loc, "expected a statically shaped tensor operand");
  return type.getShape();
}

Type elementTypeOf(Value v) { return cast<ShapedType>(v.getType()).getElementType(); }

/// Appends tensor<shape x elem> or reports the rule's error.
LogicalResult result(std::optional<Location> loc, FailureOr<shape::Shape> shape,
                     const std::string &error, Type elem, SmallVectorImpl<Type> &out) {
  if (failed(shape))
    return emitOptionalError(loc, error);
  out.push_back(RankedTensorType::get(*shape, elem));
  return success();
}

LogicalResult sameElementTypes(std::optional<Location> loc, ValueRange values) {
  for (Value v : values.drop_front())
    if (elementTypeOf(v) != elementTypeOf(values.front()))
      return emitOptionalError(loc, "operands must have the same element type, got ",
                               elementTypeOf(values.front()), " and ", elementTypeOf(v));
  return success();
}

/// Shared by the broadcasting binary ops and comparisons.
LogicalResult inferBroadcast(std::optional<Location> loc, Value lhs, Value rhs, Type elem,
                             SmallVectorImpl<Type> &out) {
  auto l = staticShape(loc, lhs), r = staticShape(loc, rhs);
  if (failed(l) || failed(r) || failed(sameElementTypes(loc, {lhs, rhs})))
    return failure();
  std::string error;
  return result(loc, shape::broadcast(*l, *r, error), error, elem ? elem : elementTypeOf(lhs),
                out);
}

LogicalResult inferReduce(std::optional<Location> loc, Value input, ArrayRef<int64_t> axes,
                          bool keepdims, SmallVectorImpl<Type> &out) {
  auto in = staticShape(loc, input);
  if (failed(in))
    return failure();
  std::string error;
  return result(loc, shape::reduce(*in, axes, keepdims, error), error, elementTypeOf(input), out);
}

LogicalResult inferPool(std::optional<Location> loc, Value input, ArrayRef<int64_t> kernel,
                        ArrayRef<int64_t> strides, ArrayRef<int64_t> pads,
                        ArrayRef<int64_t> dilations, bool ceilMode, SmallVectorImpl<Type> &out) {
  auto in = staticShape(loc, input);
  if (failed(in))
    return failure();
  std::string error;
  return result(loc, shape::pool(*in, kernel, strides, pads, dilations, ceilMode, error), error,
                elementTypeOf(input), out);
}
} // namespace

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

#define MPC_BINARY_INFER(OP)                                                                      \
  LogicalResult OP::inferReturnTypes(MLIRContext *, std::optional<Location> loc, Adaptor adaptor, \
                                     SmallVectorImpl<Type> &out) {                                \
    return inferBroadcast(loc, adaptor.getLhs(), adaptor.getRhs(), Type(), out);                 \
  }
MPC_BINARY_INFER(AddOp)
MPC_BINARY_INFER(SubOp)
MPC_BINARY_INFER(MulOp)
MPC_BINARY_INFER(DivOp)
MPC_BINARY_INFER(PowOp)
MPC_BINARY_INFER(MaxOp)
MPC_BINARY_INFER(MinOp)
MPC_BINARY_INFER(BitShiftOp)
MPC_BINARY_INFER(BitwiseAndOp)
MPC_BINARY_INFER(BitwiseOrOp)
MPC_BINARY_INFER(BitwiseXorOp)
#undef MPC_BINARY_INFER

#define MPC_COMPARE_INFER(OP)                                                                     \
  LogicalResult OP::inferReturnTypes(MLIRContext *ctx, std::optional<Location> loc,               \
                                     Adaptor adaptor, SmallVectorImpl<Type> &out) {               \
    return inferBroadcast(loc, adaptor.getLhs(), adaptor.getRhs(), IntegerType::get(ctx, 1),     \
                          out);                                                                   \
  }
MPC_COMPARE_INFER(EqualOp)
MPC_COMPARE_INFER(LessOp)
MPC_COMPARE_INFER(LessEqualOp)
MPC_COMPARE_INFER(GreaterOp)
MPC_COMPARE_INFER(GreaterEqualOp)
#undef MPC_COMPARE_INFER

LogicalResult WhereOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                        Adaptor adaptor, SmallVectorImpl<Type> &out) {
  auto c = staticShape(loc, adaptor.getCondition()), x = staticShape(loc, adaptor.getX()),
       y = staticShape(loc, adaptor.getY());
  if (failed(c) || failed(x) || failed(y) ||
      failed(sameElementTypes(loc, {adaptor.getX(), adaptor.getY()})))
    return failure();
  std::string error;
  FailureOr<shape::Shape> xy = shape::broadcast(*x, *y, error);
  if (succeeded(xy))
    xy = shape::broadcast(*c, *xy, error);
  return result(loc, xy, error, elementTypeOf(adaptor.getX()), out);
}

LogicalResult ClipOp::verify() {
  if (getMin() && getMax() && getMin()->convertToDouble() > getMax()->convertToDouble())
    return emitOpError("min (") << getMin()->convertToDouble() << ") is greater than max ("
                               << getMax()->convertToDouble() << ")";
  return success();
}

//===----------------------------------------------------------------------===//
// Compute-bound
//===----------------------------------------------------------------------===//

LogicalResult MatmulOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                         Adaptor adaptor, SmallVectorImpl<Type> &out) {
  auto l = staticShape(loc, adaptor.getLhs()), r = staticShape(loc, adaptor.getRhs());
  if (failed(l) || failed(r) || failed(sameElementTypes(loc, {adaptor.getLhs(), adaptor.getRhs()})))
    return failure();
  std::string error;
  return result(loc, shape::matmul(*l, *r, error), error, elementTypeOf(adaptor.getLhs()), out);
}

LogicalResult ConvOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                       Adaptor adaptor, SmallVectorImpl<Type> &out) {
  auto in = staticShape(loc, adaptor.getInput()), w = staticShape(loc, adaptor.getWeight());
  if (failed(in) || failed(w) ||
      failed(sameElementTypes(loc, {adaptor.getInput(), adaptor.getWeight()})))
    return failure();
  if (Value bias = adaptor.getBias()) {
    auto b = staticShape(loc, bias);
    if (failed(b) || failed(sameElementTypes(loc, {adaptor.getInput(), bias})))
      return failure();
    if (b->size() != 1 || (*b)[0] != (*w)[0])
      return emitOptionalError(loc, "conv bias must have shape [", (*w)[0], "]");
  }
  std::string error;
  return result(loc,
                shape::conv(*in, *w, adaptor.getStrides(), adaptor.getPads(),
                            adaptor.getDilations(), (int64_t)adaptor.getGroup(), error),
                error, elementTypeOf(adaptor.getInput()), out);
}

//===----------------------------------------------------------------------===//
// Numerically sensitive
//===----------------------------------------------------------------------===//

static LogicalResult verifyAxis(Operation *op, int64_t axis) {
  int64_t rank = cast<RankedTensorType>(op->getOperand(0).getType()).getRank();
  if (axis < 0 || axis >= rank)
    return op->emitOpError("axis ") << axis << " is out of range for rank " << rank
                                     << " (axes are normalized to [0, rank))";
  return success();
}

LogicalResult SoftmaxOp::verify() { return verifyAxis(*this, (int64_t)getAxis()); }
LogicalResult LogSoftmaxOp::verify() { return verifyAxis(*this, (int64_t)getAxis()); }

LogicalResult LayerNormOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                            Adaptor adaptor, SmallVectorImpl<Type> &out) {
  auto in = staticShape(loc, adaptor.getInput());
  if (failed(in))
    return failure();
  int64_t axis = (int64_t)adaptor.getAxis();
  if (axis < 0 || axis >= (int64_t)in->size())
    return emitOptionalError(loc, "layer_norm axis ", axis, " is out of range for rank ",
                             in->size());
  ArrayRef<int64_t> normalized = in->drop_front(axis);
  SmallVector<Value> params = {adaptor.getScale()};
  if (adaptor.getBias())
    params.push_back(adaptor.getBias());
  for (Value p : params) {
    auto s = staticShape(loc, p);
    if (failed(s) || failed(sameElementTypes(loc, {adaptor.getInput(), p})))
      return failure();
    if (!shape::broadcastsTo(*s, normalized))
      return emitOptionalError(loc, "layer_norm scale/bias must broadcast to the normalized dims");
  }
  out.push_back(adaptor.getInput().getType());
  return success();
}

LogicalResult BatchNormOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                            Adaptor adaptor, SmallVectorImpl<Type> &out) {
  auto in = staticShape(loc, adaptor.getInput());
  if (failed(in))
    return failure();
  if (in->size() < 2)
    return emitOptionalError(loc, "batch_norm input must have rank >= 2 (N, C, ...)");
  for (Value p : {adaptor.getScale(), adaptor.getBias(), adaptor.getMean(),
                  adaptor.getVariance()}) {
    auto s = staticShape(loc, p);
    if (failed(s) || failed(sameElementTypes(loc, {adaptor.getInput(), p})))
      return failure();
    if (s->size() != 1 || (*s)[0] != (*in)[1])
      return emitOptionalError(loc, "batch_norm scale, bias, mean and variance must have shape [",
                               (*in)[1], "] (the channel count)");
  }
  out.push_back(adaptor.getInput().getType());
  return success();
}

//===----------------------------------------------------------------------===//
// Reductions and pooling
//===----------------------------------------------------------------------===//

#define MPC_REDUCE_INFER(OP)                                                                      \
  LogicalResult OP::inferReturnTypes(MLIRContext *, std::optional<Location> loc, Adaptor adaptor, \
                                     SmallVectorImpl<Type> &out) {                                \
    return inferReduce(loc, adaptor.getInput(), adaptor.getAxes(), adaptor.getKeepdims(), out);  \
  }
MPC_REDUCE_INFER(ReduceSumOp)
MPC_REDUCE_INFER(ReduceMeanOp)
MPC_REDUCE_INFER(ReduceProdOp)
MPC_REDUCE_INFER(ReduceMaxOp)
MPC_REDUCE_INFER(ReduceMinOp)
#undef MPC_REDUCE_INFER

LogicalResult MaxPoolOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                          Adaptor adaptor, SmallVectorImpl<Type> &out) {
  return inferPool(loc, adaptor.getInput(), adaptor.getKernelShape(), adaptor.getStrides(),
                   adaptor.getPads(), adaptor.getDilations(), adaptor.getCeilMode(), out);
}

LogicalResult AvgPoolOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                          Adaptor adaptor, SmallVectorImpl<Type> &out) {
  SmallVector<int64_t> ones(adaptor.getKernelShape().size(), 1);
  return inferPool(loc, adaptor.getInput(), adaptor.getKernelShape(), adaptor.getStrides(),
                   adaptor.getPads(), ones, adaptor.getCeilMode(), out);
}

//===----------------------------------------------------------------------===//
// Data movement
//===----------------------------------------------------------------------===//

LogicalResult ReshapeOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                          Adaptor adaptor, SmallVectorImpl<Type> &out) {
  auto in = staticShape(loc, adaptor.getInput());
  if (failed(in))
    return failure();
  std::string error;
  return result(loc, shape::reshape(*in, adaptor.getShape(), error), error,
                elementTypeOf(adaptor.getInput()), out);
}

LogicalResult TransposeOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                            Adaptor adaptor, SmallVectorImpl<Type> &out) {
  auto in = staticShape(loc, adaptor.getInput());
  if (failed(in))
    return failure();
  std::string error;
  return result(loc, shape::transpose(*in, adaptor.getPerm(), error), error,
                elementTypeOf(adaptor.getInput()), out);
}

LogicalResult ConcatOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                         Adaptor adaptor, SmallVectorImpl<Type> &out) {
  if (adaptor.getInputs().empty())
    return emitOptionalError(loc, "concat needs at least one input");
  SmallVector<ArrayRef<int64_t>> shapes;
  for (Value v : adaptor.getInputs()) {
    auto s = staticShape(loc, v);
    if (failed(s))
      return failure();
    shapes.push_back(*s);
  }
  if (failed(sameElementTypes(loc, adaptor.getInputs())))
    return failure();
  std::string error;
  return result(loc, shape::concat(shapes, (int64_t)adaptor.getAxis(), error), error,
                elementTypeOf(adaptor.getInputs().front()), out);
}

LogicalResult SliceOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                        Adaptor adaptor, SmallVectorImpl<Type> &out) {
  auto in = staticShape(loc, adaptor.getInput());
  if (failed(in))
    return failure();
  std::string error;
  return result(loc,
                shape::slice(*in, adaptor.getOffsets(), adaptor.getSizes(), adaptor.getStrides(),
                             error),
                error, elementTypeOf(adaptor.getInput()), out);
}

LogicalResult BroadcastOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                            Adaptor adaptor, SmallVectorImpl<Type> &out) {
  auto in = staticShape(loc, adaptor.getInput());
  if (failed(in))
    return failure();
  if (!shape::broadcastsTo(*in, adaptor.getShape()))
    return emitOptionalError(loc, "input shape does not broadcast to the target shape");
  out.push_back(RankedTensorType::get(adaptor.getShape(), elementTypeOf(adaptor.getInput())));
  return success();
}

LogicalResult GatherOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                         Adaptor adaptor, SmallVectorImpl<Type> &out) {
  auto data = staticShape(loc, adaptor.getData()), idx = staticShape(loc, adaptor.getIndices());
  if (failed(data) || failed(idx))
    return failure();
  std::string error;
  return result(loc, shape::gather(*data, *idx, (int64_t)adaptor.getAxis(), error), error,
                elementTypeOf(adaptor.getData()), out);
}

//===----------------------------------------------------------------------===//
// Parameters
//===----------------------------------------------------------------------===//

LogicalResult ParameterOp::verify() {
  auto type = dyn_cast<RankedTensorType>(getType());
  if (!type || !type.hasStaticShape())
    return emitOpError("type must be a statically shaped tensor, got ") << getType();
  if (cast<TypedAttr>(getValue()).getType() != type)
    return emitOpError("value has type ")
           << cast<TypedAttr>(getValue()).getType() << " but the parameter is declared " << type;
  return success();
}

LogicalResult GetParameterOp::verifySymbolUses(SymbolTableCollection &symbolTable) {
  auto param = symbolTable.lookupNearestSymbolFrom<ParameterOp>(*this, getNameAttr());
  if (!param)
    return emitOpError("'") << getName() << "' does not name an mpc.parameter";
  if (param.getType() != getType())
    return emitOpError("result type ")
           << getType() << " differs from parameter '" << getName() << "' of type "
           << param.getType();
  return success();
}

//===----------------------------------------------------------------------===//
// Training: losses and backward ops
//===----------------------------------------------------------------------===//

namespace {
std::string shapeString(ArrayRef<int64_t> s) {
  std::string out = "[";
  llvm::raw_string_ostream os(out);
  llvm::interleave(s, os, "x");
  os << "]";
  return out;
}

/// Labels must have the logits' shape without the class axis (the last).
LogicalResult checkLabels(std::optional<Location> loc, StringRef op, Value logits, Value labels) {
  auto l = staticShape(loc, logits), y = staticShape(loc, labels);
  if (failed(l) || failed(y))
    return failure();
  if (l->empty())
    return emitOptionalError(loc, op, " logits must have rank >= 1 (classes on the last axis)");
  if (l->back() == 0)
    return emitOptionalError(loc, op, " logits ", shapeString(*l), " have no classes");
  if (*y != l->drop_back())
    return emitOptionalError(loc, op, " labels ", shapeString(*y), " must have the logits' shape ",
                             shapeString(*l), " without the last (class) axis");
  return success();
}

/// The shape `dy` must have given the forward op's input (or weight) shape;
/// a backward op's verifier compares it with its actual `dy`.
LogicalResult checkGradShape(Operation *op, FailureOr<shape::Shape> expected,
                             const std::string &error, Value dy, StringRef what) {
  if (failed(expected))
    return op->emitOpError() << error;
  auto actual = cast<RankedTensorType>(dy.getType()).getShape();
  if (ArrayRef<int64_t>(*expected) != actual)
    return op->emitOpError() << what << " gives a forward result of shape "
                             << shapeString(*expected) << " but dy has shape "
                             << shapeString(actual);
  return success();
}

LogicalResult checkSameElement(Operation *op, TypeRange types) {
  for (Type t : types.drop_front())
    if (getElementTypeOrSelf(t) != getElementTypeOrSelf(types.front()))
      return op->emitOpError("operands and result must have the same element type, got ")
             << getElementTypeOrSelf(types.front()) << " and " << getElementTypeOrSelf(t);
  return success();
}
} // namespace

LogicalResult SoftmaxCrossEntropyOp::inferReturnTypes(MLIRContext *ctx,
                                                      std::optional<Location> loc,
                                                      Adaptor adaptor, SmallVectorImpl<Type> &out) {
  if (failed(checkLabels(loc, "softmax_cross_entropy", adaptor.getLogits(), adaptor.getLabels())))
    return failure();
  out.push_back(RankedTensorType::get({}, Float32Type::get(ctx)));
  return success();
}

/// The checks of an op taking logits, labels and a rank-0 dloss.
static LogicalResult checkLossGradOperands(std::optional<Location> loc, StringRef op, Value logits,
                                           Value labels, Value dloss) {
  if (failed(checkLabels(loc, op, logits, labels)))
    return failure();
  auto d = staticShape(loc, dloss);
  if (failed(d))
    return failure();
  if (!d->empty())
    return emitOptionalError(loc, op, " dloss must be a rank-0 tensor");
  return success();
}

LogicalResult SoftmaxCrossEntropyGradOp::inferReturnTypes(MLIRContext *,
                                                          std::optional<Location> loc,
                                                          Adaptor adaptor,
                                                          SmallVectorImpl<Type> &out) {
  if (failed(checkLossGradOperands(loc, "softmax_cross_entropy_grad", adaptor.getLogits(),
                                   adaptor.getLabels(), adaptor.getDloss())))
    return failure();
  out.push_back(adaptor.getLogits().getType());
  return success();
}

LogicalResult SoftmaxCrossEntropyWithGradOp::inferReturnTypes(MLIRContext *ctx,
                                                              std::optional<Location> loc,
                                                              Adaptor adaptor,
                                                              SmallVectorImpl<Type> &out) {
  if (failed(checkLossGradOperands(loc, "softmax_cross_entropy_with_grad", adaptor.getLogits(),
                                   adaptor.getLabels(), adaptor.getDloss())))
    return failure();
  out.push_back(RankedTensorType::get({}, Float32Type::get(ctx)));
  out.push_back(adaptor.getLogits().getType());
  return success();
}

LogicalResult MseLossOp::inferReturnTypes(MLIRContext *ctx, std::optional<Location> loc,
                                          Adaptor adaptor, SmallVectorImpl<Type> &out) {
  if (adaptor.getPred().getType() != adaptor.getTarget().getType())
    return emitOptionalError(loc, "mse_loss prediction ", adaptor.getPred().getType(),
                             " and target ", adaptor.getTarget().getType(),
                             " must have the same type");
  out.push_back(RankedTensorType::get({}, Float32Type::get(ctx)));
  return success();
}

LogicalResult ConvGradInputOp::verify() {
  if (failed(checkSameElement(*this, {getDy().getType(), getWeight().getType(), getType()})))
    return failure();
  std::string error;
  auto x = cast<RankedTensorType>(getType()).getShape();
  auto w = cast<RankedTensorType>(getWeight().getType()).getShape();
  return checkGradShape(*this,
                        shape::conv(x, w, getStrides(), getPads(), getDilations(),
                                    (int64_t)getGroup(), error),
                        error, getDy(), "a conv of the result type's input");
}

LogicalResult ConvGradFilterOp::verify() {
  if (failed(checkSameElement(*this, {getInput().getType(), getDy().getType(), getType()})))
    return failure();
  std::string error;
  auto x = cast<RankedTensorType>(getInput().getType()).getShape();
  auto w = cast<RankedTensorType>(getType()).getShape();
  return checkGradShape(*this,
                        shape::conv(x, w, getStrides(), getPads(), getDilations(),
                                    (int64_t)getGroup(), error),
                        error, getDy(), "a conv with the result type's weight");
}

LogicalResult MaxPoolGradOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                              Adaptor adaptor, SmallVectorImpl<Type> &out) {
  auto in = staticShape(loc, adaptor.getInput()), dy = staticShape(loc, adaptor.getDy());
  if (failed(in) || failed(dy) ||
      failed(sameElementTypes(loc, {adaptor.getInput(), adaptor.getDy()})))
    return failure();
  std::string error;
  FailureOr<shape::Shape> pooled =
      shape::pool(*in, adaptor.getKernelShape(), adaptor.getStrides(), adaptor.getPads(),
                  adaptor.getDilations(), adaptor.getCeilMode(), error);
  if (failed(pooled))
    return emitOptionalError(loc, error);
  if (ArrayRef<int64_t>(*pooled) != *dy)
    return emitOptionalError(loc, "max_pool_grad: pooling the input gives shape ",
                             shapeString(*pooled), " but dy has shape ", shapeString(*dy));
  out.push_back(adaptor.getInput().getType());
  return success();
}

LogicalResult AvgPoolGradOp::verify() {
  if (failed(checkSameElement(*this, {getDy().getType(), getType()})))
    return failure();
  std::string error;
  auto x = cast<RankedTensorType>(getType()).getShape();
  SmallVector<int64_t> ones(getKernelShape().size(), 1);
  return checkGradShape(*this,
                        shape::pool(x, getKernelShape(), getStrides(), getPads(), ones,
                                    getCeilMode(), error),
                        error, getDy(), "pooling the result type's input");
}

LogicalResult GatherGradOp::verify() {
  if (failed(checkSameElement(*this, {getDy().getType(), getType()})))
    return failure();
  std::string error;
  auto data = cast<RankedTensorType>(getType()).getShape();
  auto idx = cast<RankedTensorType>(getIndices().getType()).getShape();
  return checkGradShape(*this, shape::gather(data, idx, (int64_t)getAxis(), error), error,
                        getDy(), "a gather from the result type's data");
}

#define GET_OP_CLASSES
#include "mpc/Dialect/MpcOps.cpp.inc"
