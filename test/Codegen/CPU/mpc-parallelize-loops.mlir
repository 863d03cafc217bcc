// RUN: mpc-opt --split-input-file --pass-pipeline='builtin.module(func.func(mpc-parallelize-loops))' %s | FileCheck %s
// RUN: mpc-opt --split-input-file --pass-pipeline='builtin.module(func.func(mpc-parallelize-loops{min-work=1000000}))' %s | FileCheck %s --check-prefix=BIG

#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>

// An elementwise op over 32 x 16 x 256: the two outer dimensions (512 >= 64
// iterations after the second) are tiled by 1; each iteration runs the op on
// a 1 x 1 x 256 slice, left for convert-linalg-to-loops. Only the outermost
// dimension stays parallel (async-parallel-for miscompiles some
// multi-dimensional loops).
// CHECK-LABEL: func.func @elementwise
// CHECK: scf.parallel (%[[I:.+]]) = (%{{.+}}) to (%c32) step (%{{.+}})
// CHECK-NEXT: scf.for %[[J:.+]] = %{{.+}} to %c16 step %{{.+}}
// CHECK: %[[IN:.+]] = memref.subview %arg0[%[[I]], %[[J]], 0] [1, 1, 256] [1, 1, 1]
// CHECK: linalg.generic {{.+}} ins(%[[IN]] : memref<1x1x256xf32
// CHECK: arith.mulf
// CHECK: scf.reduce
// Below min-work the op is untouched.
// BIG-LABEL: func.func @elementwise
// BIG-NOT: scf.parallel
// BIG: linalg.generic
func.func @elementwise(%a: memref<32x16x256xf32>, %b: memref<32x16x256xf32>) {
  linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%a : memref<32x16x256xf32>) outs(%b : memref<32x16x256xf32>) {
  ^bb0(%x: f32, %y: f32):
    %m = arith.mulf %x, %x : f32
    linalg.yield %m : f32
  }
  return
}

// -----

// A row reduction (softmax's sum): rows in parallel, the reduction stays a
// whole, sequential loop in each iteration, so every sum adds in the same
// order whatever the thread count.
// CHECK-LABEL: func.func @row_sum
// CHECK: scf.parallel (%[[I:.+]]) = (%{{.+}}) to (%c512) step (%{{.+}})
// CHECK: linalg.generic {{.+}} iterator_types = ["parallel", "reduction"]
// CHECK-SAME: ins(%{{.+}} : memref<1x1024xf32
// CHECK-NOT: scf.parallel
func.func @row_sum(%a: memref<512x1024xf32>, %s: memref<512xf32>) {
  linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i)>],
                  iterator_types = ["parallel", "reduction"]}
      ins(%a : memref<512x1024xf32>) outs(%s : memref<512xf32>) {
  ^bb0(%x: f32, %acc: f32):
    %r = arith.addf %acc, %x : f32
    linalg.yield %r : f32
  }
  return
}

// -----

// The outermost dimension is a reduction: splitting below it would dispatch
// tasks once per reduction step, so the op stays sequential.
// CHECK-LABEL: func.func @column_sum
// CHECK-NOT: scf.parallel
// CHECK: linalg.generic
func.func @column_sum(%a: memref<1024x512xf32>, %s: memref<512xf32>) {
  linalg.generic {indexing_maps = [affine_map<(j, i) -> (j, i)>, affine_map<(j, i) -> (i)>],
                  iterator_types = ["reduction", "parallel"]}
      ins(%a : memref<1024x512xf32>) outs(%s : memref<512xf32>) {
  ^bb0(%x: f32, %acc: f32):
    %r = arith.addf %acc, %x : f32
    linalg.yield %r : f32
  }
  return
}

// -----

// Small ops (fewer than 2^16 iterations) are not worth a dispatch.
// CHECK-LABEL: func.func @small
// CHECK-NOT: scf.parallel
func.func @small(%a: memref<64x64xf32>, %b: memref<64x64xf32>) {
  linalg.copy ins(%a : memref<64x64xf32>) outs(%b : memref<64x64xf32>)
  return
}

// -----

