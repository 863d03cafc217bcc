// RUN: mpc-opt --mpc-fold-batch-norm --split-input-file %s | FileCheck %s

// A conv without bias: s = scale / sqrt(var + eps) = [2 / 2, 3 / 1] = [1, 3],
// so the weight becomes [1 * 1, 2 * 3] and the batch norm's bias parameter
// takes the folded bias (0 - mean) * s + bias = [-0.5, -7] and becomes the
// conv's. The statistics and the scale are no longer read: dropped.
// CHECK-LABEL: module
// CHECK-NEXT: mpc.parameter @w : tensor<2x1x1x1xf32> = dense<{{\[}}{{\[}}{{\[}}[1.000000e+00]]], {{\[}}{{\[}}[6.000000e+00]]]]>
// CHECK-NEXT: mpc.parameter @bn.bias : tensor<2xf32> = dense<[-5.000000e-01, -7.000000e+00]>
// CHECK-NEXT: func.func @main
// CHECK-DAG: %[[W:.+]] = mpc.get_parameter @w
// CHECK-DAG: %[[B:.+]] = mpc.get_parameter @bn.bias
// CHECK: %[[Y:.+]] = mpc.conv %arg0, %[[W]], %[[B]] {{{.*}}mpc.node = "conv1"
// CHECK-NOT: mpc.batch_norm
// CHECK: return %[[Y]]
module {
  mpc.parameter @w : tensor<2x1x1x1xf32> = dense<[[[[1.0]]], [[[2.0]]]]> : tensor<2x1x1x1xf32>
  mpc.parameter @"bn.scale" : tensor<2xf32> = dense<[2.0, 3.0]> : tensor<2xf32>
  mpc.parameter @"bn.bias" : tensor<2xf32> = dense<[0.5, -1.0]> : tensor<2xf32>
  mpc.parameter @"bn.mean" : tensor<2xf32> = dense<[1.0, 2.0]> : tensor<2xf32>
  mpc.parameter @"bn.var" : tensor<2xf32> = dense<[3.0, 0.0]> : tensor<2xf32>
  func.func @main(%x: tensor<1x1x4x4xf32>) -> tensor<1x2x4x4xf32> {
    %w = mpc.get_parameter @w : tensor<2x1x1x1xf32>
    %s = mpc.get_parameter @"bn.scale" : tensor<2xf32>
    %b = mpc.get_parameter @"bn.bias" : tensor<2xf32>
    %m = mpc.get_parameter @"bn.mean" : tensor<2xf32>
    %v = mpc.get_parameter @"bn.var" : tensor<2xf32>
    %c = mpc.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64, mpc.node = "conv1"} : (tensor<1x1x4x4xf32>, tensor<2x1x1x1xf32>) -> tensor<1x2x4x4xf32>
    %y = mpc.batch_norm %c, %s, %b, %m, %v {epsilon = 1.0 : f64, momentum = 0.9 : f64} : (tensor<1x2x4x4xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2x4x4xf32>
    return %y : tensor<1x2x4x4xf32>
  }
}

// -----

