// RUN: mpc-opt --split-input-file --mpc-cuda-map-to-kernels --mpc-cuda-merge-launches --cse %s | FileCheck %s
// RUN: mpc-opt --split-input-file --mpc-cuda-map-to-kernels "--mpc-cuda-merge-launches=max-kernels=2" %s | FileCheck %s --check-prefix=CAP
// RUN: mpc-opt --split-input-file --mpc-cuda-map-to-kernels "--mpc-cuda-merge-launches=max-param-bytes=100" %s | FileCheck %s --check-prefix=BYTES
// RUN: mpc-opt --split-input-file --mpc-cuda-map-to-kernels --mpc-cuda-merge-launches --mpc-cuda-kernel-report %s -o /dev/null | FileCheck %s --check-prefix=REPORT
// Schedules written out (block sizes mpc-cuda-map-to-kernels' elementwise
// kernels never differ in, library calls, unknown buffers):
// RUN: mpc-opt --split-input-file --mpc-cuda-merge-launches %s | FileCheck %s --check-prefix=SCHED
// RUN: not mpc-opt --split-input-file --mpc-cuda-merge-launches=max-kernels=0 %s -o /dev/null 2>&1 | FileCheck %s --check-prefix=BAD
// BAD: error: mpc-cuda-merge-launches: max-kernels and max-param-bytes must be at least 1, not 0 and 3072

#id = affine_map<(d0) -> (d0)>

// Three independent updates (an optimizer's, one per parameter): one
// launch whose 1 + 2 + 4 blocks run the kernel their index falls in, found
// by a binary search over the start blocks (1, then 3); each body sees its
// own block index.
// CHECK-LABEL: func.func @three_parameters
// CHECK: scf.parallel (%[[B:.+]]) = (%c0) to (%c7)
// CHECK: scf.parallel (%[[T:.+]]) = (%c0) to (%c256)
// CHECK: %[[LOW:.+]] = arith.cmpi ult, %[[B]], %c1
// CHECK: scf.if %[[LOW]]
// CHECK: arith.muli %[[B]], %c256
// CHECK: vector.store {{.+}}, %arg2
// CHECK: } else {
// CHECK: %[[MID:.+]] = arith.cmpi ult, %[[B]], %c3
// CHECK: scf.if %[[MID]]
// CHECK: %[[L1:.+]] = arith.subi %[[B]], %c1
// CHECK: arith.muli %[[L1]], %c256
// CHECK: vector.store {{.+}}, %arg5
// CHECK: } else {
// CHECK: %[[L2:.+]] = arith.subi %[[B]], %c3
// CHECK: arith.muli %[[L2]], %c256
// CHECK: vector.store {{.+}}, %arg8
// CHECK: mapping = [#gpu.loop_dim_map<processor = thread_x
// CHECK: mapping = [#gpu.loop_dim_map<processor = block_x
// CHECK-NEXT: return
// CAP-LABEL: func.func @three_parameters
// CAP: scf.parallel (%{{.+}}) = (%{{.+}}) to (%c3)
// CAP: scf.parallel (%{{.+}}) = (%{{.+}}) to (%c4)
// BYTES-LABEL: func.func @three_parameters
// BYTES-COUNT-3: processor = block_x
// REPORT: three_parameters_k0 multi-elementwise 7 256 57344 28672 7168 {{.*}} merges 3
// REPORT-NEXT: 1 kernels, 57344 bytes read, 28672 bytes written, 7168 flops
func.func @three_parameters(%p0: memref<1024xf32>, %g0: memref<1024xf32>, %o0: memref<1024xf32>,
                            %p1: memref<2048xf32>, %g1: memref<2048xf32>, %o1: memref<2048xf32>,
                            %p2: memref<4096xf32>, %g2: memref<4096xf32>, %o2: memref<4096xf32>) {
  linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel"]}
      ins(%p0, %g0 : memref<1024xf32>, memref<1024xf32>) outs(%o0 : memref<1024xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %s = arith.subf %a, %b : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel"]}
      ins(%p1, %g1 : memref<2048xf32>, memref<2048xf32>) outs(%o1 : memref<2048xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %s = arith.subf %a, %b : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel"]}
      ins(%p2, %g2 : memref<4096xf32>, memref<4096xf32>) outs(%o2 : memref<4096xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %s = arith.subf %a, %b : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// Read after write, write after read, write after write: every pair shares
// a buffer one of them writes, so each kernel runs alone, in order.
// CHECK-LABEL: func.func @dependent
// CHECK-NOT: arith.cmpi ult, %arg2
// CHECK: vector.store {{.+}}, %arg1
// CHECK: block_x
// CHECK: vector.store {{.+}}, %arg0
// CHECK: block_x
// CHECK: memref.store {{.+}}, %arg0
// CHECK: block_x
// CHECK-NEXT: return
// REPORT: 3 kernels
#id = affine_map<(d0) -> (d0)>
func.func @dependent(%x: memref<1024xf32>, %y: memref<1024xf32>) {
  // y = x + x (writes y)
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]}
      ins(%x : memref<1024xf32>) outs(%y : memref<1024xf32>) {
  ^bb0(%a: f32, %o: f32):
    %s = arith.addf %a, %a : f32
    linalg.yield %s : f32
  }
  // x = y * y (reads y: RAW; writes x, which the first read: WAR)
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]}
      ins(%y : memref<1024xf32>) outs(%x : memref<1024xf32>) {
  ^bb0(%a: f32, %o: f32):
    %s = arith.mulf %a, %a : f32
    linalg.yield %s : f32
  }
  // x = 1 (WAW)
  %one = arith.constant 1.0 : f32
  linalg.fill ins(%one : f32) outs(%x : memref<1024xf32>)
  return
}

