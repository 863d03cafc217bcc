// The convolution gradients perform the forward conv's products: 2 * (dy
// elements) * (one filter) each, 2 * (1*4*8*8) * (3*3*3) = 13824, and count
// as matmul/conv FLOPs (mpc-precision-report.mlir runs this).
func.func @backward(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>, %dy: tensor<1x4x8x8xf32>) -> (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) {
  %dx = mpc.conv_grad_input %dy, %w {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64, mpc.node = "conv1"} : (tensor<1x4x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x3x8x8xf32>
  %dw = mpc.conv_grad_filter %x, %dy {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64, mpc.node = "conv1"} : (tensor<1x3x8x8xf32>, tensor<1x4x8x8xf32>) -> tensor<4x3x3x3xf32>
  return %dx, %dw : tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>
}
