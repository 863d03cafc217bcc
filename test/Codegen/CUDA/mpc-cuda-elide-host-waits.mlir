// RUN: mpc-opt --split-input-file '--pass-pipeline=builtin.module(func.func(mpc-cuda-elide-host-waits))' %s | FileCheck %s
// RUN: mpc-opt --split-input-file '--pass-pipeline=builtin.module(func.func(mpc-cuda-elide-host-waits{at-return=true}))' %s | FileCheck %s --check-prefix=RET

// What gpu-async-region leaves around a cuBLASLt call: the chain before it
// ends in a blocking wait. The call builds its argument block on the stack
// and queues on the runtime's one stream, so the wait goes; the wait before
// the return stays (the caller reads the results).
// CHECK-LABEL: func.func @before_a_library_call
// CHECK: gpu.alloc async
// CHECK-NOT: gpu.wait [
// CHECK: call @mpc_cuda_library_call
// CHECK-NEXT: call @mpc_cuda_matmul
// CHECK: gpu.launch_func async
// CHECK: gpu.wait [%{{.+}}]
// CHECK-NEXT: return
// With at-return the caller synchronizes: the function returns with the
// deallocation still queued.
// RET-LABEL: func.func @before_a_library_call
// RET-NOT: gpu.wait [
// RET: gpu.dealloc async
// RET-NEXT: return
module attributes {gpu.container_module} {
  func.func private @mpc_cuda_library_call(i64)
  func.func private @mpc_cuda_matmul(memref<38xi64>)
  gpu.module @k {
    gpu.func @k(%m: memref<4xf32>) kernel {
      gpu.return
    }
  }
  func.func @before_a_library_call(%a: memref<4xf32>) {
    %c1 = arith.constant 1 : index
    %c0 = arith.constant 0 : index
    %t0 = gpu.wait async
    %m, %t1 = gpu.alloc async [%t0] () : memref<4xf32>
    gpu.wait [%t1]
    %block = memref.alloca() : memref<38xi64>
    %p = memref.extract_aligned_pointer_as_index %m : memref<4xf32> -> index
    %pi = arith.index_cast %p : index to i64
    memref.store %pi, %block[%c0] : memref<38xi64>
    %site = arith.constant 0 : i64
    call @mpc_cuda_library_call(%site) : (i64) -> ()
    call @mpc_cuda_matmul(%block) : (memref<38xi64>) -> ()
    %t2 = gpu.wait async
    %t3 = gpu.launch_func async [%t2] @k::@k blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%m : memref<4xf32>)
    %t4 = gpu.dealloc async [%t3] %m : memref<4xf32>
    gpu.wait [%t4]
    return
  }
}

// -----

// Host work that needs the GPU's results keeps its wait: a load from device
// memory, a call of something other than the runtime's library functions.
// CHECK-LABEL: func.func @host_reads
// CHECK: gpu.wait [%{{.+}}]
// CHECK-NEXT: memref.load
// CHECK: gpu.wait [%{{.+}}]
// CHECK-NEXT: call @other
// CHECK: gpu.wait [%{{.+}}]
// CHECK-NEXT: return
// at-return drops only the last: the others come before host reads.
// RET-LABEL: func.func @host_reads
// RET: gpu.wait [%{{.+}}]
// RET-NEXT: memref.load
// RET: gpu.wait [%{{.+}}]
// RET-NEXT: call @other
// RET-NOT: gpu.wait [
// RET: return
module attributes {gpu.container_module} {
  func.func private @other(memref<4xf32>)
  func.func @host_reads(%a: memref<4xf32>) -> f32 {
    %c0 = arith.constant 0 : index
    %t0 = gpu.wait async
    %m, %t1 = gpu.alloc async [%t0] () : memref<4xf32>
    gpu.wait [%t1]
    %v = memref.load %m[%c0] : memref<4xf32>
    %t2 = gpu.wait async
    %t3 = gpu.memcpy async [%t2] %a, %m : memref<4xf32>, memref<4xf32>
    gpu.wait [%t3]
    call @other(%a) : (memref<4xf32>) -> ()
    %t4 = gpu.wait async
    %t5 = gpu.dealloc async [%t4] %m : memref<4xf32>
    gpu.wait [%t5]
    return %v : f32
  }
}