// A multi-dimensional scf.parallel (mpc-tile-and-vectorize's tile loops)
// keeps only its outermost dimension parallel; the body is unchanged.
// CHECK-LABEL: func.func @tile_loops
// CHECK: scf.parallel (%[[I:.+]]) = (%c0) to (%c67) step (%c1)
// CHECK-NEXT: scf.for %[[J:.+]] = %c0 to %c127 step %c1
// CHECK-NEXT: memref.load %arg0[%[[I]], %[[J]]]
// CHECK-NEXT: memref.store {{.+}}, %arg1[%[[I]], %[[J]]]
// CHECK-NEXT: }
// CHECK-NEXT: scf.reduce
func.func @tile_loops(%a: memref<67x127xf32>, %b: memref<67x127xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c67 = arith.constant 67 : index
  %c127 = arith.constant 127 : index
  scf.parallel (%i, %j) = (%c0, %c0) to (%c67, %c127) step (%c1, %c1) {
    %x = memref.load %a[%i, %j] : memref<67x127xf32>
    memref.store %x, %b[%i, %j] : memref<67x127xf32>
    scf.reduce
  }
  return
}

// -----

// Tile loops inside a loop (mpc-conv-to-matmul's row blocks) are rewritten
// too, and the dimension kept parallel is the first one that runs more than
// once: the leading batch/group tile loops of one iteration would leave
// nothing to share between threads.
// CHECK-LABEL: func.func @tiles_in_block_loop
// CHECK: scf.for %[[B:.+]] = %c0 to %c4 step %c1
// CHECK-NEXT: scf.parallel (%[[M:.+]]) = (%c0) to (%c64) step (%c8)
// CHECK-NEXT: scf.for %[[G:.+]] = %c0 to %c1 step %c1
// CHECK-NEXT: scf.for %[[P:.+]] = %c0 to %c96 step %c32
// CHECK-NEXT: memref.load %arg0[%[[B]], %[[G]], %[[M]], %[[P]]]
// CHECK-NOT: scf.parallel
func.func @tiles_in_block_loop(%a: memref<4x1x64x96xf32>, %b: memref<4x1x64x96xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c8 = arith.constant 8 : index
  %c32 = arith.constant 32 : index
  %c64 = arith.constant 64 : index
  %c96 = arith.constant 96 : index
  scf.for %blk = %c0 to %c4 step %c1 {
    scf.parallel (%g, %m, %p) = (%c0, %c0, %c0) to (%c1, %c64, %c96) step (%c1, %c8, %c32) {
      %x = memref.load %a[%blk, %g, %m, %p] : memref<4x1x64x96xf32>
      memref.store %x, %b[%blk, %g, %m, %p] : memref<4x1x64x96xf32>
      scf.reduce
    }
  }
  return
}

// -----

// An scf.parallel nested in another runs sequentially: only the outer one is
// handed to threads.
// CHECK-LABEL: func.func @nested_parallel
// CHECK: scf.parallel (%[[I:.+]]) = (%c0) to (%c16) step (%c1)
// CHECK-NEXT: scf.for %[[J:.+]] = %c0 to %c32 step %c1
// CHECK-NEXT: memref.load %arg0[%[[I]], %[[J]]]
// CHECK-NOT: scf.parallel
func.func @nested_parallel(%a: memref<16x32xf32>, %b: memref<16x32xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  %c32 = arith.constant 32 : index
  scf.parallel (%i) = (%c0) to (%c16) step (%c1) {
    scf.parallel (%j) = (%c0) to (%c32) step (%c1) {
      %x = memref.load %a[%i, %j] : memref<16x32xf32>
      memref.store %x, %b[%i, %j] : memref<16x32xf32>
      scf.reduce
    }
    scf.reduce
  }
  return
}

// -----

