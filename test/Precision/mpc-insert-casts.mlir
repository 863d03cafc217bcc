// RUN: mpc-opt %s --split-input-file --mpc-insert-casts | FileCheck %s
// The pass runs on each function on its own (it touches no symbol).
// RUN: mpc-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(mpc-insert-casts))' | FileCheck %s
// The pass must leave IR that parses and verifies again.
// RUN: mpc-opt %s --split-input-file --mpc-insert-casts | mpc-opt --split-input-file --verify-each | FileCheck %s
// End to end with the assignment pass.
// The greedy strategy: this file tests cast insertion, not placement.
// RUN: mpc-opt %s --split-input-file --mpc-assign-precision="policy=bf16 strategy=greedy" --mpc-insert-casts | FileCheck %s --check-prefix=PIPE

mpc.parameter @w : tensor<8x16xf32> = dense<0.5> : tensor<8x16xf32>

// One cast per (value, type), placed after the value's definition and shared
// by every reader; the f32 readers of the bf16 relu (softmax, add, return)
// share one cast back, and the signature does not change.
// CHECK-LABEL: func.func @mlp
// CHECK-SAME: (%[[X:.+]]: tensor<4x8xf32>) -> (tensor<4x16xf32>, tensor<4x16xf32>)
// CHECK-NEXT: %[[XC:.+]] = mpc.cast %[[X]] : tensor<4x8xf32> to tensor<4x8xbf16>
// CHECK-NEXT: %[[W:.+]] = mpc.get_parameter @w {mpc.precision = f32} : tensor<8x16xf32>
// CHECK-NEXT: %[[WC:.+]] = mpc.cast %[[W]] : tensor<8x16xf32> to tensor<8x16xbf16>
// CHECK-NEXT: %[[MM:.+]] = mpc.matmul %[[XC]], %[[WC]] {acc_type = f32, mpc.precision = bf16} : (tensor<4x8xbf16>, tensor<8x16xbf16>) -> tensor<4x16xbf16>
// CHECK-NEXT: %[[R:.+]] = mpc.relu %[[MM]] {mpc.precision = bf16} : tensor<4x16xbf16>
// CHECK-NEXT: %[[RF:.+]] = mpc.cast %[[R]] : tensor<4x16xbf16> to tensor<4x16xf32>
// CHECK-NEXT: %[[S:.+]] = mpc.softmax %[[RF]] {axis = 1 : i64, mpc.precision = f32} : tensor<4x16xf32>
// CHECK-NEXT: %[[O:.+]] = mpc.add %[[S]], %[[RF]] {mpc.precision = f32} : (tensor<4x16xf32>, tensor<4x16xf32>) -> tensor<4x16xf32>
// CHECK-NEXT: return %[[O]], %[[RF]] : tensor<4x16xf32>, tensor<4x16xf32>
func.func @mlp(%x: tensor<4x8xf32>) -> (tensor<4x16xf32>, tensor<4x16xf32>) {
  %w = mpc.get_parameter @w {mpc.precision = f32} : tensor<8x16xf32>
  %mm = mpc.matmul %x, %w {acc_type = f32, mpc.precision = bf16} : (tensor<4x8xf32>, tensor<8x16xf32>) -> tensor<4x16xf32>
  %r = mpc.relu %mm {mpc.precision = bf16} : tensor<4x16xf32>
  %s = mpc.softmax %r {axis = 1 : i64, mpc.precision = f32} : tensor<4x16xf32>
  %o = mpc.add %s, %r {mpc.precision = f32} : (tensor<4x16xf32>, tensor<4x16xf32>) -> tensor<4x16xf32>
  return %o, %r : tensor<4x16xf32>, tensor<4x16xf32>
}

// -----

// Ops without mpc.precision are left alone (and read the type they read
// before); integer operands and results are never cast; a low argument is
// widened for an f32 op.
// CHECK-LABEL: func.func @untouched
// CHECK-SAME: (%[[X:.+]]: tensor<4xf32>, %[[H:.+]]: tensor<4xf16>, %[[I:.+]]: tensor<4xi64>)
// CHECK-SAME: -> (tensor<4xf32>, tensor<4xf16>, tensor<4xi1>)
// CHECK-NEXT: %[[HF:.+]] = mpc.cast %[[H]] : tensor<4xf16> to tensor<4xf32>
// CHECK-NEXT: %[[N:.+]] = mpc.neg %[[X]] : tensor<4xf32>
// CHECK-NEXT: %[[NC:.+]] = mpc.cast %[[N]] : tensor<4xf32> to tensor<4xf16>
// CHECK-NEXT: %[[T:.+]] = mpc.tanh %[[NC]] {mpc.precision = f16} : tensor<4xf16>
// CHECK-NEXT: %[[TF:.+]] = mpc.cast %[[T]] : tensor<4xf16> to tensor<4xf32>
// CHECK-NEXT: %[[A:.+]] = mpc.abs %[[TF]] : tensor<4xf32>
// CHECK-NEXT: %[[E:.+]] = mpc.equal %[[I]], %[[I]] {mpc.precision = f16} : (tensor<4xi64>, tensor<4xi64>) -> tensor<4xi1>
// CHECK-NEXT: %[[S:.+]] = mpc.sub %[[HF]], %[[HF]] {mpc.precision = f32} : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
// CHECK-NEXT: %[[SH:.+]] = mpc.cast %[[S]] : tensor<4xf32> to tensor<4xf16>
// CHECK-NEXT: return %[[A]], %[[SH]], %[[E]] : tensor<4xf32>, tensor<4xf16>, tensor<4xi1>
func.func @untouched(%x: tensor<4xf32>, %h: tensor<4xf16>, %i: tensor<4xi64>) -> (tensor<4xf32>, tensor<4xf16>, tensor<4xi1>) {
  %n = mpc.neg %x : tensor<4xf32>
  %t = mpc.tanh %n {mpc.precision = f16} : tensor<4xf32>
  %a = mpc.abs %t : tensor<4xf32>
  %e = mpc.equal %i, %i {mpc.precision = f16} : (tensor<4xi64>, tensor<4xi64>) -> tensor<4xi1>
  %s = mpc.sub %h, %h {mpc.precision = f32} : (tensor<4xf16>, tensor<4xf16>) -> tensor<4xf16>
  return %a, %s, %e : tensor<4xf32>, tensor<4xf16>, tensor<4xi1>
}

