// RUN: mpc-opt --split-input-file --mpc-flatten-constant-globals %s | FileCheck %s

// An N-D constant weight becomes a 1-D global of its bytes (1.0f is
// 0x3F800000: 0, 0, -128, 63); its reader views them as f32 in the original
// shape.
// CHECK-LABEL: memref.global "private" constant @w : memref<24xi8> = dense<[0, 0, -128, 63, 0, 0, 0, 64, 0, 0, 64, 64, 0, 0, -128, 64, 0, 0, -96, 64, 0, 0, -64, 64]> {alignment = 64 : i64}
// CHECK-LABEL: func.func @read
// CHECK: %[[BYTES:.+]] = memref.get_global @w : memref<24xi8>
// CHECK: %[[C0:.+]] = arith.constant 0 : index
// CHECK: %[[FLAT:.+]] = memref.view %[[BYTES]][%[[C0]]][] : memref<24xi8> to memref<6xf32>
// CHECK: %[[VIEW:.+]] = memref.expand_shape %[[FLAT]] {{\[}}[0, 1, 2, 3]] output_shape [3, 2, 1, 1] : memref<6xf32> into memref<3x2x1x1xf32>
// CHECK: return %[[VIEW]]
memref.global "private" constant @w : memref<3x2x1x1xf32> = dense<[[[[1.0]], [[2.0]]], [[[3.0]], [[4.0]]], [[[5.0]], [[6.0]]]]> {alignment = 64 : i64}
func.func @read() -> memref<3x2x1x1xf32> {
  %0 = memref.get_global @w : memref<3x2x1x1xf32>
  return %0 : memref<3x2x1x1xf32>
}

// -----

// Splats, 1-D, i1 and mutable globals stay as they are.
// CHECK-LABEL: memref.global "private" constant @splat : memref<4x4xf32> = dense<1.000000e+00>
// CHECK-LABEL: memref.global "private" constant @vec : memref<2xf32>
// CHECK-LABEL: memref.global "private" @state : memref<2x2xf32>
// CHECK-LABEL: memref.global "private" constant @mask : memref<2x2xi1>
// CHECK-LABEL: func.func @untouched
// CHECK-NOT: expand_shape
// CHECK: return
memref.global "private" constant @splat : memref<4x4xf32> = dense<1.0>
memref.global "private" constant @vec : memref<2xf32> = dense<[1.0, 2.0]>
memref.global "private" @state : memref<2x2xf32> = dense<[[1.0, 2.0], [3.0, 4.0]]>
memref.global "private" constant @mask : memref<2x2xi1> = dense<[[true, false], [false, true]]>
func.func @untouched() -> (memref<4x4xf32>, memref<2xf32>, memref<2x2xf32>) {
  %0 = memref.get_global @splat : memref<4x4xf32>
  %1 = memref.get_global @vec : memref<2xf32>
  %2 = memref.get_global @state : memref<2x2xf32>
  return %0, %1, %2 : memref<4x4xf32>, memref<2xf32>, memref<2x2xf32>
}
