// RUN: mpc-opt '--mpc-lower-to-cuda=format=isa chips=sm_90' %s | FileCheck %s
// RUN: mpc-opt '--mpc-lower-to-cuda=format=isa chips=sm_80,sm_90' %s | FileCheck %s --check-prefix=TWO
// RUN: mpc-opt --mpc-lower-to-cuda %s | FileCheck %s --check-prefix=HOST
// RUN: mpc-opt '--mpc-lower-to-cuda=wait-at-return=false' %s | FileCheck %s --check-prefix=QUEUED
// REQUIRES: cuda-toolkit

// What the kernels of a bias add rounded to bf16 and a row sum of exp
// become in PTX: 128-bit loads, pairs of f32 rounded to bf16 in one
// instruction, the row sum by warp shuffles and shared memory between warps.
// CHECK: gpu.binary @mpc_kernels  [#gpu.object<#nvvm.target<O = 3, chip = "sm_90", features = "+ptx81">, {{.*}}assembly = "
// CHECK-SAME: .target sm_90
// CHECK-SAME: .entry main_k0
// CHECK-SAME: ld.global.v4.b32
// CHECK-SAME: cvt.rn.bf16x2.f32
// CHECK-SAME: .entry main_k1
// CHECK-SAME: ex2.approx
// CHECK-SAME: shfl.sync.bfly.b32
// CHECK-SAME: bar.sync
// One PTX per architecture.
// TWO: gpu.binary @mpc_kernels  [#gpu.object<#nvvm.target<O = 3, chip = "sm_80", features = "+ptx81">, {{.*}}assembly = "{{.*}}.target sm_80
// TWO-SAME: #gpu.object<#nvvm.target<O = 3, chip = "sm_90", features = "+ptx81">, {{.*}}assembly = "{{.*}}.target sm_90

// The default: one fatbinary (cubins + PTX), loaded and launched through
// the runtime (0xBA55ED50 is the fatbinary's magic number); the entry
// point's results are out-parameters the kernels write directly
// (mpc-results-in-place): no buffer of their own, no copy.
// HOST: llvm.func @main(
// HOST: llvm.call @mgpuStreamCreate
// HOST-NOT: llvm.call @mgpuMemAlloc
// HOST: gpu.launch_func <%{{.+}} : !llvm.ptr> @mpc_kernels::@main_k0 blocks in
// HOST: gpu.launch_func <%{{.+}} : !llvm.ptr> @mpc_kernels::@main_k1 blocks in ({{.+}}) threads in ({{.+}}) : i64
// HOST: llvm.call @mgpuStreamSynchronize
// HOST: llvm.func @_mlir_ciface_main(
// HOST: gpu.binary @mpc_kernels  [#gpu.object<#nvvm.target<O = 3, chip = "sm_90", features = "+ptx81">, {{.*}}, "P\EDU\BA
// wait-at-return=false (a trainer's entry points): the function returns with
// its kernels queued, the stream not synchronized.
// QUEUED: llvm.func @main(
// QUEUED: gpu.launch_func <%{{.+}} : !llvm.ptr> @mpc_kernels::@main_k1
// QUEUED-NOT: mgpuStreamSynchronize
// QUEUED: llvm.return
#id = affine_map<(d0, d1) -> (d0, d1)>
#col = affine_map<(d0, d1) -> (d1)>
#row = affine_map<(d0, d1) -> (d0)>
func.func @main(%x: tensor<64x1024xf32>, %b: tensor<1024xf32>) -> (tensor<64x1024xbf16>, tensor<64xf32>) {
  %e = tensor.empty() : tensor<64x1024xbf16>
  %y = linalg.generic {indexing_maps = [#id, #col, #id], iterator_types = ["parallel", "parallel"]}
      ins(%x, %b : tensor<64x1024xf32>, tensor<1024xf32>) outs(%e : tensor<64x1024xbf16>) {
  ^bb0(%a: f32, %c: f32, %o: bf16):
    %s = arith.addf %a, %c : f32
    %t = arith.truncf %s : f32 to bf16
    linalg.yield %t : bf16
  } -> tensor<64x1024xbf16>
  %zero = arith.constant 0.0 : f32
  %r0 = tensor.empty() : tensor<64xf32>
  %r1 = linalg.fill ins(%zero : f32) outs(%r0 : tensor<64xf32>) -> tensor<64xf32>
  %sum = linalg.generic {indexing_maps = [#id, #row], iterator_types = ["parallel", "reduction"]}
      ins(%x : tensor<64x1024xf32>) outs(%r1 : tensor<64xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %ex = math.exp %a : f32
    %s = arith.addf %acc, %ex : f32
    linalg.yield %s : f32
  } -> tensor<64xf32>
  return %y, %sum : tensor<64x1024xbf16>, tensor<64xf32>
}
