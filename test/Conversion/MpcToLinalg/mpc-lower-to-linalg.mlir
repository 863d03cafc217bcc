// RUN: mpc-opt --split-input-file --mpc-lower-to-linalg %s | FileCheck %s

// Broadcasting: size-1 dims that grow read index 0, missing dims are dropped.
// CHECK-DAG: #[[LHS:.+]] = affine_map<(d0, d1, d2) -> (d0, 0, d2)>
// CHECK-DAG: #[[RHS:.+]] = affine_map<(d0, d1, d2) -> (d1, 0)>
// CHECK-LABEL: func.func @add_broadcast
// CHECK: linalg.generic {indexing_maps = [#[[LHS]], #[[RHS]], #{{.+}}]
// CHECK: arith.addf %{{.+}}, %{{.+}} : f32
// CHECK-NOT: mpc.
func.func @add_broadcast(%a: tensor<2x1x4xf32>, %b: tensor<3x1xf32>) -> tensor<2x3x4xf32> {
  %0 = mpc.add %a, %b : (tensor<2x1x4xf32>, tensor<3x1xf32>) -> tensor<2x3x4xf32>
  return %0 : tensor<2x3x4xf32>
}

// -----

// Pow by a constant 2 or 3 is multiplies in f32 (no libm call); other
// exponents, and bf16 (rounded once after an f32 powf), keep math.powf.
// CHECK-LABEL: func.func @pow_constant
// CHECK: ^bb0(%[[X:.+]]: f32, %{{.+}}: f32, %{{.+}}: f32):
// CHECK-NEXT: %[[SQ:.+]] = arith.mulf %[[X]], %[[X]] : f32
// CHECK-NEXT: linalg.yield %[[SQ]]
// CHECK: ^bb0(%[[Y:.+]]: f32, %{{.+}}: f32, %{{.+}}: f32):
// CHECK-NEXT: %[[Y2:.+]] = arith.mulf %[[Y]], %[[Y]] : f32
// CHECK-NEXT: %[[Y3:.+]] = arith.mulf %[[Y2]], %[[Y]] : f32
// CHECK-NEXT: linalg.yield %[[Y3]]
// CHECK: math.powf %{{.+}}, %{{.+}} : f32
// CHECK: math.powf %{{.+}}, %{{.+}} : bf16
// CHECK-NOT: math.powf
func.func @pow_constant(%x: tensor<2x4xf32>, %h: tensor<4xbf16>) -> (tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>, tensor<4xbf16>) {
  %two = arith.constant dense<2.0> : tensor<f32>
  %three = arith.constant dense<3.0> : tensor<1xf32>
  %half = arith.constant dense<2.5> : tensor<f32>
  %three16 = arith.constant dense<3.0> : tensor<bf16>
  %0 = mpc.pow %x, %two : (tensor<2x4xf32>, tensor<f32>) -> tensor<2x4xf32>
  %1 = mpc.pow %x, %three : (tensor<2x4xf32>, tensor<1xf32>) -> tensor<2x4xf32>
  %2 = mpc.pow %x, %half : (tensor<2x4xf32>, tensor<f32>) -> tensor<2x4xf32>
  %3 = mpc.pow %h, %three16 : (tensor<4xbf16>, tensor<bf16>) -> tensor<4xbf16>
  return %0, %1, %2, %3 : tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>, tensor<4xbf16>
}

// -----

// Low precision is computed in low precision: no widening around the ops.
// CHECK-LABEL: func.func @bf16_stays_bf16
// CHECK: ^bb0(%[[A:.+]]: bf16, %[[B:.+]]: bf16, %{{.+}}: bf16):
// CHECK-NEXT: arith.mulf %[[A]], %[[B]] : bf16
// CHECK: math.exp %{{.+}} : bf16
// CHECK-NOT: arith.extf
func.func @bf16_stays_bf16(%a: tensor<4xbf16>, %b: tensor<4xbf16>) -> tensor<4xbf16> {
  %0 = mpc.mul %a, %b : (tensor<4xbf16>, tensor<4xbf16>) -> tensor<4xbf16>
  %1 = mpc.exp %0 : tensor<4xbf16>
  return %1 : tensor<4xbf16>
}

