// RUN: mpc-opt %s --split-input-file --mpc-fold-casts | FileCheck %s
// The pass runs on each function on its own (it touches no symbol).
// RUN: mpc-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(mpc-fold-casts))' | FileCheck %s

// A round trip through a wider type is the identity; through a narrower one
// it rounds, so it stays.
// CHECK-LABEL: func.func @round_trips
// CHECK-SAME: (%[[H:.+]]: tensor<4xf16>, %[[F:.+]]: tensor<4xf32>)
// CHECK-NEXT: %[[N:.+]] = mpc.cast %[[F]] : tensor<4xf32> to tensor<4xf16>
// CHECK-NEXT: %[[W:.+]] = mpc.cast %[[N]] : tensor<4xf16> to tensor<4xf32>
// CHECK-NEXT: return %[[H]], %[[W]], %[[F]], %[[F]]
func.func @round_trips(%h: tensor<4xf16>, %f: tensor<4xf32>) -> (tensor<4xf16>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) {
  %0 = mpc.cast %h : tensor<4xf16> to tensor<4xf32>
  %1 = mpc.cast %0 : tensor<4xf32> to tensor<4xf16>
  %2 = mpc.cast %f : tensor<4xf32> to tensor<4xf16>
  %3 = mpc.cast %2 : tensor<4xf16> to tensor<4xf32>
  %4 = mpc.cast %f : tensor<4xf32> to tensor<4xf64>
  %5 = mpc.cast %4 : tensor<4xf64> to tensor<4xf32>
  %6 = mpc.cast %f : tensor<4xf32> to tensor<4xf32>
  return %1, %3, %5, %6 : tensor<4xf16>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>
}

// -----

// After an exact widening the outer cast reads the narrow value directly
// (one rounding instead of two); a lossy first step (f16 -> bf16) blocks it.
// CHECK-LABEL: func.func @chains
// CHECK-SAME: (%[[B:.+]]: tensor<4xbf16>, %[[E4:.+]]: tensor<4xf8E4M3FN>, %[[E5:.+]]: tensor<4xf8E5M2>, %[[H:.+]]: tensor<4xf16>)
// CHECK-NEXT: %[[BH:.+]] = mpc.cast %[[B]] : tensor<4xbf16> to tensor<4xf16>
// CHECK-NEXT: %[[E4B:.+]] = mpc.cast %[[E4]] : tensor<4xf8E4M3FN> to tensor<4xbf16>
// CHECK-NEXT: %[[E5F:.+]] = mpc.cast %[[E5]] : tensor<4xf8E5M2> to tensor<4xf32>
// CHECK-NEXT: %[[HB:.+]] = mpc.cast %[[H]] : tensor<4xf16> to tensor<4xbf16>
// CHECK-NEXT: %[[HBF:.+]] = mpc.cast %[[HB]] : tensor<4xbf16> to tensor<4xf32>
// CHECK-NEXT: return %[[BH]], %[[E4B]], %[[E5F]], %[[HBF]]
func.func @chains(%b: tensor<4xbf16>, %e4: tensor<4xf8E4M3FN>, %e5: tensor<4xf8E5M2>, %h: tensor<4xf16>) -> (tensor<4xf16>, tensor<4xbf16>, tensor<4xf32>, tensor<4xf32>) {
  %0 = mpc.cast %b : tensor<4xbf16> to tensor<4xf32>
  %1 = mpc.cast %0 : tensor<4xf32> to tensor<4xf16>
  %2 = mpc.cast %e4 : tensor<4xf8E4M3FN> to tensor<4xf32>
  %3 = mpc.cast %2 : tensor<4xf32> to tensor<4xbf16>
  %4 = mpc.cast %e5 : tensor<4xf8E5M2> to tensor<4xf16>
  %5 = mpc.cast %4 : tensor<4xf16> to tensor<4xf32>
  %6 = mpc.cast %h : tensor<4xf16> to tensor<4xbf16>
  %7 = mpc.cast %6 : tensor<4xbf16> to tensor<4xf32>
  return %1, %3, %5, %7 : tensor<4xf16>, tensor<4xbf16>, tensor<4xf32>, tensor<4xf32>
}

