// RUN: mpc-opt %s --split-input-file | FileCheck %s
// Round trip: what mpc-opt prints parses back to the same thing.
// RUN: mpc-opt %s --split-input-file | mpc-opt --split-input-file | FileCheck %s

// CHECK-LABEL: func.func @elementwise
func.func @elementwise(%a: tensor<2x4xf32>, %b: tensor<4xf32>, %c: tensor<2x4xi1>) -> tensor<2x4xf32> {
  // CHECK: mpc.add %{{.*}}, %{{.*}} : (tensor<2x4xf32>, tensor<4xf32>) -> tensor<2x4xf32>
  %0 = mpc.add %a, %b : (tensor<2x4xf32>, tensor<4xf32>) -> tensor<2x4xf32>
  // CHECK: mpc.sub
  %1 = mpc.sub %0, %b : (tensor<2x4xf32>, tensor<4xf32>) -> tensor<2x4xf32>
  // CHECK: mpc.mul
  %2 = mpc.mul %1, %a : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
  // CHECK: mpc.div
  %3 = mpc.div %2, %b : (tensor<2x4xf32>, tensor<4xf32>) -> tensor<2x4xf32>
  // CHECK: mpc.pow
  %4 = mpc.pow %3, %b : (tensor<2x4xf32>, tensor<4xf32>) -> tensor<2x4xf32>
  // CHECK: mpc.max
  %5 = mpc.max %4, %a : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
  // CHECK: mpc.min
  %6 = mpc.min %5, %a : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
  // CHECK: mpc.neg %{{.*}} : tensor<2x4xf32>
  %7 = mpc.neg %6 : tensor<2x4xf32>
  %8 = mpc.abs %7 : tensor<2x4xf32>
  %9 = mpc.exp %8 : tensor<2x4xf32>
  %10 = mpc.log %9 : tensor<2x4xf32>
  %11 = mpc.sqrt %10 : tensor<2x4xf32>
  %12 = mpc.reciprocal %11 : tensor<2x4xf32>
  %13 = mpc.tanh %12 : tensor<2x4xf32>
  %14 = mpc.sigmoid %13 : tensor<2x4xf32>
  %15 = mpc.relu %14 : tensor<2x4xf32>
  %16 = mpc.erf %15 : tensor<2x4xf32>
  // CHECK: mpc.gelu %{{.*}} {approximate_tanh = true} : tensor<2x4xf32>
  %17 = mpc.gelu %16 {approximate_tanh = true} : tensor<2x4xf32>
  // CHECK: mpc.leaky_relu %{{.*}} {alpha = 1.000000e-02 : f64}
  %18 = mpc.leaky_relu %17 {alpha = 0.01 : f64} : tensor<2x4xf32>
  // CHECK: mpc.clip %{{.*}} {max = 6.000000e+00 : f64, min = 0.000000e+00 : f64}
  %19 = mpc.clip %18 {min = 0.0 : f64, max = 6.0 : f64} : tensor<2x4xf32>
  // CHECK: mpc.less %{{.*}}, %{{.*}} : (tensor<2x4xf32>, tensor<4xf32>) -> tensor<2x4xi1>
  %20 = mpc.less %19, %b : (tensor<2x4xf32>, tensor<4xf32>) -> tensor<2x4xi1>
  %21 = mpc.equal %19, %b : (tensor<2x4xf32>, tensor<4xf32>) -> tensor<2x4xi1>
  %22 = mpc.less_equal %19, %b : (tensor<2x4xf32>, tensor<4xf32>) -> tensor<2x4xi1>
  %23 = mpc.greater %19, %b : (tensor<2x4xf32>, tensor<4xf32>) -> tensor<2x4xi1>
  %24 = mpc.greater_equal %19, %b : (tensor<2x4xf32>, tensor<4xf32>) -> tensor<2x4xi1>
  // CHECK: mpc.where %{{.*}}, %{{.*}}, %{{.*}} : (tensor<2x4xi1>, tensor<2x4xf32>, tensor<4xf32>) -> tensor<2x4xf32>
  %25 = mpc.where %c, %19, %b : (tensor<2x4xi1>, tensor<2x4xf32>, tensor<4xf32>) -> tensor<2x4xf32>
  return %25 : tensor<2x4xf32>
}

