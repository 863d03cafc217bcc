// bf16 elementwise code through the whole pipeline, LLVM's optimizer and its
// x86 code generator for CPUs without AVX512-BF16 (any host: opt and llc
// only compile). Each result vector is rounded to bf16 in registers and
// stored with one vector store: before mpc-bf16-memory-as-i16 (and the NaN
// select on 32-bit lanes in the rounding), LLVM
// kept the store as `<16 x bfloat>`, which it splits into one 16-bit store
// per lane (each with a mask bit moved out by kshiftrw on AVX-512, or a
// pextrw on AVX2).
// RUN: mpc-opt --mpc-lower-to-llvm="parallel-loops=false" %s | mlir-translate --mlir-to-llvmir | opt -O2 -mtriple=x86_64-unknown-linux-gnu -mcpu=x86-64-v4 | llc -O2 -mtriple=x86_64-unknown-linux-gnu -mcpu=x86-64-v4 | FileCheck %s --check-prefix=AVX512 --implicit-check-not=kshiftrw --implicit-check-not=pextrw --implicit-check-not="movw %"
// RUN: mpc-opt --mpc-lower-to-llvm="parallel-loops=false" %s | mlir-translate --mlir-to-llvmir | opt -O2 -mtriple=x86_64-unknown-linux-gnu -mcpu=x86-64-v3 | llc -O2 -mtriple=x86_64-unknown-linux-gnu -mcpu=x86-64-v3 | FileCheck %s --check-prefix=AVX2 --implicit-check-not=pextrw --implicit-check-not="movw %"

// The truncation to 16 bits stores straight to memory (or to a ymm register
// stored next).
// AVX512: vpmovdw %zmm{{[0-9]+}}, {{%ymm[0-9]+|.*\(%}}
// AVX2: vmovdq{{[a-z0-9]*}} %ymm{{[0-9]+}}, {{.*}}(%
func.func @main(%a: tensor<64x96xbf16>, %b: tensor<64x96xbf16>, %c: tensor<64x96xbf16>) -> tensor<64x96xbf16> {
  %s = mpc.add %a, %b : (tensor<64x96xbf16>, tensor<64x96xbf16>) -> tensor<64x96xbf16>
  %t = mpc.add %s, %c : (tensor<64x96xbf16>, tensor<64x96xbf16>) -> tensor<64x96xbf16>
  return %t : tensor<64x96xbf16>
}
