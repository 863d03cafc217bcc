// RUN: mpc-opt %s --split-input-file --verify-diagnostics

func.func @broadcast_mismatch(%a: tensor<2x4xf32>, %b: tensor<3xf32>) -> tensor<2x4xf32> {
  // expected-error @+2 {{failed to infer returned types}}
  // expected-error @+1 {{shapes [2x4] and [3] do not broadcast}}
  %0 = mpc.add %a, %b : (tensor<2x4xf32>, tensor<3xf32>) -> tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}

// -----

func.func @element_type_mismatch(%a: tensor<4xf32>, %b: tensor<4xbf16>) -> tensor<4xf32> {
  // expected-error @+2 {{failed to infer returned types}}
  // expected-error @+1 {{operands must have the same element type, got 'f32' and 'bf16'}}
  %0 = mpc.mul %a, %b : (tensor<4xf32>, tensor<4xbf16>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @wrong_result_shape(%a: tensor<2x4xf32>, %b: tensor<4xf32>) -> tensor<4x4xf32> {
  // expected-error @+2 {{failed to infer returned types}}
  // expected-error @+1 {{'mpc.add' op inferred type(s) 'tensor<2x4xf32>' are incompatible with return type(s) of operation 'tensor<4x4xf32>'}}
  %0 = mpc.add %a, %b : (tensor<2x4xf32>, tensor<4xf32>) -> tensor<4x4xf32>
  return %0 : tensor<4x4xf32>
}

// -----

func.func @dynamic_shape(%a: tensor<?x4xf32>) -> tensor<?x4xf32> {
  // expected-error @+1 {{must be statically shaped tensor}}
  %0 = mpc.relu %a : tensor<?x4xf32>
  return %0 : tensor<?x4xf32>
}

// -----

func.func @matmul_contraction(%a: tensor<2x3xf32>, %b: tensor<4x5xf32>) -> tensor<2x5xf32> {
  // expected-error @+2 {{failed to infer returned types}}
  // expected-error @+1 {{matmul contraction dims differ: [2x3] x [4x5] (3 vs 4)}}
  %0 = mpc.matmul %a, %b : (tensor<2x3xf32>, tensor<4x5xf32>) -> tensor<2x5xf32>
  return %0 : tensor<2x5xf32>
}

// -----

func.func @matmul_rank(%a: tensor<3xf32>, %b: tensor<3x5xf32>) -> tensor<5xf32> {
  // expected-error @+2 {{failed to infer returned types}}
  // expected-error @+1 {{matmul operands need rank >= 2}}
  %0 = mpc.matmul %a, %b : (tensor<3xf32>, tensor<3x5xf32>) -> tensor<5xf32>
  return %0 : tensor<5xf32>
}

// -----

func.func @matmul_batch(%a: tensor<2x3x4xf32>, %b: tensor<5x4x6xf32>) -> tensor<2x3x6xf32> {
  // expected-error @+2 {{failed to infer returned types}}
  // expected-error @+1 {{matmul batch dims: shapes [2] and [5] do not broadcast}}
  %0 = mpc.matmul %a, %b : (tensor<2x3x4xf32>, tensor<5x4x6xf32>) -> tensor<2x3x6xf32>
  return %0 : tensor<2x3x6xf32>
}

// -----

func.func @conv_channels(%x: tensor<1x3x8x8xf32>, %w: tensor<4x2x3x3xf32>) -> tensor<1x4x6x6xf32> {
  // expected-error @+2 {{failed to infer returned types}}
  // expected-error @+1 {{conv weight [4x2x3x3] expects 2 input channels, input [1x3x8x8] has 3}}
  %0 = mpc.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x3x8x8xf32>, tensor<4x2x3x3xf32>) -> tensor<1x4x6x6xf32>
  return %0 : tensor<1x4x6x6xf32>
}

// -----

func.func @conv_group(%x: tensor<1x4x8x8xf32>, %w: tensor<6x2x3x3xf32>) -> tensor<1x6x6x6xf32> {
  // expected-error @+2 {{failed to infer returned types}}
  // expected-error @+1 {{conv group 4 must divide the input channels (4) and output channels (6)}}
  %0 = mpc.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 4 : i64} : (tensor<1x4x8x8xf32>, tensor<6x2x3x3xf32>) -> tensor<1x6x6x6xf32>
  return %0 : tensor<1x6x6x6xf32>
}

