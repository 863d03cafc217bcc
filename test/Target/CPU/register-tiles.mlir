// A 256^3 f32 matmul through the whole pipeline and LLVM's x86 code
// generator for a given CPU (any host: llc only compiles). With the target's
// register tile no accumulator is spilled: x86-64-v4 (AVX-512) keeps 8 x 32
// tiles in zmm registers, x86-64-v3 (AVX2) 4 x 16 tiles in ymm registers.
// The AVX-512 tile compiled for AVX2 needs 32 ymm accumulators in 16
// registers: spills and reloads (llc comments them "32-byte Spill" and
// "32-byte Reload"; the 8-byte ones are @main's pointers, not the kernel's).
// (Which is what the tools still emit for x86-64-v3: on a Zen 5 the spilling
// tile ran ResNet-18 faster than the no-spill one; docs/benchmarks.md.)
// RUN: mpc-opt --mpc-lower-to-llvm="parallel-loops=false" %s | mlir-translate --mlir-to-llvmir | llc -O2 -mtriple=x86_64-unknown-linux-gnu -mcpu=x86-64-v4 | FileCheck %s --check-prefix=AVX512 --implicit-check-not="{{(32|64)-byte (Folded )?(Spill|Reload)}}"
// RUN: mpc-opt --mpc-lower-to-llvm="parallel-loops=false vector-bits=256 vector-registers=16" %s | mlir-translate --mlir-to-llvmir | llc -O2 -mtriple=x86_64-unknown-linux-gnu -mcpu=x86-64-v3 | FileCheck %s --check-prefix=AVX2 --implicit-check-not="{{(32|64)-byte (Folded )?(Spill|Reload)}}" --implicit-check-not=zmm
// RUN: mpc-opt --mpc-lower-to-llvm="parallel-loops=false" %s | mlir-translate --mlir-to-llvmir | llc -O2 -mtriple=x86_64-unknown-linux-gnu -mcpu=x86-64-v3 | FileCheck %s --check-prefix=WIDE-ON-AVX2

// AVX512-COUNT-128: vfmadd231ps {{.*}}%zmm
// AVX2-COUNT-64: vfmadd231ps {{.*}}%ymm
// WIDE-ON-AVX2: 32-byte Spill
func.func @main(%a: tensor<256x256xf32>, %b: tensor<256x256xf32>) -> tensor<256x256xf32> {
  %c = mpc.matmul %a, %b : (tensor<256x256xf32>, tensor<256x256xf32>) -> tensor<256x256xf32>
  return %c : tensor<256x256xf32>
}
