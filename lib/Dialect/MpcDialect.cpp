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
