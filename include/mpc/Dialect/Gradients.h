//===- Gradients.h - gradient rules of the mpc ops --------------*- C++ -*-===//
//
// Every differentiable mpc op gets a GradientOpInterface model when the
// dialect loads. The rules live in lib/Dialect/GradientRules*.cpp; helpers
// shared by the rules are declared here.
//
//===----------------------------------------------------------------------===//
#ifndef MPC_DIALECT_GRADIENTS_H
#define MPC_DIALECT_GRADIENTS_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Value.h"

namespace mpc {

/// Elementwise, matmul, reduction, normalization, softmax and data-movement
/// rules (GradientRules.cpp).
void attachCoreGradientRules(mlir::MLIRContext *context);
/// Convolution, pooling, gather and loss rules (GradientRulesNN.cpp).
void attachNNGradientRules(mlir::MLIRContext *context);
/// Trigonometric, hyperbolic and rounding rules (GradientRulesMath.cpp).
void attachMathGradientRules(mlir::MLIRContext *context);

/// Sums `grad` over the axes along which a value of type `target` was
/// broadcast (numpy rules: leading axes, and axes of size 1), giving a value
/// of exactly `target`'s shape. Returns `grad` unchanged when the shapes
/// already agree.
mlir::Value reduceToShape(mlir::OpBuilder &builder, mlir::Location loc, mlir::Value grad,
                          mlir::RankedTensorType target);

} // namespace mpc

#endif // MPC_DIALECT_GRADIENTS_H
