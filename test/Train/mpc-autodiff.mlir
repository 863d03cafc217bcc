// RUN: mpc-opt %s --split-input-file --verify-diagnostics --mpc-autodiff | FileCheck %s

// Linear layer: dW = x^T g (transpose + matmul), db = g summed over the batch
// (reduceToShape), seeded by dL/dL = 1 marked mpc.grad_seed; one grad result
// per param argument, named after it; inputs get none.
// CHECK-LABEL: func.func @main
// CHECK-SAME: -> (tensor<f32> {mpc.name = "loss", mpc.role = "loss"}, tensor<3x2xf32> {mpc.name = "w", mpc.role = "grad"}, tensor<2xf32> {mpc.name = "b", mpc.role = "grad"})
// CHECK: %[[SEED:.+]] = arith.constant {mpc.grad_seed} dense<1.000000e+00> : tensor<f32>
// CHECK: %[[G:.+]] = mpc.broadcast %{{.+}} {shape = array<i64: 4, 2>}
// CHECK: %[[DB:.+]] = mpc.reduce_sum %[[G]] {axes = array<i64: 0>, keepdims = false} : (tensor<4x2xf32>) -> tensor<2xf32>
// CHECK: %[[XT:.+]] = mpc.transpose %arg0 {perm = array<i64: 1, 0>} : (tensor<4x3xf32>) -> tensor<3x4xf32>
// CHECK: %[[DW:.+]] = mpc.matmul %[[XT]], %[[G]] : (tensor<3x4xf32>, tensor<4x2xf32>) -> tensor<3x2xf32>
// CHECK: return %{{.+}}, %[[DW]], %[[DB]]
func.func @main(%x: tensor<4x3xf32> {mpc.name = "x", mpc.role = "input"},
                %w: tensor<3x2xf32> {mpc.name = "w", mpc.role = "param"},
                %b: tensor<2xf32> {mpc.name = "b", mpc.role = "param"}) -> (tensor<f32> {mpc.name = "loss", mpc.role = "loss"}) {
  %m = mpc.matmul %x, %w : (tensor<4x3xf32>, tensor<3x2xf32>) -> tensor<4x2xf32>
  %a = mpc.add %m, %b : (tensor<4x2xf32>, tensor<2xf32>) -> tensor<4x2xf32>
  %l = mpc.reduce_sum %a {axes = array<i64: 0, 1>, keepdims = false} : (tensor<4x2xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

// -----

// A value with several uses gets the sum of their gradients (mpc.add); the
// tanh rule reuses the forward result: g * (1 - y * y).
// CHECK-LABEL: func.func @main
// CHECK: %[[Y:.+]] = mpc.tanh %arg0
// CHECK: %[[Y2:.+]] = mpc.mul %[[Y]], %[[Y]]
// CHECK: %[[D:.+]] = mpc.sub %{{.+}}, %[[Y2]]
// CHECK: %[[GT:.+]] = mpc.mul %{{.+}}, %[[D]]
// CHECK: %[[SUM:.+]] = mpc.add %{{.+}}, %[[GT]] : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
// CHECK: return %{{.+}}, %[[SUM]]
func.func @main(%p: tensor<3xf32> {mpc.name = "p", mpc.role = "param"}) -> (tensor<f32> {mpc.name = "loss", mpc.role = "loss"}) {
  %t = mpc.tanh %p : tensor<3xf32>
  %s = mpc.add %t, %p : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  %l = mpc.reduce_sum %s {axes = array<i64: 0>, keepdims = false} : (tensor<3xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

// -----

// A parameter the loss does not depend on gets zeros; so does one whose only
// path goes through integers (not differentiable). Ops off every path are
// left alone, even without a rule (arith.addf here).
// CHECK-LABEL: func.func @main
// CHECK-DAG: %[[Z1:.+]] = arith.constant dense<0.000000e+00> : tensor<2xf32>
// CHECK-DAG: %[[Z2:.+]] = arith.constant dense<0.000000e+00> : tensor<3xf32>
// CHECK: return %{{.+}}, %{{.+}}, %{{.+}}, %[[Z1]], %[[Z2]] :
func.func @main(%p: tensor<3xf32> {mpc.name = "p", mpc.role = "param"},
                %unused: tensor<2xf32> {mpc.name = "unused", mpc.role = "param"},
                %viaint: tensor<3xf32> {mpc.name = "viaint", mpc.role = "param"}) -> (tensor<f32> {mpc.name = "loss", mpc.role = "loss"}, tensor<2xf32> {mpc.name = "other", mpc.role = "output"}) {
  %o = arith.addf %unused, %unused : tensor<2xf32>
  %i = mpc.cast %viaint : tensor<3xf32> to tensor<3xi32>
  %f = mpc.cast %i : tensor<3xi32> to tensor<3xf32>
  %e = mpc.mul %p, %f : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  %l = mpc.reduce_sum %e {axes = array<i64: 0>, keepdims = false} : (tensor<3xf32>) -> tensor<f32>
  return %l, %o : tensor<f32>, tensor<2xf32>
}

// -----

// Autocast: a bf16 matmul (f32 accumulation) between casts of f32 masters
// has bf16 gradient matmuls with acc_type = f32, and the cast back brings
// the gradient to the f32 master in f32.
// CHECK-LABEL: func.func @main
// CHECK: mpc.matmul %{{.+}}, %{{.+}} {acc_type = f32} : (tensor<2x4xbf16>, tensor<4x3xbf16>) -> tensor<2x3xbf16>
// CHECK: %[[AT:.+]] = mpc.transpose %{{.+}} {perm = array<i64: 1, 0>} : (tensor<2x4xbf16>) -> tensor<4x2xbf16>
// CHECK: %[[DWB:.+]] = mpc.matmul %[[AT]], %{{.+}} {acc_type = f32} : (tensor<4x2xbf16>, tensor<2x3xbf16>) -> tensor<4x3xbf16>
// CHECK: %[[DW:.+]] = mpc.cast %[[DWB]] : tensor<4x3xbf16> to tensor<4x3xf32>
// CHECK: return %{{.+}}, %[[DW]] : tensor<f32>, tensor<4x3xf32>
func.func @main(%x: tensor<2x4xf32> {mpc.name = "x", mpc.role = "input"},
                %w: tensor<4x3xf32> {mpc.name = "w", mpc.role = "param"}) -> (tensor<f32> {mpc.name = "loss", mpc.role = "loss"}) {
  %xb = mpc.cast %x : tensor<2x4xf32> to tensor<2x4xbf16>
  %wb = mpc.cast %w : tensor<4x3xf32> to tensor<4x3xbf16>
  %m = mpc.matmul %xb, %wb {acc_type = f32} : (tensor<2x4xbf16>, tensor<4x3xbf16>) -> tensor<2x3xbf16>
  %mf = mpc.cast %m : tensor<2x3xbf16> to tensor<2x3xf32>
  %l = mpc.reduce_sum %mf {axes = array<i64: 0, 1>, keepdims = false} : (tensor<2x3xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

// -----

// Slice with a negative stride: the gradient is reversed (slice with stride
// -1) and put back between zeros (concat), using mpc ops only.
// CHECK-LABEL: func.func @main
// CHECK: %[[R:.+]] = mpc.slice %{{.+}} {offsets = array<i64: 1>, sizes = array<i64: 2>, strides = array<i64: -1>} : (tensor<2xf32>) -> tensor<2xf32>
// CHECK-DAG: %[[LO:.+]] = arith.constant dense<0.000000e+00> : tensor<1xf32>
// CHECK-DAG: %[[HI:.+]] = arith.constant dense<0.000000e+00> : tensor<2xf32>
// CHECK: %[[C:.+]] = mpc.concat %[[LO]], %[[R]], %[[HI]] {axis = 0 : i64} : (tensor<1xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<5xf32>
// CHECK: return %{{.+}}, %[[C]]
func.func @main(%p: tensor<5xf32> {mpc.name = "p", mpc.role = "param"}) -> (tensor<f32> {mpc.name = "loss", mpc.role = "loss"}) {
  %s = mpc.slice %p {offsets = array<i64: 2>, sizes = array<i64: 2>, strides = array<i64: -1>} : (tensor<5xf32>) -> tensor<2xf32>
  %l = mpc.reduce_sum %s {axes = array<i64: 0>, keepdims = false} : (tensor<2xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

// -----

func.func @main(%p: tensor<3xf32> {mpc.name = "p", mpc.role = "param"}) -> (tensor<f32> {mpc.name = "loss", mpc.role = "loss"}) {
  // expected-error @below {{mpc-autodiff: 'arith.mulf' (ONNX node 'scale_node') is on a path from a trained parameter to the loss but has no gradient rule}}
  %t = arith.mulf %p, %p {mpc.node = "scale_node"} : tensor<3xf32>
  %l = mpc.reduce_sum %t {axes = array<i64: 0>, keepdims = false} : (tensor<3xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

// -----

// expected-error @below {{mpc-autodiff: @main has no result with mpc.role = "loss"; run mpc-append-loss first}}
func.func @main(%p: tensor<3xf32> {mpc.name = "p", mpc.role = "param"}) -> tensor<3xf32> {
  return %p : tensor<3xf32>
}

// -----

// expected-error @below {{mpc-autodiff: the loss must be a rank-0 float tensor, got 'tensor<3xf32>'}}
func.func @main(%p: tensor<3xf32> {mpc.name = "p", mpc.role = "param"}) -> (tensor<3xf32> {mpc.name = "loss", mpc.role = "loss"}) {
  return %p : tensor<3xf32>
}

// -----

// A linear layer over [batch, seq, features]: dW is one GEMM over all
// batch x seq rows (x and g viewed as matrices), not a GEMM per batch
// element summed afterwards; dx is the batched g W^T.
// CHECK-LABEL: func.func @main
// CHECK-SAME: -> (tensor<f32> {mpc.name = "loss", mpc.role = "loss"}, tensor<3x2xbf16> {mpc.name = "w", mpc.role = "grad"})
// CHECK: %[[G:.+]] = mpc.cast %{{.+}} : tensor<2x4x2xf32> to tensor<2x4x2xbf16>
// CHECK: %[[X:.+]] = mpc.reshape %arg0 {shape = array<i64: 8, 3>} : (tensor<2x4x3xbf16>) -> tensor<8x3xbf16>
// CHECK: %[[XT:.+]] = mpc.transpose %[[X]] {perm = array<i64: 1, 0>} : (tensor<8x3xbf16>) -> tensor<3x8xbf16>
// CHECK: %[[G2:.+]] = mpc.reshape %[[G]] {shape = array<i64: 8, 2>} : (tensor<2x4x2xbf16>) -> tensor<8x2xbf16>
// CHECK: %[[DW:.+]] = mpc.matmul %[[XT]], %[[G2]] {acc_type = f32} : (tensor<3x8xbf16>, tensor<8x2xbf16>) -> tensor<3x2xbf16>
// CHECK-NOT: mpc.reduce_sum
// CHECK: return %{{.+}}, %[[DW]]
func.func @main(%x: tensor<2x4x3xbf16> {mpc.name = "x", mpc.role = "input"},
                %w: tensor<3x2xbf16> {mpc.name = "w", mpc.role = "param"}) -> (tensor<f32> {mpc.name = "loss", mpc.role = "loss"}) {
  %m = mpc.matmul %x, %w {acc_type = f32} : (tensor<2x4x3xbf16>, tensor<3x2xbf16>) -> tensor<2x4x2xbf16>
  %c = mpc.cast %m : tensor<2x4x2xbf16> to tensor<2x4x2xf32>
  %l = mpc.reduce_sum %c {axes = array<i64: 0, 1, 2>, keepdims = false} : (tensor<2x4x2xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

// -----

// sin' = cos; asin' = 1 / sqrt(1 - x^2) (a division, not a reciprocal);
// floor passes no gradient (nothing is built for it).
// CHECK-LABEL: func.func @main
// CHECK: %[[SQ:.+]] = mpc.mul %arg0, %arg0
// CHECK: %[[ONEMINUS:.+]] = mpc.sub %{{.+}}, %[[SQ]]
// CHECK: %[[ROOT:.+]] = mpc.sqrt %[[ONEMINUS]]
// CHECK: mpc.div %{{.+}}, %[[ROOT]]
// CHECK: %[[COS:.+]] = mpc.cos %arg0
// CHECK: mpc.mul %{{.+}}, %[[COS]]
// CHECK-NOT: mpc.floor
// CHECK: return
func.func @main(%p: tensor<3xf32> {mpc.name = "p", mpc.role = "param"}) -> (tensor<f32> {mpc.name = "loss", mpc.role = "loss"}) {
  %s = mpc.sin %p : tensor<3xf32>
  %a = mpc.asin %p : tensor<3xf32>
  %f = mpc.floor %p : tensor<3xf32>
  %sa = mpc.add %s, %a : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  %sf = mpc.add %sa, %f : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  %l = mpc.reduce_sum %sf {axes = array<i64: 0>, keepdims = false} : (tensor<3xf32>) -> tensor<f32>
  return %l : tensor<f32>
}
