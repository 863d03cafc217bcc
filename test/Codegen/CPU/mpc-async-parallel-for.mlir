// RUN: mpc-opt --split-input-file --mpc-async-parallel-for %s | FileCheck %s
// RUN: mpc-opt --split-input-file --mpc-async-parallel-for=blocks-per-thread=4 %s | FileCheck %s --check-prefix=FOUR
// RUN: not mpc-opt --mpc-async-parallel-for=blocks-per-thread=0 %s 2>&1 | FileCheck %s --check-prefix=ERR

// 1000 iterations in steps of 3 (334 trips) on T runtime threads: blocks of
// ceil(334 / T) iterations, so exactly T tasks, whatever T is at run time
// (upstream's formula max(ceil(trips / (8 T)), min-task-size) gets this
// size as its minimum task size and keeps it).
// CHECK-LABEL: func.func @loop
// CHECK-DAG: %[[TRIPS:.+]] = arith.constant 334 : index
// CHECK-DAG: %[[ONE:.+]] = arith.constant 1 : index
// CHECK: %[[THREADS:.+]] = async.runtime.num_worker_threads : index
// CHECK: %[[SIZE:.+]] = arith.ceildivsi %[[TRIPS]], %[[THREADS]] : index
// CHECK: %[[MIN:.+]] = arith.maxsi %[[SIZE]], %[[ONE]] : index
// CHECK: %[[BS:.+]] = arith.maxsi %{{.+}}, %[[MIN]] : index
// CHECK: %[[BLOCK:.+]] = arith.minsi %[[BS]], %[[TRIPS]] : index
// CHECK: %[[COUNT:.+]] = arith.ceildivsi %[[TRIPS]], %[[BLOCK]] : index
// CHECK: async.create_group
// CHECK: call @async_dispatch_fn(%{{.+}}, %{{.+}}, %[[COUNT]], %[[BLOCK]]
// CHECK: async.await_all
// CHECK: func.func private @parallel_compute_fn
// CHECK: memref.store
// CHECK: func.func private @async_dispatch_fn
// CHECK: async.execute
// FOUR-LABEL: func.func @loop
// FOUR-DAG: %[[FOUR:.+]] = arith.constant 4 : index
// FOUR: %[[THREADS:.+]] = async.runtime.num_worker_threads : index
// FOUR: arith.muli %[[THREADS]], %[[FOUR]] : index
// ERR: blocks-per-thread must be at least 1, got 0
func.func @loop(%a: memref<1000xf32>, %v: f32) {
  %c0 = arith.constant 0 : index
  %c3 = arith.constant 3 : index
  %c1000 = arith.constant 1000 : index
  scf.parallel (%i) = (%c0) to (%c1000) step (%c3) {
    memref.store %v, %a[%i] : memref<1000xf32>
    scf.reduce
  }
  return
}
