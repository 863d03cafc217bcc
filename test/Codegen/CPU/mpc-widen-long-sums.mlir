// RUN: mpc-opt --split-input-file --mpc-widen-long-sums %s | FileCheck %s
// RUN: mpc-opt --mpc-widen-long-sums=min-count=4096 %s | FileCheck %s --check-prefix=HIGH

// A batch norm's statistics: 64 x 8 x 8 = 4096 f32 values per channel sum in
// f64; the mean divides in f64 and rounds once.
// CHECK-LABEL: func.func @long_sums
// CHECK: mpc.reduce_sum %{{.+}} {acc_type = f64, axes = array<i64: 0, 2, 3>, keepdims = false}
// CHECK: mpc.reduce_mean %{{.+}} {acc_type = f64, axes = array<i64: 0, 2, 3>}
// HIGH-LABEL: func.func @long_sums
// HIGH: mpc.reduce_sum %{{.+}} {acc_type = f64,
// HIGH: mpc.reduce_mean %{{.+}} {acc_type = f64,
func.func @long_sums(%x: tensor<64x8x8x8xf32>) -> (tensor<8xf32>, tensor<1x8x1x1xf32>) {
  %s = mpc.reduce_sum %x {axes = array<i64: 0, 2, 3>, keepdims = false} : (tensor<64x8x8x8xf32>) -> tensor<8xf32>
  %m = mpc.reduce_mean %x {axes = array<i64: 0, 2, 3>} : (tensor<64x8x8x8xf32>) -> tensor<1x8x1x1xf32>
  return %s, %m : tensor<8xf32>, tensor<1x8x1x1xf32>
}

// -----

// Left alone: short sums (16 < 64 elements), an accumulator chosen
// before (the precision passes' f32 one for bf16 sums), other element types
// (a bf16 sum already accumulates in f32, f64 needs nothing), products and
// maxima.
// CHECK-LABEL: func.func @left_alone
// CHECK: mpc.reduce_sum %{{.+}} {axes = array<i64: 1>, keepdims = false} : (tensor<4x16xf32>)
// CHECK: mpc.reduce_sum %{{.+}} {acc_type = f32, axes = array<i64: 0>, keepdims = false} : (tensor<128x4xbf16>)
// CHECK: mpc.reduce_sum %{{.+}} {axes = array<i64: 0>, keepdims = false} : (tensor<128x4xf64>)
// CHECK: mpc.reduce_prod %{{.+}} {axes = array<i64: 0>, keepdims = false} : (tensor<128x4xf32>)
// CHECK: mpc.reduce_max %{{.+}} {axes = array<i64: 0>, keepdims = false} : (tensor<128x4xf32>)
func.func @left_alone(%a: tensor<4x16xf32>, %b: tensor<128x4xbf16>, %c: tensor<128x4xf64>, %d: tensor<128x4xf32>)
    -> (tensor<4xf32>, tensor<4xbf16>, tensor<4xf64>, tensor<4xf32>, tensor<4xf32>) {
  %0 = mpc.reduce_sum %a {axes = array<i64: 1>, keepdims = false} : (tensor<4x16xf32>) -> tensor<4xf32>
  %1 = mpc.reduce_sum %b {acc_type = f32, axes = array<i64: 0>, keepdims = false} : (tensor<128x4xbf16>) -> tensor<4xbf16>
  %2 = mpc.reduce_sum %c {axes = array<i64: 0>, keepdims = false} : (tensor<128x4xf64>) -> tensor<4xf64>
  %3 = mpc.reduce_prod %d {axes = array<i64: 0>, keepdims = false} : (tensor<128x4xf32>) -> tensor<4xf32>
  %4 = mpc.reduce_max %d {axes = array<i64: 0>, keepdims = false} : (tensor<128x4xf32>) -> tensor<4xf32>
  return %0, %1, %2, %3, %4 : tensor<4xf32>, tensor<4xbf16>, tensor<4xf64>, tensor<4xf32>, tensor<4xf32>
}

// -----

// Exactly min-count elements (64) are widened, one fewer is not.
// CHECK-LABEL: func.func @threshold
// CHECK: mpc.reduce_sum %{{.+}} {acc_type = f64, axes = array<i64: 0, 1>, keepdims = false} : (tensor<8x8xf32>)
// CHECK: mpc.reduce_sum %{{.+}} {axes = array<i64: 0>, keepdims = false} : (tensor<63x2xf32>)
func.func @threshold(%a: tensor<8x8xf32>, %b: tensor<63x2xf32>) -> (tensor<f32>, tensor<2xf32>) {
  %0 = mpc.reduce_sum %a {axes = array<i64: 0, 1>, keepdims = false} : (tensor<8x8xf32>) -> tensor<f32>
  %1 = mpc.reduce_sum %b {axes = array<i64: 0>, keepdims = false} : (tensor<63x2xf32>) -> tensor<2xf32>
  return %0, %1 : tensor<f32>, tensor<2xf32>
}
