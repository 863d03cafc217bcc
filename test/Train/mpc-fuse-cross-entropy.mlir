// RUN: mpc-opt %s --split-input-file --mpc-fuse-cross-entropy | FileCheck %s

// The loss and the gradient autodiff built for it become one op at the
// gradient's place; the seed is its dloss and the loss's users take its
// first result.
// CHECK-LABEL: func.func @fused
// CHECK-NOT: mpc.softmax_cross_entropy %
// CHECK: %[[SEED:.+]] = arith.constant {mpc.grad_seed} dense<1.000000e+00> : tensor<f32>
// CHECK: %[[L:.+]], %[[G:.+]] = mpc.softmax_cross_entropy_with_grad %arg0, %arg1, %[[SEED]] {acc_type = f32} : (tensor<4x10xbf16>, tensor<4xi64>, tensor<f32>) -> (tensor<f32>, tensor<4x10xbf16>)
// CHECK-NOT: mpc.softmax_cross_entropy_grad
// CHECK: %[[C:.+]] = mpc.cast %[[G]]
// CHECK: return %[[L]], %[[C]]
func.func @fused(%x: tensor<4x10xbf16>, %y: tensor<4xi64>) -> (tensor<f32>, tensor<4x10xf32>) {
  %l = mpc.softmax_cross_entropy %x, %y : (tensor<4x10xbf16>, tensor<4xi64>) -> tensor<f32>
  %seed = arith.constant {mpc.grad_seed} dense<1.0> : tensor<f32>
  %g = mpc.softmax_cross_entropy_grad %x, %y, %seed {acc_type = f32} : (tensor<4x10xbf16>, tensor<4xi64>, tensor<f32>) -> tensor<4x10xbf16>
  %c = mpc.cast %g : tensor<4x10xbf16> to tensor<4x10xf32>
  return %l, %c : tensor<f32>, tensor<4x10xf32>
}

// -----

// A dloss computed from the loss: fusing would make the op use its own
// result, so the pair stays.
// CHECK-LABEL: func.func @dloss_from_loss
// CHECK: %[[L:.+]] = mpc.softmax_cross_entropy %arg0, %arg1
// CHECK: %[[D:.+]] = mpc.mul %[[L]], %[[L]]
// CHECK: mpc.softmax_cross_entropy_grad %arg0, %arg1, %[[D]]
// CHECK-NOT: mpc.softmax_cross_entropy_with_grad
func.func @dloss_from_loss(%x: tensor<4x10xf32>, %y: tensor<4xi64>) -> (tensor<f32>, tensor<4x10xf32>) {
  %l = mpc.softmax_cross_entropy %x, %y : (tensor<4x10xf32>, tensor<4xi64>) -> tensor<f32>
  %d = mpc.mul %l, %l : (tensor<f32>, tensor<f32>) -> tensor<f32>
  %g = mpc.softmax_cross_entropy_grad %x, %y, %d : (tensor<4x10xf32>, tensor<4xi64>, tensor<f32>) -> tensor<4x10xf32>
  return %l, %g : tensor<f32>, tensor<4x10xf32>
}

// -----

// Other labels: another loss, not this gradient's.
// CHECK-LABEL: func.func @other_labels
// CHECK: mpc.softmax_cross_entropy %arg0, %arg1
// CHECK: mpc.softmax_cross_entropy_grad %arg0, %arg2
// CHECK-NOT: mpc.softmax_cross_entropy_with_grad
func.func @other_labels(%x: tensor<4x10xf32>, %y: tensor<4xi64>, %z: tensor<4xi64>, %d: tensor<f32>) -> (tensor<f32>, tensor<4x10xf32>) {
  %l = mpc.softmax_cross_entropy %x, %y : (tensor<4x10xf32>, tensor<4xi64>) -> tensor<f32>
  %g = mpc.softmax_cross_entropy_grad %x, %z, %d : (tensor<4x10xf32>, tensor<4xi64>, tensor<f32>) -> tensor<4x10xf32>
  return %l, %g : tensor<f32>, tensor<4x10xf32>
}

// -----

// The gradient accumulates in another type than the loss (an explicit
// acc_type): one op could not keep both, so the pair stays.
// CHECK-LABEL: func.func @other_accumulator
// CHECK: mpc.softmax_cross_entropy %arg0
// CHECK: mpc.softmax_cross_entropy_grad %arg0
// CHECK-NOT: mpc.softmax_cross_entropy_with_grad
func.func @other_accumulator(%x: tensor<4x10xf32>, %y: tensor<4xi64>, %d: tensor<f32>) -> (tensor<f32>, tensor<4x10xf32>) {
  %l = mpc.softmax_cross_entropy %x, %y : (tensor<4x10xf32>, tensor<4xi64>) -> tensor<f32>
  %g = mpc.softmax_cross_entropy_grad %x, %y, %d {acc_type = f64} : (tensor<4x10xf32>, tensor<4xi64>, tensor<f32>) -> tensor<4x10xf32>
  return %l, %g : tensor<f32>, tensor<4x10xf32>
}
