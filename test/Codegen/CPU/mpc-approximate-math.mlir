// RUN: mpc-opt --split-input-file --mpc-approximate-math %s | FileCheck %s

// Vector tanh/erf/exp become lane-wise arithmetic and FMAs on the same
// vector type: nothing left for math-to-libm to scalarize into calls.
// CHECK-LABEL: func.func @vector_functions
// CHECK-NOT: math.tanh
// CHECK-NOT: math.erf
// CHECK-NOT: math.exp
// CHECK: math.fma %{{.+}} : vector<16xf32>
// CHECK-NOT: math.tanh
// CHECK-NOT: math.erf
// CHECK-NOT: math.exp
// CHECK: return
func.func @vector_functions(%x: vector<16xf32>) -> (vector<16xf32>, vector<16xf32>, vector<16xf32>) {
  %t = math.tanh %x : vector<16xf32>
  %e = math.erf %x : vector<16xf32>
  %p = math.exp %x : vector<16xf32>
  return %t, %e, %p : vector<16xf32>, vector<16xf32>, vector<16xf32>
}

// -----

// Scalars too (the loops of ops mpc-vectorize-generics leaves scalar).
// CHECK-LABEL: func.func @scalar_exp
// CHECK-NOT: math.exp
// CHECK: math.fma %{{.+}} : f32
// CHECK-NOT: math.exp
// CHECK: return
func.func @scalar_exp(%x: f32) -> f32 {
  %p = math.exp %x : f32
  return %p : f32
}

// -----

// log is kept for libm (the approximation is wrong on subnormal inputs), as
// are other element types (f16/bf16 math is made f32 by
// mpc-emulate-narrow-floats before this pass; f64 keeps libm's precision).
// CHECK-LABEL: func.func @kept
// CHECK: math.log %{{.+}} : vector<8xf32>
// CHECK: math.tanh %{{.+}} : f64
// CHECK: math.exp %{{.+}} : f16
func.func @kept(%x: vector<8xf32>, %d: f64, %h: f16) -> (vector<8xf32>, f64, f16) {
  %l = math.log %x : vector<8xf32>
  %t = math.tanh %d : f64
  %e = math.exp %h : f16
  return %l, %t, %e : vector<8xf32>, f64, f16
}