// Constants, and a conv bias (b = [1, 1]): new constants hold the fold,
// (1 - mean) * s + bias = [0.5, -4]. The batch norm's constants may be shared
// (they are only read), so the scale also feeding the result survives.
// CHECK-LABEL: func.func @constants
// CHECK-DAG: %[[W:.+]] = arith.constant dense<{{\[}}{{\[}}{{\[}}[1.000000e+00]]], {{\[}}{{\[}}[6.000000e+00]]]]> : tensor<2x1x1x1xf32>
// CHECK-DAG: %[[B:.+]] = arith.constant dense<[5.000000e-01, -4.000000e+00]> : tensor<2xf32>
// CHECK: %[[Y:.+]] = mpc.conv %arg0, %[[W]], %[[B]]
// CHECK-NOT: mpc.batch_norm
// CHECK: return %[[Y]], %{{.+}}
func.func @constants(%x: tensor<1x1x4x4xf32>) -> (tensor<1x2x4x4xf32>, tensor<2xf32>) {
  %w = arith.constant dense<[[[[1.0]]], [[[2.0]]]]> : tensor<2x1x1x1xf32>
  %cb = arith.constant dense<1.0> : tensor<2xf32>
  %s = arith.constant dense<[2.0, 3.0]> : tensor<2xf32>
  %b = arith.constant dense<[0.5, -1.0]> : tensor<2xf32>
  %m = arith.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %v = arith.constant dense<[3.0, 0.0]> : tensor<2xf32>
  %c = mpc.conv %x, %w, %cb {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x1x4x4xf32>, tensor<2x1x1x1xf32>, tensor<2xf32>) -> tensor<1x2x4x4xf32>
  %y = mpc.batch_norm %c, %s, %b, %m, %v {epsilon = 1.0 : f64, momentum = 0.9 : f64} : (tensor<1x2x4x4xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2x4x4xf32>
  return %y, %s : tensor<1x2x4x4xf32>, tensor<2xf32>
}

// -----

// Not folded: the conv's result is also read elsewhere, so it must keep its
// unnormalized value.
// CHECK-LABEL: func.func @conv_result_shared
// CHECK: mpc.conv
// CHECK: mpc.batch_norm
func.func @conv_result_shared(%x: tensor<1x1x4x4xf32>) -> (tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>) {
  %w = arith.constant dense<1.0> : tensor<2x1x1x1xf32>
  %s = arith.constant dense<2.0> : tensor<2xf32>
  %c = mpc.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x1x4x4xf32>, tensor<2x1x1x1xf32>) -> tensor<1x2x4x4xf32>
  %y = mpc.batch_norm %c, %s, %s, %s, %s {epsilon = 1.0e-05 : f64, momentum = 0.9 : f64} : (tensor<1x2x4x4xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2x4x4xf32>
  return %y, %c : tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>
}

// -----

// Not folded: the weight parameter is read by a second conv (rewriting it
// would change that conv), and the statistics of the second batch norm are
// run-time values (arguments), as in a training step.
// CHECK-LABEL: func.func @main
// CHECK-COUNT-2: mpc.batch_norm
// CHECK: mpc.parameter @w : tensor<2x1x1x1xf32> = dense<1.000000e+00>
module {
  func.func @main(%x: tensor<1x1x4x4xf32>, %m: tensor<2xf32>) -> (tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>) {
    %w = mpc.get_parameter @w : tensor<2x1x1x1xf32>
    %w2 = mpc.get_parameter @w : tensor<2x1x1x1xf32>
    %u = arith.constant dense<1.0> : tensor<2x1x1x1xf32>
    %s = arith.constant dense<2.0> : tensor<2xf32>
    %c = mpc.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x1x4x4xf32>, tensor<2x1x1x1xf32>) -> tensor<1x2x4x4xf32>
    %y = mpc.batch_norm %c, %s, %s, %s, %s {epsilon = 1.0e-05 : f64, momentum = 0.9 : f64} : (tensor<1x2x4x4xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2x4x4xf32>
    %c2 = mpc.conv %x, %w2 {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x1x4x4xf32>, tensor<2x1x1x1xf32>) -> tensor<1x2x4x4xf32>
    %c3 = mpc.conv %x, %u {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x1x4x4xf32>, tensor<2x1x1x1xf32>) -> tensor<1x2x4x4xf32>
    %y3 = mpc.batch_norm %c3, %s, %s, %m, %s {epsilon = 1.0e-05 : f64, momentum = 0.9 : f64} : (tensor<1x2x4x4xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2x4x4xf32>
    %sum = mpc.add %y, %c2 : (tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
    return %sum, %y3 : tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>
  }
  mpc.parameter @w : tensor<2x1x1x1xf32> = dense<1.0> : tensor<2x1x1x1xf32>
}
