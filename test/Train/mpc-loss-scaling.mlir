// RUN: mpc-opt --mpc-loss-scaling="mode=dynamic growth-interval=5 init-scale=1024" --split-input-file --verify-diagnostics %s | FileCheck %s --check-prefix=DYN
// RUN: mpc-opt --mpc-loss-scaling="mode=static init-scale=512" --split-input-file --verify-diagnostics %s | FileCheck %s --check-prefix=STATIC
// RUN: mpc-opt --mpc-loss-scaling=mode=none --split-input-file --verify-diagnostics %s | FileCheck %s --check-prefix=NONE
// RUN: not mpc-opt --mpc-loss-scaling=mode=fancy --split-input-file %s 2>&1 | FileCheck %s --check-prefix=BADMODE
// RUN: not mpc-opt --mpc-loss-scaling="mode=dynamic min-scale=0" --split-input-file %s 2>&1 | FileCheck %s --check-prefix=BADMIN
// RUN: not mpc-opt --mpc-loss-scaling="mode=dynamic growth-interval=0" --split-input-file %s 2>&1 | FileCheck %s --check-prefix=BADINTERVAL
// RUN: not mpc-opt --mpc-loss-scaling="mode=static init-scale=-1" --split-input-file %s 2>&1 | FileCheck %s --check-prefix=BADINIT

// BADMODE: mpc-opt: for the --mode option: unknown value 'fancy'; valid values are dynamic, static and none
// BADMIN: mpc-loss-scaling: need 0 < min-scale <= max-scale < inf
// BADINTERVAL: mpc-loss-scaling: growth-interval must be at least 1
// BADINIT: mpc-loss-scaling: init-scale must be a finite number above 0

// A post-autodiff @main: the seed scales a bf16 backward pass, the grad is
// bf16 (no cast back yet) so the pass casts it to f32 before unscaling.

// DYN-LABEL: func.func @main
// DYN-SAME: %[[W:[^:]+]]: tensor<4xf32> {mpc.name = "w", mpc.role = "param"}
// DYN-SAME: %[[SCALE:[^:]+]]: tensor<f32> {mpc.init = dense<1.024000e+03> : tensor<f32>, mpc.name = "loss_scale", mpc.role = "scaler"}
// DYN-SAME: %[[GOOD:[^:]+]]: tensor<i64> {mpc.init = dense<0> : tensor<i64>, mpc.name = "loss_scale_good_steps", mpc.role = "scaler"}
// DYN-SAME: -> (tensor<f32> {mpc.name = "loss", mpc.role = "loss"}, tensor<4xf32> {mpc.name = "w", mpc.role = "grad"}, tensor<i1> {mpc.name = "finite", mpc.role = "finite"}, tensor<f32> {mpc.name = "loss_scale", mpc.role = "scaler"}, tensor<i64> {mpc.name = "loss_scale_good_steps", mpc.role = "scaler"})
// DYN-NOT: mpc.grad_seed
// DYN: %[[SEED:.+]] = mpc.cast %[[SCALE]] : tensor<f32> to tensor<bf16>
// DYN: %[[G:.+]] = mpc.mul %{{.+}}, %[[SEED]]
// DYN: %[[G32:.+]] = mpc.cast %[[G]] : tensor<4xbf16> to tensor<4xf32>
// DYN: %[[UNSCALED:.+]] = mpc.div %[[G32]], %[[SCALE]]
// DYN: %[[FIN:.+]] = mpc.equal
// DYN: %[[BACKOFF:.+]] = arith.constant dense<5.000000e-01>
// DYN: %[[HALF:.+]] = mpc.mul %[[SCALE]], %[[BACKOFF]]
// DYN: %[[FLOOR:.+]] = mpc.max %[[HALF]]
// DYN: %[[NEXT:.+]] = mpc.add %[[GOOD]]
// DYN: %[[INTERVAL:.+]] = arith.constant dense<5> : tensor<i64>
// DYN: %[[GROW:.+]] = mpc.equal %[[NEXT]], %[[INTERVAL]]
// DYN: %[[DOUBLE:.+]] = mpc.mul %[[SCALE]]
// DYN: %[[CEIL:.+]] = mpc.min %[[DOUBLE]]
// DYN: %[[FS:.+]] = mpc.where %[[GROW]], %[[CEIL]], %[[SCALE]]
// DYN: %[[FC:.+]] = mpc.where %[[GROW]], %{{.+}}, %[[NEXT]]
// DYN: %[[NS:.+]] = mpc.where %[[FIN]], %[[FS]], %[[FLOOR]]
// DYN: %[[NC:.+]] = mpc.where %[[FIN]], %[[FC]], %{{.+}}
// DYN: return %{{.+}}, %[[UNSCALED]], %[[FIN]], %[[NS]], %[[NC]]

