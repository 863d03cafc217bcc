// The whole pipeline leaves nothing but the LLVM dialect: no bf16 or fp8
// values (emulated with integer operations), no libcalls besides malloc/free
// (strided copies became loops), and a C-interface wrapper for the JIT.
// RUN: mpc-opt --mpc-lower-to-llvm --split-input-file %s | FileCheck %s --implicit-check-not=_mlir_ciface_main_kernel --implicit-check-not=bf16 --implicit-check-not=f8E4M3FN --implicit-check-not=memrefCopy --implicit-check-not=llvm.intr.exp --implicit-check-not="{{ (arith|math|memref|linalg|tensor|func|cf|scf|mpc|bufferization|affine|ub)\.}}"

// The pipeline's options (mpc-opt --mpc-lower-to-llvm="NAME=false"), each of
// which takes one step out: threads, kernel outlining, inline math
// approximations, C-interface wrappers.
// RUN: mpc-opt --mpc-lower-to-llvm="parallel-loops=false" --split-input-file %s | FileCheck %s --check-prefix=SEQUENTIAL --implicit-check-not=mlirAsyncRuntime --implicit-check-not=parallel_compute_fn
// RUN: mpc-opt --mpc-lower-to-llvm="outline-kernels=false" --split-input-file %s | FileCheck %s --check-prefix=INLINE --implicit-check-not=_kernel
// RUN: mpc-opt --mpc-lower-to-llvm="approximate-math=false" --split-input-file %s | FileCheck %s --check-prefix=LIBM
// RUN: mpc-opt --mpc-lower-to-llvm="emit-c-interface=false" --split-input-file %s | FileCheck %s --check-prefix=NOWRAP --implicit-check-not=_mlir_ciface --implicit-check-not=llvm.emit_c_interface
// RUN: not mpc-opt --mpc-lower-to-llvm="parallel-loops=maybe" %s 2>&1 | FileCheck %s --check-prefix=BADOPTION
// BADOPTION: for the --parallel-loops option: 'maybe' is invalid value for boolean argument

// CHECK-DAG: llvm.func @malloc(i64) -> !llvm.ptr
// CHECK-DAG: llvm.func @free(!llvm.ptr)
// The result became a trailing out-parameter (its descriptor's fields).
// CHECK-LABEL: llvm.func @main(
// CHECK-SAME: attributes {llvm.emit_c_interface}
// CHECK: llvm.call @main_kernel
// CHECK: llvm.return
// CHECK-LABEL: llvm.func @_mlir_ciface_main(
// CHECK-SAME: %{{.+}}: !llvm.ptr, %{{.+}}: !llvm.ptr, %{{.+}}: !llvm.ptr, %{{.+}}: !llvm.ptr)
// The computations are outlined kernels (mpc-outline-kernels): private, kept
// out of line, without C-interface wrappers.
// CHECK: llvm.func @main_kernel{{[0-9]+}}({{.*}}) attributes {passthrough = ["noinline"], sym_visibility = "private"}
// The bf16 exp runs in f32 as mpc-approximate-math's inline polynomial
// (FMAs, a floor for the exponent), never as an exp intrinsic or call
// (implicit-check-not above).
// CHECK: llvm.intr.floor
// CHECK: llvm.intr.fma
// INLINE-LABEL: llvm.func @main(
// INLINE: llvm.intr.fma
// LIBM: llvm.intr.exp
// NOWRAP-LABEL: llvm.func @main(
module {
  mpc.parameter @w : tensor<8x4xf32> = dense<0.25> : tensor<8x4xf32>
  func.func @main(%x: tensor<2x8xf32>, %img: tensor<1x2x5x5xf32>, %k: tensor<3x2x3x3xf32>)
      -> tensor<2x4xf32> {
    %xb = mpc.cast %x : tensor<2x8xf32> to tensor<2x8xbf16>
    %w = mpc.get_parameter @w : tensor<8x4xf32>
    %wb = mpc.cast %w : tensor<8x4xf32> to tensor<8x4xbf16>
    %mm = mpc.matmul %xb, %wb {acc_type = f32} : (tensor<2x8xbf16>, tensor<8x4xbf16>) -> tensor<2x4xbf16>
    %r = mpc.relu %mm : tensor<2x4xbf16>
    %e = mpc.exp %r : tensor<2x4xbf16>
    %f = mpc.cast %e : tensor<2x4xbf16> to tensor<2x4xf32>
    %q = mpc.cast %f : tensor<2x4xf32> to tensor<2x4xf8E4M3FN>
    %d = mpc.cast %q : tensor<2x4xf8E4M3FN> to tensor<2x4xf32>
    %c = mpc.conv %img, %k {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x2x5x5xf32>, tensor<3x2x3x3xf32>) -> tensor<1x3x5x5xf32>
    %s = mpc.reduce_sum %c {axes = array<i64: 0, 1, 2, 3>, keepdims = false} : (tensor<1x3x5x5xf32>) -> tensor<f32>
    %cat = mpc.concat %d, %d {axis = 1 : i64} : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x8xf32>
    %sl = mpc.slice %cat {offsets = array<i64: 0, 7>, sizes = array<i64: 2, 4>, strides = array<i64: 1, -2>} : (tensor<2x8xf32>) -> tensor<2x4xf32>
    %y = mpc.add %sl, %s : (tensor<2x4xf32>, tensor<f32>) -> tensor<2x4xf32>
    return %y : tensor<2x4xf32>
  }
}

// -----

// Large enough for the thread pool: the loop runs as tasks on the async
// runtime, unless parallel-loops=false.
// CHECK-LABEL: llvm.func @big(
// CHECK: llvm.call @mlirAsyncRuntimeCreateGroup
// SEQUENTIAL-LABEL: llvm.func @big(
// SEQUENTIAL: llvm.call @big_kernel0
func.func @big(%a: tensor<256x512xf32>, %b: tensor<256x512xf32>) -> tensor<256x512xf32> {
  %s = mpc.add %a, %b : (tensor<256x512xf32>, tensor<256x512xf32>) -> tensor<256x512xf32>
  return %s : tensor<256x512xf32>
}
