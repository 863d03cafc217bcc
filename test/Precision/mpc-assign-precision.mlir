// RUN: mpc-opt %s --split-input-file --mpc-assign-precision=policy=bf16 | FileCheck %s --check-prefixes=LOW,BF16
// RUN: mpc-opt %s --split-input-file --mpc-assign-precision=policy=fp16 | FileCheck %s --check-prefixes=LOW,FP16
// RUN: mpc-opt %s --split-input-file --mpc-assign-precision=policy=fp32 | FileCheck %s --check-prefix=FP32
// fp32 is the default policy.
// RUN: mpc-opt %s --split-input-file --mpc-assign-precision | FileCheck %s --check-prefix=FP32
// RUN: not mpc-opt %s --mpc-assign-precision=policy=fp12 2>&1 | FileCheck %s --check-prefix=BAD

// BAD: error: mpc-assign-precision: unknown policy 'fp12'; valid policies are fp32, fp16 and bf16

mpc.parameter @"fc.weight" : tensor<8x16xf32> = dense<0.5> : tensor<8x16xf32>
mpc.parameter @"fc.bias" : tensor<16xf32> = dense<0.1> : tensor<16xf32>

// An MLP head: the matmul goes low with an f32 accumulator, its followers go
// low with it, the softmax stays f32, and whatever reads the softmax follows
// it back to f32.
// LOW-LABEL: func.func @mlp
// FP32-LABEL: func.func @mlp
func.func @mlp(%x: tensor<4x8xf32>) -> tensor<4x16xf32> {
  // LOW: mpc.get_parameter @fc.weight {mpc.precision = f32, mpc.reason = "source: parameters are stored in f32"}
  // FP32: mpc.get_parameter @fc.weight {mpc.precision = f32, mpc.reason = "source: parameters are stored in f32"}
  %w = mpc.get_parameter @"fc.weight" : tensor<8x16xf32>
  %b = mpc.get_parameter @"fc.bias" : tensor<16xf32>
  // BF16: mpc.matmul {{.*}} {acc_type = f32, mpc.precision = bf16, mpc.reason = "compute-bound: bf16 with f32 accumulation"}
  // FP16: mpc.matmul {{.*}} {acc_type = f32, mpc.precision = f16, mpc.reason = "compute-bound: f16 with f32 accumulation"}
  // FP32: mpc.matmul {{.*}} {mpc.precision = f32, mpc.reason = "policy fp32"}
  %mm = mpc.matmul %x, %w : (tensor<4x8xf32>, tensor<8x16xf32>) -> tensor<4x16xf32>
  // The bias is a parameter: it is cast once, so it does not hold the add in f32.
  // BF16: mpc.add {{.*}} {mpc.precision = bf16, mpc.reason = "follows its inputs (all low)"}
  // FP16: mpc.add {{.*}} {mpc.precision = f16, mpc.reason = "follows its inputs (all low)"}
  // FP32: mpc.add {{.*}} {mpc.precision = f32, mpc.reason = "policy fp32"}
  %a = mpc.add %mm, %b : (tensor<4x16xf32>, tensor<16xf32>) -> tensor<4x16xf32>
  // BF16: mpc.relu {{.*}} {mpc.precision = bf16, mpc.reason = "follows its inputs (all low)"}
  // FP16: mpc.relu {{.*}} {mpc.precision = f16, mpc.reason = "follows its inputs (all low)"}
  %r = mpc.relu %a : tensor<4x16xf32>
  // BF16: mpc.transpose {{.*}} {mpc.precision = bf16, mpc.reason = "data movement follows its data", perm = array<i64: 1, 0>}
  // FP16: mpc.transpose {{.*}} {mpc.precision = f16, mpc.reason = "data movement follows its data", perm = array<i64: 1, 0>}
  %t = mpc.transpose %r {perm = array<i64: 1, 0>} : (tensor<4x16xf32>) -> tensor<16x4xf32>
  %t2 = mpc.transpose %t {perm = array<i64: 1, 0>} : (tensor<16x4xf32>) -> tensor<4x16xf32>
  // Sensitive ops get no acc_type: they compute in f32 already.
  // LOW: mpc.softmax {{.*}} {axis = 1 : i64, mpc.precision = f32, mpc.reason = "numerically sensitive: kept in f32"}
  // FP32: mpc.softmax {{.*}} {axis = 1 : i64, mpc.precision = f32, mpc.reason = "policy fp32"}
  %s = mpc.softmax %t2 {axis = 1 : i64} : tensor<4x16xf32>
  // LOW: mpc.add {{.*}} {mpc.precision = f32, mpc.reason = "follows an f32 input"}
  %o = mpc.add %s, %r : (tensor<4x16xf32>, tensor<4x16xf32>) -> tensor<4x16xf32>
  return %o : tensor<4x16xf32>
}

