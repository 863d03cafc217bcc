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

// -----

// A function tagged as outlined attention without its description.
func.func private @attention(memref<1x2x8x16xf16>, memref<1x2x8x16xf16>, memref<1x2x8x16xf16>, memref<1x2x8x16xf16>) attributes {mpc.cuda_library = "attention"}

func.func @undescribed_attention(%q: memref<1x2x8x16xf16>, %k: memref<1x2x8x16xf16>, %v: memref<1x2x8x16xf16>, %o: memref<1x2x8x16xf16>) {
  // expected-error @+1 {{is not an attention call as mpc-cuda-match-attention outlines and bufferization leaves it}}
  call @attention(%q, %k, %v, %o) : (memref<1x2x8x16xf16>, memref<1x2x8x16xf16>, memref<1x2x8x16xf16>, memref<1x2x8x16xf16>) -> ()
  return
}
