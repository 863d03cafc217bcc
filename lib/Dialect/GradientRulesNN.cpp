//===- GradientRulesNN.cpp - gradients of convolution, pooling, gather ----===//
#include "mpc/Dialect/Gradients.h"
#include "mpc/Dialect/MpcDialect.h"

using namespace mlir;

namespace mpc {

void attachNNGradientRules(MLIRContext *context) { (void)context; }

} // namespace mpc
