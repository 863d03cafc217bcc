// RUN: mpc-opt '--mpc-lower-to-cuda=attention=cudnn chips=sm_80,sm_90' %s | FileCheck %s
// RUN: mpc-opt '--mpc-lower-to-cuda=format=isa chips=sm_90' %s | FileCheck %s --check-prefix=KERNELS
// RUN: not mpc-opt '--mpc-lower-to-cuda=attention=flash' %s 2>&1 | FileCheck %s --check-prefix=BAD
// REQUIRES: cuda-toolkit

// attention=cudnn: the chain is one call of the runtime's mpc_cuda_attention
// with its packed block (55 slots) after the mask's kernel, which ptxas
// still assembles for both chips into the fatbinary; the call writes the
// entry point's out-parameter itself (no copy kernel after it); the
// outlined function is gone.
// CHECK: llvm.func @mpc_cuda_attention(!llvm.ptr, !llvm.ptr, i64, i64, i64)
// CHECK-NOT: llvm.func @main_attention
// CHECK: llvm.func @main(
// CHECK: gpu.launch_func <%{{.+}} : !llvm.ptr> @mpc_kernels::@main_k0
// CHECK: llvm.call @mpc_cuda_attention({{.+}}) : (!llvm.ptr, !llvm.ptr, i64, i64, i64) -> ()
// CHECK-NOT: gpu.launch_func
// CHECK: llvm.call @mgpuStreamSynchronize
// CHECK: gpu.binary @mpc_kernels  [#gpu.object<#nvvm.target<O = 3, chip = "sm_90", features = "+ptx81">, {{.*}}, "P\EDU\BA
//
// The default (attention=kernels): generated kernels and cuBLASLt GEMMs.
// KERNELS-NOT: mpc_cuda_attention
// KERNELS: llvm.call @mpc_cuda_matmul
// KERNELS: .entry main_k{{[0-9]+}}
// KERNELS-SAME: shfl.sync.bfly.b32
// KERNELS-NOT: mpc_cuda_attention
//
// BAD: unknown value 'flash'; valid values are kernels and cudnn
func.func @main(%q: tensor<2x16x2x32xbf16>, %k: tensor<2x16x2x32xbf16>, %v: tensor<2x16x2x32xbf16>, %valid: tensor<2x16xf32>) -> tensor<2x16x2x32xbf16> {
  %one = arith.constant dense<1.0> : tensor<f32>
  %big = arith.constant dense<-10000.0> : tensor<f32>
  %r = mpc.reshape %valid {shape = array<i64: 2, 1, 1, 16>} : (tensor<2x16xf32>) -> tensor<2x1x1x16xf32>
  %inv = mpc.sub %one, %r : (tensor<f32>, tensor<2x1x1x16xf32>) -> tensor<2x1x1x16xf32>
  %mask = mpc.mul %inv, %big : (tensor<2x1x1x16xf32>, tensor<f32>) -> tensor<2x1x1x16xf32>
  %qt = mpc.transpose %q {perm = array<i64: 0, 2, 1, 3>} : (tensor<2x16x2x32xbf16>) -> tensor<2x2x16x32xbf16>
  %kt = mpc.transpose %k {perm = array<i64: 0, 2, 3, 1>} : (tensor<2x16x2x32xbf16>) -> tensor<2x2x32x16xbf16>
  %vt = mpc.transpose %v {perm = array<i64: 0, 2, 1, 3>} : (tensor<2x16x2x32xbf16>) -> tensor<2x2x16x32xbf16>
  %s = mpc.matmul %qt, %kt {acc_type = f32} : (tensor<2x2x16x32xbf16>, tensor<2x2x32x16xbf16>) -> tensor<2x2x16x16xbf16>
  %c = arith.constant dense<5.65625> : tensor<bf16>
  %d = mpc.div %s, %c : (tensor<2x2x16x16xbf16>, tensor<bf16>) -> tensor<2x2x16x16xbf16>
  %w = mpc.cast %d : tensor<2x2x16x16xbf16> to tensor<2x2x16x16xf32>
  %a = mpc.add %w, %mask : (tensor<2x2x16x16xf32>, tensor<2x1x1x16xf32>) -> tensor<2x2x16x16xf32>
  %p = mpc.softmax %a {axis = 3 : i64} : tensor<2x2x16x16xf32>
  %n = mpc.cast %p : tensor<2x2x16x16xf32> to tensor<2x2x16x16xbf16>
  %o = mpc.matmul %n, %vt {acc_type = f32} : (tensor<2x2x16x16xbf16>, tensor<2x2x16x32xbf16>) -> tensor<2x2x16x32xbf16>
  %ot = mpc.transpose %o {perm = array<i64: 0, 2, 1, 3>} : (tensor<2x2x16x32xbf16>) -> tensor<2x16x2x32xbf16>
  return %ot : tensor<2x16x2x32xbf16>
}
