// RUN: mpc-opt %s --split-input-file --allow-unregistered-dialect --mpc-expose-intermediates | FileCheck %s

// A mixed program: each named low-precision value becomes an f32 result, its
// record on the result. The cast named like its op and the named constant are
// skipped; `mm` reads `add` through two casts; `mm` is returned already (cast
// to f32), so its record goes on that result, beside the result's own name.
// CHECK-LABEL: func.func @main
// CHECK-SAME: -> (tensor<2x3xf32> {mpc.intermediate = {index = 1 : i64, node = "mm", op = "mpc.matmul", producers = array<i64: 0>, result = 0 : i64, type = f16}, mpc.name = "y"},
// CHECK-SAME: tensor<2x4xf32> {mpc.intermediate = {index = 0 : i64, node = "add", op = "mpc.add", producers = array<i64>, result = 0 : i64, type = f16}})
// CHECK: %[[ADD:.+]] = mpc.add
// CHECK: %[[MM:.+]] = mpc.matmul
// CHECK: %[[Y:.+]] = mpc.cast %[[MM]] : tensor<2x3xf16> to tensor<2x3xf32>
// CHECK: %[[ADD32:.+]] = mpc.cast %[[ADD]] : tensor<2x4xf16> to tensor<2x4xf32>
// CHECK-NEXT: return %[[Y]], %[[ADD32]] : tensor<2x3xf32>, tensor<2x4xf32>
func.func @main(%x: tensor<2x4xf32> {mpc.name = "x"}) -> (tensor<2x3xf32> {mpc.name = "y"}) {
  %c = arith.constant {mpc.node = "c"} dense<1.0> : tensor<2x4xf16>
  %w = arith.constant dense<0.5> : tensor<4x3xf16>
  %xh = mpc.cast %x {mpc.node = "add"} : tensor<2x4xf32> to tensor<2x4xf16>
  %a = mpc.add %xh, %c {mpc.node = "add"} : (tensor<2x4xf16>, tensor<2x4xf16>) -> tensor<2x4xf16>
  %r = mpc.relu %a : tensor<2x4xf16>
  %a32 = mpc.cast %a : tensor<2x4xf16> to tensor<2x4xf32>
  %a16 = mpc.cast %a32 : tensor<2x4xf32> to tensor<2x4xf16>
  %m = mpc.matmul %a16, %w {mpc.node = "mm"} : (tensor<2x4xf16>, tensor<4x3xf16>) -> tensor<2x3xf16>
  %y = mpc.cast %m : tensor<2x3xf16> to tensor<2x3xf32>
  return %y : tensor<2x3xf32>
}

// -----

// f32 values @main returns already: no result is added (returning one value
// twice would crash the lowering), both get records in program order.
// CHECK-LABEL: func.func @main
// CHECK-SAME: -> (tensor<4xf32> {mpc.intermediate = {index = 1 : i64, node = "n", op = "mpc.neg", producers = array<i64: 0>, result = 0 : i64, type = f32}},
// CHECK-SAME: tensor<4xf32> {mpc.intermediate = {index = 0 : i64, node = "e", op = "mpc.exp", producers = array<i64>, result = 0 : i64, type = f32}})
// CHECK: return %[[N:.+]], %[[E:.+]] : tensor<4xf32>, tensor<4xf32>
func.func @main(%x: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %e = mpc.exp %x {mpc.node = "e"} : tensor<4xf32>
  %n = mpc.neg %e {mpc.node = "n"} : tensor<4xf32>
  return %n, %e : tensor<4xf32>, tensor<4xf32>
}

// -----

// An op with several results: each float result is exposed with its index,
// the integer one is not. An f16 value @main returns as f16 still gets an f32
// copy.
// CHECK-LABEL: func.func @main
// CHECK-SAME: -> (tensor<2xf16>,
// CHECK-SAME: tensor<2xf32> {mpc.intermediate = {index = 0 : i64, node = "split", op = "test.split", producers = array<i64>, result = 0 : i64, type = f16}},
// CHECK-SAME: tensor<2xf32> {mpc.intermediate = {index = 1 : i64, node = "split", op = "test.split", producers = array<i64>, result = 2 : i64, type = f32}},
// CHECK-SAME: tensor<2xf32> {mpc.intermediate = {index = 2 : i64, node = "sum", op = "mpc.add", producers = array<i64: 0, 1>, result = 0 : i64, type = f16}})
// CHECK: %[[SPLIT:.+]]:3 = "test.split"
// CHECK: %[[SUM:.+]] = mpc.add
// CHECK: %[[A:.+]] = mpc.cast %[[SPLIT]]#0 : tensor<2xf16> to tensor<2xf32>
// CHECK: %[[S:.+]] = mpc.cast %[[SUM]] : tensor<2xf16> to tensor<2xf32>
// CHECK: return %[[SUM]], %[[A]], %[[SPLIT]]#2, %[[S]]
func.func @main(%x: tensor<4xf16>) -> tensor<2xf16> {
  %a, %i, %b = "test.split"(%x) {mpc.node = "split"} : (tensor<4xf16>) -> (tensor<2xf16>, tensor<2xi64>, tensor<2xf32>)
  %bh = mpc.cast %b : tensor<2xf32> to tensor<2xf16>
  %s = mpc.add %a, %bh {mpc.node = "sum"} : (tensor<2xf16>, tensor<2xf16>) -> tensor<2xf16>
  return %s : tensor<2xf16>
}