// -----

// Two halves of one allocation, written through views: the same buffer,
// so nothing merges (the pass does not compare view ranges).
// CHECK-LABEL: func.func @views_of_one_allocation
// CHECK: scf.parallel (%{{.+}}) = (%c0) to (%c1)
// CHECK: vector.store {{.+}}, %subview[
// CHECK: block_x
// CHECK: scf.parallel (%{{.+}}) = (%c0) to (%c1)
// CHECK: vector.store {{.+}}, %subview_{{.+}}[
// CHECK: block_x
#id = affine_map<(d0) -> (d0)>
func.func @views_of_one_allocation(%x: memref<512xf32>, %out: memref<1024xf32>) {
  %buf = memref.alloc() : memref<1024xf32>
  %lo = memref.subview %buf[0] [512] [1] : memref<1024xf32> to memref<512xf32, strided<[1]>>
  %hi = memref.subview %buf[512] [512] [1] : memref<1024xf32> to memref<512xf32, strided<[1], offset: 512>>
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]}
      ins(%x : memref<512xf32>) outs(%lo : memref<512xf32, strided<[1]>>) {
  ^bb0(%a: f32, %o: f32):
    %s = arith.addf %a, %a : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]}
      ins(%x : memref<512xf32>) outs(%hi : memref<512xf32, strided<[1], offset: 512>>) {
  ^bb0(%a: f32, %o: f32):
    %s = arith.mulf %a, %a : f32
    linalg.yield %s : f32
  }
  memref.copy %buf, %out : memref<1024xf32> to memref<1024xf32>
  memref.dealloc %buf : memref<1024xf32>
  return
}

// -----

