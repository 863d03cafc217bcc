// RUN: mpc-opt --split-input-file '--mpc-cuda-schedule=conv=cudnn' --cse %s | FileCheck %s
// RUN: mpc-opt --split-input-file '--mpc-cuda-schedule=conv=cudnn allow-tf32=1' --cse %s | FileCheck %s --check-prefix=TF32
// RUN: mpc-opt --split-input-file --mpc-cuda-schedule %s | FileCheck %s --check-prefix=GEMM
// RUN: mpc-opt --split-input-file '--mpc-cuda-schedule=conv=cudnn' --mpc-cuda-kernel-report %s -o /dev/null | FileCheck %s --check-prefix=REPORT
// RUN: not mpc-opt '--mpc-cuda-schedule=conv=winograd' %s 2>&1 | FileCheck %s --check-prefix=BAD

// With conv=cudnn a forward convolution of one element type becomes one
// mpc_cuda_conv call (Abi.h's slots): its symmetric zero padding is cuDNN's
// (no padded copy, no fill kernel), the zero start of the accumulator is
// beta = 0, the groups are cuDNN's group count, and the operands are NCHW
// views of the buffers. The bias and ReLU stay a fused kernel after it.
// CHECK-LABEL: func.func private @mpc_cuda_conv(memref<55xi64>)
// CHECK-LABEL: func.func @grouped
// CHECK-NOT: linalg.map
// CHECK-NOT: memref.copy
// CHECK: %[[X:.+]] = memref.collapse_shape %{{.+}} {{\[\[}}0], [1, 2], [3], [4]] : memref<2x2x4x17x17xf32> into memref<2x8x17x17xf32>
// CHECK: %[[W:.+]] = memref.collapse_shape %{{.+}} {{\[\[}}0, 1], [2], [3], [4]] : memref<2x8x4x3x3xf32> into memref<16x4x3x3xf32>
// CHECK: %[[Y:.+]] = memref.collapse_shape %{{.+}} {{\[\[}}0], [1, 2], [3], [4]] : memref<2x2x8x7x7xf32> into memref<2x16x7x7xf32>
// CHECK: %[[P:.+]] = memref.alloca() {mpc.host_buffer} : memref<55xi64>
// ABI version 1; X, W, Y f32 (0); flags BETA0 (1); groups 2; 2 spatial dims;
// pads 1, 1, -; strides 2, 2, -; dilations 3, 3, -.
// CHECK: memref.store %c1_i64, %[[P]][%c0]
// CHECK: memref.store %c0_i64, %[[P]][%c1]
// CHECK: memref.store %c0_i64, %[[P]][%c2]
// CHECK: memref.store %c0_i64, %[[P]][%c3]
// CHECK: memref.store %c1_i64, %[[P]][%c4]
// CHECK: memref.store %c2_i64, %[[P]][%c5]
// CHECK: memref.store %c2_i64, %[[P]][%c6]
// CHECK: memref.store %c1_i64, %[[P]][%c7]
// CHECK: memref.store %c2_i64, %[[P]][%c10]
// CHECK: memref.store %c3_i64, %[[P]][%c13]
// CHECK: memref.store %c1_i64, %[[P]][%c8]
// CHECK: memref.store %c2_i64, %[[P]][%c11]
// CHECK: memref.store %c3_i64, %[[P]][%c14]
// CHECK: memref.store %c0_i64, %[[P]][%c9]
// CHECK: memref.store %c1_i64, %[[P]][%c12]
// CHECK: memref.store %c1_i64, %[[P]][%c15]
// X from slot 16: pointer, offset, rank 4, sizes and strides.
// CHECK: memref.extract_strided_metadata %[[X]]
// CHECK: memref.extract_aligned_pointer_as_index %[[X]]
// CHECK: memref.store %{{.+}}, %[[P]][%c16]
// CHECK: memref.store %c4_i64, %[[P]][%c18]
// CHECK: memref.extract_strided_metadata %[[W]]
// CHECK: memref.store %c4_i64, %[[P]][%c31]
// CHECK: memref.extract_strided_metadata %[[Y]]
// CHECK: memref.store %c4_i64, %[[P]][%c44]
// The fifth size and stride of a rank-4 operand: 1 and 0.
// CHECK: memref.store %c1_i64, %[[P]][%c49]
// CHECK: memref.store %c0_i64, %[[P]][%c54]
// CHECK: call @mpc_cuda_conv(%[[P]]) : (memref<55xi64>) -> ()
// CHECK: scf.parallel
// CHECK: arith.maximumf
// TF32-LABEL: func.func @grouped
// TF32: memref.store %c3_i64, %{{.+}}[%c4]
// The default: im2col (a copy kernel) + a cuBLASLt GEMM.
// GEMM-LABEL: func.func @grouped
// GEMM-NOT: mpc_cuda_conv
// GEMM: call @mpc_cuda_matmul
// REPORT: grouped_k0 {{ *}}cudnn-conv {{ *}}- {{ *}}- {{ *}}20800 {{ *}}6272 {{ *}}112896 {{ *}}[arith.mulf arith.addf]
// BAD: for the --conv option: unknown value 'winograd'; valid values are gemm and cudnn
func.func @grouped(%x: tensor<2x8x17x17xf32>, %w: tensor<16x4x3x3xf32>, %b: tensor<16xf32>) -> tensor<2x16x7x7xf32> {
  %0 = mpc.conv %x, %w, %b {strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 3, 3>, group = 2 : i64} : (tensor<2x8x17x17xf32>, tensor<16x4x3x3xf32>, tensor<16xf32>) -> tensor<2x16x7x7xf32>
  %1 = mpc.relu %0 : tensor<2x16x7x7xf32>
  return %1 : tensor<2x16x7x7xf32>
}