// STATIC-LABEL: func.func @main
// STATIC-NOT: loss_scale
// STATIC: arith.constant dense<5.120000e+02> : tensor<bf16>
// STATIC-NOT: mpc.grad_seed
// STATIC: %[[S:.+]] = arith.constant dense<5.120000e+02> : tensor<f32>
// STATIC: mpc.div %{{.+}}, %[[S]]
// STATIC: return

// The loss and the gradient each reach the finite probe (x * 0, summed).
// NONE-LABEL: func.func @main
// NONE: arith.constant {mpc.grad_seed} dense<1.000000e+00> : tensor<bf16>
// NONE-NOT: mpc.div
// NONE: %[[ZERO:.+]] = arith.constant dense<0.000000e+00> : tensor<f32>
// NONE: %[[LZ:.+]] = mpc.mul %[[LOSS:.+]], %[[ZERO]]
// NONE: %[[G32:.+]] = mpc.cast %{{.+}} : tensor<4xbf16> to tensor<4xf32>
// NONE: %[[GZ:.+]] = mpc.mul %[[G32]]
// NONE: %[[GS:.+]] = mpc.reduce_sum %[[GZ]] {axes = array<i64: 0>, keepdims = false}
// NONE: %[[SUM:.+]] = mpc.add %[[LZ]], %[[GS]]
// NONE: %[[FIN:.+]] = mpc.equal %[[SUM]]
// NONE: return %[[LOSS]], %[[G32]], %[[FIN]] : tensor<f32>, tensor<4xf32>, tensor<i1>
module {
  func.func @main(%w: tensor<4xf32> {mpc.name = "w", mpc.role = "param"}, %x: tensor<4xbf16> {mpc.name = "x", mpc.role = "input"})
      -> (tensor<f32> {mpc.name = "loss", mpc.role = "loss"}, tensor<4xbf16> {mpc.name = "w", mpc.role = "grad"}) {
    %wb = mpc.cast %w : tensor<4xf32> to tensor<4xbf16>
    %p = mpc.mul %wb, %x : (tensor<4xbf16>, tensor<4xbf16>) -> tensor<4xbf16>
    %s = mpc.reduce_sum %p {axes = array<i64: 0>, keepdims = false} : (tensor<4xbf16>) -> tensor<bf16>
    %loss = mpc.cast %s : tensor<bf16> to tensor<f32>
    %seed = arith.constant {mpc.grad_seed} dense<1.0> : tensor<bf16>
    %g = mpc.mul %x, %seed : (tensor<4xbf16>, tensor<bf16>) -> tensor<4xbf16>
    return %loss, %g : tensor<f32>, tensor<4xbf16>
  }
}

// -----

// expected-error @+1 {{mpc-loss-scaling: @main has no backward-pass seed (an arith.constant marked mpc.grad_seed); run mpc-autodiff first}}
func.func @main(%w: tensor<4xf32> {mpc.name = "w", mpc.role = "param"})
    -> (tensor<4xf32> {mpc.name = "loss", mpc.role = "loss"}, tensor<4xf32> {mpc.name = "w", mpc.role = "grad"}) {
  return %w, %w : tensor<4xf32>, tensor<4xf32>
}

// -----

// expected-error @+1 {{mpc-loss-scaling: @main has no gradient results (role 'grad'); run mpc-autodiff first}}
func.func @main(%w: tensor<f32> {mpc.name = "w", mpc.role = "param"})
    -> (tensor<f32> {mpc.name = "loss", mpc.role = "loss"}) {
  %seed = arith.constant {mpc.grad_seed} dense<1.0> : tensor<f32>
  return %w : tensor<f32>
}

// -----

// expected-error @+1 {{mpc-loss-scaling: @main has no loss result (role 'loss'); run mpc-append-loss first}}
func.func @main(%w: tensor<f32> {mpc.name = "w", mpc.role = "param"})
    -> (tensor<f32> {mpc.name = "w", mpc.role = "grad"}) {
  return %w : tensor<f32>
}
