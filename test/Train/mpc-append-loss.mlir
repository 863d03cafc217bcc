// RUN: mpc-opt %s --split-input-file --mpc-append-loss | FileCheck %s
// RUN: mpc-opt %s --split-input-file --mpc-append-loss="output=logits" | FileCheck %s --check-prefix=OUT
// RUN: mpc-opt %s --split-input-file --mpc-append-loss="loss=mse label=target" | FileCheck %s --check-prefix=MSE

// The default: cross_entropy on the only float output, label "label" with the
// output's shape minus the class axis; the loss comes first.
// CHECK-LABEL: func.func @main
// CHECK-SAME: (%[[X:.*]]: tensor<8x4xf32> {mpc.name = "x", mpc.role = "input"}, %[[L:.*]]: tensor<8xi64> {mpc.name = "label", mpc.role = "label"})
// CHECK-SAME: -> (tensor<f32> {mpc.name = "loss", mpc.role = "loss"}, tensor<8x10xf32> {mpc.name = "logits", mpc.role = "output"})
// CHECK: %[[Y:.*]] = mpc.matmul
// CHECK: %[[LOSS:.*]] = mpc.softmax_cross_entropy %[[Y]], %[[L]] : (tensor<8x10xf32>, tensor<8xi64>) -> tensor<f32>
// CHECK: return %[[LOSS]], %[[Y]] : tensor<f32>, tensor<8x10xf32>
// OUT-LABEL: func.func @main
// OUT: mpc.softmax_cross_entropy
// MSE-LABEL: func.func @main
// MSE-SAME: %{{.*}}: tensor<8x10xf32> {mpc.name = "target", mpc.role = "label"}
// MSE: %[[Y:.*]] = mpc.matmul
// MSE: %[[LOSS:.*]] = mpc.mse_loss %[[Y]], %{{.*}} : (tensor<8x10xf32>, tensor<8x10xf32>) -> tensor<f32>
// MSE: return %[[LOSS]], %[[Y]]
mpc.parameter @w : tensor<4x10xf32> = dense<0.5> : tensor<4x10xf32>
func.func @main(%x: tensor<8x4xf32> {mpc.name = "x"}) -> (tensor<8x10xf32> {mpc.name = "logits"}) {
  %w = mpc.get_parameter @w : tensor<4x10xf32>
  %y = mpc.matmul %x, %w : (tensor<8x4xf32>, tensor<4x10xf32>) -> tensor<8x10xf32>
  return %y : tensor<8x10xf32>
}

// -----

// Integer outputs are not candidates: the only float output is chosen.
// CHECK-LABEL: func.func @main
// CHECK-SAME: -> (tensor<f32> {mpc.name = "loss", mpc.role = "loss"}, tensor<2x3xf32> {mpc.name = "logits", mpc.role = "output"}, tensor<2xi64> {mpc.name = "argmax", mpc.role = "output"})
// CHECK: mpc.softmax_cross_entropy %arg0, %arg2 : (tensor<2x3xf32>, tensor<2xi64>) -> tensor<f32>
// MSE-LABEL: func.func @main
// MSE: mpc.mse_loss %arg0, %arg2 : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<f32>
func.func @main(%x: tensor<2x3xf32> {mpc.name = "x"}, %i: tensor<2xi64> {mpc.name = "i"})
    -> (tensor<2x3xf32> {mpc.name = "logits"}, tensor<2xi64> {mpc.name = "argmax"}) {
  return %x, %i : tensor<2x3xf32>, tensor<2xi64>
}
// OUT: mpc.softmax_cross_entropy %arg0, %arg2
// OUT: return %{{.*}}, %arg0, %arg1
// OUT-NOT: mpc.softmax_cross_entropy
func.func @kept(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  // Only @main changes.
  return %x : tensor<2x3xf32>
}