// -----

// CHECK-DAG: #[[SCALAR:.+]] = affine_map<(d0) -> ()>
// CHECK-LABEL: func.func @where_less
// CHECK: arith.cmpf olt
// CHECK: linalg.generic {indexing_maps = [#{{.+}}, #{{.+}}, #[[SCALAR]], #{{.+}}]
// CHECK: arith.select %{{.+}}, %{{.+}}, %{{.+}} : f32
func.func @where_less(%a: tensor<4xf32>, %b: tensor<f32>) -> tensor<4xf32> {
  %c = mpc.less %a, %b : (tensor<4xf32>, tensor<f32>) -> tensor<4xi1>
  %0 = mpc.where %c, %a, %b : (tensor<4xi1>, tensor<4xf32>, tensor<f32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// CHECK-LABEL: func.func @gelu
// CHECK-DAG: %[[RSQRT2:.+]] = arith.constant 0.707106769 : f32
// CHECK-DAG: %[[SQRT2PI:.+]] = arith.constant 0.797884583 : f32
// CHECK-DAG: %[[C:.+]] = arith.constant 4.471500e-02 : f32
// CHECK: arith.mulf %{{.+}}, %[[RSQRT2]]
// CHECK-NEXT: math.erf
// CHECK: arith.mulf %{{.+}}, %[[C]]
// CHECK: arith.mulf %{{.+}}, %[[SQRT2PI]]
// CHECK-NEXT: math.tanh
func.func @gelu(%x: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %0 = mpc.gelu %x : tensor<4xf32>
  %1 = mpc.gelu %x {approximate_tanh = true} : tensor<4xf32>
  return %0, %1 : tensor<4xf32>, tensor<4xf32>
}

// -----

// CHECK-LABEL: func.func @leaky_relu_clip_int
// CHECK: arith.cmpf oge
// CHECK: arith.select
// CHECK: arith.maxsi %{{.+}}, %{{.+}} : i64
// CHECK: arith.minsi %{{.+}}, %{{.+}} : i64
func.func @leaky_relu_clip_int(%x: tensor<4xf32>, %i: tensor<4xi64>) -> (tensor<4xf32>, tensor<4xi64>) {
  %0 = mpc.leaky_relu %x {alpha = 0.1 : f64} : tensor<4xf32>
  %1 = mpc.clip %i {min = -2.0 : f64, max = 5.0 : f64} : tensor<4xi64>
  return %0, %1 : tensor<4xf32>, tensor<4xi64>
}

// -----

// bf16 x bf16 accumulates in f32 and rounds to bf16 once, at the end.
// CHECK-LABEL: func.func @matmul_bf16
// CHECK: %[[ZERO:.+]] = arith.constant 0.000000e+00 : f32
// CHECK: %[[INIT:.+]] = linalg.fill ins(%[[ZERO]] : f32) outs(%{{.+}} : tensor<8x4xf32>)
// CHECK: %[[ACC:.+]] = linalg.generic {{.+}} iterator_types = ["parallel", "parallel", "reduction"]} ins(%{{.+}}, %{{.+}} : tensor<8x16xbf16>, tensor<16x4xbf16>) outs(%[[INIT]] : tensor<8x4xf32>)
// CHECK: ^bb0(%[[A:.+]]: bf16, %[[B:.+]]: bf16, %[[OUT:.+]]: f32):
// CHECK: %[[AW:.+]] = arith.extf %[[A]] : bf16 to f32
// CHECK: %[[BW:.+]] = arith.extf %[[B]] : bf16 to f32
// CHECK: %[[P:.+]] = arith.mulf %[[AW]], %[[BW]] : f32
// CHECK: arith.addf %[[OUT]], %[[P]] : f32
// CHECK: linalg.generic {{.+}} ins(%[[ACC]] : tensor<8x4xf32>) outs(%{{.+}} : tensor<8x4xbf16>)
// CHECK: arith.truncf %{{.+}} : f32 to bf16
func.func @matmul_bf16(%a: tensor<8x16xbf16>, %b: tensor<16x4xbf16>) -> tensor<8x4xbf16> {
  %0 = mpc.matmul %a, %b {acc_type = f32} : (tensor<8x16xbf16>, tensor<16x4xbf16>) -> tensor<8x4xbf16>
  return %0 : tensor<8x4xbf16>
}

// -----

// Batch dims broadcast like elementwise operands.
// CHECK-DAG: #[[A:.+]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, 0, d2, d4)>
// CHECK-DAG: #[[B:.+]] = affine_map<(d0, d1, d2, d3, d4) -> (d1, d4, d3)>
// CHECK-DAG: #[[C:.+]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>
// CHECK-LABEL: func.func @matmul_batch_broadcast
// CHECK: linalg.generic {indexing_maps = [#[[A]], #[[B]], #[[C]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
func.func @matmul_batch_broadcast(%a: tensor<2x1x3x4xf32>, %b: tensor<5x4x6xf32>) -> tensor<2x5x3x6xf32> {
  %0 = mpc.matmul %a, %b : (tensor<2x1x3x4xf32>, tensor<5x4x6xf32>) -> tensor<2x5x3x6xf32>
  return %0 : tensor<2x5x3x6xf32>
}

// -----

// Grouped, strided, padded conv: pad, split channels into groups, one
// generic over (n, g, m, oh, ow, c, kh, kw), merge groups, add the bias.
// CHECK-DAG: #[[IN:.+]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d0, d1, d5, d3 * 2 + d6, d4 * 2 + d7)>
// CHECK-DAG: #[[W:.+]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d1, d2, d5, d6, d7)>
// CHECK-DAG: #[[BIAS:.+]] = affine_map<(d0, d1, d2, d3) -> (d1)>
// CHECK-LABEL: func.func @conv
// CHECK: %[[PAD:.+]] = tensor.pad %{{.+}} low[0, 0, 1, 1] high[0, 0, 1, 1]
// CHECK: %[[X:.+]] = tensor.expand_shape %[[PAD]] {{\[}}[0], [1, 2], [3], [4]] output_shape [1, 2, 2, 10, 10]
// CHECK: %[[WG:.+]] = tensor.expand_shape %{{.+}} {{\[}}[0, 1], [2], [3], [4]] output_shape [2, 3, 2, 3, 3]
// CHECK: %[[ACC:.+]] = linalg.generic {indexing_maps = [#[[IN]], #[[W]], #{{.+}}], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]} ins(%[[X]], %[[WG]]
// CHECK: %[[MERGED:.+]] = tensor.collapse_shape %[[ACC]] {{\[}}[0], [1, 2], [3], [4]] : tensor<1x2x3x4x4xf32> into tensor<1x6x4x4xf32>
// CHECK: linalg.generic {indexing_maps = [#{{.+}}, #[[BIAS]], #{{.+}}], {{.+}} ins(%[[MERGED]], %{{.+}} : tensor<1x6x4x4xf32>, tensor<6xf32>)
func.func @conv(%x: tensor<1x4x8x8xf32>, %w: tensor<6x2x3x3xf32>, %b: tensor<6xf32>) -> tensor<1x6x4x4xf32> {
  %0 = mpc.conv %x, %w, %b {strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 2 : i64} : (tensor<1x4x8x8xf32>, tensor<6x2x3x3xf32>, tensor<6xf32>) -> tensor<1x6x4x4xf32>
  return %0 : tensor<1x6x4x4xf32>
}

// -----

// ceil_mode's last window needs one more row and column of -inf padding.
// CHECK-DAG: #[[IN:.+]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2 * 2 + d4, d3 * 2 + d5)>
// CHECK-DAG: #[[WIN:.+]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d4, d5)>
// CHECK-LABEL: func.func @max_pool
// CHECK: %[[NEG_INF:.+]] = arith.constant 0xFF800000 : f32
// CHECK: tensor.pad %{{.+}} low[0, 0, 0, 0] high[0, 0, 1, 1]
// CHECK: tensor.yield %[[NEG_INF]]
// CHECK: %[[WINDOW:.+]] = tensor.empty() : tensor<3x3xi1>
// CHECK: linalg.generic {indexing_maps = [#[[IN]], #[[WIN]], #{{.+}}], {{.+}} ins(%{{.+}}, %[[WINDOW]]
// CHECK: arith.maximumf
func.func @max_pool(%x: tensor<1x2x6x6xf32>) -> tensor<1x2x3x3xf32> {
  %0 = mpc.max_pool %x {kernel_shape = array<i64: 3, 3>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, ceil_mode = true} : (tensor<1x2x6x6xf32>) -> tensor<1x2x3x3xf32>
  return %0 : tensor<1x2x3x3xf32>
}

// -----

// Without count_include_pad the divisor counts only real elements.
// CHECK-LABEL: func.func @avg_pool
// CHECK: %[[COUNTS:.+]] = arith.constant dense<{{\[}}[4.000000e+00, 2.000000e+00], [2.000000e+00, 1.000000e+00]]> : tensor<2x2xf32>
// CHECK: arith.addf
// CHECK: linalg.generic {{.+}} ins(%{{.+}}, %[[COUNTS]] : tensor<1x1x2x2xf32>, tensor<2x2xf32>)
// CHECK: arith.divf
func.func @avg_pool(%x: tensor<1x1x3x3xf32>) -> tensor<1x1x2x2xf32> {
  %0 = mpc.avg_pool %x {kernel_shape = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 1, 1>, count_include_pad = false, ceil_mode = false} : (tensor<1x1x3x3xf32>) -> tensor<1x1x2x2xf32>
  return %0 : tensor<1x1x2x2xf32>
}

// -----

// Softmax runs in its accumulator type (f32 for bf16): max, sum of exp(x -
// max), then exp(x - max) / sum rounded to bf16.
// CHECK-LABEL: func.func @softmax_bf16
// CHECK: %[[MAX:.+]] = linalg.generic {{.+}} iterator_types = ["parallel", "reduction"]} ins(%{{.+}} : tensor<2x10xbf16>) outs(%{{.+}} : tensor<2xf32>)
// CHECK: arith.maximumf
// CHECK: %[[SUM:.+]] = linalg.generic {{.+}} ins(%{{.+}}, %[[MAX]] : tensor<2x10xbf16>, tensor<2xf32>) outs(%{{.+}} : tensor<2xf32>)
// CHECK: arith.subf
// CHECK-NEXT: math.exp %{{.+}} : f32
// CHECK: linalg.generic {{.+}} ins(%{{.+}}, %[[MAX]], %[[SUM]] : tensor<2x10xbf16>, tensor<2xf32>, tensor<2xf32>) outs(%{{.+}} : tensor<2x10xbf16>)
// CHECK: arith.divf
// CHECK-NEXT: arith.truncf %{{.+}} : f32 to bf16
func.func @softmax_bf16(%x: tensor<2x10xbf16>) -> tensor<2x10xbf16> {
  %0 = mpc.softmax %x {axis = 1 : i64} : tensor<2x10xbf16>
  return %0 : tensor<2x10xbf16>
}

// -----

// CHECK-LABEL: func.func @log_softmax
// CHECK: math.log
// CHECK-NEXT: arith.subf
func.func @log_softmax(%x: tensor<2x10xf32>) -> tensor<2x10xf32> {
  %0 = mpc.log_softmax %x {axis = 1 : i64} : tensor<2x10xf32>
  return %0 : tensor<2x10xf32>
}

// -----

// CHECK-LABEL: func.func @layer_norm
// CHECK-DAG: %[[EPS:.+]] = arith.constant 9.99999974E-6 : f32
// CHECK-DAG: %[[N:.+]] = arith.constant 8.000000e+00 : f32
// CHECK: %[[SUM:.+]] = linalg.generic {{.+}} iterator_types = ["parallel", "reduction"]
// CHECK: %[[SQ:.+]] = linalg.generic {{.+}} ins(%{{.+}}, %[[SUM]] :
// CHECK: linalg.generic {{.+}} ins(%{{.+}}, %[[SUM]], %[[SQ]] :
// CHECK: arith.addf %{{.+}}, %[[EPS]]
// CHECK-NEXT: math.sqrt
// CHECK: linalg.generic {{.+}} ins(%{{.+}}, %{{.+}}, %{{.+}} : tensor<2x8xf32>, tensor<8xf32>, tensor<8xf32>)
// CHECK: arith.mulf
// CHECK-NEXT: arith.addf
func.func @layer_norm(%x: tensor<2x8xf32>, %g: tensor<8xf32>, %b: tensor<8xf32>) -> tensor<2x8xf32> {
  %0 = mpc.layer_norm %x, %g, %b {axis = 1 : i64, epsilon = 1.0e-05 : f64} : (tensor<2x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<2x8xf32>
  return %0 : tensor<2x8xf32>
}

// -----

// CHECK-DAG: #[[CHANNEL:.+]] = affine_map<(d0, d1, d2, d3) -> (d1)>
// CHECK-LABEL: func.func @batch_norm
// CHECK: linalg.generic {indexing_maps = [#{{.+}}, #[[CHANNEL]], #[[CHANNEL]], #[[CHANNEL]], #[[CHANNEL]], #{{.+}}]
// CHECK: math.sqrt
func.func @batch_norm(%x: tensor<1x4x2x2xf32>, %s: tensor<4xf32>, %b: tensor<4xf32>, %m: tensor<4xf32>, %v: tensor<4xf32>) -> tensor<1x4x2x2xf32> {
  %0 = mpc.batch_norm %x, %s, %b, %m, %v {epsilon = 1.0e-05 : f64, momentum = 0.9 : f64} : (tensor<1x4x2x2xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<1x4x2x2xf32>
  return %0 : tensor<1x4x2x2xf32>
}

// -----

// keepdims restores the reduced dims as size 1 through a reshape (a view).
// CHECK-LABEL: func.func @reduce
// CHECK: iterator_types = ["parallel", "reduction", "parallel"]
// CHECK: arith.divf %{{.+}}, %{{.+}} : f32
// CHECK: tensor.expand_shape %{{.+}} output_shape [2, 1, 4]
// CHECK: iterator_types = ["reduction", "parallel", "reduction"]
// CHECK: arith.maximumf
func.func @reduce(%x: tensor<2x3x4xf32>) -> (tensor<2x1x4xf32>, tensor<3xf32>) {
  %0 = mpc.reduce_mean %x {axes = array<i64: 1>} : (tensor<2x3x4xf32>) -> tensor<2x1x4xf32>
  %1 = mpc.reduce_max %x {axes = array<i64: 0, 2>, keepdims = false} : (tensor<2x3x4xf32>) -> tensor<3xf32>
  return %0, %1 : tensor<2x1x4xf32>, tensor<3xf32>
}

// -----

// CHECK-LABEL: func.func @reshape_transpose
// CHECK: linalg.transpose ins(%{{.+}} : tensor<2x3x4xf32>) outs(%{{.+}} : tensor<4x2x3xf32>) permutation = [2, 0, 1]
// CHECK: tensor.collapse_shape %{{.+}} {{\[}}[0, 1, 2]] : tensor<4x2x3xf32> into tensor<24xf32>
// CHECK: tensor.expand_shape %{{.+}} {{\[}}[0, 1]] output_shape [4, 6] : tensor<24xf32> into tensor<4x6xf32>
func.func @reshape_transpose(%x: tensor<2x3x4xf32>) -> tensor<4x6xf32> {
  %0 = mpc.transpose %x {perm = array<i64: 2, 0, 1>} : (tensor<2x3x4xf32>) -> tensor<4x2x3xf32>
  %1 = mpc.reshape %0 {shape = array<i64: 4, 6>} : (tensor<4x2x3xf32>) -> tensor<4x6xf32>
  return %1 : tensor<4x6xf32>
}

// -----

// CHECK-LABEL: func.func @concat
// CHECK: %[[E:.+]] = tensor.empty() : tensor<2x8xf32>
// CHECK: %[[S:.+]] = tensor.insert_slice %{{.+}} into %[[E]][0, 0] [2, 3] [1, 1]
// CHECK: tensor.insert_slice %{{.+}} into %[[S]][0, 3] [2, 5] [1, 1]
func.func @concat(%a: tensor<2x3xf32>, %b: tensor<2x5xf32>) -> tensor<2x8xf32> {
  %0 = mpc.concat %a, %b {axis = 1 : i64} : (tensor<2x3xf32>, tensor<2x5xf32>) -> tensor<2x8xf32>
  return %0 : tensor<2x8xf32>
}

// -----

// Slices are views; a negative stride takes the same elements ascending and
// reverses them.
// CHECK-DAG: #[[REV:.+]] = affine_map<(d0, d1) -> (d0, -d1 + 1)>
// CHECK-LABEL: func.func @slices
// CHECK: %[[ASC:.+]] = tensor.extract_slice %{{.+}}[0, 1] [2, 2] [1, 2] : tensor<2x4xf32> to tensor<2x2xf32>
// CHECK: linalg.generic {indexing_maps = [#[[REV]], #{{.+}}], {{.+}} ins(%[[ASC]] :
// CHECK: %[[VIEW:.+]] = tensor.extract_slice %{{.+}}[0, 0] [2, 32] [1, 1] : tensor<2x96xf32> to tensor<2x32xf32>
// CHECK: return %{{.+}}, %[[VIEW]]
func.func @slices(%x: tensor<2x4xf32>, %y: tensor<2x96xf32>) -> (tensor<2x2xf32>, tensor<2x32xf32>) {
  %0 = mpc.slice %x {offsets = array<i64: 0, 3>, sizes = array<i64: 2, 2>, strides = array<i64: 1, -2>} : (tensor<2x4xf32>) -> tensor<2x2xf32>
  %1 = mpc.slice %y {offsets = array<i64: 0, 0>, sizes = array<i64: 2, 32>, strides = array<i64: 1, 1>} : (tensor<2x96xf32>) -> tensor<2x32xf32>
  return %0, %1 : tensor<2x2xf32>, tensor<2x32xf32>
}

// -----

// CHECK-DAG: #[[ROW:.+]] = affine_map<(d0, d1) -> (0, d1)>
// CHECK-LABEL: func.func @broadcast
// CHECK: linalg.generic {indexing_maps = [#[[ROW]], #{{.+}}]
func.func @broadcast(%x: tensor<1x4xf32>) -> tensor<3x4xf32> {
  %0 = mpc.broadcast %x {shape = array<i64: 3, 4>} : (tensor<1x4xf32>) -> tensor<3x4xf32>
  return %0 : tensor<3x4xf32>
}

// -----

// Negative indices wrap once; anything still out of range is clamped.
// CHECK-LABEL: func.func @gather
// CHECK-DAG: %[[LAST:.+]] = arith.constant 9 : i64
// CHECK-DAG: %[[ZERO:.+]] = arith.constant 0 : i64
// CHECK-DAG: %[[SIZE:.+]] = arith.constant 10 : i64
// CHECK: ^bb0(%[[I:.+]]: i64, %{{.+}}: f32):
// CHECK: %[[NEG:.+]] = arith.cmpi slt, %[[I]], %[[ZERO]]
// CHECK: %[[UP:.+]] = arith.addi %[[I]], %[[SIZE]]
// CHECK: %[[W:.+]] = arith.select %[[NEG]], %[[UP]], %[[I]]
// CHECK: %[[HI:.+]] = arith.minsi %[[W]], %[[LAST]]
// CHECK: %[[C:.+]] = arith.maxsi %[[HI]], %[[ZERO]]
// CHECK: %[[IDX:.+]] = arith.index_cast %[[C]] : i64 to index
// CHECK: %[[COL:.+]] = linalg.index 2 : index
// CHECK: tensor.extract %{{.+}}{{\[}}%[[IDX]], %[[COL]]] : tensor<10x16xf32>
func.func @gather(%t: tensor<10x16xf32>, %i: tensor<2x5xi64>) -> tensor<2x5x16xf32> {
  %0 = mpc.gather %t, %i {axis = 0 : i64} : (tensor<10x16xf32>, tensor<2x5xi64>) -> tensor<2x5x16xf32>
  return %0 : tensor<2x5x16xf32>
}

// -----

// Saturating fp8 casts clamp to +-448 first (truncf alone would give NaN).
// CHECK-LABEL: func.func @casts
// CHECK-DAG: %[[MAX:.+]] = arith.constant 4.480000e+02 : f32
// CHECK-DAG: %[[MIN:.+]] = arith.constant -4.480000e+02 : f32
// CHECK: arith.maximumf %{{.+}}, %[[MIN]]
// CHECK-NEXT: arith.minimumf %{{.+}}, %[[MAX]]
// CHECK-NEXT: arith.truncf %{{.+}} : f32 to f8E4M3FN
// CHECK: arith.fptosi %{{.+}} : f32 to i64
// CHECK: arith.extf %{{.+}} : f16 to f32
// CHECK-NEXT: arith.truncf %{{.+}} : f32 to bf16
func.func @casts(%x: tensor<4xf32>, %h: tensor<4xf16>) -> (tensor<4xf8E4M3FN>, tensor<4xi64>, tensor<4xbf16>) {
  %0 = mpc.cast %x : tensor<4xf32> to tensor<4xf8E4M3FN>
  %1 = mpc.cast %x : tensor<4xf32> to tensor<4xi64>
  %2 = mpc.cast %h : tensor<4xf16> to tensor<4xbf16>
  return %0, %1, %2 : tensor<4xf8E4M3FN>, tensor<4xi64>, tensor<4xbf16>
}

// -----

// Inference: parameters become constants and the symbols go away.
// CHECK-NOT: mpc.parameter
// CHECK-LABEL: func.func @parameter
// CHECK: %[[W:.+]] = arith.constant dense<[1.000000e+00, 2.000000e+00]> : tensor<2xf32>
// CHECK: return %[[W]]
module {
  mpc.parameter @w : tensor<2xf32> = dense<[1.0, 2.0]> : tensor<2xf32>
  func.func @parameter() -> tensor<2xf32> {
    %0 = mpc.get_parameter @w : tensor<2xf32>
    return %0 : tensor<2xf32>
  }
}

// -----

// The trigonometric and rounding functions are one math op each (libm or
// libdevice later, never a polynomial); Round is round-half-even. Sign keeps
// NaN and 0 (neither comparison holds) and works on integers too.
// CHECK-LABEL: func.func @math_functions
// CHECK: math.sin
// CHECK: math.acosh
// CHECK: math.roundeven
// CHECK: %[[POS:.+]] = arith.cmpf ogt
// CHECK: %[[NEG:.+]] = arith.cmpf olt
// CHECK: %[[LOW:.+]] = arith.select %[[NEG]], %{{.+}}, %[[IN:.+]] : f32
// CHECK: arith.select %[[POS]], %{{.+}}, %[[LOW]] : f32
// CHECK: arith.cmpi sgt
// CHECK: arith.cmpi slt
func.func @math_functions(%x: tensor<4xf32>, %i: tensor<4xi32>) -> (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xi32>) {
  %0 = mpc.sin %x : tensor<4xf32>
  %1 = mpc.acosh %x : tensor<4xf32>
  %2 = mpc.round %x : tensor<4xf32>
  %3 = mpc.sign %x : tensor<4xf32>
  %4 = mpc.sign %i : tensor<4xi32>
  return %0, %1, %2, %3, %4 : tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xi32>
}

// -----

// Unsigned element types (ONNX uint32/uint64) become signless; the ops that
// depend on the sign pick their unsigned forms.
// CHECK-LABEL: func.func @unsigned_ops
// CHECK-SAME: (%{{.+}}: tensor<4xi32>, %{{.+}}: tensor<4xi32>) -> (tensor<4xi32>, tensor<4xi32>, tensor<4xi32>, tensor<4xi1>, tensor<4xi1>)
// CHECK: arith.divui
// CHECK: arith.maxui
// CHECK: arith.minui
// CHECK: arith.cmpi ult
// CHECK: arith.cmpi uge
// CHECK-NOT: ui32
// CHECK-NOT: mpc.
func.func @unsigned_ops(%a: tensor<4xui32>, %b: tensor<4xui32>)
    -> (tensor<4xui32>, tensor<4xui32>, tensor<4xui32>, tensor<4xi1>, tensor<4xi1>) {
  %0 = mpc.div %a, %b : (tensor<4xui32>, tensor<4xui32>) -> tensor<4xui32>
  %1 = mpc.max %a, %b : (tensor<4xui32>, tensor<4xui32>) -> tensor<4xui32>
  %2 = mpc.min %a, %b : (tensor<4xui32>, tensor<4xui32>) -> tensor<4xui32>
  %3 = mpc.less %a, %b : (tensor<4xui32>, tensor<4xui32>) -> tensor<4xi1>
  %4 = mpc.greater_equal %a, %b : (tensor<4xui32>, tensor<4xui32>) -> tensor<4xi1>
  return %0, %1, %2, %3, %4 : tensor<4xui32>, tensor<4xui32>, tensor<4xui32>, tensor<4xi1>, tensor<4xi1>
}

// -----

// Casts read and write unsigned values as such: uitofp, fptoui, extui; a
// constant keeps its bytes under the signless type (255 prints as -1), and
// its casts are left to the compiled code.
// CHECK-LABEL: func.func @unsigned_casts
// CHECK: arith.constant dense<-1> : tensor<2xi8>
// CHECK: arith.uitofp %{{.+}} : i8 to f32
// CHECK: arith.fptoui %{{.+}} : f32 to i64
// CHECK: arith.extui %{{.+}} : i8 to i32
// CHECK-NOT: arith.sitofp
// CHECK-NOT: arith.fptosi
// CHECK-NOT: arith.extsi
func.func @unsigned_casts(%f: tensor<2xf32>) -> (tensor<2xf32>, tensor<2xui64>, tensor<2xi32>) {
  %c = arith.constant dense<255> : tensor<2xui8>
  %0 = mpc.cast %c : tensor<2xui8> to tensor<2xf32>
  %1 = mpc.cast %f : tensor<2xf32> to tensor<2xui64>
  %2 = mpc.cast %c : tensor<2xui8> to tensor<2xi32>
  return %0, %1, %2 : tensor<2xf32>, tensor<2xui64>, tensor<2xi32>
}

// -----

// Max pooling over uint8 pads with 0, the lowest unsigned value.
// CHECK-LABEL: func.func @max_pool_uint8
// CHECK: arith.constant 0 : i8
// CHECK: arith.maxui
func.func @max_pool_uint8(%x: tensor<1x1x4x4xui8>) -> tensor<1x1x2x2xui8> {
  %0 = mpc.max_pool %x {kernel_shape = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, ceil_mode = false} : (tensor<1x1x4x4xui8>) -> tensor<1x1x2x2xui8>
  return %0 : tensor<1x1x2x2xui8>
}
