// RUN: mpc-opt --split-input-file --mpc-lower-to-linalg %s | FileCheck %s
// Lowerings of the training ops (lib/Conversion/MpcToLinalg: Convolution.cpp, Pooling.cpp, DataMovement.cpp, Loss.cpp); their
// numerics are checked in test/e2e/test_train_ops.py.

// Through mpc-fuse-elementwise, mpc-conv-to-matmul must still recognise the
// input gradient's convolution (the flipped-weight gather is not fused into
// it) and turn it into patches + one matmul generic.
// RUN: mpc-opt --split-input-file --mpc-lower-to-linalg --mpc-fuse-elementwise --mpc-conv-to-matmul=min-macs=0 %s | FileCheck %s --check-prefix=MATMUL

// Stride 2 splits the input gradient into 2x2 phases by the parity of
// i + pad: phase (0, 0) (dx rows and columns 1, 3, 5, 7) gets the taps
// k = 0, 2 per dim, reversed, W'[g, c, m, j] = w[g*M + m, c, 2 - 2j]; each
// phase is a stride-1 convolution built exactly as mpc.conv's lowering
// builds it, inserted into every second dx entry. The products with the
// zeros that spreading dy with the stride would add are never formed.
// CHECK-DAG: #[[IN:.+]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d0, d1, d5, d3 + d6, d4 + d7)>
// CHECK-DAG: #[[W:.+]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d1, d2, d5, d6, d7)>
// CHECK-DAG: #[[OUT:.+]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d0, d1, d2, d3, d4)>
// CHECK-LABEL: func.func @conv_grad_input
// CHECK-SAME: %[[DY:.+]]: tensor<1x4x4x4xf32>, %[[WEIGHT:.+]]: tensor<4x3x3x3xf32>
// CHECK-DAG: %[[ONE:.+]] = arith.constant 1 : index
// CHECK-DAG: %[[TWO:.+]] = arith.constant 2 : index
// CHECK: %[[ZERO:.+]] = linalg.fill {{.+}} -> tensor<1x3x8x8xf32>
// CHECK: tensor.insert_slice %[[DY]] into %{{.+}}[0, 0, 0, 0] [1, 4, 4, 4] [1, 1, 1, 1] : tensor<1x4x4x4xf32> into tensor<1x4x5x5xf32>
// CHECK: %[[FLIPPED:.+]] = linalg.generic {{.+}} outs(%{{.+}} : tensor<1x3x4x2x2xf32>)
// CHECK: %[[C:.+]] = linalg.index 1 : index
// CHECK: %[[M:.+]] = linalg.index 2 : index
// CHECK: %[[JH:.+]] = linalg.index 3 : index
// CHECK: %[[SH:.+]] = arith.muli %[[JH]], %[[TWO]] : index
// CHECK: %[[RH:.+]] = arith.subi %[[TWO]], %[[SH]] : index
// CHECK: %[[JW:.+]] = linalg.index 4 : index
// CHECK: %[[SW:.+]] = arith.muli %[[JW]], %[[TWO]] : index
// CHECK: %[[RW:.+]] = arith.subi %[[TWO]], %[[SW]] : index
// CHECK: tensor.extract %[[WEIGHT]][%[[M]], %[[C]], %[[RH]], %[[RW]]] : tensor<4x3x3x3xf32>
// CHECK: linalg.generic {indexing_maps = [#[[IN]], #[[W]], #[[OUT]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]} ins(%{{.+}}, %[[FLIPPED]] : tensor<1x1x4x5x5xf32>, tensor<1x3x4x2x2xf32>) outs(%{{.+}} : tensor<1x1x3x4x4xf32>)
// CHECK: %[[P00:.+]] = tensor.insert_slice %{{.+}} into %[[ZERO]][0, 0, 1, 1] [1, 3, 4, 4] [1, 1, 2, 2] : tensor<1x3x4x4xf32> into tensor<1x3x8x8xf32>
// Phase (0, 1): taps 0, 2 of the rows, the middle column.
// CHECK: tensor.extract %[[WEIGHT]][%{{.+}}, %{{.+}}, %{{.+}}, %[[ONE]]] : tensor<4x3x3x3xf32>
// CHECK: ins(%{{.+}}, %{{.+}} : tensor<1x1x4x5x4xf32>, tensor<1x3x4x2x1xf32>) outs(%{{.+}} : tensor<1x1x3x4x4xf32>)
// CHECK: %[[P01:.+]] = tensor.insert_slice %{{.+}} into %[[P00]][0, 0, 1, 0] [1, 3, 4, 4] [1, 1, 2, 2]
// CHECK: %[[P10:.+]] = tensor.insert_slice %{{.+}} into %[[P01]][0, 0, 0, 1] [1, 3, 4, 4] [1, 1, 2, 2]
// Phase (1, 1): the centre tap alone, a 1x1 convolution.
// CHECK: tensor.extract %[[WEIGHT]][%{{.+}}, %{{.+}}, %[[ONE]], %[[ONE]]] : tensor<4x3x3x3xf32>
// CHECK: ins(%{{.+}}, %{{.+}} : tensor<1x1x4x4x4xf32>, tensor<1x3x4x1x1xf32>)
// CHECK: %[[P11:.+]] = tensor.insert_slice %{{.+}} into %[[P10]][0, 0, 0, 0] [1, 3, 4, 4] [1, 1, 2, 2]
// CHECK: return %[[P11]]
// CHECK-NOT: mpc.
// MATMUL-LABEL: func.func @conv_grad_input
// MATMUL-NOT: "reduction", "reduction"
// MATMUL: linalg.generic {{.+}} iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%{{.+}}, %{{.+}} : tensor<1x3x16xf32>, tensor<1x1x16x16xf32>) outs(%{{.+}} : tensor<1x1x3x16xf32>)
// MATMUL: linalg.generic {{.+}} iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%{{.+}}, %{{.+}} : tensor<1x3x8xf32>, tensor<1x1x8x16xf32>) outs(%{{.+}} : tensor<1x1x3x16xf32>)
// MATMUL: linalg.generic {{.+}} iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%{{.+}}, %{{.+}} : tensor<1x3x8xf32>, tensor<1x1x8x16xf32>) outs(%{{.+}} : tensor<1x1x3x16xf32>)
// MATMUL: linalg.generic {{.+}} iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%{{.+}}, %{{.+}} : tensor<1x3x4xf32>, tensor<1x1x4x16xf32>) outs(%{{.+}} : tensor<1x1x3x16xf32>)
// MATMUL-NOT: "reduction", "reduction"
// MATMUL: return
func.func @conv_grad_input(%dy: tensor<1x4x4x4xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<1x3x8x8xf32> {
  %0 = mpc.conv_grad_input %dy, %w {strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x4x4x4xf32>, tensor<4x3x3x3xf32>) -> tensor<1x3x8x8xf32>
  return %0 : tensor<1x3x8x8xf32>
}

// -----

// Pads beyond the kernel's reach, stride 3: only phase 1 (dx[0], i + pad =
// 4) has a tap, w[1], and reads only dy[1] (the one window touching the
// input); dy[0] and dy[2] lie wholly in the padding, and dx[1] (phases 0
// and 2: no tap, or past the input) stays zero.
// CHECK-LABEL: func.func @conv_grad_input_wide_pads
// CHECK: %[[ZERO:.+]] = linalg.fill {{.+}} -> tensor<1x1x2xf32>
// CHECK: %[[USED:.+]] = tensor.extract_slice %{{.+}}[0, 0, 1] [1, 1, 1] [1, 1, 1] : tensor<1x1x3xf32> to tensor<1x1x1xf32>
// CHECK: tensor.extract %{{.+}}[%{{.+}}, %{{.+}}, %[[ONE:.+]]] : tensor<1x1x2xf32>
// CHECK: tensor.insert_slice %{{.+}} into %[[ZERO]][0, 0, 0] [1, 1, 1] [1, 1, 3] : tensor<1x1x1xf32> into tensor<1x1x2xf32>
// CHECK-NOT: tensor.insert_slice
func.func @conv_grad_input_wide_pads(%dy: tensor<1x1x3xf32>, %w: tensor<1x1x2xf32>) -> tensor<1x1x2xf32> {
  %0 = mpc.conv_grad_input %dy, %w {strides = array<i64: 3>, pads = array<i64: 4, 3>, dilations = array<i64: 1>, group = 1 : i64} : (tensor<1x1x3xf32>, tensor<1x1x2xf32>) -> tensor<1x1x2xf32>
  return %0 : tensor<1x1x2xf32>
}

// -----

// Two groups of M = 2 dy channels and C = 3 dx channels: W'[g, c, m, k]
// reads weight row g*2 + m; dilation 2 becomes the convolution's dilation.
// CHECK-DAG: #[[SPREAD:.+]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d4, d3 + d5 * 2)>
// CHECK-LABEL: func.func @conv_grad_input_grouped_dilated
// CHECK-SAME: %{{.+}}: tensor<1x4x4xf32>, %[[WEIGHT:.+]]: tensor<4x3x3xf32>
// CHECK-DAG: %[[TWO:.+]] = arith.constant 2 : index
// CHECK: %[[FLIPPED:.+]] = linalg.generic {{.+}} outs(%{{.+}} : tensor<2x3x2x3xf32>)
// CHECK: %[[G:.+]] = linalg.index 0 : index
// CHECK: %[[C:.+]] = linalg.index 1 : index
// CHECK: %[[M:.+]] = linalg.index 2 : index
// CHECK: %[[GM:.+]] = arith.muli %[[G]], %[[TWO]] : index
// CHECK: %[[ROW:.+]] = arith.addi %[[GM]], %[[M]] : index
// CHECK: %[[K:.+]] = linalg.index 3 : index
// CHECK: %[[R:.+]] = arith.subi %[[TWO]], %[[K]] : index
// CHECK: tensor.extract %[[WEIGHT]][%[[ROW]], %[[C]], %[[R]]] : tensor<4x3x3xf32>
// CHECK: linalg.generic {indexing_maps = [#[[SPREAD]], {{.+}}], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]} ins(%{{.+}}, %[[FLIPPED]] : tensor<1x2x2x10xf32>, tensor<2x3x2x3xf32>) outs(%{{.+}} : tensor<1x2x3x6xf32>)
// MATMUL-LABEL: func.func @conv_grad_input_grouped_dilated
// MATMUL-NOT: "reduction", "reduction"
// (6 output columns, not a power of two: mpc-conv-to-matmul pads them to 8.)
// MATMUL: linalg.generic {{.+}} iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%{{.+}}, %{{.+}} : tensor<2x3x6xf32>, tensor<1x2x6x8xf32>) outs(%{{.+}} : tensor<1x2x3x8xf32>)
func.func @conv_grad_input_grouped_dilated(%dy: tensor<1x4x4xf32>, %w: tensor<4x3x3xf32>) -> tensor<1x6x6xf32> {
  %0 = mpc.conv_grad_input %dy, %w {strides = array<i64: 1>, pads = array<i64: 1, 1>, dilations = array<i64: 2>, group = 2 : i64} : (tensor<1x4x4xf32>, tensor<4x3x3xf32>) -> tensor<1x6x6xf32>
  return %0 : tensor<1x6x6xf32>
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

// Loss and gradient together: max and sum of exp once, the gradient from
// them, then each row's loss term (reading only the label's logit, already
// divided by the row count) and their sum.
// CHECK-LABEL: func.func @cross_entropy_with_grad
// CHECK: arith.maximumf %{{.+}}, %{{.+}} : f32
// CHECK: math.exp %{{.+}} : f32
// CHECK: linalg.generic {{.+}} iterator_types = ["parallel", "parallel"]
// CHECK: arith.select
// CHECK: arith.truncf %{{.+}} : f32 to bf16
// CHECK: linalg.generic {{.+}} iterator_types = ["parallel", "reduction"]
// CHECK: scf.if
// CHECK: tensor.extract %{{.+}}[%{{.+}}, %{{.+}}] : tensor<4x10xbf16>
// CHECK: math.log %{{.+}} : f32
// CHECK: arith.divf %{{.+}}, %{{.+}} : f32
// CHECK: linalg.generic {{.+}} iterator_types = ["reduction"]
// CHECK-NOT: math.exp
// CHECK-NOT: mpc.
func.func @cross_entropy_with_grad(%x: tensor<4x10xbf16>, %y: tensor<4xi64>, %d: tensor<f32>) -> (tensor<f32>, tensor<4x10xbf16>) {
  %0:2 = mpc.softmax_cross_entropy_with_grad %x, %y, %d : (tensor<4x10xbf16>, tensor<4xi64>, tensor<f32>) -> (tensor<f32>, tensor<4x10xbf16>)
  return %0#0, %0#1 : tensor<f32>, tensor<4x10xbf16>
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
