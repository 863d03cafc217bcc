// RUN: mpc-opt %s --split-input-file --verify-diagnostics --mpc-parameters-to-arguments | FileCheck %s

// Float parameters become one appended argument each (two reads of @w share
// one), in the order @main reads them; frozen and integer parameters stay
// reads; the parameter ops stay as initial values. @other is not @main.
// CHECK-LABEL: mpc.parameter @w :
// CHECK: mpc.parameter @b frozen
// CHECK: mpc.parameter @idx
// CHECK-LABEL: func.func @main
// CHECK-SAME: (%[[X:.+]]: tensor<2x3xf32> {mpc.name = "x", mpc.role = "input"},
// CHECK-SAME: %[[V:.+]]: tensor<2xbf16> {mpc.name = "v", mpc.param = @v, mpc.role = "param"},
// CHECK-SAME: %[[W:.+]]: tensor<3x2xf32> {mpc.name = "w", mpc.param = @w, mpc.role = "param"})
// CHECK-DAG: %[[B:.+]] = mpc.get_parameter @b : tensor<2xf32>
// CHECK-DAG: %[[I:.+]] = mpc.get_parameter @idx : tensor<2xi64>
// CHECK-NOT: mpc.get_parameter
// CHECK: %[[M:.+]] = mpc.matmul %[[X]], %[[W]]
// CHECK: mpc.add %[[W]], %[[W]]
// CHECK-LABEL: func.func @other
// CHECK: mpc.get_parameter @w
mpc.parameter @w : tensor<3x2xf32> = dense<0.5> : tensor<3x2xf32>
mpc.parameter @b frozen : tensor<2xf32> = dense<0.5> : tensor<2xf32>
mpc.parameter @idx : tensor<2xi64> = dense<1> : tensor<2xi64>
mpc.parameter @v : tensor<2xbf16> = dense<1.0> : tensor<2xbf16>
func.func @main(%x: tensor<2x3xf32> {mpc.name = "x", mpc.role = "input"}) -> (tensor<2x2xf32>, tensor<2xi64>, tensor<2xbf16>, tensor<3x2xf32>) {
  %v = mpc.get_parameter @v : tensor<2xbf16>
  %w = mpc.get_parameter @w : tensor<3x2xf32>
  %b = mpc.get_parameter @b : tensor<2xf32>
  %i = mpc.get_parameter @idx : tensor<2xi64>
  %m = mpc.matmul %x, %w : (tensor<2x3xf32>, tensor<3x2xf32>) -> tensor<2x2xf32>
  %a = mpc.add %m, %b : (tensor<2x2xf32>, tensor<2xf32>) -> tensor<2x2xf32>
  %w2 = mpc.get_parameter @w : tensor<3x2xf32>
  %s = mpc.add %w, %w2 : (tensor<3x2xf32>, tensor<3x2xf32>) -> tensor<3x2xf32>
  return %a, %i, %v, %s : tensor<2x2xf32>, tensor<2xi64>, tensor<2xbf16>, tensor<3x2xf32>
}
func.func @other() -> tensor<3x2xf32> {
  %w = mpc.get_parameter @w : tensor<3x2xf32>
  return %w : tensor<3x2xf32>
}

// -----

// A parameter @main also returns as a running statistic (role buffer) is a
// buffer argument, not a trained one.
// CHECK-LABEL: func.func @main
// CHECK-SAME: %{{.+}}: tensor<4xf32> {mpc.name = "bn.running_mean", mpc.param = @bn.running_mean, mpc.role = "buffer"}
// CHECK-SAME: %{{.+}}: tensor<4xf32> {mpc.name = "bn.weight", mpc.param = @bn.weight, mpc.role = "param"}
mpc.parameter @bn.running_mean : tensor<4xf32> = dense<0.0> : tensor<4xf32>
mpc.parameter @bn.weight : tensor<4xf32> = dense<1.0> : tensor<4xf32>
func.func @main(%x: tensor<4xf32> {mpc.name = "x", mpc.role = "input"}) -> (tensor<4xf32> {mpc.name = "y", mpc.role = "output"}, tensor<4xf32> {mpc.name = "bn.running_mean", mpc.role = "buffer"}) {
  %m = mpc.get_parameter @bn.running_mean : tensor<4xf32>
  %g = mpc.get_parameter @bn.weight : tensor<4xf32>
  %y = mpc.mul %x, %g : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %n = mpc.add %m, %x : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %y, %n : tensor<4xf32>, tensor<4xf32>
}

// -----

// expected-error @below {{mpc-parameters-to-arguments: the module has no @main function with a body}}
module {
  func.func @forward() {
    return
  }
}
