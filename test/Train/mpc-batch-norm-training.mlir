// RUN: mpc-opt --mpc-batch-norm-training --split-input-file --verify-diagnostics %s | FileCheck %s

// Batch statistics over N and the spatial dims; the running statistics are
// updated with the ONNX momentum (0.9 of the old value) and the unbiased
// variance (n = 2*4*5 = 40 values per channel: 40/39), and returned as
// buffers named after their parameters.
// CHECK-LABEL: func.func @main
// CHECK-SAME: -> (tensor<2x3x4x5xf32> {mpc.name = "y"}, tensor<3xf32> {mpc.name = "bn.mean", mpc.role = "buffer"}, tensor<3xf32> {mpc.name = "bn.var", mpc.role = "buffer"})
// CHECK-NOT: mpc.batch_norm
// CHECK: %[[SCALE:.+]] = mpc.get_parameter @s
// CHECK: %[[BIAS:.+]] = mpc.get_parameter @b
// CHECK: %[[RM:.+]] = mpc.get_parameter @bn.mean
// CHECK: %[[RV:.+]] = mpc.get_parameter @bn.var
// CHECK: %[[MEAN:.+]] = mpc.reduce_mean %arg0 {axes = array<i64: 0, 2, 3>, mpc.node = "bn1"} : (tensor<2x3x4x5xf32>) -> tensor<1x3x1x1xf32>
// CHECK: %[[CENTERED:.+]] = mpc.sub %arg0, %[[MEAN]]
// CHECK: %[[SQ:.+]] = mpc.mul %[[CENTERED]], %[[CENTERED]]
// CHECK: %[[VAR:.+]] = mpc.reduce_mean %[[SQ]] {axes = array<i64: 0, 2, 3>, mpc.node = "bn1"}
// CHECK: %[[EPS:.+]] = arith.constant dense<9.99999974E-6> : tensor<f32>
// CHECK: %[[VEPS:.+]] = mpc.add %[[VAR]], %[[EPS]]
// CHECK: %[[STD:.+]] = mpc.sqrt %[[VEPS]]
// CHECK: %[[NORM:.+]] = mpc.div %[[CENTERED]], %[[STD]]
// CHECK: %[[S4:.+]] = mpc.reshape %[[SCALE]] {mpc.node = "bn1", shape = array<i64: 1, 3, 1, 1>}
// CHECK: %[[SCALED:.+]] = mpc.mul %[[NORM]], %[[S4]]
// CHECK: %[[B4:.+]] = mpc.reshape %[[BIAS]]
// CHECK: %[[Y:.+]] = mpc.add %[[SCALED]], %[[B4]]
// CHECK: %[[M3:.+]] = mpc.reshape %[[MEAN]] {mpc.node = "bn1", shape = array<i64: 3>}
// CHECK: %[[C09:.+]] = arith.constant dense<0.899999976> : tensor<f32>
// CHECK: %[[KEPT:.+]] = mpc.mul %[[RM]], %[[C09]]
// CHECK: %[[C01:.+]] = arith.constant dense<1.000000e-01> : tensor<f32>
// CHECK: %[[ADDED:.+]] = mpc.mul %[[M3]], %[[C01]]
// CHECK: %[[NEWM:.+]] = mpc.add %[[KEPT]], %[[ADDED]]
// CHECK: %[[V3:.+]] = mpc.reshape %[[VAR]]
// CHECK: %[[BESSEL:.+]] = arith.constant dense<1.02564108> : tensor<f32>
// CHECK: %[[UNBIASED:.+]] = mpc.mul %[[V3]], %[[BESSEL]]
// CHECK: mpc.mul %[[RV]]
// CHECK: mpc.mul %[[UNBIASED]]
// CHECK: %[[NEWV:.+]] = mpc.add
// CHECK: return %[[Y]], %[[NEWM]], %[[NEWV]]
module {
  mpc.parameter @s : tensor<3xf32> = dense<1.0> : tensor<3xf32>
  mpc.parameter @b : tensor<3xf32> = dense<0.0> : tensor<3xf32>
  mpc.parameter @"bn.mean" : tensor<3xf32> = dense<0.0> : tensor<3xf32>
  mpc.parameter @"bn.var" : tensor<3xf32> = dense<1.0> : tensor<3xf32>
  func.func @main(%x: tensor<2x3x4x5xf32>) -> (tensor<2x3x4x5xf32> {mpc.name = "y"}) {
    %s = mpc.get_parameter @s : tensor<3xf32>
    %b = mpc.get_parameter @b : tensor<3xf32>
    %m = mpc.get_parameter @"bn.mean" : tensor<3xf32>
    %v = mpc.get_parameter @"bn.var" : tensor<3xf32>
    %y = mpc.batch_norm %x, %s, %b, %m, %v {epsilon = 1.0e-05 : f64, momentum = 0.9 : f64, mpc.node = "bn1"} : (tensor<2x3x4x5xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<2x3x4x5xf32>
    return %y : tensor<2x3x4x5xf32>
  }
}

// -----

// Rank 2 (N, C): statistics over the batch only; two batch norms give four
// buffers in order.
// CHECK-LABEL: func.func @main
// CHECK-SAME: {mpc.name = "m1", mpc.role = "buffer"}, tensor<2xf32> {mpc.name = "v1", mpc.role = "buffer"}, tensor<2xf32> {mpc.name = "m2", mpc.role = "buffer"}, tensor<2xf32> {mpc.name = "v2", mpc.role = "buffer"})
// CHECK: mpc.reduce_mean %arg0 {axes = array<i64: 0>}
// CHECK: arith.constant dense<1.33333337> : tensor<f32>
// CHECK-NOT: mpc.batch_norm
module {
  mpc.parameter @s : tensor<2xf32> = dense<1.0> : tensor<2xf32>
  mpc.parameter @m1 : tensor<2xf32> = dense<0.0> : tensor<2xf32>
  mpc.parameter @v1 : tensor<2xf32> = dense<1.0> : tensor<2xf32>
  mpc.parameter @m2 : tensor<2xf32> = dense<0.0> : tensor<2xf32>
  mpc.parameter @v2 : tensor<2xf32> = dense<1.0> : tensor<2xf32>
  func.func @main(%x: tensor<4x2xf32>) -> tensor<4x2xf32> {
    %s = mpc.get_parameter @s : tensor<2xf32>
    %m1 = mpc.get_parameter @m1 : tensor<2xf32>
    %v1 = mpc.get_parameter @v1 : tensor<2xf32>
    %m2 = mpc.get_parameter @m2 : tensor<2xf32>
    %v2 = mpc.get_parameter @v2 : tensor<2xf32>
    %y1 = mpc.batch_norm %x, %s, %s, %m1, %v1 {epsilon = 1.0e-05 : f64, momentum = 0.9 : f64} : (tensor<4x2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<4x2xf32>
    %y2 = mpc.batch_norm %y1, %s, %s, %m2, %v2 {epsilon = 1.0e-05 : f64, momentum = 0.9 : f64} : (tensor<4x2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<4x2xf32>
    return %y2 : tensor<4x2xf32>
  }
}

// -----

// No batch norm: nothing changes.
// CHECK-LABEL: func.func @main
// CHECK-SAME: -> tensor<2xf32>
// CHECK-NEXT: mpc.relu
module {
  func.func @main(%x: tensor<2xf32>) -> tensor<2xf32> {
    %y = mpc.relu %x : tensor<2xf32>
    return %y : tensor<2xf32>
  }
}

// -----

module {
  mpc.parameter @v : tensor<2xf32> = dense<1.0> : tensor<2xf32>
  mpc.parameter @s : tensor<2xf32> = dense<1.0> : tensor<2xf32>
  func.func @main(%x: tensor<4x2xf32>, %m: tensor<2xf32>) -> tensor<4x2xf32> {
    %v = mpc.get_parameter @v : tensor<2xf32>
    %s = mpc.get_parameter @s : tensor<2xf32>
    // expected-error @+1 {{the running mean of 'mpc.batch_norm' (ONNX node 'bn7') is computed in the graph, not read from a parameter}}
    %y = mpc.batch_norm %x, %s, %s, %m, %v {epsilon = 1.0e-05 : f64, momentum = 0.9 : f64, mpc.node = "bn7"} : (tensor<4x2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<4x2xf32>
    return %y : tensor<4x2xf32>
  }
}

// -----

module {
  mpc.parameter @m : tensor<2xf32> = dense<0.0> : tensor<2xf32>
  mpc.parameter @v : tensor<2xf32> = dense<1.0> : tensor<2xf32>
  mpc.parameter @s : tensor<2xf32> = dense<1.0> : tensor<2xf32>
  mpc.parameter @b : tensor<2xf32> = dense<0.0> : tensor<2xf32>
  func.func @main(%x: tensor<4x2xf32>) -> tensor<4x2xf32> {
    %m = mpc.get_parameter @m : tensor<2xf32>
    %v = mpc.get_parameter @v : tensor<2xf32>
    %s = mpc.get_parameter @s : tensor<2xf32>
    %b = mpc.get_parameter @b : tensor<2xf32>
    %y1 = mpc.batch_norm %x, %s, %b, %m, %v {epsilon = 1.0e-05 : f64, momentum = 0.9 : f64, mpc.node = "first"} : (tensor<4x2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<4x2xf32>
    // expected-error @+1 {{'mpc.batch_norm' (ONNX node 'second') shares the running statistic 'm' with another batch norm}}
    %y2 = mpc.batch_norm %y1, %s, %b, %m, %v {epsilon = 1.0e-05 : f64, momentum = 0.9 : f64, mpc.node = "second"} : (tensor<4x2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<4x2xf32>
    return %y2 : tensor<4x2xf32>
  }
}

// -----

module {
  mpc.parameter @m : tensor<2xf32> = dense<0.0> : tensor<2xf32>
  mpc.parameter @v : tensor<2xf32> = dense<1.0> : tensor<2xf32>
  mpc.parameter @s : tensor<2xf32> = dense<1.0> : tensor<2xf32>
  mpc.parameter @b : tensor<2xf32> = dense<0.0> : tensor<2xf32>
  func.func @main(%x: tensor<1x2xf32>) -> tensor<1x2xf32> {
    %m = mpc.get_parameter @m : tensor<2xf32>
    %v = mpc.get_parameter @v : tensor<2xf32>
    %s = mpc.get_parameter @s : tensor<2xf32>
    %b = mpc.get_parameter @b : tensor<2xf32>
    // expected-error @+1 {{'mpc.batch_norm' (ONNX node 'tiny') sees one value per channel (input 'tensor<1x2xf32>'); training needs a batch (or spatial size) above 1}}
    %y = mpc.batch_norm %x, %s, %b, %m, %v {epsilon = 1.0e-05 : f64, momentum = 0.9 : f64, mpc.node = "tiny"} : (tensor<1x2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2xf32>
    return %y : tensor<1x2xf32>
  }
}

// -----

// An exporter merged the fresh statistics with the equal-valued affine
// parameters: the scale would be overwritten by running variances.
module {
  mpc.parameter @ones : tensor<2xf32> = dense<1.0> : tensor<2xf32>
  mpc.parameter @m : tensor<2xf32> = dense<0.0> : tensor<2xf32>
  mpc.parameter @b : tensor<2xf32> = dense<0.0> : tensor<2xf32>
  func.func @main(%x: tensor<4x2xf32>) -> tensor<4x2xf32> {
    %s = mpc.get_parameter @ones : tensor<2xf32>
    %b = mpc.get_parameter @b : tensor<2xf32>
    %m = mpc.get_parameter @m : tensor<2xf32>
    // expected-error @+1 {{parameter 'ones' is a batch norm's running statistic and is also read by 'mpc.batch_norm' (ONNX node 'merged') (operand 1)}}
    %y = mpc.batch_norm %x, %s, %b, %m, %s {epsilon = 1.0e-05 : f64, momentum = 0.9 : f64, mpc.node = "merged"} : (tensor<4x2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<4x2xf32>
    return %y : tensor<4x2xf32>
  }
}

// -----

// expected-error @+1 {{mpc-batch-norm-training: the module has no @main function to train}}
module {
  func.func @other(%x: tensor<2xf32>) -> tensor<2xf32> {
    return %x : tensor<2xf32>
  }
}