// -----

// Function arguments are f32 values produced at run time.
// LOW-LABEL: func.func @follows_arguments
func.func @follows_arguments(%x: tensor<4xf32>, %h: tensor<4xf16>) -> (tensor<4xf32>, tensor<4xf32>, tensor<4xf16>) {
  // LOW: mpc.tanh {{.*}} {mpc.precision = f32, mpc.reason = "follows an f32 input"}
  %0 = mpc.tanh %x : tensor<4xf32>
  // LOW: mpc.exp {{.*}} {mpc.precision = f32, mpc.reason = "numerically sensitive: kept in f32"}
  %1 = mpc.exp %x : tensor<4xf32>
  // An f16 argument is already low: the follower takes the policy's type.
  // BF16: mpc.neg {{.*}} {mpc.precision = bf16, mpc.reason = "follows its inputs (all low)"}
  // FP16: mpc.neg {{.*}} {mpc.precision = f16, mpc.reason = "follows its inputs (all low)"}
  %2 = mpc.neg %h : tensor<4xf16>
  return %0, %1, %2 : tensor<4xf32>, tensor<4xf32>, tensor<4xf16>
}

// -----

mpc.parameter @w : tensor<16x8xf32> = dense<0.5> : tensor<16x8xf32>
mpc.parameter @scale : tensor<1x16xf32> = dense<2.0> : tensor<1x16xf32>

// Rearranged parameters are still cast once; an op reading only parameters
// and constants has nothing low to follow.
// LOW-LABEL: func.func @parameters_and_constants
func.func @parameters_and_constants(%x: tensor<4x8xf32>) -> (tensor<4x16xf32>, tensor<16x8xf32>) {
  %p = mpc.get_parameter @w : tensor<16x8xf32>
  // LOW: mpc.transpose {{.*}} {mpc.precision = f32, mpc.reason = "parameter or constant data: stays f32", perm = array<i64: 1, 0>}
  %wt = mpc.transpose %p {perm = array<i64: 1, 0>} : (tensor<16x8xf32>) -> tensor<8x16xf32>
  // LOW: mpc.matmul
  %mm = mpc.matmul %x, %wt : (tensor<4x8xf32>, tensor<8x16xf32>) -> tensor<4x16xf32>
  %sp = mpc.get_parameter @scale : tensor<1x16xf32>
  // LOW: mpc.reshape {{.*}} {mpc.precision = f32, mpc.reason = "parameter or constant data: stays f32", shape = array<i64: 16>}
  %sr = mpc.reshape %sp {shape = array<i64: 16>} : (tensor<1x16xf32>) -> tensor<16xf32>
  // BF16: mpc.mul {{.*}} {mpc.precision = bf16, mpc.reason = "follows its inputs (all low)"}
  // FP16: mpc.mul {{.*}} {mpc.precision = f16, mpc.reason = "follows its inputs (all low)"}
  %m = mpc.mul %mm, %sr : (tensor<4x16xf32>, tensor<16xf32>) -> tensor<4x16xf32>
  %c = arith.constant dense<2.0> : tensor<16x8xf32>
  // LOW: mpc.add {{.*}} {mpc.precision = f32, mpc.reason = "inputs are parameters or constants: kept in f32"}
  %s = mpc.add %p, %c : (tensor<16x8xf32>, tensor<16x8xf32>) -> tensor<16x8xf32>
  return %m, %s : tensor<4x16xf32>, tensor<16x8xf32>
}

// -----