// A loop whose iterations mpc-conv-to-matmul marked independent (blocks of
// output rows) becomes the parallel loop, with its body moved unchanged; the
// register-tile loop inside it then runs sequentially in each iteration.
// CHECK-LABEL: func.func @independent_blocks
// CHECK: scf.parallel (%[[B:.+]]) = (%c0) to (%c8) step (%c1)
// CHECK-NEXT: %[[S:.+]] = memref.subview %arg0[%[[B]], 0] [1, 64]
// CHECK-NEXT: scf.for %[[T:.+]] = %c0 to %c64 step %c32
// CHECK: memref.store %{{.+}}, %[[S]][%c0, %[[T]]]
// CHECK-NOT: scf.parallel
// CHECK-NOT: mpc.independent_iterations
// CHECK: return
// With fewer iterations than min-independent-trips (default 4) the loop
// stays sequential and the tiles inside it stay parallel.
// CHECK-LABEL: func.func @few_blocks
// CHECK: scf.for %[[B:.+]] = %c0 to %c2 step %c1
// CHECK: scf.parallel (%[[T:.+]]) = (%c0) to (%c64) step (%c32)
// CHECK: } {mpc.independent_iterations}
func.func @independent_blocks(%a: memref<8x64xf32>, %v: f32) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %c32 = arith.constant 32 : index
  %c64 = arith.constant 64 : index
  scf.for %b = %c0 to %c8 step %c1 {
    %s = memref.subview %a[%b, 0] [1, 64] [1, 1] : memref<8x64xf32> to memref<1x64xf32, strided<[64, 1], offset: ?>>
    scf.parallel (%t) = (%c0) to (%c64) step (%c32) {
      memref.store %v, %s[%c0, %t] : memref<1x64xf32, strided<[64, 1], offset: ?>>
      scf.reduce
    }
  } {mpc.independent_iterations}
  return
}
func.func @few_blocks(%a: memref<2x64xf32>, %v: f32) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c32 = arith.constant 32 : index
  %c64 = arith.constant 64 : index
  scf.for %b = %c0 to %c2 step %c1 {
    %s = memref.subview %a[%b, 0] [1, 64] [1, 1] : memref<2x64xf32> to memref<1x64xf32, strided<[64, 1], offset: ?>>
    scf.parallel (%t) = (%c0) to (%c64) step (%c32) {
      memref.store %v, %s[%c0, %t] : memref<1x64xf32, strided<[64, 1], offset: ?>>
      scf.reduce
    }
  } {mpc.independent_iterations}
  return
}

// -----

// A kernel mpc-outline-kernels took out of an independent loop of 8
// iterations (a block of a blocked convolution): that loop is the parallel
// one, so the kernel's own tile loop and its large elementwise op stay
// sequential. Called from a loop of 2 iterations (fewer than
// min-independent-trips), which stays sequential, the kernel's loops are
// parallel as usual.
// CHECK-LABEL: func.func private @block_kernel
// CHECK-NOT: scf.parallel
// CHECK: scf.for %{{.+}} = %c0 to %c64 step %c32
// CHECK-NOT: scf.parallel
// CHECK: return
// CHECK-LABEL: func.func private @kernel_of_few_blocks
// CHECK: scf.parallel (%{{.+}}) = (%c0) to (%c64) step (%c32)
func.func private @block_kernel(%s: memref<1x64xf32>, %v: f32, %a: memref<32x16x256xf32>, %b: memref<32x16x256xf32>)
    attributes {mpc.called_in_independent_loop = 8 : i64} {
  %c0 = arith.constant 0 : index
  %c32 = arith.constant 32 : index
  %c64 = arith.constant 64 : index
  scf.parallel (%t) = (%c0) to (%c64) step (%c32) {
    memref.store %v, %s[%c0, %t] : memref<1x64xf32>
    scf.reduce
  }
  linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>],
                  iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%a : memref<32x16x256xf32>) outs(%b : memref<32x16x256xf32>) {
  ^bb0(%x: f32, %y: f32):
    %m = arith.mulf %x, %x : f32
    linalg.yield %m : f32
  }
  return
}
func.func private @kernel_of_few_blocks(%s: memref<1x64xf32>, %v: f32) attributes {mpc.called_in_independent_loop = 2 : i64} {
  %c0 = arith.constant 0 : index
  %c32 = arith.constant 32 : index
  %c64 = arith.constant 64 : index
  scf.parallel (%t) = (%c0) to (%c64) step (%c32) {
    memref.store %v, %s[%c0, %t] : memref<1x64xf32>
    scf.reduce
  }
  return
}
