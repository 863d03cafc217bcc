// RUN: mpc-opt --split-input-file --verify-diagnostics --pass-pipeline='builtin.module(gpu.module(mpc-cuda-lower-fp8-casts))' %s | FileCheck %s

// f32 -> E4M3FN: the satfinite conversion, then NaN of the input's sign past
// the rounding threshold (464; non-saturating semantics); bf16 goes through
// f32; E5M2 -> f32 through the f16 pair conversion.
// CHECK-LABEL: gpu.func @casts
// CHECK: %[[P:.+]] = nvvm.convert.f32x2.to.f8x2 %arg0, %arg0 {rnd = #nvvm.fp_rnd_mode<rn>, sat = #nvvm.sat_mode<satfinite>} : i16(f8E4M3FN)
// CHECK: %[[C:.+]] = arith.trunci %[[P]] : i16 to i8
// CHECK: %[[ABS:.+]] = math.absf %arg0
// CHECK: %[[OVER:.+]] = arith.cmpf ogt, %[[ABS]], %{{.+}} : f32
// CHECK: arith.select %[[OVER]]
// CHECK: arith.bitcast %{{.+}} : i8 to f8E4M3FN
// CHECK: arith.extf %arg1 : bf16 to f32
// CHECK: nvvm.convert.f32x2.to.f8x2 {{.+}} : i16(f8E5M2)
// E5M2's threshold (61440) is a tie that rounds up to infinity: >=.
// CHECK: arith.cmpf oge
// CHECK: nvvm.convert.f8x2.to.f16x2 %{{.+}} : vector<2xi8>(f8E5M2) -> vector<2xf16>
// CHECK: arith.extf %{{.+}} : f16 to f32
// f64 goes through f32 (rounding twice, as on the CPU).
// CHECK: arith.truncf %arg3 : f64 to f32
// CHECK: nvvm.convert.f32x2.to.f8x2
// CHECK-NOT: arith.truncf {{.+}} to f8
module attributes {gpu.container_module} {
  gpu.module @mpc_kernels [#nvvm.target<chip = "sm_89">, #nvvm.target<chip = "sm_90">] {
    gpu.func @casts(%x: f32, %y: bf16, %out: memref<4xf32>, %d: f64, %out8: memref<4xf8E4M3FN>) kernel {
      %c0 = arith.constant 0 : index
      %a = arith.truncf %x : f32 to f8E4M3FN
      %b = arith.truncf %y : bf16 to f8E5M2
      %w = arith.extf %b : f8E5M2 to f32
      memref.store %w, %out[%c0] : memref<4xf32>
      %e = arith.truncf %d : f64 to f8E4M3FN
      memref.store %e, %out8[%c0] : memref<4xf8E4M3FN>
      gpu.return
    }
  }
}

// -----

// Compiled for sm_80 too: no fp8 conversion there.
module attributes {gpu.container_module} {
  gpu.module @mpc_kernels [#nvvm.target<chip = "sm_80">, #nvvm.target<chip = "sm_90">] {
    gpu.func @old(%x: f32, %out: memref<4xf8E4M3FN>) kernel {
      %c0 = arith.constant 0 : index
      // expected-error @+1 {{is an fp8 conversion, which CUDA GPUs have from sm_89 on, but the kernels are also compiled for sm_80}}
      %a = arith.truncf %x : f32 to f8E4M3FN
      memref.store %a, %out[%c0] : memref<4xf8E4M3FN>
      gpu.return
    }
  }
}
