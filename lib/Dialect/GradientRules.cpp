//===- GradientRules.cpp - vector-Jacobian products of the core ops -------===//
#include "mpc/Dialect/Gradients.h"
#include "mpc/Dialect/MpcDialect.h"

using namespace mlir;

namespace mpc {

Value reduceToShape(OpBuilder &builder, Location loc, Value grad, RankedTensorType target) {
  (void)builder;
  (void)loc;
  (void)target;
  return grad;
}

void attachCoreGradientRules(MLIRContext *context) { (void)context; }

} // namespace mpc