// -----

// CHECK-LABEL: func.func @casts
func.func @casts(%a: tensor<4xf32>) -> tensor<4xf8E4M3FN> {
  // CHECK: mpc.cast %{{.*}} : tensor<4xf32> to tensor<4xbf16>
  %0 = mpc.cast %a : tensor<4xf32> to tensor<4xbf16>
  // CHECK: mpc.cast %{{.*}} {saturate = false} : tensor<4xf32> to tensor<4xf8E4M3FN>
  %1 = mpc.cast %a {saturate = false} : tensor<4xf32> to tensor<4xf8E4M3FN>
  return %1 : tensor<4xf8E4M3FN>
}

// -----

// CHECK-LABEL: func.func @compute
func.func @compute(%a: tensor<3x8x16xbf16>, %b: tensor<16x4xbf16>, %x: tensor<1x3x8x8xf32>,
                   %w: tensor<4x3x3x3xf32>, %bias: tensor<4xf32>) -> (tensor<3x8x4xbf16>, tensor<1x4x8x8xf32>) {
  // CHECK: mpc.matmul %{{.*}}, %{{.*}} {acc_type = f32} : (tensor<3x8x16xbf16>, tensor<16x4xbf16>) -> tensor<3x8x4xbf16>
  %0 = mpc.matmul %a, %b {acc_type = f32} : (tensor<3x8x16xbf16>, tensor<16x4xbf16>) -> tensor<3x8x4xbf16>
  // CHECK: mpc.conv %{{.*}}, %{{.*}}, %{{.*}} {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>}
  %1 = mpc.conv %x, %w, %bias {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>, tensor<4xf32>) -> tensor<1x4x8x8xf32>
  return %0, %1 : tensor<3x8x4xbf16>, tensor<1x4x8x8xf32>
}

// -----

// CHECK-LABEL: func.func @conv_grouped_no_bias
func.func @conv_grouped_no_bias(%x: tensor<2x4x9x9xf32>, %w: tensor<8x2x3x3xf32>) -> tensor<2x8x4x4xf32> {
  // CHECK: mpc.conv %{{.*}}, %{{.*}} {
  %0 = mpc.conv %x, %w {strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 2 : i64} : (tensor<2x4x9x9xf32>, tensor<8x2x3x3xf32>) -> tensor<2x8x4x4xf32>
  return %0 : tensor<2x8x4x4xf32>
}

// -----

