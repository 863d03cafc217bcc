//===- GradientRulesNN.cpp - gradients of convolution, pooling, gather ----===//
//
// Vector-Jacobian products of the "neural network" ops. Each rule builds the
// dedicated backward op (lib/Conversion/MpcToLinalg lowers them), so a
// rule is a handful of lines and the index arithmetic lives in one place.
// Backward ops keep the forward op's attributes and precision: a bf16 conv
// has bf16 backward convs accumulating in f32, as autocast does.
//
//===----------------------------------------------------------------------===//
#include "mpc/Dialect/Gradients.h"
#include "mpc/Dialect/MpcDialect.h"
#include "mpc/Dialect/ShapeInference.h"

using namespace mlir;

namespace mpc {
namespace {

/// The backward op inherits the forward op's ONNX node name, so errors in
/// the backward pass still name the node the user knows.
template <typename OpT>
OpT tagged(OpT backward, Operation *forward) {
  if (auto node = forward->getAttrOfType<StringAttr>(kNodeNameAttr))
    backward->setAttr(kNodeNameAttr, node);
  return backward;
}

/// The accumulator the backward op needs: the forward op's (explicit or
/// default), so low-precision gradients still sum in f32.
TypeAttr accumulatorAttr(Operation *forward) {
  Type acc = cast<PrecisionOpInterface>(forward).getAccumulatorType();
  Type compute = getElementTypeOrSelf(forward->getResult(0).getType());
  auto floatAcc = dyn_cast_or_null<FloatType>(acc);
  if (!floatAcc || acc == compute)
    return {};
  return TypeAttr::get(acc);
}

struct ConvGradient : GradientOpInterface::ExternalModel<ConvGradient, ConvOp> {
  LogicalResult buildGradient(Operation *op, OpBuilder &b, ArrayRef<Value> resultGrads,
                              SmallVectorImpl<Value> &operandGrads) const {
    auto conv = cast<ConvOp>(op);
    Value dy = resultGrads[0];
    operandGrads.assign(op->getNumOperands(), Value());
    if (!dy)
      return success();
    Location loc = op->getLoc();
    // Accumulating backward ops always get an f32 (or wider) accumulator
    // when the forward op computes narrower.
    TypeAttr acc = conv.getAccTypeAttr() ? conv.getAccTypeAttr() : accumulatorAttr(op);
    operandGrads[0] = tagged(ConvGradInputOp::create(b, loc, conv.getInput().getType(), dy,
                                                     conv.getWeight(), conv.getStridesAttr(),
                                                     conv.getPadsAttr(), conv.getDilationsAttr(),
                                                     conv.getGroupAttr(), acc),
                             op);
    operandGrads[1] = tagged(ConvGradFilterOp::create(b, loc, conv.getWeight().getType(),
                                                      conv.getInput(), dy, conv.getStridesAttr(),
                                                      conv.getPadsAttr(), conv.getDilationsAttr(),
                                                      conv.getGroupAttr(), acc),
                             op);
    if (Value bias = conv.getBias()) {
      // The bias is added at every batch element and spatial position.
      int64_t rank = cast<RankedTensorType>(dy.getType()).getRank();
      SmallVector<int64_t> axes{0};
      for (int64_t i = 2; i < rank; ++i)
        axes.push_back(i);
      operandGrads[2] = tagged(ReduceSumOp::create(b, loc, bias.getType(), dy, axes,
                                                   /*keepdims=*/false, acc),
                               op);
    }
    return success();
  }
};

/// ConvTranspose imports as conv_grad_input, which is linear in both
/// operands: its adjoint in dy is the forward conv, in the weight the
/// filter gradient with the roles of input and dy swapped.
struct ConvGradInputGradient
    : GradientOpInterface::ExternalModel<ConvGradInputGradient, ConvGradInputOp> {
  LogicalResult buildGradient(Operation *op, OpBuilder &b, ArrayRef<Value> resultGrads,
                              SmallVectorImpl<Value> &operandGrads) const {
    auto grad = cast<ConvGradInputOp>(op);
    Value dz = resultGrads[0];
    operandGrads.assign(op->getNumOperands(), Value());
    if (!dz)
      return success();
    Location loc = op->getLoc();
    TypeAttr acc = grad.getAccTypeAttr() ? grad.getAccTypeAttr() : accumulatorAttr(op);
    operandGrads[0] = tagged(ConvOp::create(b, loc, grad.getDy().getType(), dz, grad.getWeight(),
                                            Value(), grad.getStridesAttr(), grad.getPadsAttr(),
                                            grad.getDilationsAttr(), grad.getGroupAttr(), acc),
                             op);
    operandGrads[1] = tagged(ConvGradFilterOp::create(b, loc, grad.getWeight().getType(), dz,
                                                      grad.getDy(), grad.getStridesAttr(),
                                                      grad.getPadsAttr(), grad.getDilationsAttr(),
                                                      grad.getGroupAttr(), acc),
                             op);
    return success();
  }
};

struct MaxPoolGradient : GradientOpInterface::ExternalModel<MaxPoolGradient, MaxPoolOp> {
  LogicalResult buildGradient(Operation *op, OpBuilder &b, ArrayRef<Value> resultGrads,
                              SmallVectorImpl<Value> &operandGrads) const {
    auto pool = cast<MaxPoolOp>(op);
    operandGrads.assign(1, Value());
    if (!resultGrads[0])
      return success();
    operandGrads[0] = tagged(
        MaxPoolGradOp::create(b, op->getLoc(), pool.getInput().getType(), pool.getInput(),
                              resultGrads[0], pool.getKernelShapeAttr(), pool.getStridesAttr(),
                              pool.getPadsAttr(), pool.getDilationsAttr(), pool.getCeilModeAttr()),
        op);
    return success();
  }
};

struct AvgPoolGradient : GradientOpInterface::ExternalModel<AvgPoolGradient, AvgPoolOp> {
  LogicalResult buildGradient(Operation *op, OpBuilder &b, ArrayRef<Value> resultGrads,
                              SmallVectorImpl<Value> &operandGrads) const {
    auto pool = cast<AvgPoolOp>(op);
    operandGrads.assign(1, Value());
    if (!resultGrads[0])
      return success();
    TypeAttr acc = pool.getAccTypeAttr() ? pool.getAccTypeAttr() : accumulatorAttr(op);
    operandGrads[0] = tagged(
        AvgPoolGradOp::create(b, op->getLoc(), pool.getInput().getType(), resultGrads[0],
                              pool.getKernelShapeAttr(), pool.getStridesAttr(),
                              pool.getPadsAttr(), pool.getCountIncludePadAttr(),
                              pool.getCeilModeAttr(), acc),
        op);
    return success();
  }
};

struct GatherGradient : GradientOpInterface::ExternalModel<GatherGradient, GatherOp> {
  LogicalResult buildGradient(Operation *op, OpBuilder &b, ArrayRef<Value> resultGrads,
                              SmallVectorImpl<Value> &operandGrads) const {
    auto gather = cast<GatherOp>(op);
    operandGrads.assign(2, Value()); // indices are integers: no gradient
    if (!resultGrads[0])
      return success();
    if (!isa<FloatType>(getElementTypeOrSelf(gather.getData().getType())))
      return success(); // integer data (e.g. shape arithmetic) is not differentiable
    operandGrads[0] = tagged(GatherGradOp::create(b, op->getLoc(), gather.getData().getType(),
                                                  resultGrads[0], gather.getIndices(),
                                                  gather.getAxisAttr()),
                             op);
    return success();
  }
};

/// ScatterElements imports as gather_grad (a scatter-add), whose adjoint is
/// the gather it inverts.
struct GatherGradGradient : GradientOpInterface::ExternalModel<GatherGradGradient, GatherGradOp> {
  LogicalResult buildGradient(Operation *op, OpBuilder &b, ArrayRef<Value> resultGrads,
                              SmallVectorImpl<Value> &operandGrads) const {
    auto scatter = cast<GatherGradOp>(op);
    operandGrads.assign(2, Value());
    if (!resultGrads[0])
      return success();
    operandGrads[0] = tagged(GatherOp::create(b, op->getLoc(), scatter.getDy().getType(),
                                              resultGrads[0], scatter.getIndices(),
                                              scatter.getAxisAttr()),
                             op);
    return success();
  }
};

struct SoftmaxCrossEntropyGradient
    : GradientOpInterface::ExternalModel<SoftmaxCrossEntropyGradient, SoftmaxCrossEntropyOp> {
  LogicalResult buildGradient(Operation *op, OpBuilder &b, ArrayRef<Value> resultGrads,
                              SmallVectorImpl<Value> &operandGrads) const {
    auto loss = cast<SoftmaxCrossEntropyOp>(op);
    operandGrads.assign(2, Value()); // labels are class ids: no gradient
    if (!resultGrads[0])
      return success();
    operandGrads[0] = tagged(SoftmaxCrossEntropyGradOp::create(b, op->getLoc(), loss.getLogits(),
                                                               loss.getLabels(), resultGrads[0]),
                             op);
    return success();
  }
};

struct MseLossGradient : GradientOpInterface::ExternalModel<MseLossGradient, MseLossOp> {
  LogicalResult buildGradient(Operation *op, OpBuilder &b, ArrayRef<Value> resultGrads,
                              SmallVectorImpl<Value> &operandGrads) const {
    auto loss = cast<MseLossOp>(op);
    operandGrads.assign(2, Value());
    Value dloss = resultGrads[0];
    if (!dloss)
      return success();
    Location loc = op->getLoc();
    auto type = cast<RankedTensorType>(loss.getPred().getType());
    // d/dpred mean((pred - target)^2) = 2 (pred - target) / count; the scale
    // is formed in f32 (the loss's type) and cast once to the operands' type.
    auto scalarF32 = RankedTensorType::get({}, b.getF32Type());
    float factor = 2.0f / static_cast<float>(shape::numElements(type.getShape()));
    Value two = arith::ConstantOp::create(b, loc, DenseElementsAttr::get(scalarF32, factor));
    Value scale = MulOp::create(b, loc, dloss, two);
    if (type.getElementType() != scalarF32.getElementType())
      scale = CastOp::create(b, loc, RankedTensorType::get({}, type.getElementType()), scale);
    Value diff = SubOp::create(b, loc, loss.getPred(), loss.getTarget());
    Value dpred = tagged(MulOp::create(b, loc, diff, scale), op);
    operandGrads[0] = dpred;
    operandGrads[1] = tagged(NegOp::create(b, loc, dpred), op);
    return success();
  }
};

} // namespace

void attachNNGradientRules(MLIRContext *context) {
  ConvOp::attachInterface<ConvGradient>(*context);
  ConvGradInputOp::attachInterface<ConvGradInputGradient>(*context);
  MaxPoolOp::attachInterface<MaxPoolGradient>(*context);
  AvgPoolOp::attachInterface<AvgPoolGradient>(*context);
  GatherOp::attachInterface<GatherGradient>(*context);
  GatherGradOp::attachInterface<GatherGradGradient>(*context);
  SoftmaxCrossEntropyOp::attachInterface<SoftmaxCrossEntropyGradient>(*context);
  MseLossOp::attachInterface<MseLossGradient>(*context);
}

} // namespace mpc