// -----

// Padding on one side only: cuDNN reads the padded buffer with pads 0.
// CHECK-LABEL: func.func @asymmetric
// CHECK: %[[PADDED:.+]] = gpu.alloc () : memref<1x1x4x9x9xbf16>
// CHECK: memref.collapse_shape %[[PADDED]] {{\[\[}}0], [1, 2], [3], [4]] : memref<1x1x4x9x9xbf16> into memref<1x4x9x9xbf16>
// CHECK-NOT: memref.collapse_shape %{{.+}} {{\[\[}}0], [1, 2], [3], [4]] : memref<1x1x4x9x9xbf16> into memref<1x4x9x9xbf16>
// CHECK: memref.store %c0_i64, %{{.+}}[%c7]
// CHECK: memref.store %c0_i64, %{{.+}}[%c8]
// CHECK: call @mpc_cuda_conv
func.func @asymmetric(%x: tensor<1x4x8x8xbf16>, %w: tensor<6x4x3x3xbf16>) -> tensor<1x6x7x7xbf16> {
  %0 = mpc.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64, acc_type = bf16} : (tensor<1x4x8x8xbf16>, tensor<6x4x3x3xbf16>) -> tensor<1x6x7x7xbf16>
  return %0 : tensor<1x6x7x7xbf16>
}

// -----

// bf16 products summed in f32 (the default accumulator of a bf16 conv):
// cuDNN's legacy API has no such configuration, so it stays im2col + GEMM.
// CHECK-LABEL: func.func @mixed
// CHECK-NOT: mpc_cuda_conv
// CHECK: call @mpc_cuda_matmul
func.func @mixed(%x: tensor<1x16x16x16xbf16>, %w: tensor<32x16x1x1xbf16>) -> tensor<1x32x16x16xbf16> {
  %0 = mpc.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x16x16x16xbf16>, tensor<32x16x1x1xbf16>) -> tensor<1x32x16x16xbf16>
  return %0 : tensor<1x32x16x16xbf16>
}

// -----

// A constant input (a host global) is not cuDNN's to read: its zero padding
// is not folded, cuDNN reads the padded device buffer the constant was
// copied into.
// CHECK-LABEL: func.func @constant_input
// CHECK: %[[PADDED:.+]] = gpu.alloc () : memref<1x1x3x10x10xf32>
// CHECK: memref.get_global @__constant_1x1x3x8x8xf32
// CHECK: memref.collapse_shape %[[PADDED]] {{\[\[}}0], [1, 2], [3], [4]] : memref<1x1x3x10x10xf32> into memref<1x3x10x10xf32>
// CHECK: call @mpc_cuda_conv
func.func @constant_input(%w: tensor<4x3x3x3xf32>) -> tensor<1x4x8x8xf32> {
  %x = arith.constant dense<1.5> : tensor<1x3x8x8xf32>
  %0 = mpc.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x8x8xf32>
  return %0 : tensor<1x4x8x8xf32>
}

// -----

// A constant weight is copied to the device (one copy kernel) and the
// convolution still goes to cuDNN, not to a direct-convolution kernel.
// CHECK-LABEL: func.func @constant_weight
// CHECK: %[[W:.+]] = gpu.alloc () : memref<1x8x4x3x3xf32>
// CHECK: memref.get_global @__constant_1x8x4x3x3xf32
// CHECK: memref.collapse_shape %[[W]] {{\[\[}}0, 1], [2], [3], [4]] : memref<1x8x4x3x3xf32> into memref<8x4x3x3xf32>
// The call names itself first: the second record of the kernel table.
// CHECK: %[[ONE:.+]] = arith.constant 1 : i64
// CHECK: call @mpc_cuda_library_call(%[[ONE]]) : (i64) -> ()
// CHECK-NEXT: call @mpc_cuda_conv
// CHECK-NOT: arith.mulf
// CHECK: return
// REPORT-LABEL: constant_weight_k0
// REPORT-SAME: elementwise
// REPORT-NEXT: constant_weight_k1 {{.*}}cudnn-conv
func.func @constant_weight(%x: tensor<2x4x9x9xf32>) -> tensor<2x8x9x9xf32> {
  %w = arith.constant dense<0.5> : tensor<8x4x3x3xf32>
  %0 = mpc.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<2x4x9x9xf32>, tensor<8x4x3x3xf32>) -> tensor<2x8x9x9xf32>
  return %0 : tensor<2x8x9x9xf32>
}
