// RUN: mpc-opt --split-input-file --verify-diagnostics --mpc-cuda-device-memory %s | FileCheck %s

// Host allocations become device allocations; the argument block of a
// library call (mpc.host_buffer) and accesses inside kernels stay as they are.
// CHECK-LABEL: func.func @buffers
// CHECK: %[[BUF:.+]] = gpu.alloc () : memref<64xf32>
// CHECK: memref.alloca() {mpc.host_buffer} : memref<4xi64>
// CHECK: memref.store %{{.+}}, %[[BUF]]
// CHECK: gpu.dealloc %[[BUF]] : memref<64xf32>
// CHECK-NOT: memref.alloc
// CHECK-NOT: memref.dealloc
func.func @buffers(%x: memref<64xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  %i = arith.constant 7 : i64
  %buf = memref.alloc() : memref<64xf32>
  %params = memref.alloca() {mpc.host_buffer} : memref<4xi64>
  memref.store %i, %params[%c0] : memref<4xi64>
  scf.parallel (%t) = (%c0) to (%c64) step (%c1) {
    %v = memref.load %x[%t] : memref<64xf32>
    memref.store %v, %buf[%t] : memref<64xf32>
    scf.reduce
  } {mapping = [#gpu.loop_dim_map<processor = thread_x, map = (d0) -> (d0), bound = (d0) -> (d0)>]}
  memref.dealloc %buf : memref<64xf32>
  return
}

// -----

func.func @host_access(%x: memref<64xf32>) -> f32 {
  %c0 = arith.constant 0 : index
  // expected-error @+1 {{reads or writes a device buffer from host code}}
  %v = memref.load %x[%c0] : memref<64xf32>
  return %v : f32
}

// -----

// A stack buffer becomes a device buffer freed where its block ends.
// CHECK-LABEL: func.func @stack
// CHECK: %[[S:.+]] = gpu.alloc () : memref<8xf32>
// CHECK: gpu.dealloc %[[S]] : memref<8xf32>
// CHECK-NEXT: return
func.func @stack(%x: memref<8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %s = memref.alloca() : memref<8xf32>
  scf.parallel (%t) = (%c0) to (%c8) step (%c1) {
    %v = memref.load %x[%t] : memref<8xf32>
    memref.store %v, %s[%t] : memref<8xf32>
    scf.reduce
  } {mapping = [#gpu.loop_dim_map<processor = thread_x, map = (d0) -> (d0), bound = (d0) -> (d0)>]}
  return
}