// -----

// A widening that other ops still read survives; unused casts go; nothing
// but casts is touched (the arith.addf of constants is not folded, the dead
// mpc.neg stays).
// CHECK-LABEL: func.func @only_casts
// CHECK-SAME: (%[[H:.+]]: tensor<4xf16>)
// CHECK-NEXT: %[[HF:.+]] = mpc.cast %[[H]] : tensor<4xf16> to tensor<4xf32>
// CHECK-NEXT: %[[N:.+]] = mpc.neg %[[HF]] : tensor<4xf32>
// CHECK-NEXT: %[[DEAD:.+]] = mpc.neg %[[N]] : tensor<4xf32>
// CHECK-NEXT: %[[C:.+]] = arith.constant 1.000000e+00 : f32
// CHECK-NEXT: %[[S:.+]] = arith.addf %[[C]], %[[C]] : f32
// CHECK-NEXT: return %[[H]], %[[N]], %[[S]]
func.func @only_casts(%h: tensor<4xf16>) -> (tensor<4xf16>, tensor<4xf32>, f32) {
  %0 = mpc.cast %h : tensor<4xf16> to tensor<4xf32>
  %n = mpc.neg %0 : tensor<4xf32>
  %dead = mpc.neg %n : tensor<4xf32>
  %unused = mpc.cast %n : tensor<4xf32> to tensor<4xbf16>
  %1 = mpc.cast %0 : tensor<4xf32> to tensor<4xf16>
  %c = arith.constant 1.0 : f32
  %s = arith.addf %c, %c : f32
  return %1, %n, %s : tensor<4xf16>, tensor<4xf32>, f32
}

// -----

// Casts of constants fold with round-to-nearest-even: 1 + 2^-11 is a tie in
// f16 and goes to the even 1.0, 1 + 3 * 2^-11 goes up to 1 + 2^-9; 70000
// overflows f16 to inf. A constant only the cast read is erased.
// CHECK-LABEL: func.func @constants_f16_bf16
// CHECK-NOT: tensor<4xf32>
// CHECK-DAG: arith.constant dense<[1.000000e+00, 1.000000e+00, 1.001950e+00, 0x7C00]> : tensor<4xf16>
// 1 + 2^-8 is a tie in bf16 (to 1.0), 1 + 3 * 2^-8 rounds up to 1 + 2^-6.
// CHECK-DAG: arith.constant dense<[1.000000e+00, 1.015630e+00]> : tensor<2xbf16>
// CHECK-DAG: arith.constant dense<3.000000e+00> : tensor<8xbf16>
// Two casts, two roundings: f32 -> f16 -> f32 of a constant is the rounded value.
// CHECK-DAG: arith.constant dense<[1.000000e+00, 1.00195313]> : tensor<2xf32>
// CHECK-NOT: mpc.cast
func.func @constants_f16_bf16() -> (tensor<4xf16>, tensor<2xbf16>, tensor<8xbf16>, tensor<2xf32>) {
  %c0 = arith.constant dense<[1.0, 1.00048828125, 1.00146484375, 70000.0]> : tensor<4xf32>
  %0 = mpc.cast %c0 : tensor<4xf32> to tensor<4xf16>
  %c1 = arith.constant dense<[1.00390625, 1.01171875]> : tensor<2xf32>
  %1 = mpc.cast %c1 : tensor<2xf32> to tensor<2xbf16>
  %c2 = arith.constant dense<3.0> : tensor<8xf32>
  %2 = mpc.cast %c2 : tensor<8xf32> to tensor<8xbf16>
  %c3 = arith.constant dense<[1.00048828125, 1.00146484375]> : tensor<2xf32>
  %3 = mpc.cast %c3 : tensor<2xf32> to tensor<2xf16>
  %4 = mpc.cast %3 : tensor<2xf16> to tensor<2xf32>
  return %0, %1, %2, %4 : tensor<4xf16>, tensor<2xbf16>, tensor<8xbf16>, tensor<2xf32>
}

