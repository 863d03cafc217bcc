// RUN: mpc-opt --mpc-cuda-prepare-launches %s | FileCheck %s

// The launch takes its kernel's name from the NameLoc mpc-cuda-map-to-kernels
// gave its loop, and the one kernel module; an all-reduce whose region is one
// add becomes `add`, uniform.
// CHECK-LABEL: func.func @launch
// CHECK: gpu.launch {{.*}} module(@mpc_kernels) function(@main_k3)
// CHECK: gpu.all_reduce add %{{.+}} uniform {
// CHECK-NEXT: } : (f32) -> f32
// A region the conversion cannot name (two ops) is left alone.
// CHECK: gpu.all_reduce %{{.+}} {
// CHECK: arith.mulf
func.func @launch(%x: memref<256xf32>, %y: memref<1xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c256 = arith.constant 256 : index
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c256, %sy = %c1, %sz = %c1) {
    %v = memref.load %x[%tx] : memref<256xf32>
    %s = gpu.all_reduce %v {
    ^bb0(%a: f32, %b: f32):
      %r = arith.addf %a, %b : f32
      gpu.yield %r : f32
    } : (f32) -> f32
    %t = gpu.all_reduce %s {
    ^bb0(%a: f32, %b: f32):
      %m = arith.mulf %a, %b : f32
      %r = arith.addf %m, %b : f32
      gpu.yield %r : f32
    } : (f32) -> f32
    memref.store %t, %y[%c0] : memref<1xf32>
    gpu.terminator
  } loc(#named)
  return
}
#named = loc("main_k3"("model.onnx":0:0))