// Levels: the second kernel reads what the first writes, the third is
// independent of both: the first and third run as one launch, the second
// after it. A temporary's deallocation between them moves after the
// launches; its allocation stays where it was.
// CHECK-LABEL: func.func @levels
// CHECK: %[[T:.+]] = memref.alloc
// CHECK: scf.parallel (%[[B:.+]]) = (%c0) to (%c2)
// CHECK: arith.cmpi ult, %[[B]], %c1
// CHECK: scf.if
// CHECK: vector.store {{.+}}, %[[T]]
// CHECK: } else {
// CHECK: vector.store {{.+}}, %arg3
// CHECK: block_x
// CHECK-NEXT: scf.parallel (%{{.+}}) = (%c0) to (%c1)
// CHECK: vector.load %[[T]]
// CHECK: vector.store {{.+}}, %arg1
// CHECK: block_x
// CHECK-NEXT: memref.dealloc %[[T]]
// CHECK-NEXT: return
// REPORT: levels_k0 multi-elementwise 2 256
// REPORT-NEXT: levels_k1 elementwise-vector4 1 256
// REPORT-NEXT: 2 kernels
#id = affine_map<(d0) -> (d0)>
func.func @levels(%x: memref<256xf32>, %y: memref<256xf32>, %u: memref<256xf32>, %v: memref<256xf32>) {
  %t = memref.alloc() : memref<256xf32>
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]}
      ins(%x : memref<256xf32>) outs(%t : memref<256xf32>) {
  ^bb0(%a: f32, %o: f32):
    %s = arith.addf %a, %a : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]}
      ins(%t : memref<256xf32>) outs(%y : memref<256xf32>) {
  ^bb0(%a: f32, %o: f32):
    %s = arith.mulf %a, %a : f32
    linalg.yield %s : f32
  }
  memref.dealloc %t : memref<256xf32>
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]}
      ins(%u : memref<256xf32>) outs(%v : memref<256xf32>) {
  ^bb0(%a: f32, %o: f32):
    %s = arith.negf %a : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// A host call between two independent kernels: they do not cross it.
// CHECK-LABEL: func.func @host_call_between
// CHECK: vector.store {{.+}}, %arg1
// CHECK: block_x
// CHECK-NEXT: call @touch
// CHECK: scf.parallel (%{{.+}}) = (%c0) to (%c1)
// CHECK: vector.store {{.+}}, %arg3
// CHECK: block_x
// CHECK-NEXT: return
#id = affine_map<(d0) -> (d0)>
func.func private @touch()
func.func @host_call_between(%x: memref<256xf32>, %y: memref<256xf32>, %u: memref<256xf32>, %v: memref<256xf32>) {
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]}
      ins(%x : memref<256xf32>) outs(%y : memref<256xf32>) {
  ^bb0(%a: f32, %o: f32):
    %s = arith.addf %a, %a : f32
    linalg.yield %s : f32
  }
  func.call @touch() : () -> ()
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]}
      ins(%u : memref<256xf32>) outs(%v : memref<256xf32>) {
  ^bb0(%a: f32, %o: f32):
    %s = arith.negf %a : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// Kernels of 256 and 128 threads: one launch per block size (a and c; b
// alone). The library call is a barrier, and its kernel-table position
// (3: a, b, c, gemm) becomes 2 once c's record is merged into a's. d and e
// merge after it; f writes a buffer a call returned (it may be anything)
// and stays alone, as does g after it.
// SCHED: mpc.cuda_kernels = [{{.+}}grid = 3 : i64, merged = ["schedules_a", "schedules_c"], name = "schedules_a", onnx_nodes = ["/schedules_a", "/schedules_c"], ops = [], strategy = "multi-elementwise"}
// SCHED-SAME: name = "schedules_b"
// SCHED-SAME: name = "schedules_gemm"
// SCHED-SAME: name = "schedules_d"
// SCHED-SAME: name = "schedules_f"
// SCHED-LABEL: func.func @schedules
// SCHED: scf.parallel (%[[B:.+]]) = (%c0{{.*}}) to (%c3{{.*}})
// SCHED: scf.parallel (%{{.+}}) = (%c0{{.*}}) to (%c256{{.*}})
// SCHED: arith.cmpi ult, %[[B]], %c1
// SCHED: memref.store %{{.+}}, %arg0
// SCHED: memref.store %{{.+}}, %arg2
// SCHED: scf.parallel (%{{.+}}) = (%c0) to (%c1)
// SCHED: scf.parallel (%{{.+}}) = (%c0) to (%c128)
// SCHED: memref.store %{{.+}}, %arg1
// SCHED: %[[POS:.+]] = arith.constant 2 : i64
// SCHED-NEXT: call @mpc_cuda_library_call(%[[POS]])
// SCHED: call @gemm
// SCHED: scf.parallel (%[[B2:.+]]) = (%c0{{.*}}) to (%c2{{.*}})
// SCHED: arith.cmpi ult, %[[B2]], %c1
// SCHED: memref.store %{{.+}}, %arg3
// SCHED: memref.store %{{.+}}, %arg4
// SCHED: %[[M:.+]] = call @anything()
// SCHED: memref.store %{{.+}}, %[[M]]
// SCHED: block_x
// SCHED-NEXT: scf.parallel
// SCHED-NOT: scf.if
// SCHED: memref.store %{{.+}}, %arg5
module attributes {mpc.cuda_kernels = [
  {name = "schedules_a", strategy = "elementwise", grid = 1 : i64, block = 256 : i64, bytes_read = 0 : i64, bytes_written = 1024 : i64, flops = 0 : i64, ops = [], onnx_nodes = ["/schedules_a"]},
  {name = "schedules_b", strategy = "elementwise", grid = 1 : i64, block = 128 : i64, bytes_read = 0 : i64, bytes_written = 1024 : i64, flops = 0 : i64, ops = [], onnx_nodes = ["/schedules_b"]},
  {name = "schedules_c", strategy = "elementwise", grid = 2 : i64, block = 256 : i64, bytes_read = 0 : i64, bytes_written = 1024 : i64, flops = 0 : i64, ops = [], onnx_nodes = ["/schedules_c"]},
  {name = "schedules_gemm", strategy = "cublaslt-gemm", grid = 0 : i64, block = 0 : i64, bytes_read = 0 : i64, bytes_written = 1024 : i64, flops = 0 : i64, ops = [], onnx_nodes = ["/schedules_gemm"]},
  {name = "schedules_d", strategy = "elementwise", grid = 1 : i64, block = 256 : i64, bytes_read = 0 : i64, bytes_written = 1024 : i64, flops = 0 : i64, ops = [], onnx_nodes = ["/schedules_d"]},
  {name = "schedules_e", strategy = "elementwise", grid = 1 : i64, block = 256 : i64, bytes_read = 0 : i64, bytes_written = 1024 : i64, flops = 0 : i64, ops = [], onnx_nodes = ["/schedules_e"]},
  {name = "schedules_f", strategy = "elementwise", grid = 1 : i64, block = 256 : i64, bytes_read = 0 : i64, bytes_written = 1024 : i64, flops = 0 : i64, ops = [], onnx_nodes = ["/schedules_f"]},
  {name = "schedules_g", strategy = "elementwise", grid = 1 : i64, block = 256 : i64, bytes_read = 0 : i64, bytes_written = 1024 : i64, flops = 0 : i64, ops = [], onnx_nodes = ["/schedules_g"]}]} {
  func.func private @mpc_cuda_library_call(i64)
  func.func private @gemm()
  func.func private @anything() -> memref<256xf32>
  func.func @schedules(%x: memref<256xf32>, %y: memref<256xf32>, %z: memref<256xf32>,
                       %u: memref<256xf32>, %v: memref<256xf32>, %w: memref<256xf32>) {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c2 = arith.constant 2 : index
    %c128 = arith.constant 128 : index
    %c256 = arith.constant 256 : index
    %f = arith.constant 1.0 : f32
    scf.parallel (%b) = (%c0) to (%c1) step (%c1) {
      scf.parallel (%t) = (%c0) to (%c256) step (%c1) {
        memref.store %f, %x[%t] : memref<256xf32>
        scf.reduce
      } {mapping = [#gpu.loop_dim_map<processor = thread_x, map = (d0) -> (d0), bound = (d0) -> (d0)>]}
      scf.reduce
    } {mapping = [#gpu.loop_dim_map<processor = block_x, map = (d0) -> (d0), bound = (d0) -> (d0)>]} loc("schedules_a")
    scf.parallel (%b) = (%c0) to (%c1) step (%c1) {
      scf.parallel (%t) = (%c0) to (%c128) step (%c1) {
        memref.store %f, %y[%t] : memref<256xf32>
        scf.reduce
      } {mapping = [#gpu.loop_dim_map<processor = thread_x, map = (d0) -> (d0), bound = (d0) -> (d0)>]}
      scf.reduce
    } {mapping = [#gpu.loop_dim_map<processor = block_x, map = (d0) -> (d0), bound = (d0) -> (d0)>]} loc("schedules_b")
    scf.parallel (%b) = (%c0) to (%c2) step (%c1) {
      scf.parallel (%t) = (%c0) to (%c256) step (%c1) {
        memref.store %f, %z[%t] : memref<256xf32>
        scf.reduce
      } {mapping = [#gpu.loop_dim_map<processor = thread_x, map = (d0) -> (d0), bound = (d0) -> (d0)>]}
      scf.reduce
    } {mapping = [#gpu.loop_dim_map<processor = block_x, map = (d0) -> (d0), bound = (d0) -> (d0)>]} loc("schedules_c")
    %pos = arith.constant 3 : i64
    call @mpc_cuda_library_call(%pos) : (i64) -> ()
    call @gemm() : () -> ()
    scf.parallel (%b) = (%c0) to (%c1) step (%c1) {
      scf.parallel (%t) = (%c0) to (%c256) step (%c1) {
        memref.store %f, %u[%t] : memref<256xf32>
        scf.reduce
      } {mapping = [#gpu.loop_dim_map<processor = thread_x, map = (d0) -> (d0), bound = (d0) -> (d0)>]}
      scf.reduce
    } {mapping = [#gpu.loop_dim_map<processor = block_x, map = (d0) -> (d0), bound = (d0) -> (d0)>]} loc("schedules_d")
    scf.parallel (%b) = (%c0) to (%c1) step (%c1) {
      scf.parallel (%t) = (%c0) to (%c256) step (%c1) {
        memref.store %f, %v[%t] : memref<256xf32>
        scf.reduce
      } {mapping = [#gpu.loop_dim_map<processor = thread_x, map = (d0) -> (d0), bound = (d0) -> (d0)>]}
      scf.reduce
    } {mapping = [#gpu.loop_dim_map<processor = block_x, map = (d0) -> (d0), bound = (d0) -> (d0)>]} loc("schedules_e")
    %m = call @anything() : () -> memref<256xf32>
    scf.parallel (%b) = (%c0) to (%c1) step (%c1) {
      scf.parallel (%t) = (%c0) to (%c256) step (%c1) {
        memref.store %f, %m[%t] : memref<256xf32>
        scf.reduce
      } {mapping = [#gpu.loop_dim_map<processor = thread_x, map = (d0) -> (d0), bound = (d0) -> (d0)>]}
      scf.reduce
    } {mapping = [#gpu.loop_dim_map<processor = block_x, map = (d0) -> (d0), bound = (d0) -> (d0)>]} loc("schedules_f")
    scf.parallel (%b) = (%c0) to (%c1) step (%c1) {
      scf.parallel (%t) = (%c0) to (%c256) step (%c1) {
        memref.store %f, %w[%t] : memref<256xf32>
        scf.reduce
      } {mapping = [#gpu.loop_dim_map<processor = thread_x, map = (d0) -> (d0), bound = (d0) -> (d0)>]}
      scf.reduce
    } {mapping = [#gpu.loop_dim_map<processor = block_x, map = (d0) -> (d0), bound = (d0) -> (d0)>]} loc("schedules_g")
    return
  }
}

// -----

// Records without the measures a merged record sums (not written by
// mpc-cuda-map-to-kernels): the kernels stay as they are.
// SCHED-LABEL: func.func @incomplete_records
// SCHED-NOT: scf.if
// SCHED: memref.store %{{.+}}, %arg0
// SCHED: block_x
// SCHED-NEXT: scf.parallel
// SCHED: memref.store %{{.+}}, %arg1
module attributes {mpc.cuda_kernels = [
  {name = "incomplete_a", strategy = "elementwise", grid = 1 : i64, block = 256 : i64},
  {name = "incomplete_b", strategy = "elementwise", grid = 1 : i64, block = 256 : i64}]} {
  func.func @incomplete_records(%x: memref<256xf32>, %y: memref<256xf32>) {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c256 = arith.constant 256 : index
    %f = arith.constant 1.0 : f32
    scf.parallel (%b) = (%c0) to (%c1) step (%c1) {
      scf.parallel (%t) = (%c0) to (%c256) step (%c1) {
        memref.store %f, %x[%t] : memref<256xf32>
        scf.reduce
      } {mapping = [#gpu.loop_dim_map<processor = thread_x, map = (d0) -> (d0), bound = (d0) -> (d0)>]}
      scf.reduce
    } {mapping = [#gpu.loop_dim_map<processor = block_x, map = (d0) -> (d0), bound = (d0) -> (d0)>]} loc("incomplete_a")
    scf.parallel (%b) = (%c0) to (%c1) step (%c1) {
      scf.parallel (%t) = (%c0) to (%c256) step (%c1) {
        memref.store %f, %y[%t] : memref<256xf32>
        scf.reduce
      } {mapping = [#gpu.loop_dim_map<processor = thread_x, map = (d0) -> (d0), bound = (d0) -> (d0)>]}
      scf.reduce
    } {mapping = [#gpu.loop_dim_map<processor = block_x, map = (d0) -> (d0), bound = (d0) -> (d0)>]} loc("incomplete_b")
    return
  }
}
