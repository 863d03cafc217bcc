// RUN: mpc-opt --split-input-file --mpc-emulate-narrow-floats=expand-casts=false %s | FileCheck %s --check-prefix=WIDEN
// RUN: mpc-opt --split-input-file --mpc-emulate-narrow-floats="include-f16 expand-casts=false" %s | FileCheck %s --check-prefix=F16
// RUN: mpc-opt --split-input-file --mpc-emulate-narrow-floats %s | FileCheck %s

// Every bf16 op computes in f32 and rounds its result; the casts carry no
// fastmath flags, so no folder may drop the rounding between the two ops.
// WIDEN-LABEL: func.func @bf16_ops
// WIDEN-SAME: (%[[X:.+]]: bf16, %[[Y:.+]]: bf16)
// WIDEN: %[[XW:.+]] = arith.extf %[[X]] : bf16 to f32
// WIDEN: %[[YW:.+]] = arith.extf %[[Y]] : bf16 to f32
// WIDEN: %[[P:.+]] = arith.mulf %[[XW]], %[[YW]] : f32
// WIDEN: %[[PB:.+]] = arith.truncf %[[P]] : f32 to bf16
// WIDEN: %[[PW:.+]] = arith.extf %[[PB]] : bf16 to f32
// WIDEN: %[[S:.+]] = arith.addf %[[PW]], %{{.+}} : f32
// WIDEN: %[[SB:.+]] = arith.truncf %[[S]] : f32 to bf16
// WIDEN: arith.cmpf olt, %{{.+}}, %{{.+}} : f32
// WIDEN-NOT: fastmath
func.func @bf16_ops(%x: bf16, %y: bf16) -> (bf16, i1) {
  %p = arith.mulf %x, %y : bf16
  %s = arith.addf %p, %x : bf16
  %c = arith.cmpf olt, %s, %y : bf16
  return %s, %c : bf16, i1
}

// -----

// Math functions on f16/bf16 run in f32; two in a row still round between.
// WIDEN-LABEL: func.func @half_math
// WIDEN: %[[X:.+]] = arith.extf %{{.+}} : bf16 to f32
// WIDEN: %[[E:.+]] = math.exp %[[X]] : f32
// WIDEN: %[[EB:.+]] = arith.truncf %[[E]] : f32 to bf16
// WIDEN: %[[EW:.+]] = arith.extf %[[EB]] : bf16 to f32
// WIDEN: %[[T:.+]] = math.tanh %[[EW]] : f32
// WIDEN: arith.truncf %[[T]] : f32 to bf16
// WIDEN: %[[H:.+]] = arith.extf %{{.+}} : f16 to f32
// WIDEN: %[[S:.+]] = math.sqrt %[[H]] : f32
// WIDEN: arith.truncf %[[S]] : f32 to f16
// WIDEN-NOT: fastmath
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

// -----

// Vectors widen lane-wise to vectors of f32.
// WIDEN-LABEL: func.func @bf16_vector_ops
// WIDEN: %[[XW:.+]] = arith.extf %{{.+}} : vector<16xbf16> to vector<16xf32>
// WIDEN: %[[YW:.+]] = arith.extf %{{.+}} : vector<16xbf16> to vector<16xf32>
// WIDEN: %[[S:.+]] = arith.addf %[[XW]], %[[YW]] : vector<16xf32>
// WIDEN: %[[SB:.+]] = arith.truncf %[[S]] : vector<16xf32> to vector<16xbf16>
// WIDEN: %[[SW:.+]] = arith.extf %[[SB]] : vector<16xbf16> to vector<16xf32>
// WIDEN: arith.maximumf %[[SW]], %{{.+}} : vector<16xf32>
// WIDEN: math.exp %{{.+}} : vector<16xf32>
// WIDEN-NOT: fastmath
func.func @bf16_vector_ops(%x: vector<16xbf16>, %y: vector<16xbf16>) -> vector<16xbf16> {
  %s = arith.addf %x, %y : vector<16xbf16>
  %r = arith.maximumf %s, %x : vector<16xbf16>
  %e = math.exp %r : vector<16xbf16>
  return %e : vector<16xbf16>
}

