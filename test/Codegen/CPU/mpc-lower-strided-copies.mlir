// RUN: mpc-opt --mpc-lower-strided-copies %s | FileCheck %s

// CHECK-LABEL: func.func @copies
// CHECK-SAME: (%[[A:.+]]: memref<2x3xf32>, %[[B:.+]]: memref<2x8xf32>, %[[C:.+]]: memref<2x3xf32>)
// CHECK: %[[VIEW:.+]] = memref.subview %[[B]]
// CHECK: linalg.copy ins(%[[A]] : memref<2x3xf32>) outs(%[[VIEW]] : memref<2x3xf32, strided<[8, 1], offset: 2>>)
// Contiguous copies stay memref.copy: they lower to memcpy.
// CHECK: memref.copy %[[A]], %[[C]]
func.func @copies(%a: memref<2x3xf32>, %b: memref<2x8xf32>, %c: memref<2x3xf32>) {
  %view = memref.subview %b[0, 2] [2, 3] [1, 1] : memref<2x8xf32> to memref<2x3xf32, strided<[8, 1], offset: 2>>
  memref.copy %a, %view : memref<2x3xf32> to memref<2x3xf32, strided<[8, 1], offset: 2>>
  memref.copy %a, %c : memref<2x3xf32> to memref<2x3xf32>
  return
}
