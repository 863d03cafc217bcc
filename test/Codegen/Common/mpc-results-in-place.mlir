// RUN: mpc-opt --split-input-file --mpc-results-in-place %s | FileCheck %s

// The input is what buffer-results-to-out-params leaves: results computed in
// allocations, copied into the out-parameters at the end.

// A computed result is written into its out-parameter directly; a result
// returned twice keeps a copy, now from the first out-parameter; an input
// returned as it is keeps its copy.
// CHECK-LABEL: func.func @results
// CHECK-SAME: (%[[A:.+]]: memref<16xf32>, %[[B:.+]]: memref<16xf32>, %[[R:.+]]: memref<16xf32>, %[[A2:.+]]: memref<16xf32>, %[[R2:.+]]: memref<16xf32>)
// CHECK-NOT: memref.alloc
// CHECK: linalg.generic {{.+}} ins(%[[A]], %[[B]] : memref<16xf32>, memref<16xf32>) outs(%[[R]] : memref<16xf32>)
// CHECK: memref.copy %[[A]], %[[A2]]
// CHECK-NEXT: memref.copy %[[R]], %[[R2]]
// CHECK-NEXT: return
#id = affine_map<(d0) -> (d0)>
func.func @results(%a: memref<16xf32>, %b: memref<16xf32>, %r: memref<16xf32>, %a2: memref<16xf32>, %r2: memref<16xf32>) {
  %alloc = memref.alloc() {alignment = 64 : i64} : memref<16xf32>
  linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel"]} ins(%a, %b : memref<16xf32>, memref<16xf32>) outs(%alloc : memref<16xf32>) {
  ^bb0(%x: f32, %y: f32, %o: f32):
    %s = arith.addf %x, %y : f32
    linalg.yield %s : f32
  }
  memref.copy %alloc, %r : memref<16xf32> to memref<16xf32>
  memref.copy %a, %a2 : memref<16xf32> to memref<16xf32>
  memref.copy %alloc, %r2 : memref<16xf32> to memref<16xf32>
  return
}

// -----

// Writes through a view before the copy are writes of the result.
// CHECK-LABEL: func.func @through_a_view
// CHECK-SAME: (%[[X:.+]]: memref<2x8xf32>, %[[OUT:.+]]: memref<16xf32>)
// CHECK-NOT: memref.alloc
// CHECK: %[[VIEW:.+]] = memref.expand_shape %[[OUT]]
// CHECK: memref.copy %[[X]], %[[VIEW]]
// CHECK-NEXT: return
func.func @through_a_view(%x: memref<2x8xf32>, %out: memref<16xf32>) {
  %alloc = memref.alloc() : memref<16xf32>
  %view = memref.expand_shape %alloc [[0, 1]] output_shape [2, 8] : memref<16xf32> into memref<2x8xf32>
  memref.copy %x, %view : memref<2x8xf32> to memref<2x8xf32>
  memref.copy %alloc, %out : memref<16xf32> to memref<16xf32>
  return
}

// -----

// Left alone: the buffer is written after the copy (through a view), the
// out-parameter is read elsewhere, the types differ, the size is dynamic, the
// allocation is in another block.
// CHECK-LABEL: func.func @written_after
// CHECK: memref.alloc
// CHECK: memref.copy %{{.+}}, %arg1
// CHECK-LABEL: func.func @out_parameter_read
// CHECK: memref.alloc
// CHECK: memref.copy %{{.+}}, %arg1
// CHECK-LABEL: func.func @other_type
// CHECK: memref.alloc
// CHECK-LABEL: func.func @dynamic
// CHECK: memref.alloc
// CHECK-LABEL: func.func @in_a_loop
// CHECK: memref.alloc
func.func @written_after(%x: memref<2x8xf32>, %out: memref<16xf32>, %later: memref<2x8xf32>) {
  %alloc = memref.alloc() : memref<16xf32>
  %view = memref.expand_shape %alloc [[0, 1]] output_shape [2, 8] : memref<16xf32> into memref<2x8xf32>
  memref.copy %x, %view : memref<2x8xf32> to memref<2x8xf32>
  memref.copy %alloc, %out : memref<16xf32> to memref<16xf32>
  memref.copy %later, %view : memref<2x8xf32> to memref<2x8xf32>
  return
}

func.func @out_parameter_read(%x: memref<16xf32>, %out: memref<16xf32>, %seen: memref<16xf32>) {
  %alloc = memref.alloc() : memref<16xf32>
  memref.copy %x, %alloc : memref<16xf32> to memref<16xf32>
  memref.copy %out, %seen : memref<16xf32> to memref<16xf32>
  memref.copy %alloc, %out : memref<16xf32> to memref<16xf32>
  return
}

func.func @other_type(%x: memref<16xf32>, %out: memref<16xf32, strided<[1], offset: ?>>) {
  %alloc = memref.alloc() : memref<16xf32>
  memref.copy %x, %alloc : memref<16xf32> to memref<16xf32>
  memref.copy %alloc, %out : memref<16xf32> to memref<16xf32, strided<[1], offset: ?>>
  return
}

func.func @dynamic(%x: memref<?xf32>, %out: memref<?xf32>) {
  %c0 = arith.constant 0 : index
  %n = memref.dim %x, %c0 : memref<?xf32>
  %alloc = memref.alloc(%n) : memref<?xf32>
  memref.copy %x, %alloc : memref<?xf32> to memref<?xf32>
  memref.copy %alloc, %out : memref<?xf32> to memref<?xf32>
  return
}

func.func @in_a_loop(%x: memref<16xf32>, %out: memref<16xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  scf.for %i = %c0 to %c2 step %c1 {
    %alloc = memref.alloc() : memref<16xf32>
    memref.copy %x, %alloc : memref<16xf32> to memref<16xf32>
    memref.copy %alloc, %out : memref<16xf32> to memref<16xf32>
  }
  return
}
