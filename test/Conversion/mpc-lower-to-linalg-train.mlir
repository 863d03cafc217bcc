// RUN: mpc-opt --split-input-file --mpc-lower-to-linalg %s | FileCheck %s
// Lowerings of the training ops (lib/Conversion/TrainOps.cpp); their
// numerics are checked in test/e2e/test_train_ops.py.

// The input gradient spreads dy with the stride into a zero tensor shifted
// by (K-1)*d - pad = 1, then correlates with the flipped kernel.
// CHECK-DAG: #[[SPREAD:.+]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d0, d1, d5, d3 - d6 + 2, d4 - d7 + 2)>
// CHECK-LABEL: func.func @conv_grad_input
// CHECK: tensor.insert_slice %{{.+}} into %{{.+}}[0, 0, 1, 1] [1, 4, 4, 4] [1, 1, 2, 2] : tensor<1x4x4x4xf32> into tensor<1x4x10x10xf32>
// CHECK: linalg.generic {indexing_maps = [#[[SPREAD]], {{.+}}], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]}
// CHECK-NOT: mpc.
func.func @conv_grad_input(%dy: tensor<1x4x4x4xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<1x3x8x8xf32> {
  %0 = mpc.conv_grad_input %dy, %w {strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x4x4x4xf32>, tensor<4x3x3x3xf32>) -> tensor<1x3x8x8xf32>
  return %0 : tensor<1x3x8x8xf32>
}

// -----

// Pads beyond the kernel's reach: only dy[1] (the one window touching the
// input) is spread; dy[0] and dy[2] lie wholly in the padding.
// CHECK-LABEL: func.func @conv_grad_input_wide_pads
// CHECK: %[[USED:.+]] = tensor.extract_slice %{{.+}}[0, 0, 1] [1, 1, 1] [1, 1, 1] : tensor<1x1x3xf32> to tensor<1x1x1xf32>
// CHECK: tensor.insert_slice %[[USED]] into %{{.+}}[0, 0, 0] [1, 1, 1] [1, 1, 3]
func.func @conv_grad_input_wide_pads(%dy: tensor<1x1x3xf32>, %w: tensor<1x1x2xf32>) -> tensor<1x1x2xf32> {
  %0 = mpc.conv_grad_input %dy, %w {strides = array<i64: 3>, pads = array<i64: 4, 3>, dilations = array<i64: 1>, group = 1 : i64} : (tensor<1x1x3xf32>, tensor<1x1x2xf32>) -> tensor<1x1x2xf32>
  return %0 : tensor<1x1x2xf32>
}

// -----

// bf16 logits: max, sum of exp and the loss all accumulate in f32.
// CHECK-LABEL: func.func @cross_entropy_bf16
// CHECK: arith.extf %{{.+}} : bf16 to f32
// CHECK: arith.maximumf %{{.+}}, %{{.+}} : f32
// CHECK: math.exp %{{.+}} : f32
// CHECK: tensor.extract %{{.+}}[%{{.+}}, %{{.+}}] : tensor<4x10xbf16>
// CHECK: math.log %{{.+}} : f32
// CHECK: arith.divf %{{.+}}, %{{.+}} : f32
// CHECK-NOT: mpc.
func.func @cross_entropy_bf16(%x: tensor<4x10xbf16>, %y: tensor<4xi64>) -> tensor<f32> {
  %0 = mpc.softmax_cross_entropy %x, %y : (tensor<4x10xbf16>, tensor<4xi64>) -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

// Scatter-add: a sequential loop nest, so repeated indices accumulate.
// CHECK-LABEL: func.func @gather_grad
// CHECK: scf.for
// CHECK: scf.for
// CHECK: %[[OLD:.+]] = tensor.extract %{{.+}}[%{{.+}}, %{{.+}}] : tensor<10x4xf32>
// CHECK: %[[NEW:.+]] = arith.addf %[[OLD]], %{{.+}} : f32
// CHECK: tensor.insert %[[NEW]]
func.func @gather_grad(%dy: tensor<3x4xf32>, %i: tensor<3xi64>) -> tensor<10x4xf32> {
  %0 = mpc.gather_grad %dy, %i {axis = 0 : i64} : (tensor<3x4xf32>, tensor<3xi64>) -> tensor<10x4xf32>
  return %0 : tensor<10x4xf32>
}

// -----

// Max-pool gradient: argmax per window (ties keep the smaller offset), then
// a gather over windows; no mpc op is left.
// CHECK-LABEL: func.func @max_pool_grad
// CHECK: arith.cmpf ogt
// CHECK: arith.cmpf oeq
// CHECK: arith.cmpi slt
// CHECK: arith.remsi
// CHECK-NOT: mpc.
func.func @max_pool_grad(%x: tensor<1x1x4x4xf32>, %dy: tensor<1x1x2x2xf32>) -> tensor<1x1x4x4xf32> {
  %0 = mpc.max_pool_grad %x, %dy {kernel_shape = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x1x4x4xf32>, tensor<1x1x2x2xf32>) -> tensor<1x1x4x4xf32>
  return %0 : tensor<1x1x4x4xf32>
}