mpc.parameter @table : tensor<10x8xf32> = dense<0.5> : tensor<10x8xf32>

// A gather from a parameter table at run-time indices is a run-time value:
// it holds its reader in f32.
// LOW-LABEL: func.func @embedding
func.func @embedding(%ids: tensor<4xi64>, %x: tensor<4x8xf32>, %y: tensor<8x8xf32>) -> tensor<4x8xf32> {
  %t = mpc.get_parameter @table : tensor<10x8xf32>
  // LOW: mpc.gather {{.*}} {axis = 0 : i64, mpc.precision = f32, mpc.reason = "parameter or constant data: stays f32"}
  %g = mpc.gather %t, %ids {axis = 0 : i64} : (tensor<10x8xf32>, tensor<4xi64>) -> tensor<4x8xf32>
  %mm = mpc.matmul %x, %y : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
  // LOW: mpc.mul {{.*}} {mpc.precision = f32, mpc.reason = "follows an f32 input"}
  %m = mpc.mul %mm, %g : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  return %m : tensor<4x8xf32>
}

// -----

// Only float operands carry precision: integer compares get none, a gather
// follows its float table, not its indices.
// LOW-LABEL: func.func @non_float
// FP32-LABEL: func.func @non_float
func.func @non_float(%i: tensor<4xi64>, %j: tensor<4xi64>, %x: tensor<4x8xf32>, %y: tensor<8x8xf32>) -> (tensor<4xi1>, tensor<4x8xf32>) {
  // LOW: mpc.equal %{{.*}}, %{{.*}} : (tensor<4xi64>, tensor<4xi64>) -> tensor<4xi1>
  // FP32: mpc.equal %{{.*}}, %{{.*}} : (tensor<4xi64>, tensor<4xi64>) -> tensor<4xi1>
  %e = mpc.equal %i, %j : (tensor<4xi64>, tensor<4xi64>) -> tensor<4xi1>
  // LOW: mpc.matmul
  %mm = mpc.matmul %x, %y : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
  // BF16: mpc.gather {{.*}} {axis = 0 : i64, mpc.precision = bf16, mpc.reason = "data movement follows its data"}
  %g = mpc.gather %mm, %i {axis = 0 : i64} : (tensor<4x8xf32>, tensor<4xi64>) -> tensor<4x8xf32>
  return %e, %g : tensor<4xi1>, tensor<4x8xf32>
}

// -----

// Accumulating followers get an f32 accumulator too; sensitive reductions
// stay f32 without one; data movement of mixed precisions widens to f32.
// LOW-LABEL: func.func @conv_net
func.func @conv_net(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>, %y: tensor<1x4x4x4xf32>) -> (tensor<1x4xf32>, tensor<2x4x4x4xf32>) {
  // BF16: mpc.conv {{.*}} {acc_type = f32, dilations = array<i64: 1, 1>, group = 1 : i64, mpc.precision = bf16
  %c = mpc.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x8x8xf32>
  // BF16: mpc.avg_pool {{.*}} {acc_type = f32, kernel_shape = array<i64: 2, 2>, mpc.precision = bf16, mpc.reason = "follows its inputs (all low)"
  %p = mpc.avg_pool %c {kernel_shape = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, count_include_pad = false, ceil_mode = false} : (tensor<1x4x8x8xf32>) -> tensor<1x4x4x4xf32>
  // LOW: mpc.reduce_mean {{.*}} {axes = array<i64: 2, 3>, keepdims = false, mpc.precision = f32, mpc.reason = "numerically sensitive: kept in f32"}
  %m = mpc.reduce_mean %p {axes = array<i64: 2, 3>, keepdims = false} : (tensor<1x4x4x4xf32>) -> tensor<1x4xf32>
  // LOW: mpc.concat {{.*}} {axis = 0 : i64, mpc.precision = f32, mpc.reason = "data movement of mixed precisions: f32"}
  %cat = mpc.concat %p, %y {axis = 0 : i64} : (tensor<1x4x4x4xf32>, tensor<1x4x4x4xf32>) -> tensor<2x4x4x4xf32>
  return %m, %cat : tensor<1x4xf32>, tensor<2x4x4x4xf32>
}
