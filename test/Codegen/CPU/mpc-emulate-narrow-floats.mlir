// RUN: mpc-opt --split-input-file --mpc-emulate-narrow-floats %s | FileCheck %s

// Every bf16 op computes in f32 and rounds its result; the casts carry no
// fastmath flags, so no folder may drop the rounding between the two ops.
// CHECK-LABEL: func.func @bf16_ops
// CHECK-SAME: (%[[X:.+]]: bf16, %[[Y:.+]]: bf16)
// CHECK: %[[XW:.+]] = arith.extf %[[X]] : bf16 to f32
// CHECK: %[[YW:.+]] = arith.extf %[[Y]] : bf16 to f32
// CHECK: %[[P:.+]] = arith.mulf %[[XW]], %[[YW]] : f32
// CHECK: %[[PB:.+]] = arith.truncf %[[P]] : f32 to bf16
// CHECK: %[[PW:.+]] = arith.extf %[[PB]] : bf16 to f32
// CHECK: %[[S:.+]] = arith.addf %[[PW]], %{{.+}} : f32
// CHECK: %[[SB:.+]] = arith.truncf %[[S]] : f32 to bf16
// CHECK: arith.cmpf olt, %{{.+}}, %{{.+}} : f32
// CHECK-NOT: fastmath
func.func @bf16_ops(%x: bf16, %y: bf16) -> (bf16, i1) {
  %p = arith.mulf %x, %y : bf16
  %s = arith.addf %p, %x : bf16
  %c = arith.cmpf olt, %s, %y : bf16
  return %s, %c : bf16, i1
}

// -----

// Math functions on f16/bf16 run in f32; two in a row still round between.
// CHECK-LABEL: func.func @half_math
// CHECK: %[[X:.+]] = arith.extf %{{.+}} : bf16 to f32
// CHECK: %[[E:.+]] = math.exp %[[X]] : f32
// CHECK: %[[EB:.+]] = arith.truncf %[[E]] : f32 to bf16
// CHECK: %[[EW:.+]] = arith.extf %[[EB]] : bf16 to f32
// CHECK: %[[T:.+]] = math.tanh %[[EW]] : f32
// CHECK: arith.truncf %[[T]] : f32 to bf16
// CHECK: %[[H:.+]] = arith.extf %{{.+}} : f16 to f32
// CHECK: %[[S:.+]] = math.sqrt %[[H]] : f32
// CHECK: arith.truncf %[[S]] : f32 to f16
// CHECK-NOT: fastmath
func.func @half_math(%x: bf16, %h: f16) -> (bf16, f16) {
  %e = math.exp %x : bf16
  %t = math.tanh %e : bf16
  %s = math.sqrt %h : f16
  return %t, %s : bf16, f16
}

// -----

// f32 -> f8E4M3FN: RNE on the bit pattern in the normal range (add 2^19 - 1
// plus the kept lsb, rebias by (127 - 7) << 3), adding 2^14 to round below
// the smallest normal 2^-6 (bits 0x3C800000), overflow past 0x7E to NaN 0x7F,
// NaN (above 0x7F800000) kept.
// CHECK-LABEL: func.func @truncate_e4m3
// CHECK-DAG: arith.constant 2147483647 : i32
// CHECK-DAG: arith.constant 524287 : i32
// CHECK-DAG: arith.constant 960 : i32
// CHECK-DAG: arith.constant 1.638400e+04 : f32
// CHECK-DAG: arith.constant 1015021568 : i32
// CHECK-DAG: arith.constant 126 : i32
// CHECK-DAG: arith.constant 127 : i32
// CHECK-DAG: arith.constant 2139095040 : i32
// CHECK: arith.bitcast %{{.+}} : f32 to i32
// CHECK: arith.addf %{{.+}}, %{{.+}} : f32
// CHECK: arith.trunci %{{.+}} : i32 to i8
// CHECK: arith.bitcast %{{.+}} : i8 to f8E4M3FN
// CHECK-NOT: arith.truncf
func.func @truncate_e4m3(%x: f32) -> f8E4M3FN {
  %0 = arith.truncf %x : f32 to f8E4M3FN
  return %0 : f8E4M3FN
}

// -----

// fp8 -> f32 is exact; going on to f16 rounds once from there.
// CHECK-LABEL: func.func @extend_e5m2
// CHECK: arith.bitcast %{{.+}} : f8E5M2 to i8
// CHECK: arith.extui %{{.+}} : i8 to i32
// CHECK: arith.uitofp
// CHECK: %[[F:.+]] = arith.bitcast %{{.+}} : i32 to f32
// CHECK: arith.truncf %[[F]] : f32 to f16
// CHECK-NOT: arith.extf
func.func @extend_e5m2(%x: f8E5M2) -> f16 {
  %0 = arith.extf %x : f8E5M2 to f16
  return %0 : f16
}