// -----

func.func @conv_bias(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>, %b: tensor<3xf32>) -> tensor<1x4x6x6xf32> {
  // expected-error @+2 {{failed to infer returned types}}
  // expected-error @+1 {{conv bias must have shape [4]}}
  %0 = mpc.conv %x, %w, %b {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>, tensor<3xf32>) -> tensor<1x4x6x6xf32>
  return %0 : tensor<1x4x6x6xf32>
}

// -----

func.func @conv_window(%x: tensor<1x3x2x2xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<1x4x1x1xf32> {
  // expected-error @+2 {{failed to infer returned types}}
  // expected-error @+1 {{window of extent 3 does not fit the padded input of size 2}}
  %0 = mpc.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x3x2x2xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x1x1xf32>
  return %0 : tensor<1x4x1x1xf32>
}

// -----

func.func @pool_attrs(%x: tensor<1x3x8x8xf32>) -> tensor<1x3x4x4xf32> {
  // expected-error @+2 {{failed to infer returned types}}
  // expected-error @+1 {{pool needs 2 strides and dilations and 4 pads}}
  %0 = mpc.max_pool %x {kernel_shape = array<i64: 2, 2>, strides = array<i64: 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x3x8x8xf32>) -> tensor<1x3x4x4xf32>
  return %0 : tensor<1x3x4x4xf32>
}

// -----

func.func @softmax_axis(%x: tensor<2x8xf32>) -> tensor<2x8xf32> {
  // expected-error @+1 {{'mpc.softmax' op axis 2 is out of range for rank 2}}
  %0 = mpc.softmax %x {axis = 2 : i64} : tensor<2x8xf32>
  return %0 : tensor<2x8xf32>
}

// -----

func.func @layer_norm_scale(%x: tensor<2x8xf32>, %g: tensor<4xf32>) -> tensor<2x8xf32> {
  // expected-error @+2 {{failed to infer returned types}}
  // expected-error @+1 {{layer_norm scale/bias must broadcast to the normalized dims}}
  %0 = mpc.layer_norm %x, %g {axis = 1 : i64, epsilon = 1.0e-05 : f64} : (tensor<2x8xf32>, tensor<4xf32>) -> tensor<2x8xf32>
  return %0 : tensor<2x8xf32>
}

// -----

func.func @batch_norm_channels(%x: tensor<1x4x8x8xf32>, %c: tensor<3xf32>) -> tensor<1x4x8x8xf32> {
  // expected-error @+2 {{failed to infer returned types}}
  // expected-error @+1 {{batch_norm scale, bias, mean and variance must have shape [4]}}
  %0 = mpc.batch_norm %x, %c, %c, %c, %c {epsilon = 1.0e-05 : f64, momentum = 0.9 : f64} : (tensor<1x4x8x8xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<1x4x8x8xf32>
  return %0 : tensor<1x4x8x8xf32>
}

// -----

func.func @reduce_axes(%x: tensor<2x8xf32>) -> tensor<2xf32> {
  // expected-error @+2 {{failed to infer returned types}}
  // expected-error @+1 {{reduction axes must be sorted and unique}}
  %0 = mpc.reduce_sum %x {axes = array<i64: 1, 1>, keepdims = false} : (tensor<2x8xf32>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

func.func @reduce_axis_range(%x: tensor<2x8xf32>) -> tensor<2xf32> {
  // expected-error @+2 {{failed to infer returned types}}
  // expected-error @+1 {{reduction axis 2 is out of range for [2x8]}}
  %0 = mpc.reduce_max %x {axes = array<i64: 2>, keepdims = false} : (tensor<2x8xf32>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

func.func @reshape_count(%x: tensor<2x4xf32>) -> tensor<3x3xf32> {
  // expected-error @+2 {{failed to infer returned types}}
  // expected-error @+1 {{cannot reshape [2x4] (8 elements) to [3x3] (9 elements)}}
  %0 = mpc.reshape %x {shape = array<i64: 3, 3>} : (tensor<2x4xf32>) -> tensor<3x3xf32>
  return %0 : tensor<3x3xf32>
}

// -----

func.func @transpose_perm(%x: tensor<2x4xf32>) -> tensor<2x4xf32> {
  // expected-error @+2 {{failed to infer returned types}}
  // expected-error @+1 {{transpose perm [0x0] is not a permutation}}
  %0 = mpc.transpose %x {perm = array<i64: 0, 0>} : (tensor<2x4xf32>) -> tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}

// -----

func.func @concat_dims(%a: tensor<2x4xf32>, %b: tensor<2x5xf32>) -> tensor<4x4xf32> {
  // expected-error @+2 {{failed to infer returned types}}
  // expected-error @+1 {{concat inputs [2x4] and [2x5] differ in dim 1}}
  %0 = mpc.concat %a, %b {axis = 0 : i64} : (tensor<2x4xf32>, tensor<2x5xf32>) -> tensor<4x4xf32>
  return %0 : tensor<4x4xf32>
}

// -----

func.func @slice_bounds(%x: tensor<2x4xf32>) -> tensor<2x3xf32> {
  // expected-error @+2 {{failed to infer returned types}}
  // expected-error @+1 {{slice dim 1 reads indices 2..4 outside [0, 4)}}
  %0 = mpc.slice %x {offsets = array<i64: 0, 2>, sizes = array<i64: 2, 3>, strides = array<i64: 1, 1>} : (tensor<2x4xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

func.func @slice_negative_stride_bounds(%x: tensor<4xf32>) -> tensor<3xf32> {
  // expected-error @+2 {{failed to infer returned types}}
  // expected-error @+1 {{slice dim 0 reads indices 1..-1 outside [0, 4)}}
  %0 = mpc.slice %x {offsets = array<i64: 1>, sizes = array<i64: 3>, strides = array<i64: -1>} : (tensor<4xf32>) -> tensor<3xf32>
  return %0 : tensor<3xf32>
}

// -----

func.func @broadcast_target(%x: tensor<2x4xf32>) -> tensor<3x4xf32> {
  // expected-error @+2 {{failed to infer returned types}}
  // expected-error @+1 {{input shape does not broadcast to the target shape}}
  %0 = mpc.broadcast %x {shape = array<i64: 3, 4>} : (tensor<2x4xf32>) -> tensor<3x4xf32>
  return %0 : tensor<3x4xf32>
}

// -----

func.func @gather_indices(%x: tensor<2x4xf32>, %i: tensor<3xf32>) -> tensor<3x4xf32> {
  // expected-error @+1 {{operand #1 must be statically shaped tensor of 32-bit signless integer or 64-bit signless integer values}}
  %0 = mpc.gather %x, %i {axis = 0 : i64} : (tensor<2x4xf32>, tensor<3xf32>) -> tensor<3x4xf32>
  return %0 : tensor<3x4xf32>
}

// -----

func.func @where_condition(%c: tensor<4xf32>, %x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{operand #0 must be statically shaped tensor of 1-bit signless integer values}}
  %0 = mpc.where %c, %x, %x : (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @clip_bounds(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'mpc.clip' op min (6.000000e+00) is greater than max (0.000000e+00)}}
  %0 = mpc.clip %x {min = 6.0 : f64, max = 0.0 : f64} : tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @cast_shape(%x: tensor<4xf32>) -> tensor<2xbf16> {
  // expected-error @+1 {{'mpc.cast' op requires the same shape for all operands and results}}
  %0 = mpc.cast %x : tensor<4xf32> to tensor<2xbf16>
  return %0 : tensor<2xbf16>
}

// -----

// expected-error @+1 {{'mpc.parameter' op value has type 'tensor<3xf32>' but the parameter is declared 'tensor<2xf32>'}}
mpc.parameter @w : tensor<2xf32> = dense<1.0> : tensor<3xf32>

// -----

func.func @missing_parameter() -> tensor<2xf32> {
  // expected-error @+1 {{'mpc.get_parameter' op 'w' does not name an mpc.parameter}}
  %0 = mpc.get_parameter @w : tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

mpc.parameter @w : tensor<2xf32> = dense<1.0> : tensor<2xf32>
func.func @parameter_type() -> tensor<3xf32> {
  // expected-error @+1 {{'mpc.get_parameter' op result type 'tensor<3xf32>' differs from parameter 'w' of type 'tensor<2xf32>'}}
  %0 = mpc.get_parameter @w : tensor<3xf32>
  return %0 : tensor<3xf32>
}

// -----

func.func @cross_entropy_labels(%x: tensor<4x10xf32>, %y: tensor<10xi64>) -> tensor<f32> {
  // expected-error @+2 {{failed to infer returned types}}
  // expected-error @+1 {{softmax_cross_entropy labels [10] must have the logits' shape [4x10] without the last (class) axis}}
  %0 = mpc.softmax_cross_entropy %x, %y : (tensor<4x10xf32>, tensor<10xi64>) -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

func.func @cross_entropy_float_labels(%x: tensor<4x10xf32>, %y: tensor<4xf32>) -> tensor<f32> {
  // expected-error @+1 {{operand #1 must be statically shaped tensor of 32-bit signless integer or 64-bit signless integer values}}
  %0 = mpc.softmax_cross_entropy %x, %y : (tensor<4x10xf32>, tensor<4xf32>) -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

func.func @cross_entropy_scalar(%x: tensor<f32>, %y: tensor<i64>) -> tensor<f32> {
  // expected-error @+2 {{failed to infer returned types}}
  // expected-error @+1 {{softmax_cross_entropy logits must have rank >= 1 (classes on the last axis)}}
  %0 = mpc.softmax_cross_entropy %x, %y : (tensor<f32>, tensor<i64>) -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

func.func @cross_entropy_grad_dloss(%x: tensor<4x10xf32>, %y: tensor<4xi64>, %d: tensor<1xf32>) -> tensor<4x10xf32> {
  // expected-error @+2 {{failed to infer returned types}}
  // expected-error @+1 {{softmax_cross_entropy_grad dloss must be a rank-0 tensor}}
  %0 = mpc.softmax_cross_entropy_grad %x, %y, %d : (tensor<4x10xf32>, tensor<4xi64>, tensor<1xf32>) -> tensor<4x10xf32>
  return %0 : tensor<4x10xf32>
}

// -----

func.func @cross_entropy_with_grad_dloss(%x: tensor<4x10xbf16>, %y: tensor<4xi64>, %d: tensor<4xf32>) -> tensor<f32> {
  // expected-error @+2 {{failed to infer returned types}}
  // expected-error @+1 {{softmax_cross_entropy_with_grad dloss must be a rank-0 tensor}}
  %0:2 = mpc.softmax_cross_entropy_with_grad %x, %y, %d : (tensor<4x10xbf16>, tensor<4xi64>, tensor<4xf32>) -> (tensor<f32>, tensor<4x10xbf16>)
  return %0#0 : tensor<f32>
}

// -----

func.func @cross_entropy_with_grad_labels(%x: tensor<4x10xf32>, %y: tensor<5xi64>, %d: tensor<f32>) -> tensor<f32> {
  // expected-error @+2 {{failed to infer returned types}}
  // expected-error @+1 {{softmax_cross_entropy_with_grad labels [5] must have the logits' shape [4x10] without the last (class) axis}}
  %0:2 = mpc.softmax_cross_entropy_with_grad %x, %y, %d : (tensor<4x10xf32>, tensor<5xi64>, tensor<f32>) -> (tensor<f32>, tensor<4x10xf32>)
  return %0#0 : tensor<f32>
}

// -----

func.func @cross_entropy_with_grad_type(%x: tensor<4x10xbf16>, %y: tensor<4xi64>, %d: tensor<f32>) -> tensor<f32> {
  // expected-error @+2 {{'mpc.softmax_cross_entropy_with_grad' op inferred type(s) 'tensor<f32>', 'tensor<4x10xbf16>' are incompatible with return type(s) of operation 'tensor<f32>', 'tensor<4x10xf32>'}}
  // expected-error @+1 {{'mpc.softmax_cross_entropy_with_grad' op failed to infer returned types}}
  %0:2 = mpc.softmax_cross_entropy_with_grad %x, %y, %d : (tensor<4x10xbf16>, tensor<4xi64>, tensor<f32>) -> (tensor<f32>, tensor<4x10xf32>)
  return %0#0 : tensor<f32>
}

// -----

func.func @mse_types(%p: tensor<4xf32>, %t: tensor<4xbf16>) -> tensor<f32> {
  // expected-error @+2 {{failed to infer returned types}}
  // expected-error @+1 {{mse_loss prediction 'tensor<4xf32>' and target 'tensor<4xbf16>' must have the same type}}
  %0 = mpc.mse_loss %p, %t : (tensor<4xf32>, tensor<4xbf16>) -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

func.func @conv_grad_input_shape(%dy: tensor<1x4x5x5xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<1x3x8x8xf32> {
  // expected-error @+1 {{'mpc.conv_grad_input' op a conv of the result type's input gives a forward result of shape [1x4x6x6] but dy has shape [1x4x5x5]}}
  %0 = mpc.conv_grad_input %dy, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x4x5x5xf32>, tensor<4x3x3x3xf32>) -> tensor<1x3x8x8xf32>
  return %0 : tensor<1x3x8x8xf32>
}

// -----

func.func @conv_grad_input_group(%dy: tensor<1x4x6x6xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<1x3x8x8xf32> {
  // expected-error @+1 {{'mpc.conv_grad_input' op conv group 2 must divide the input channels (3) and output channels (4)}}
  %0 = mpc.conv_grad_input %dy, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 2 : i64} : (tensor<1x4x6x6xf32>, tensor<4x3x3x3xf32>) -> tensor<1x3x8x8xf32>
  return %0 : tensor<1x3x8x8xf32>
}

// -----

func.func @conv_grad_filter_types(%x: tensor<1x3x8x8xf32>, %dy: tensor<1x4x6x6xbf16>) -> tensor<4x3x3x3xf32> {
  // expected-error @+1 {{'mpc.conv_grad_filter' op operands and result must have the same element type, got 'f32' and 'bf16'}}
  %0 = mpc.conv_grad_filter %x, %dy {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x3x8x8xf32>, tensor<1x4x6x6xbf16>) -> tensor<4x3x3x3xf32>
  return %0 : tensor<4x3x3x3xf32>
}

// -----

func.func @conv_grad_filter_shape(%x: tensor<1x3x8x8xf32>, %dy: tensor<1x4x6x6xf32>) -> tensor<4x3x2x2xf32> {
  // expected-error @+1 {{'mpc.conv_grad_filter' op a conv with the result type's weight gives a forward result of shape [1x4x7x7] but dy has shape [1x4x6x6]}}
  %0 = mpc.conv_grad_filter %x, %dy {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x3x8x8xf32>, tensor<1x4x6x6xf32>) -> tensor<4x3x2x2xf32>
  return %0 : tensor<4x3x2x2xf32>
}

// -----

func.func @max_pool_grad_shape(%x: tensor<1x3x8x8xf32>, %dy: tensor<1x3x3x3xf32>) -> tensor<1x3x8x8xf32> {
  // expected-error @+2 {{failed to infer returned types}}
  // expected-error @+1 {{max_pool_grad: pooling the input gives shape [1x3x4x4] but dy has shape [1x3x3x3]}}
  %0 = mpc.max_pool_grad %x, %dy {kernel_shape = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x3x8x8xf32>, tensor<1x3x3x3xf32>) -> tensor<1x3x8x8xf32>
  return %0 : tensor<1x3x8x8xf32>
}

// -----

func.func @avg_pool_grad_shape(%dy: tensor<1x3x4x4xf32>) -> tensor<1x3x6x6xf32> {
  // expected-error @+1 {{'mpc.avg_pool_grad' op pooling the result type's input gives a forward result of shape [1x3x3x3] but dy has shape [1x3x4x4]}}
  %0 = mpc.avg_pool_grad %dy {kernel_shape = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>} : (tensor<1x3x4x4xf32>) -> tensor<1x3x6x6xf32>
  return %0 : tensor<1x3x6x6xf32>
}

// -----

func.func @avg_pool_grad_window(%dy: tensor<1x3x4x4xf32>) -> tensor<1x3x8x8xf32> {
  // expected-error @+1 {{'mpc.avg_pool_grad' op pool needs 2 strides and dilations and 4 pads}}
  %0 = mpc.avg_pool_grad %dy {kernel_shape = array<i64: 2, 2>, strides = array<i64: 2>, pads = array<i64: 0, 0, 0, 0>} : (tensor<1x3x4x4xf32>) -> tensor<1x3x8x8xf32>
  return %0 : tensor<1x3x8x8xf32>
}

// -----

func.func @gather_grad_shape(%dy: tensor<2x5x8xf32>, %ids: tensor<2x5xi64>) -> tensor<100x16xf32> {
  // expected-error @+1 {{'mpc.gather_grad' op a gather from the result type's data gives a forward result of shape [2x5x16] but dy has shape [2x5x8]}}
  %0 = mpc.gather_grad %dy, %ids {axis = 0 : i64} : (tensor<2x5x8xf32>, tensor<2x5xi64>) -> tensor<100x16xf32>
  return %0 : tensor<100x16xf32>
}

// -----

func.func @gather_grad_axis(%dy: tensor<2x5x16xf32>, %ids: tensor<2x5xi64>) -> tensor<100x16xf32> {
  // expected-error @+1 {{'mpc.gather_grad' op gather axis 2 is out of range for [100x16]}}
  %0 = mpc.gather_grad %dy, %ids {axis = 2 : i64} : (tensor<2x5x16xf32>, tensor<2x5xi64>) -> tensor<100x16xf32>
  return %0 : tensor<100x16xf32>
}

// -----

func.func @cross_entropy_no_classes(%x: tensor<4x0xf32>, %y: tensor<4xi64>) -> tensor<f32> {
  // expected-error @+2 {{failed to infer returned types}}
  // expected-error @+1 {{softmax_cross_entropy logits [4x0] have no classes}}
  %0 = mpc.softmax_cross_entropy %x, %y : (tensor<4x0xf32>, tensor<4xi64>) -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

// The trigonometric and rounding functions take floats only (Sign takes integers too).
func.func @sin_of_integers(%x: tensor<4xi64>) -> tensor<4xi64> {
  // expected-error @+1 {{'mpc.sin' op operand #0 must be statically shaped tensor of}}
  %0 = mpc.sin %x : tensor<4xi64>
  return %0 : tensor<4xi64>
}

// -----

// The bitwise ops take integers only.
func.func @bitwise_and_of_floats(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'mpc.bitwise_and' op operand #0 must be statically shaped tensor of}}
  %0 = mpc.bitwise_and %x, %x : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// Both operands of a bitwise op have one element type.
func.func @bitwise_or_mixed(%a: tensor<4xi32>, %b: tensor<4xi64>) -> tensor<4xi32> {
  // expected-error @+2 {{operands must have the same element type, got 'i32' and 'i64'}}
  // expected-error @+1 {{'mpc.bitwise_or' op failed to infer returned types}}
  %0 = mpc.bitwise_or %a, %b : (tensor<4xi32>, tensor<4xi64>) -> tensor<4xi32>
  return %0 : tensor<4xi32>
}
