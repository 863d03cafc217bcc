// RUN: mpc-opt --split-input-file --mpc-vectorize-generics=approximated-math %s | FileCheck %s
// RUN: mpc-opt --split-input-file --mpc-vectorize-generics %s | FileCheck %s --check-prefix=LIBM
// RUN: mpc-opt --split-input-file --mpc-emulate-narrow-floats="include-f16 expand-casts=false" --mpc-vectorize-generics=approximated-math --mpc-approximate-math %s | FileCheck %s --check-prefix=POLY

// An erf GELU body: with approximated-math (mpc-approximate-math expands
// math.erf later, the same polynomial per lane) it becomes 16-lane vector
// code; without it (libm calls) it stays the scalar loops.
// CHECK-LABEL: func.func @gelu_erf
// CHECK: scf.for %{{.+}} = %c0 to %c64 step %c16
// CHECK: math.erf {{.+}} : vector<16xf32>
// CHECK: vector.store {{.+}} : memref<1x16xf32, {{.+}}>, vector<16xf32>
// CHECK-NOT: linalg.generic
// LIBM-LABEL: func.func @gelu_erf
// LIBM: linalg.generic
// LIBM: math.erf {{.+}} : f32
// LIBM-NOT: vector<
func.func @gelu_erf(%x: memref<4x64xf32>, %y: memref<4x64xf32>) {
  %c = arith.constant 0.707106769 : f32
  %half = arith.constant 0.5 : f32
  %one = arith.constant 1.0 : f32
  linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>],
                  iterator_types = ["parallel", "parallel"]}
      ins(%x : memref<4x64xf32>) outs(%y : memref<4x64xf32>) {
  ^bb0(%v: f32, %o: f32):
    %s = arith.mulf %v, %c : f32
    %e = math.erf %s : f32
    %a = arith.addf %e, %one : f32
    %m = arith.mulf %v, %a : f32
    %r = arith.mulf %m, %half : f32
    linalg.yield %r : f32
  }
  return
}

// -----

// A bf16 tanh GELU (GPT-2's): the bf16 tanh and arithmetic are widened to
// f32 between roundings first, then the body vectorizes, and the vector
// tanh becomes the polynomial (no math.tanh left).
// POLY-LABEL: func.func @gelu_tanh_bf16
// POLY: scf.for %{{.+}} = %c0 to %c64 step %c16
// POLY: arith.extf {{.+}} : vector<16xbf16> to vector<16xf32>
// POLY-NOT: math.tanh
// POLY: arith.truncf {{.+}} : vector<16xf32> to vector<16xbf16>
// POLY-NOT: math.tanh
// CHECK-LABEL: func.func @gelu_tanh_bf16
// CHECK: linalg.generic
// CHECK: math.tanh {{.+}} : bf16
func.func @gelu_tanh_bf16(%x: memref<4x64xbf16>, %y: memref<4x64xbf16>) {
  %half = arith.constant 0.5 : bf16
  %one = arith.constant 1.0 : bf16
  linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>],
                  iterator_types = ["parallel", "parallel"]}
      ins(%x : memref<4x64xbf16>) outs(%y : memref<4x64xbf16>) {
  ^bb0(%v: bf16, %o: bf16):
    %t = math.tanh %v : bf16
    %a = arith.addf %t, %one : bf16
    %m = arith.mulf %v, %a : bf16
    %r = arith.mulf %m, %half : bf16
    linalg.yield %r : bf16
  }
  return
}
