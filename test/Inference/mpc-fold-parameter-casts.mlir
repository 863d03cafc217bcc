// RUN: mpc-opt --mpc-fold-parameter-casts --split-input-file %s | FileCheck %s

// The cast is the parameter's only reader: the parameter itself now holds
// the bf16 values (same name), rounded to nearest even as the compiled cast
// rounds: 1 + 2^-8 is a tie between 1 and 1 + 2^-7 and goes to the even 1;
// 1 + 3 * 2^-8 is a tie between 1 + 2^-7 (odd) and 1 + 2^-6 (even).
// CHECK-LABEL: module
// CHECK-NEXT: mpc.parameter @w : tensor<2x2xbf16> = dense<{{\[}}[1.000000e+00, 1.015630e+00], [3.000000e+00, -0.000000e+00]]> : tensor<2x2xbf16>
// CHECK-NEXT: func.func @main
// CHECK-NEXT: %[[W:.+]] = mpc.get_parameter @w : tensor<2x2xbf16>
// CHECK-NEXT: %[[Y:.+]] = mpc.matmul %arg0, %[[W]]
// CHECK-NOT: mpc.cast
module {
  mpc.parameter @w : tensor<2x2xf32> = dense<[[1.00390625, 1.01171875], [3.0, -0.0]]> : tensor<2x2xf32>
  func.func @main(%x: tensor<4x2xbf16>) -> tensor<4x2xbf16> {
    %w = mpc.get_parameter @w : tensor<2x2xf32>
    %c = mpc.cast %w : tensor<2x2xf32> to tensor<2x2xbf16>
    %y = mpc.matmul %x, %c : (tensor<4x2xbf16>, tensor<2x2xbf16>) -> tensor<4x2xbf16>
    return %y : tensor<4x2xbf16>
  }
}

// -----

// A parameter read elsewhere too (an embedding gathered in f32): a copy
// `<name>.bf16` holds the rounded values and keeps the cast's node name;
// the f32 original stays for the gather. A second cast of the same
// parameter to bf16 reads the same copy.
// CHECK-LABEL: module
// CHECK-NEXT: mpc.parameter @emb : tensor<2x2xf32>
// CHECK-NEXT: mpc.parameter @emb.bf16 : tensor<2x2xbf16> = dense<{{\[}}[1.000000e+00, 1.015630e+00], [3.000000e+00, 5.000000e-01]]> : tensor<2x2xbf16>
// CHECK-NOT: mpc.parameter
// CHECK: %[[E:.+]] = mpc.get_parameter @emb : tensor<2x2xf32>
// CHECK: mpc.gather %[[E]]
// CHECK: %[[C:.+]] = mpc.get_parameter @emb.bf16 {mpc.node = "head/Cast"} : tensor<2x2xbf16>
// CHECK: mpc.matmul %{{.+}}, %[[C]]
// CHECK: %[[D:.+]] = mpc.get_parameter @emb.bf16 : tensor<2x2xbf16>
// CHECK: mpc.add %{{.+}}, %[[D]]
// CHECK-NOT: mpc.cast
module {
  mpc.parameter @emb : tensor<2x2xf32> = dense<[[1.00390625, 1.01171875], [3.0, 0.5]]> : tensor<2x2xf32>
  func.func @main(%ids: tensor<4xi64>, %x: tensor<4x2xbf16>) -> (tensor<4x2xf32>, tensor<4x2xbf16>, tensor<2x2xbf16>) {
    %e = mpc.get_parameter @emb : tensor<2x2xf32>
    %g = mpc.gather %e, %ids {axis = 0 : i64} : (tensor<2x2xf32>, tensor<4xi64>) -> tensor<4x2xf32>
    %c = mpc.cast %e {mpc.node = "head/Cast"} : tensor<2x2xf32> to tensor<2x2xbf16>
    %y = mpc.matmul %x, %c : (tensor<4x2xbf16>, tensor<2x2xbf16>) -> tensor<4x2xbf16>
    %d = mpc.cast %e : tensor<2x2xf32> to tensor<2x2xbf16>
    %s = mpc.add %d, %d : (tensor<2x2xbf16>, tensor<2x2xbf16>) -> tensor<2x2xbf16>
    return %g, %y, %s : tensor<4x2xf32>, tensor<4x2xbf16>, tensor<2x2xbf16>
  }
}

// -----

// A chain folds whole: reshape, then the cast into f16 (the parameter ends
// up 6xf16 under its own name). f16 rounding at its edges: 1 + 2^-11 ties
// to 1; 65519 -> 65504 (the largest f16); 65520 ties to inf; 2^-25 ties to
// 0; 3 * 2^-26 is above half the smallest subnormal 2^-24 and rounds to it.
// CHECK-LABEL: module
// CHECK-NEXT: mpc.parameter @v : tensor<6xf16> = dense<[1.000000e+00, 6.550400e+04, 0x7C00, 0.000000e+00, 5.960460e-08, -2.000000e+00]> : tensor<6xf16>
// CHECK-NEXT: func.func @main
// CHECK-NEXT: %[[V:.+]] = mpc.get_parameter @v : tensor<6xf16>
// CHECK-NEXT: return %[[V]]
module {
  mpc.parameter @v : tensor<2x3xf32> = dense<[[1.00048828125, 65519.0, 65520.0], [2.98023223876953125e-08, 4.470348358154296875e-08, -2.0]]> : tensor<2x3xf32>
  func.func @main() -> tensor<6xf16> {
    %v = mpc.get_parameter @v : tensor<2x3xf32>
    %r = mpc.reshape %v {shape = array<i64: 6>} : (tensor<2x3xf32>) -> tensor<6xf32>
    %c = mpc.cast %r : tensor<6xf32> to tensor<6xf16>
    return %c : tensor<6xf16>
  }
}

