// RUN: mpc-opt '--mpc-lower-to-cuda=format=isa chips=sm_90' %s | FileCheck %s
// RUN: not mpc-opt --mpc-lower-to-cuda %s 2>&1 | FileCheck %s --check-prefix=SM80
// REQUIRES: cuda-toolkit

// fp8 round trips in PTX on sm_90: the hardware's conversions, one element
// per thread.
// CHECK: .target sm_90
// CHECK-SAME: cvt.rn.satfinite.e4m3x2.f32
// CHECK-SAME: cvt.rn.f16x2.e4m3x2
// The default architectures include sm_80, which has no fp8 conversions.
// SM80: error: 'arith.truncf' op is an fp8 conversion, which CUDA GPUs have from sm_89 on
#id = affine_map<(d0) -> (d0)>
func.func @main(%x: tensor<1024xf32>) -> tensor<1024xf32> {
  %e = tensor.empty() : tensor<1024xf8E4M3FN>
  %q = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]}
      ins(%x : tensor<1024xf32>) outs(%e : tensor<1024xf8E4M3FN>) {
  ^bb0(%a: f32, %o: f8E4M3FN):
    %t = arith.truncf %a : f32 to f8E4M3FN
    linalg.yield %t : f8E4M3FN
  } -> tensor<1024xf8E4M3FN>
  %e2 = tensor.empty() : tensor<1024xf32>
  %y = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]}
      ins(%q : tensor<1024xf8E4M3FN>) outs(%e2 : tensor<1024xf32>) {
  ^bb0(%a: f8E4M3FN, %o: f32):
    %t = arith.extf %a : f8E4M3FN to f32
    linalg.yield %t : f32
  } -> tensor<1024xf32>
  return %y : tensor<1024xf32>
}
