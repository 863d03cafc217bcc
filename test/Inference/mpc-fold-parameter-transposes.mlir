// RUN: mpc-opt --mpc-fold-parameter-transposes --split-input-file %s | FileCheck %s

// The transpose is the parameter's only reader: the parameter itself now
// holds W^T (same name) and the transpose is gone.
// CHECK-LABEL: module
// CHECK-NEXT: mpc.parameter @w : tensor<3x2xf32> = dense<{{\[}}[1.000000e+00, 4.000000e+00], [2.000000e+00, 5.000000e+00], [3.000000e+00, 6.000000e+00]]>
// CHECK-NEXT: func.func @main
// CHECK-NEXT: %[[W:.+]] = mpc.get_parameter @w : tensor<3x2xf32>
// CHECK-NEXT: %[[Y:.+]] = mpc.matmul %arg0, %[[W]]
// CHECK-NOT: mpc.transpose
module {
  mpc.parameter @w : tensor<2x3xf32> = dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]> : tensor<2x3xf32>
  func.func @main(%x: tensor<4x3xf32>) -> tensor<4x2xf32> {
    %w = mpc.get_parameter @w : tensor<2x3xf32>
    %t = mpc.transpose %w {perm = array<i64: 1, 0>} : (tensor<2x3xf32>) -> tensor<3x2xf32>
    %y = mpc.matmul %x, %t : (tensor<4x3xf32>, tensor<3x2xf32>) -> tensor<4x2xf32>
    return %y : tensor<4x2xf32>
  }
}

// -----

// A parameter read elsewhere too (a tied embedding): a copy holds the
// transposed values, bf16 moved bit for bit; the original stays for the
// other reader, which keeps its node name on the new read.
// CHECK-LABEL: module
// CHECK-NEXT: mpc.parameter @emb : tensor<2x3xbf16> = dense<{{\[}}[1.000000e+00, 2.000000e+00, 3.000000e+00], [4.000000e+00, 5.000000e+00, 6.000000e+00]]>
// CHECK-NEXT: mpc.parameter @emb.T10 : tensor<3x2xbf16> = dense<{{\[}}[1.000000e+00, 4.000000e+00], [2.000000e+00, 5.000000e+00], [3.000000e+00, 6.000000e+00]]>
// CHECK: %[[E:.+]] = mpc.get_parameter @emb : tensor<2x3xbf16>
// CHECK: mpc.gather %[[E]]
// CHECK: %[[T:.+]] = mpc.get_parameter @emb.T10 {mpc.node = "head/Transpose"} : tensor<3x2xbf16>
// CHECK: mpc.matmul %{{.+}}, %[[T]]
// CHECK-NOT: mpc.transpose
module {
  mpc.parameter @emb : tensor<2x3xbf16> = dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]> : tensor<2x3xbf16>
  func.func @main(%ids: tensor<4xi64>, %x: tensor<4x3xbf16>) -> (tensor<4x3xbf16>, tensor<4x2xbf16>) {
    %e = mpc.get_parameter @emb : tensor<2x3xbf16>
    %g = mpc.gather %e, %ids {axis = 0 : i64} : (tensor<2x3xbf16>, tensor<4xi64>) -> tensor<4x3xbf16>
    %t = mpc.transpose %e {perm = array<i64: 1, 0>, mpc.node = "head/Transpose"} : (tensor<2x3xbf16>) -> tensor<3x2xbf16>
    %y = mpc.matmul %x, %t : (tensor<4x3xbf16>, tensor<3x2xbf16>) -> tensor<4x2xbf16>
    return %g, %y : tensor<4x3xbf16>, tensor<4x2xbf16>
  }
}

// -----

// A rank-3 permutation of a constant (result dim i = input dim perm[i]):
// r[i][j][k] = c[j][k][i] for c of shape 2x2x2 holding 0..7 row-major, so
// r[0] = [[0, 2], [4, 6]] and r[1] = [[1, 3], [5, 7]]. Splats only change
// shape. An i1 parameter (bit-packed storage) is left alone.
// CHECK-LABEL: func.func @constants
// CHECK-DAG: arith.constant dense<{{\[}}{{\[}}[0, 2], [4, 6]], {{\[}}[1, 3], [5, 7]]]> : tensor<2x2x2xi32>
// CHECK-DAG: arith.constant dense<1.500000e+00> : tensor<3x2xf32>
// CHECK: mpc.transpose %{{.+}} : (tensor<2x3xi1>) -> tensor<3x2xi1>
// CHECK-NOT: mpc.transpose
module {
  mpc.parameter @mask : tensor<2x3xi1> = dense<[[true, false, true], [false, true, false]]> : tensor<2x3xi1>
  func.func @constants() -> (tensor<2x2x2xi32>, tensor<3x2xf32>, tensor<3x2xi1>) {
    %c = arith.constant dense<[[[0, 1], [2, 3]], [[4, 5], [6, 7]]]> : tensor<2x2x2xi32>
    %r = mpc.transpose %c {perm = array<i64: 2, 0, 1>} : (tensor<2x2x2xi32>) -> tensor<2x2x2xi32>
    %s = arith.constant dense<1.5> : tensor<2x3xf32>
    %t = mpc.transpose %s {perm = array<i64: 1, 0>} : (tensor<2x3xf32>) -> tensor<3x2xf32>
    %m = mpc.get_parameter @mask : tensor<2x3xi1>
    %u = mpc.transpose %m {perm = array<i64: 1, 0>} : (tensor<2x3xi1>) -> tensor<3x2xi1>
    return %r, %t, %u : tensor<2x2x2xi32>, tensor<3x2xf32>, tensor<3x2xi1>
  }
}