// CHECK-LABEL: func.func @sensitive
func.func @sensitive(%x: tensor<2x8xf32>, %g: tensor<8xf32>, %img: tensor<1x4x8x8xf32>, %c: tensor<4xf32>) -> (tensor<2x8xf32>, tensor<1x4x8x8xf32>) {
  // CHECK: mpc.softmax %{{.*}} {axis = 1 : i64} : tensor<2x8xf32>
  %0 = mpc.softmax %x {axis = 1 : i64} : tensor<2x8xf32>
  // CHECK: mpc.log_softmax
  %1 = mpc.log_softmax %0 {axis = 0 : i64} : tensor<2x8xf32>
  // CHECK: mpc.layer_norm %{{.*}}, %{{.*}}, %{{.*}} {axis = 1 : i64, epsilon = 1.000000e-05 : f64}
  %2 = mpc.layer_norm %1, %g, %g {axis = 1 : i64, epsilon = 1.0e-05 : f64} : (tensor<2x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<2x8xf32>
  // CHECK: mpc.batch_norm
  %3 = mpc.batch_norm %img, %c, %c, %c, %c {epsilon = 1.0e-05 : f64, momentum = 0.9 : f64} : (tensor<1x4x8x8xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<1x4x8x8xf32>
  return %2, %3 : tensor<2x8xf32>, tensor<1x4x8x8xf32>
}

// -----

// CHECK-LABEL: func.func @reductions_and_pools
func.func @reductions_and_pools(%x: tensor<2x8xf32>, %img: tensor<1x4x7x7xf32>) -> (tensor<2xf32>, tensor<2x1xf32>, tensor<1x4x4x4xf32>, tensor<1x4x3x3xf32>) {
  // CHECK: mpc.reduce_sum %{{.*}} {axes = array<i64: 1>, keepdims = false} : (tensor<2x8xf32>) -> tensor<2xf32>
  %0 = mpc.reduce_sum %x {axes = array<i64: 1>, keepdims = false} : (tensor<2x8xf32>) -> tensor<2xf32>
  // CHECK: mpc.reduce_mean %{{.*}} {axes = array<i64: 1>} : (tensor<2x8xf32>) -> tensor<2x1xf32>
  %1 = mpc.reduce_mean %x {axes = array<i64: 1>} : (tensor<2x8xf32>) -> tensor<2x1xf32>
  %2 = mpc.reduce_max %x {axes = array<i64: 1>} : (tensor<2x8xf32>) -> tensor<2x1xf32>
  %3 = mpc.reduce_min %x {axes = array<i64: 1>} : (tensor<2x8xf32>) -> tensor<2x1xf32>
  %4 = mpc.reduce_prod %x {axes = array<i64: 1>} : (tensor<2x8xf32>) -> tensor<2x1xf32>
  // ceil_mode: (7 - 2) / 2 + 1 = 3 rounded up to 4.
  // CHECK: mpc.max_pool {{.*}} -> tensor<1x4x4x4xf32>
  %5 = mpc.max_pool %img {kernel_shape = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, ceil_mode = true} : (tensor<1x4x7x7xf32>) -> tensor<1x4x4x4xf32>
  // CHECK: mpc.avg_pool {{.*}} -> tensor<1x4x3x3xf32>
  %6 = mpc.avg_pool %img {kernel_shape = array<i64: 3, 3>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, count_include_pad = false} : (tensor<1x4x7x7xf32>) -> tensor<1x4x3x3xf32>
  return %0, %1, %5, %6 : tensor<2xf32>, tensor<2x1xf32>, tensor<1x4x4x4xf32>, tensor<1x4x3x3xf32>
}

// -----

// CHECK-LABEL: func.func @data_movement
func.func @data_movement(%x: tensor<2x4xf32>, %ids: tensor<3xi64>) -> (tensor<8xf32>, tensor<4x2xf32>, tensor<4x4xf32>, tensor<2x2xf32>, tensor<3x2x4xf32>, tensor<3x4xf32>) {
  // CHECK: mpc.reshape %{{.*}} {shape = array<i64: 8>} : (tensor<2x4xf32>) -> tensor<8xf32>
  %0 = mpc.reshape %x {shape = array<i64: 8>} : (tensor<2x4xf32>) -> tensor<8xf32>
  // CHECK: mpc.transpose %{{.*}} {perm = array<i64: 1, 0>}
  %1 = mpc.transpose %x {perm = array<i64: 1, 0>} : (tensor<2x4xf32>) -> tensor<4x2xf32>
  // CHECK: mpc.concat %{{.*}}, %{{.*}} {axis = 0 : i64}
  %2 = mpc.concat %x, %x {axis = 0 : i64} : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<4x4xf32>
  // CHECK: mpc.slice %{{.*}} {offsets = array<i64: 0, 3>, sizes = array<i64: 2, 2>, strides = array<i64: 1, -2>}
  %3 = mpc.slice %x {offsets = array<i64: 0, 3>, sizes = array<i64: 2, 2>, strides = array<i64: 1, -2>} : (tensor<2x4xf32>) -> tensor<2x2xf32>
  // CHECK: mpc.broadcast %{{.*}} {shape = array<i64: 3, 2, 4>}
  %4 = mpc.broadcast %x {shape = array<i64: 3, 2, 4>} : (tensor<2x4xf32>) -> tensor<3x2x4xf32>
  // CHECK: mpc.gather %{{.*}}, %{{.*}} {axis = 0 : i64} : (tensor<2x4xf32>, tensor<3xi64>) -> tensor<3x4xf32>
  %5 = mpc.gather %x, %ids {axis = 0 : i64} : (tensor<2x4xf32>, tensor<3xi64>) -> tensor<3x4xf32>
  return %0, %1, %2, %3, %4, %5 : tensor<8xf32>, tensor<4x2xf32>, tensor<4x4xf32>, tensor<2x2xf32>, tensor<3x2x4xf32>, tensor<3x4xf32>
}

// -----

// CHECK: mpc.parameter @fc1.weight : tensor<2x2xf32> = dense<{{.*}}> : tensor<2x2xf32>
// CHECK: mpc.parameter @running_mean frozen : tensor<2xf32>
mpc.parameter @"fc1.weight" : tensor<2x2xf32> = dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32>
mpc.parameter @running_mean frozen : tensor<2xf32> = dense<0.0> : tensor<2xf32>
// CHECK-LABEL: func.func @params
func.func @params() -> tensor<2x2xf32> {
  // CHECK: mpc.get_parameter @fc1.weight : tensor<2x2xf32>
  %0 = mpc.get_parameter @"fc1.weight" : tensor<2x2xf32>
  return %0 : tensor<2x2xf32>
}

// -----

// CHECK-LABEL: func.func @training
func.func @training(%logits: tensor<4x10xbf16>, %labels: tensor<4xi64>, %d: tensor<f32>,
                    %x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>, %dy: tensor<1x4x4x4xf32>,
                    %table: tensor<100x16xf32>, %ids: tensor<2x5xi32>, %dg: tensor<2x5x16xf32>) {
  // CHECK: mpc.softmax_cross_entropy %{{.*}}, %{{.*}} : (tensor<4x10xbf16>, tensor<4xi64>) -> tensor<f32>
  %0 = mpc.softmax_cross_entropy %logits, %labels : (tensor<4x10xbf16>, tensor<4xi64>) -> tensor<f32>
  // CHECK: mpc.softmax_cross_entropy_grad %{{.*}}, %{{.*}}, %{{.*}} : (tensor<4x10xbf16>, tensor<4xi64>, tensor<f32>) -> tensor<4x10xbf16>
  %1 = mpc.softmax_cross_entropy_grad %logits, %labels, %d : (tensor<4x10xbf16>, tensor<4xi64>, tensor<f32>) -> tensor<4x10xbf16>
  // CHECK: mpc.softmax_cross_entropy_with_grad %{{.*}}, %{{.*}}, %{{.*}} : (tensor<4x10xbf16>, tensor<4xi64>, tensor<f32>) -> (tensor<f32>, tensor<4x10xbf16>)
  %fused:2 = mpc.softmax_cross_entropy_with_grad %logits, %labels, %d : (tensor<4x10xbf16>, tensor<4xi64>, tensor<f32>) -> (tensor<f32>, tensor<4x10xbf16>)
  // CHECK: mpc.mse_loss %{{.*}}, %{{.*}} : (tensor<1x3x8x8xf32>, tensor<1x3x8x8xf32>) -> tensor<f32>
  %2 = mpc.mse_loss %x, %x : (tensor<1x3x8x8xf32>, tensor<1x3x8x8xf32>) -> tensor<f32>
  // CHECK: mpc.conv_grad_input %{{.*}}, %{{.*}} {acc_type = f32, dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>} : (tensor<1x4x4x4xf32>, tensor<4x3x3x3xf32>) -> tensor<1x3x8x8xf32>
  %3 = mpc.conv_grad_input %dy, %w {strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64, acc_type = f32} : (tensor<1x4x4x4xf32>, tensor<4x3x3x3xf32>) -> tensor<1x3x8x8xf32>
  // CHECK: mpc.conv_grad_filter %{{.*}}, %{{.*}} {{.*}} : (tensor<1x3x8x8xf32>, tensor<1x4x4x4xf32>) -> tensor<4x3x3x3xf32>
  %4 = mpc.conv_grad_filter %x, %dy {strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x3x8x8xf32>, tensor<1x4x4x4xf32>) -> tensor<4x3x3x3xf32>
  // CHECK: mpc.max_pool_grad %{{.*}}, %{{.*}} {{.*}} : (tensor<1x3x8x8xf32>, tensor<1x3x4x4xf32>) -> tensor<1x3x8x8xf32>
  %p = mpc.max_pool %x {kernel_shape = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x3x8x8xf32>) -> tensor<1x3x4x4xf32>
  %5 = mpc.max_pool_grad %x, %p {kernel_shape = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x3x8x8xf32>, tensor<1x3x4x4xf32>) -> tensor<1x3x8x8xf32>
  // CHECK: mpc.avg_pool_grad %{{.*}} {{{.*}}count_include_pad = true{{.*}}} : (tensor<1x3x4x4xf32>) -> tensor<1x3x8x8xf32>
  %6 = mpc.avg_pool_grad %p {kernel_shape = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, count_include_pad = true} : (tensor<1x3x4x4xf32>) -> tensor<1x3x8x8xf32>
  // CHECK: mpc.gather_grad %{{.*}}, %{{.*}} {axis = 0 : i64} : (tensor<2x5x16xf32>, tensor<2x5xi32>) -> tensor<100x16xf32>
  %7 = mpc.gather_grad %dg, %ids {axis = 0 : i64} : (tensor<2x5x16xf32>, tensor<2x5xi32>) -> tensor<100x16xf32>
  return
}

// -----

// CHECK-LABEL: func.func @math_functions
func.func @math_functions(%x: tensor<4xf32>, %i: tensor<4xi64>) -> (tensor<4xf32>, tensor<4xi64>) {
  // CHECK: mpc.sin %{{.*}} : tensor<4xf32>
  %0 = mpc.sin %x : tensor<4xf32>
  // CHECK: mpc.cos
  %1 = mpc.cos %0 : tensor<4xf32>
  // CHECK: mpc.tan
  %2 = mpc.tan %1 : tensor<4xf32>
  // CHECK: mpc.asin
  %3 = mpc.asin %2 : tensor<4xf32>
  // CHECK: mpc.acos
  %4 = mpc.acos %3 : tensor<4xf32>
  // CHECK: mpc.atan
  %5 = mpc.atan %4 : tensor<4xf32>
  // CHECK: mpc.sinh
  %6 = mpc.sinh %5 : tensor<4xf32>
  // CHECK: mpc.cosh
  %7 = mpc.cosh %6 : tensor<4xf32>
  // CHECK: mpc.asinh
  %8 = mpc.asinh %7 : tensor<4xf32>
  // CHECK: mpc.acosh
  %9 = mpc.acosh %8 : tensor<4xf32>
  // CHECK: mpc.atanh
  %10 = mpc.atanh %9 : tensor<4xf32>
  // CHECK: mpc.floor
  %11 = mpc.floor %10 : tensor<4xf32>
  // CHECK: mpc.ceil
  %12 = mpc.ceil %11 : tensor<4xf32>
  // CHECK: mpc.round
  %13 = mpc.round %12 : tensor<4xf32>
  // CHECK: mpc.sign %{{.*}} : tensor<4xf32>
  %14 = mpc.sign %13 : tensor<4xf32>
  // CHECK: mpc.sign %{{.*}} : tensor<4xi64>
  %15 = mpc.sign %i : tensor<4xi64>
  return %14, %15 : tensor<4xf32>, tensor<4xi64>
}
