//===- MpcDialect.cpp - mpc dialect registration and interfaces -----------===//
#include "mpc/Dialect/MpcDialect.h"
#include "mpc/Dialect/Gradients.h"

using namespace mlir;
using namespace mpc;

#include "mpc/Dialect/MpcDialect.cpp.inc"
#include "mpc/Dialect/MpcEnums.cpp.inc"
#include "mpc/Dialect/MpcInterfaces.cpp.inc"

void MpcDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "mpc/Dialect/MpcOps.cpp.inc"
      >();
  // Gradient rules are interface models kept beside the ops they
  // differentiate (lib/Dialect/GradientRules*.cpp).
  attachCoreGradientRules(getContext());
  attachNNGradientRules(getContext());
  attachMathGradientRules(getContext());
}

Type PrecisionOpInterface::getComputeType() {
  for (unsigned index : getPrecisionOperandIndices())
    return getElementTypeOrSelf((*this)->getOperand(index).getType());
  return {};
}

Type PrecisionOpInterface::getAccumulatorType() {
  if (auto acc = (*this)->getAttrOfType<TypeAttr>("acc_type"))
    return acc.getValue();
  Type compute = getComputeType();
  auto floatType = dyn_cast_or_null<FloatType>(compute);
  if (floatType && accumulates() && floatType.getWidth() < 32)
    return Float32Type::get(getContext());
  return compute;
}

//===----------------------------------------------------------------------===//
// FLOPs
//===----------------------------------------------------------------------===//

int64_t mpc::detail::largestFloatElements(Operation *op) {
  int64_t largest = 0;
  for (Type type : llvm::concat<Type>(op->getOperandTypes(), op->getResultTypes())) {
    if (!isa<FloatType>(getElementTypeOrSelf(type)))
      continue;
    auto shaped = dyn_cast<ShapedType>(type);
    if (!shaped)
      largest = std::max<int64_t>(largest, 1);
    else if (shaped.hasStaticShape())
      largest = std::max(largest, shaped.getNumElements());
  }
  return largest;
}

/// 2 x multiply-adds of a convolution (or of either of its gradients, which
/// perform the same products): every element of the forward result `dy` is
/// the dot product of one filter, `weight` holding M filters.
static int64_t convFlops(Type dy, Type weight) {
  auto result = cast<ShapedType>(dy), filters = cast<ShapedType>(weight);
  if (!result.hasStaticShape() || !filters.hasStaticShape() || filters.getRank() == 0 ||
      filters.getShape().front() == 0)
    return 0;
  int64_t filter = filters.getNumElements() / filters.getShape().front();
  return 2 * result.getNumElements() * filter;
}

int64_t MatmulOp::getGemmFlops() {
  auto lhs = cast<ShapedType>(getLhs().getType());
  auto result = cast<ShapedType>(getType());
  if (!lhs.hasStaticShape() || !result.hasStaticShape() || lhs.getRank() == 0)
    return 0;
  return 2 * result.getNumElements() * lhs.getShape().back();
}

int64_t ConvOp::getGemmFlops() { return convFlops(getType(), getWeight().getType()); }
int64_t ConvGradInputOp::getGemmFlops() { return convFlops(getDy().getType(), getWeight().getType()); }
int64_t ConvGradFilterOp::getGemmFlops() { return convFlops(getDy().getType(), getType()); }
