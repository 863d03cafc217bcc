// RUN: mpc-opt '--mpc-lower-to-cuda=format=isa chips=sm_80,sm_90' %s -o %t.mlir
// RUN: mpc-opt --mpc-cuda-pack-fatbin %t.mlir | FileCheck %s
// RUN: not mpc-opt --mpc-cuda-pack-fatbin=toolkit=%t.nowhere %t.mlir 2>&1 | FileCheck %s --check-prefix=NOTOOLKIT
// REQUIRES: cuda-toolkit

// Two PTX objects (sm_80, sm_90) become one fatbinary object (magic
// 0xBA55ED50) for the newest chip's target: the cubins of both plus sm_90's PTX.
// CHECK: gpu.binary @mpc_kernels  [#gpu.object<#nvvm.target<O = 3, chip = "sm_90", features = "+ptx81">, {{.*}}, "P\EDU\BA
// CHECK-NOT: #gpu.object
// NOTOOLKIT: error: cannot run {{.*}}nowhere/bin/ptxas: set CUDA_HOME (or the toolkit option) to the CUDA toolkit
#id = affine_map<(d0) -> (d0)>
func.func @main(%x: tensor<1024xf32>) -> tensor<1024xf32> {
  %e = tensor.empty() : tensor<1024xf32>
  %y = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]}
      ins(%x : tensor<1024xf32>) outs(%e : tensor<1024xf32>) {
  ^bb0(%a: f32, %o: f32):
    %s = arith.mulf %a, %a : f32
    linalg.yield %s : f32
  } -> tensor<1024xf32>
  return %y : tensor<1024xf32>
}
