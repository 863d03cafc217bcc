// RUN: mpc-opt --mpc-outline-kernels --split-input-file %s | FileCheck %s

// Two layers of the same shapes share one kernel; the constant the body
// uses is cloned into it, the buffers are its arguments.
// CHECK-LABEL: func.func @layers(
// CHECK-SAME: %[[A:.+]]: memref<4x8xf32>, %[[B:.+]]: memref<4x8xf32>, %[[C:.+]]: memref<4x8xf32>)
// CHECK-NOT: linalg.generic
// CHECK: call @layers_kernel0(%[[A]], %[[B]]) : (memref<4x8xf32>, memref<4x8xf32>) -> ()
// CHECK-NEXT: call @layers_kernel0(%[[B]], %[[C]]) : (memref<4x8xf32>, memref<4x8xf32>) -> ()
// CHECK-NEXT: return
// CHECK: func.func private @layers_kernel0(%[[X:.+]]: memref<4x8xf32>, %[[Y:.+]]: memref<4x8xf32>) attributes {passthrough = ["noinline"]}
// CHECK-NEXT: %[[TWO:.+]] = arith.constant 2.000000e+00 : f32
// CHECK-NEXT: linalg.generic
// CHECK-SAME: ins(%[[X]] : memref<4x8xf32>) outs(%[[Y]] : memref<4x8xf32>)
// CHECK: arith.mulf %{{.+}}, %[[TWO]] : f32
// CHECK-NOT: func.func
#id = affine_map<(i, j) -> (i, j)>
func.func @layers(%a: memref<4x8xf32>, %b: memref<4x8xf32>, %c: memref<4x8xf32>) {
  %two = arith.constant 2.0 : f32
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%a : memref<4x8xf32>) outs(%b : memref<4x8xf32>) {
  ^bb0(%x: f32, %y: f32):
    %m = arith.mulf %x, %two : f32
    linalg.yield %m : f32
  }
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%b : memref<4x8xf32>) outs(%c : memref<4x8xf32>) {
  ^bb0(%x: f32, %y: f32):
    %m = arith.mulf %x, %two : f32
    linalg.yield %m : f32
  }
  return
}

// -----

// Kernels differ when anything but the buffers differs: the constant, the
// shapes, or one buffer passed twice (an in-place op reads what it writes).
// CHECK-LABEL: func.func @distinct(
// CHECK: call @distinct_kernel0(%{{.+}}, %{{.+}}) : (memref<4x8xf32>, memref<4x8xf32>) -> ()
// CHECK-NEXT: call @distinct_kernel1(%{{.+}}, %{{.+}}) : (memref<4x8xf32>, memref<4x8xf32>) -> ()
// CHECK-NEXT: call @distinct_kernel2(%{{.+}}, %{{.+}}) : (memref<2x8xf32>, memref<2x8xf32>) -> ()
// CHECK-NEXT: call @distinct_kernel3(%{{.+}}) : (memref<4x8xf32>) -> ()
// CHECK: func.func private @distinct_kernel0(
// CHECK: arith.constant 2.000000e+00
// CHECK: func.func private @distinct_kernel1(
// CHECK: arith.constant 3.000000e+00
// CHECK: func.func private @distinct_kernel2(
// CHECK: func.func private @distinct_kernel3(%[[Z:.+]]: memref<4x8xf32>)
// CHECK: ins(%[[Z]] : memref<4x8xf32>) outs(%[[Z]] : memref<4x8xf32>)
#id = affine_map<(i, j) -> (i, j)>
func.func @distinct(%a: memref<4x8xf32>, %b: memref<4x8xf32>, %s: memref<2x8xf32>, %t: memref<2x8xf32>) {
  %two = arith.constant 2.0 : f32
  %three = arith.constant 3.0 : f32
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%a : memref<4x8xf32>) outs(%b : memref<4x8xf32>) {
  ^bb0(%x: f32, %y: f32):
    %m = arith.mulf %x, %two : f32
    linalg.yield %m : f32
  }
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%a : memref<4x8xf32>) outs(%b : memref<4x8xf32>) {
  ^bb0(%x: f32, %y: f32):
    %m = arith.mulf %x, %three : f32
    linalg.yield %m : f32
  }
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%s : memref<2x8xf32>) outs(%t : memref<2x8xf32>) {
  ^bb0(%x: f32, %y: f32):
    %m = arith.mulf %x, %two : f32
    linalg.yield %m : f32
  }
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%a : memref<4x8xf32>) outs(%a : memref<4x8xf32>) {
  ^bb0(%x: f32, %y: f32):
    %m = arith.mulf %x, %two : f32
    linalg.yield %m : f32
  }
  return
}

