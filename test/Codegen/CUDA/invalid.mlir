// RUN: mpc-opt --split-input-file --verify-diagnostics --mpc-cuda-map-to-kernels %s

func.func @dynamic(%x: memref<?x4xf32>, %y: memref<?x4xf32>) {
  // expected-error @+1 {{has dynamic sizes; the CUDA target needs static shapes}}
  linalg.copy ins(%x : memref<?x4xf32>) outs(%y : memref<?x4xf32>)
  return
}

// -----

func.func @tensors(%x: tensor<4xf32>, %y: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{is not on buffers: bufferize before mpc-cuda-map-to-kernels}}
  %r = linalg.copy ins(%x : tensor<4xf32>) outs(%y : tensor<4xf32>) -> tensor<4xf32>
  return %r : tensor<4xf32>
}