// -----

// f16 arithmetic is LLVM's (it promotes per op) unless include-f16 asks for
// the same widening as bf16, scalar or vector.
// WIDEN-LABEL: func.func @f16_arith
// WIDEN: arith.mulf %{{.+}}, %{{.+}} : f16
// WIDEN: arith.addf %{{.+}}, %{{.+}} : vector<8xf16>
// F16-LABEL: func.func @f16_arith
// F16: %[[P:.+]] = arith.mulf %{{.+}}, %{{.+}} : f32
// F16: arith.truncf %[[P]] : f32 to f16
// F16: %[[S:.+]] = arith.addf %{{.+}}, %{{.+}} : vector<8xf32>
// F16: arith.truncf %[[S]] : vector<8xf32> to vector<8xf16>
// F16-NOT: arith.{{.*}} f16{{$}}
func.func @f16_arith(%x: f16, %y: f16, %v: vector<8xf16>) -> (f16, vector<8xf16>) {
  %p = arith.mulf %x, %y : f16
  %s = arith.addf %v, %v : vector<8xf16>
  return %p, %s : f16, vector<8xf16>
}

// -----

// f32 -> bf16 rounds to nearest even on the bits: add 0x7FFF plus bit 16,
// shift by 16; a NaN (unordered with itself) is first replaced by
// 0x7FC00000 (2143289344), which rounds to 0x7FC0: the select works on the
// 32-bit lanes, not on the 16-bit result. bf16 -> f32 shifts the bits up.
// Vectors alike, with splat constants: no truncf/extf on bf16 is left for
// LLVM.
// CHECK-LABEL: func.func @bf16_casts
// CHECK-DAG: arith.constant dense<32767> : vector<16xi32>
// CHECK-DAG: %[[QNAN:.+]] = arith.constant dense<2143289344> : vector<16xi32>
// CHECK-DAG: arith.constant dense<16> : vector<16xi32>
// CHECK-DAG: arith.constant dense<1> : vector<16xi32>
// CHECK: arith.bitcast %{{.+}} : vector<16xbf16> to vector<16xi16>
// CHECK: arith.extui %{{.+}} : vector<16xi16> to vector<16xi32>
// CHECK: arith.shli
// CHECK: arith.bitcast %{{.+}} : vector<16xi32> to vector<16xf32>
// CHECK: %[[NAN:.+]] = arith.cmpf uno, %[[D:.+]], %[[D]] : vector<16xf32>
// CHECK: %[[U:.+]] = arith.bitcast %[[D]] : vector<16xf32> to vector<16xi32>
// CHECK: %[[Q:.+]] = arith.select %[[NAN]], %[[QNAN]], %[[U]] : vector<16xi1>, vector<16xi32>
// CHECK: arith.shrui %[[Q]]
// CHECK: arith.addi %[[Q]], %{{.+}} : vector<16xi32>
// CHECK: arith.trunci %{{.+}} : vector<16xi32> to vector<16xi16>
// CHECK: arith.bitcast %{{.+}} : vector<16xi16> to vector<16xbf16>
// CHECK: arith.select %{{.+}}, %{{.+}}, %{{.+}} : i32
// CHECK: arith.addi %{{.+}}, %{{.+}} : i32
// CHECK: arith.trunci %{{.+}} : i32 to i16
// CHECK: arith.bitcast %{{.+}} : i16 to bf16
// CHECK-NOT: arith.truncf
// CHECK-NOT: arith.extf
func.func @bf16_casts(%v: vector<16xbf16>, %x: f32) -> (vector<16xbf16>, bf16) {
  %w = arith.extf %v : vector<16xbf16> to vector<16xf32>
  %d = arith.addf %w, %w : vector<16xf32>
  %r = arith.truncf %d : vector<16xf32> to vector<16xbf16>
  %s = arith.truncf %x : f32 to bf16
  return %r, %s : vector<16xbf16>, bf16
}