// -----

// fp8 E4M3FN has no infinity: with `saturate` (the default) out-of-range
// values and infinities clamp to +-448; without it they become NaN. 17 and 19
// are ties between representable neighbours (16/18, 18/20): both go to the
// even mantissa. NaN stays NaN either way.
// CHECK-LABEL: func.func @constants_fp8
// CHECK-DAG: arith.constant dense<[4.480000e+02, 4.480000e+02, -4.480000e+02, 4.480000e+02, 1.600000e+01, 2.000000e+01, 0x7F]> : tensor<7xf8E4M3FN>
// CHECK-DAG: arith.constant dense<[4.480000e+02, 0x7F, 0xFF, 0x7F, 1.600000e+01, 2.000000e+01, 0x7F]> : tensor<7xf8E4M3FN>
// E5M2 has infinities: saturated, 70000 clamps to its largest value 57344;
// unsaturated it overflows to inf. 60000 rounds to 57344 either way.
// CHECK-DAG: arith.constant dense<5.734400e+04> : tensor<2xf8E5M2>
// CHECK-DAG: arith.constant dense<[5.734400e+04, 0x7C]> : tensor<2xf8E5M2>
// CHECK-NOT: mpc.cast
func.func @constants_fp8() -> (tensor<7xf8E4M3FN>, tensor<7xf8E4M3FN>, tensor<2xf8E5M2>, tensor<2xf8E5M2>) {
  %c = arith.constant dense<[450.0, 1000.0, -1000.0, 0x7F800000, 17.0, 19.0, 0x7FC00000]> : tensor<7xf32>
  %0 = mpc.cast %c : tensor<7xf32> to tensor<7xf8E4M3FN>
  %1 = mpc.cast %c {saturate = false} : tensor<7xf32> to tensor<7xf8E4M3FN>
  %c5 = arith.constant dense<[60000.0, 70000.0]> : tensor<2xf32>
  %2 = mpc.cast %c5 : tensor<2xf32> to tensor<2xf8E5M2>
  %3 = mpc.cast %c5 {saturate = false} : tensor<2xf32> to tensor<2xf8E5M2>
  return %0, %1, %2, %3 : tensor<7xf8E4M3FN>, tensor<7xf8E4M3FN>, tensor<2xf8E5M2>, tensor<2xf8E5M2>
}

// -----

// Integer casts: float -> int truncates toward zero, int -> float rounds to
// nearest even (2^24 + 1 is a tie in f32: 0x4B800000 is 2^24). A constant
// that another op still reads stays.
// CHECK-LABEL: func.func @constants_int
// CHECK-DAG: %[[KEPT:.+]] = arith.constant dense<[-2.700000e+00, 3.900000e+00]> : tensor<2xf32>
// CHECK-DAG: %[[I:.+]] = arith.constant dense<[-2, 3]> : tensor<2xi32>
// CHECK-DAG: %[[F:.+]] = arith.constant dense<[0x4B800000, -3.000000e+00]> : tensor<2xf32>
// CHECK: %[[N:.+]] = mpc.neg %[[KEPT]]
// CHECK: return %[[I]], %[[F]], %[[N]]
func.func @constants_int() -> (tensor<2xi32>, tensor<2xf32>, tensor<2xf32>) {
  %c = arith.constant dense<[-2.7, 3.9]> : tensor<2xf32>
  %0 = mpc.cast %c : tensor<2xf32> to tensor<2xi32>
  %ci = arith.constant dense<[16777217, -3]> : tensor<2xi32>
  %1 = mpc.cast %ci : tensor<2xi32> to tensor<2xf32>
  %n = mpc.neg %c : tensor<2xf32>
  return %0, %1, %n : tensor<2xi32>, tensor<2xf32>, tensor<2xf32>
}