// -----

// A value the body uses that is not a constant (here a function argument)
// is passed in; ops on tensors and private one-kernel functions (this pass's
// own output) stay as they are.
// CHECK-LABEL: func.func @scalar(
// CHECK-SAME: %[[A:.+]]: memref<4xf32>, %[[S:.+]]: f32)
// CHECK: call @scalar_kernel0(%[[A]], %[[S]]) : (memref<4xf32>, f32) -> ()
// CHECK-LABEL: func.func @on_tensors(
// CHECK: linalg.generic
// CHECK-LABEL: func.func private @already_kernel(
// CHECK-NEXT: linalg.fill
// CHECK-NEXT: return
// CHECK: func.func private @scalar_kernel0(%{{.+}}: memref<4xf32>, %[[T:.+]]: f32)
// CHECK: arith.mulf %{{.+}}, %[[T]] : f32
func.func @scalar(%a: memref<4xf32>, %s: f32) {
  linalg.generic {indexing_maps = [affine_map<(i) -> (i)>], iterator_types = ["parallel"]}
      outs(%a : memref<4xf32>) {
  ^bb0(%y: f32):
    %m = arith.mulf %y, %s : f32
    linalg.yield %m : f32
  }
  return
}
func.func @on_tensors(%t: tensor<4xf32>) -> tensor<4xf32> {
  %r = linalg.generic {indexing_maps = [affine_map<(i) -> (i)>], iterator_types = ["parallel"]}
      outs(%t : tensor<4xf32>) {
  ^bb0(%y: f32):
    %m = arith.addf %y, %y : f32
    linalg.yield %m : f32
  } -> tensor<4xf32>
  return %r : tensor<4xf32>
}
func.func private @already_kernel(%a: memref<4xf32>, %s: f32) {
  linalg.fill ins(%s : f32) outs(%a : memref<4xf32>)
  return
}

// -----

// Two blocks of one op, views at different static offsets, share a kernel
// that takes the view at a dynamic offset.
// CHECK-LABEL: func.func @blocks(
// CHECK: %[[V0:.+]] = memref.cast %{{.+}} : memref<2x8xf32, strided<[8, 1]>> to memref<2x8xf32, strided<[8, 1], offset: ?>>
// CHECK: call @blocks_kernel0(%{{.+}}, %[[V0]])
// CHECK: %[[V1:.+]] = memref.cast %{{.+}} : memref<2x8xf32, strided<[8, 1], offset: 16>> to memref<2x8xf32, strided<[8, 1], offset: ?>>
// CHECK: call @blocks_kernel0(%{{.+}}, %[[V1]])
// CHECK: func.func private @blocks_kernel0(%{{.+}}: f32, %{{.+}}: memref<2x8xf32, strided<[8, 1], offset: ?>>)
// CHECK-NOT: func.func
func.func @blocks(%a: memref<4x8xf32>, %s: f32) {
  %top = memref.subview %a[0, 0] [2, 8] [1, 1] : memref<4x8xf32> to memref<2x8xf32, strided<[8, 1]>>
  linalg.fill ins(%s : f32) outs(%top : memref<2x8xf32, strided<[8, 1]>>)
  %bottom = memref.subview %a[2, 0] [2, 8] [1, 1] : memref<4x8xf32> to memref<2x8xf32, strided<[8, 1], offset: 16>>
  linalg.fill ins(%s : f32) outs(%bottom : memref<2x8xf32, strided<[8, 1], offset: 16>>)
  return
}

// -----