// -----

// A cast, then a transpose of the bf16 values: both fold, in order.
// CHECK-LABEL: module
// CHECK-NEXT: mpc.parameter @t : tensor<3x2xbf16> = dense<{{\[}}[1.000000e+00, 4.000000e+00], [2.000000e+00, 5.000000e+00], [3.000000e+00, 6.000000e+00]]> : tensor<3x2xbf16>
// CHECK-NEXT: func.func @main
// CHECK-NEXT: %[[T:.+]] = mpc.get_parameter @t : tensor<3x2xbf16>
// CHECK-NEXT: return %[[T]]
module {
  mpc.parameter @t : tensor<2x3xf32> = dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]> : tensor<2x3xf32>
  func.func @main() -> tensor<3x2xbf16> {
    %t = mpc.get_parameter @t : tensor<2x3xf32>
    %c = mpc.cast %t : tensor<2x3xf32> to tensor<2x3xbf16>
    %r = mpc.transpose %c {perm = array<i64: 1, 0>} : (tensor<2x3xbf16>) -> tensor<3x2xbf16>
    return %r : tensor<3x2xbf16>
  }
}

// -----

// Left to the run: a parameter holding a NaN (the compiled bf16 cast gives
// 0x7FC0 for every NaN, the folder keeps its sign), a widening cast (the
// copy would be larger), an f64 parameter, and a cast of a function argument.
// CHECK-LABEL: module
// CHECK-NEXT: mpc.parameter @nan : tensor<2xf32>
// CHECK-NEXT: mpc.parameter @narrow : tensor<2xbf16>
// CHECK-NEXT: mpc.parameter @wide : tensor<2xf64>
// CHECK: mpc.cast %{{.+}} : tensor<2xf32> to tensor<2xbf16>
// CHECK: mpc.cast %{{.+}} : tensor<2xbf16> to tensor<2xf32>
// CHECK: mpc.cast %{{.+}} : tensor<2xf64> to tensor<2xbf16>
// CHECK: mpc.cast %{{.+}} : tensor<2xf32> to tensor<2xf16>
module {
  mpc.parameter @nan : tensor<2xf32> = dense<[1.0, 0xFFC00000]> : tensor<2xf32>
  mpc.parameter @narrow : tensor<2xbf16> = dense<[1.0, 2.0]> : tensor<2xbf16>
  mpc.parameter @wide : tensor<2xf64> = dense<[1.0, 2.0]> : tensor<2xf64>
  func.func @main(%x: tensor<2xf32>) -> (tensor<2xbf16>, tensor<2xf32>, tensor<2xbf16>, tensor<2xf16>) {
    %n = mpc.get_parameter @nan : tensor<2xf32>
    %a = mpc.cast %n : tensor<2xf32> to tensor<2xbf16>
    %b16 = mpc.get_parameter @narrow : tensor<2xbf16>
    %b = mpc.cast %b16 : tensor<2xbf16> to tensor<2xf32>
    %w = mpc.get_parameter @wide : tensor<2xf64>
    %c = mpc.cast %w : tensor<2xf64> to tensor<2xbf16>
    %d = mpc.cast %x : tensor<2xf32> to tensor<2xf16>
    return %a, %b, %c, %d : tensor<2xbf16>, tensor<2xf32>, tensor<2xbf16>, tensor<2xf16>
  }
}

// -----

// A transpose of a parameter that is read elsewhere too stays (a copy of
// the transposed f32 data would only add memory), and the
// rest of the module keeps reading the f32 values.
// CHECK-LABEL: module
// CHECK-NEXT: mpc.parameter @s : tensor<2x3xf32>
// CHECK-NOT: mpc.parameter
// CHECK: %[[S:.+]] = mpc.get_parameter @s : tensor<2x3xf32>
// CHECK: mpc.transpose %[[S]]
// CHECK: mpc.add %[[S]], %[[S]]
module {
  mpc.parameter @s : tensor<2x3xf32> = dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]> : tensor<2x3xf32>
  func.func @main() -> (tensor<3x2xf32>, tensor<2x3xf32>) {
    %s = mpc.get_parameter @s : tensor<2x3xf32>
    %t = mpc.transpose %s {perm = array<i64: 1, 0>} : (tensor<2x3xf32>) -> tensor<3x2xf32>
    %a = mpc.add %s, %s : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
    return %t, %a : tensor<3x2xf32>, tensor<2x3xf32>
  }
}
