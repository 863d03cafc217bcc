// mpc-lower-to-llvm{native-bf16-dot}: the pair dot products reach LLVM as
// llvm.x86.avx512bf16.dpbf16ps calls, which llc turns into vdpbf16ps for an
// AVX512-BF16 CPU (an explicit -mcpu: compiled, not run, so on any host).
// Without the option nothing of it is left; with emulate-bf16-dot the same
// loops use f32 FMAs (runs anywhere).
// RUN: mpc-opt %s --mpc-lower-to-llvm="native-bf16-dot=true parallel-loops=false" | FileCheck %s --check-prefix=LLVM
// RUN: mpc-opt %s --mpc-lower-to-llvm="native-bf16-dot=true parallel-loops=false" | mlir-translate --mlir-to-llvmir | llc -O2 -mtriple=x86_64-unknown-linux-gnu -mcpu=sapphirerapids | FileCheck %s --check-prefix=ASM
// RUN: mpc-opt %s --mpc-lower-to-llvm="parallel-loops=false" | FileCheck %s --check-prefix=EXACT
// RUN: mpc-opt %s --mpc-lower-to-llvm="native-bf16-dot=true emulate-bf16-dot=true parallel-loops=false" | FileCheck %s --check-prefix=EXACT

// LLVM: llvm.call_intrinsic "llvm.x86.avx512bf16.dpbf16ps.512"({{.+}}) : (vector<16xf32>, vector<32xbf16>, vector<32xbf16>) -> vector<16xf32>
// ASM: vdpbf16ps %zmm{{[0-9]+}}, %zmm{{[0-9]+}}, %zmm{{[0-9]+}}
// EXACT-NOT: dpbf16ps
// EXACT: llvm.func @main
// EXACT-NOT: dpbf16ps
func.func @main(%a: tensor<32x40xf32>, %b: tensor<40x64xf32>) -> tensor<32x64xf32> {
  %zero = arith.constant 0.0 : f32
  %empty = tensor.empty() : tensor<32x64xf32>
  %init = linalg.fill ins(%zero : f32) outs(%empty : tensor<32x64xf32>) -> tensor<32x64xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(i, j, l) -> (i, l)>, affine_map<(i, j, l) -> (l, j)>,
                                        affine_map<(i, j, l) -> (i, j)>],
                       iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : tensor<32x40xf32>, tensor<40x64xf32>) outs(%init : tensor<32x64xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %xr = arith.truncf %x : f32 to bf16
    %yr = arith.truncf %y : f32 to bf16
    %xe = arith.extf %xr : bf16 to f32
    %ye = arith.extf %yr : bf16 to f32
    %p = arith.mulf %xe, %ye : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<32x64xf32>
  return %r : tensor<32x64xf32>
}