// Kernels inside loops (a blocked convolution's per-block copy) are
// outlined too: the block's view has a loop-dependent offset, which the
// kernel takes as any offset, so every iteration and every equal loop calls
// the same function.
// CHECK-LABEL: func.func @blocks(
// CHECK: scf.for %[[I:.+]] = 
// CHECK: %[[VIEW:.+]] = memref.subview %{{.+}}[%[[I]], 0] [1, 8] [1, 1]
// CHECK-NOT: linalg.generic
// CHECK: call @blocks_kernel0(%[[VIEW]], %{{.+}}) : (memref<1x8xf32, strided<[8, 1], offset: ?>>, memref<1x8xf32, strided<[8, 1], offset: ?>>) -> ()
// CHECK: scf.for
// CHECK: call @blocks_kernel0(
// CHECK: func.func private @blocks_kernel0(
// CHECK-NOT: func.func private
#id2 = affine_map<(i, j) -> (i, j)>
func.func @blocks(%a: memref<4x8xf32>, %b: memref<4x8xf32>, %c: memref<4x8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  scf.for %i = %c0 to %c4 step %c1 {
    %x = memref.subview %a[%i, 0] [1, 8] [1, 1] : memref<4x8xf32> to memref<1x8xf32, strided<[8, 1], offset: ?>>
    %y = memref.subview %b[%i, 0] [1, 8] [1, 1] : memref<4x8xf32> to memref<1x8xf32, strided<[8, 1], offset: ?>>
    linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]}
        ins(%x : memref<1x8xf32, strided<[8, 1], offset: ?>>) outs(%y : memref<1x8xf32, strided<[8, 1], offset: ?>>) {
    ^bb0(%u: f32, %v: f32):
      %e = math.exp %u : f32
      linalg.yield %e : f32
    }
  }
  scf.for %i = %c0 to %c4 step %c1 {
    %x = memref.subview %b[%i, 0] [1, 8] [1, 1] : memref<4x8xf32> to memref<1x8xf32, strided<[8, 1], offset: ?>>
    %y = memref.subview %c[%i, 0] [1, 8] [1, 1] : memref<4x8xf32> to memref<1x8xf32, strided<[8, 1], offset: ?>>
    linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]}
        ins(%x : memref<1x8xf32, strided<[8, 1], offset: ?>>) outs(%y : memref<1x8xf32, strided<[8, 1], offset: ?>>) {
    ^bb0(%u: f32, %v: f32):
      %e = math.exp %u : f32
      linalg.yield %e : f32
    }
  }
  return
}

// -----

// Called from loops whose iterations may run on several threads (marked
// independent, 6 and 3 iterations): the kernel records the larger trip
// count for mpc-parallelize-loops.
// CHECK-LABEL: func.func @marked(
// CHECK: func.func private @marked_kernel0({{.+}}) attributes {mpc.called_in_independent_loop = 6 : i64, passthrough = ["noinline"]}
#id3 = affine_map<(i, j) -> (i, j)>
func.func @marked(%a: memref<6x8xf32>, %b: memref<6x8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %c6 = arith.constant 6 : index
  scf.for %i = %c0 to %c6 step %c1 {
    %x = memref.subview %a[%i, 0] [1, 8] [1, 1] : memref<6x8xf32> to memref<1x8xf32, strided<[8, 1], offset: ?>>
    %y = memref.subview %b[%i, 0] [1, 8] [1, 1] : memref<6x8xf32> to memref<1x8xf32, strided<[8, 1], offset: ?>>
    linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel"]}
        ins(%x : memref<1x8xf32, strided<[8, 1], offset: ?>>) outs(%y : memref<1x8xf32, strided<[8, 1], offset: ?>>) {
    ^bb0(%u: f32, %v: f32):
      %e = math.exp %u : f32
      linalg.yield %e : f32
    }
  } {mpc.independent_iterations}
  scf.for %i = %c0 to %c3 step %c1 {
    %x = memref.subview %b[%i, 0] [1, 8] [1, 1] : memref<6x8xf32> to memref<1x8xf32, strided<[8, 1], offset: ?>>
    %y = memref.subview %a[%i, 0] [1, 8] [1, 1] : memref<6x8xf32> to memref<1x8xf32, strided<[8, 1], offset: ?>>
    linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel"]}
        ins(%x : memref<1x8xf32, strided<[8, 1], offset: ?>>) outs(%y : memref<1x8xf32, strided<[8, 1], offset: ?>>) {
    ^bb0(%u: f32, %v: f32):
      %e = math.exp %u : f32
      linalg.yield %e : f32
    }
  } {mpc.independent_iterations}
  return
}