// -----

// Ops whose result type is inferred from their operands (broadcasting, where,
// data movement) still verify once retyped.
// CHECK-LABEL: func.func @inferred
// CHECK-DAG: %[[YC:.+]] = mpc.cast %{{.*}} : tensor<4xf32> to tensor<4xbf16>
// CHECK-DAG: %[[XC:.+]] = mpc.cast %{{.*}} : tensor<2x4xf32> to tensor<2x4xbf16>
// CHECK: mpc.where %{{.*}}, %[[XC]], %[[YC]] {mpc.precision = bf16} : (tensor<2x4xi1>, tensor<2x4xbf16>, tensor<4xbf16>) -> tensor<2x4xbf16>
// CHECK: mpc.transpose %{{.*}} {mpc.precision = bf16, perm = array<i64: 1, 0>} : (tensor<2x4xbf16>) -> tensor<4x2xbf16>
// CHECK: mpc.reduce_sum %{{.*}} {axes = array<i64: 1>, mpc.precision = f32} : (tensor<4x2xf32>) -> tensor<4x1xf32>
// CHECK: return %{{.*}} : tensor<4x1xf32>
func.func @inferred(%c: tensor<2x4xi1>, %x: tensor<2x4xf32>, %y: tensor<4xf32>) -> tensor<4x1xf32> {
  %w = mpc.where %c, %x, %y {mpc.precision = bf16} : (tensor<2x4xi1>, tensor<2x4xf32>, tensor<4xf32>) -> tensor<2x4xf32>
  %t = mpc.transpose %w {mpc.precision = bf16, perm = array<i64: 1, 0>} : (tensor<2x4xf32>) -> tensor<4x2xf32>
  %r = mpc.reduce_sum %t {axes = array<i64: 1>, mpc.precision = f32} : (tensor<4x2xf32>) -> tensor<4x1xf32>
  return %r : tensor<4x1xf32>
}

// -----

mpc.parameter @"fc.weight" : tensor<8x16xf32> = dense<0.5> : tensor<8x16xf32>
mpc.parameter @"fc.bias" : tensor<16xf32> = dense<0.1> : tensor<16xf32>

// PIPE-LABEL: func.func @head
// PIPE-SAME: -> tensor<4x16xf32>
// PIPE-DAG: %[[XC:.+]] = mpc.cast %{{.*}} : tensor<4x8xf32> to tensor<4x8xbf16>
// PIPE-DAG: %[[WC:.+]] = mpc.cast %{{.*}} : tensor<8x16xf32> to tensor<8x16xbf16>
// PIPE-DAG: %[[BC:.+]] = mpc.cast %{{.*}} : tensor<16xf32> to tensor<16xbf16>
// PIPE: %[[MM:.+]] = mpc.matmul %[[XC]], %[[WC]] {{.*}} -> tensor<4x16xbf16>
// PIPE: %[[A:.+]] = mpc.add %[[MM]], %[[BC]] {{.*}} -> tensor<4x16xbf16>
// PIPE: %[[AF:.+]] = mpc.cast %[[A]] : tensor<4x16xbf16> to tensor<4x16xf32>
// PIPE: %[[S:.+]] = mpc.softmax %[[AF]] {{.*}} : tensor<4x16xf32>
// PIPE: return %[[S]] : tensor<4x16xf32>
func.func @head(%x: tensor<4x8xf32>) -> tensor<4x16xf32> {
  %w = mpc.get_parameter @"fc.weight" : tensor<8x16xf32>
  %b = mpc.get_parameter @"fc.bias" : tensor<16xf32>
  %mm = mpc.matmul %x, %w : (tensor<4x8xf32>, tensor<8x16xf32>) -> tensor<4x16xf32>
  %a = mpc.add %mm, %b : (tensor<4x16xf32>, tensor<16xf32>) -> tensor<4x16xf32>
  %s = mpc.softmax %a {axis = 1 : i64} : tensor<4x16xf32>
  return %s : tensor<4x16xf32>
}
