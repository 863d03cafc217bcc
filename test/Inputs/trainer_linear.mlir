// A hand-written trainer in the final contract form of docs/training.md:
// linear regression y = x w + b with an MSE loss and plain SGD (lr 0.1),
// gradients written out by hand. mpc-compile's tests compile it while the
// training passes are developed elsewhere; test/e2e/test_compile.py checks
// one step against numpy.
module {
  mpc.parameter @w : tensor<4x2xf32> = dense<[[0.5, -1.0], [0.25, 2.0], [-0.75, 0.125], [1.5, -0.5]]> : tensor<4x2xf32>
  mpc.parameter @b : tensor<2xf32> = dense<[0.5, -0.25]> : tensor<2xf32>
  func.func @train_step(
      %w: tensor<4x2xf32> {mpc.name = "w", mpc.role = "param", mpc.param = @w},
      %b: tensor<2xf32> {mpc.name = "b", mpc.role = "param", mpc.param = @b},
      %step: tensor<i64> {mpc.name = "step", mpc.role = "opt", mpc.init = dense<0> : tensor<i64>},
      %x: tensor<3x4xf32> {mpc.name = "x", mpc.role = "input"},
      %t: tensor<3x2xf32> {mpc.name = "label", mpc.role = "label"})
      -> (tensor<4x2xf32> {mpc.name = "w", mpc.role = "param"},
          tensor<2xf32> {mpc.name = "b", mpc.role = "param"},
          tensor<i64> {mpc.name = "step", mpc.role = "opt"},
          tensor<f32> {mpc.name = "loss", mpc.role = "loss"},
          tensor<i1> {mpc.name = "finite", mpc.role = "finite"},
          tensor<3x2xf32> {mpc.name = "y", mpc.role = "output"}) {
    %mm = mpc.matmul %x, %w : (tensor<3x4xf32>, tensor<4x2xf32>) -> tensor<3x2xf32>
    %y = mpc.add %mm, %b : (tensor<3x2xf32>, tensor<2xf32>) -> tensor<3x2xf32>
    %d = mpc.sub %y, %t : (tensor<3x2xf32>, tensor<3x2xf32>) -> tensor<3x2xf32>
    %sq = mpc.mul %d, %d : (tensor<3x2xf32>, tensor<3x2xf32>) -> tensor<3x2xf32>
    %loss = mpc.reduce_mean %sq {axes = array<i64: 0, 1>, keepdims = false} : (tensor<3x2xf32>) -> tensor<f32>
    // dL/dy = 2 (y - t) / 6
    %c = arith.constant dense<0.333333343> : tensor<f32>
    %gy = mpc.mul %d, %c : (tensor<3x2xf32>, tensor<f32>) -> tensor<3x2xf32>
    %xt = mpc.transpose %x {perm = array<i64: 1, 0>} : (tensor<3x4xf32>) -> tensor<4x3xf32>
    %gw = mpc.matmul %xt, %gy : (tensor<4x3xf32>, tensor<3x2xf32>) -> tensor<4x2xf32>
    %gb = mpc.reduce_sum %gy {axes = array<i64: 0>, keepdims = false} : (tensor<3x2xf32>) -> tensor<2xf32>
    %lr = arith.constant dense<1.000000e-01> : tensor<f32>
    %sw = mpc.mul %gw, %lr : (tensor<4x2xf32>, tensor<f32>) -> tensor<4x2xf32>
    %w2 = mpc.sub %w, %sw : (tensor<4x2xf32>, tensor<4x2xf32>) -> tensor<4x2xf32>
    %sb = mpc.mul %gb, %lr : (tensor<2xf32>, tensor<f32>) -> tensor<2xf32>
    %b2 = mpc.sub %b, %sb : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
    %one = arith.constant dense<1> : tensor<i64>
    %step2 = mpc.add %step, %one : (tensor<i64>, tensor<i64>) -> tensor<i64>
    // NaN is the only non-finite value a bounded input can produce here.
    %finite = mpc.equal %loss, %loss : (tensor<f32>, tensor<f32>) -> tensor<i1>
    return %w2, %b2, %step2, %loss, %finite, %y
        : tensor<4x2xf32>, tensor<2xf32>, tensor<i64>, tensor<f32>, tensor<i1>, tensor<3x2xf32>
  }
  func.func @eval_step(
      %w: tensor<4x2xf32> {mpc.name = "w", mpc.role = "param", mpc.param = @w},
      %b: tensor<2xf32> {mpc.name = "b", mpc.role = "param", mpc.param = @b},
      %x: tensor<3x4xf32> {mpc.name = "x", mpc.role = "input"})
      -> (tensor<3x2xf32> {mpc.name = "y", mpc.role = "output"}) {
    %mm = mpc.matmul %x, %w : (tensor<3x4xf32>, tensor<4x2xf32>) -> tensor<3x2xf32>
    %y = mpc.add %mm, %b : (tensor<3x2xf32>, tensor<2xf32>) -> tensor<3x2xf32>
    return %y : tensor<3x2xf32>
  }
}
