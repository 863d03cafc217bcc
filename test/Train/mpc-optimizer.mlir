// RUN: mpc-opt --mpc-optimizer="optimizer=sgd lr=0.5 momentum=0.9 weight-decay=0.25" --split-input-file --verify-diagnostics %s | FileCheck %s --check-prefix=SGD
// RUN: mpc-opt --mpc-optimizer="optimizer=sgd lr=0.5" --split-input-file --verify-diagnostics %s | FileCheck %s --check-prefix=PLAIN
// RUN: mpc-opt --mpc-optimizer="optimizer=adamw lr=0.5 weight-decay=0.25" --split-input-file --verify-diagnostics %s | FileCheck %s --check-prefix=ADAMW
// RUN: not mpc-opt --mpc-optimizer=optimizer=lion --split-input-file %s 2>&1 | FileCheck %s --check-prefix=BADNAME
// RUN: not mpc-opt --mpc-optimizer=lr=0 --split-input-file %s 2>&1 | FileCheck %s --check-prefix=BADLR
// RUN: not mpc-opt --mpc-optimizer="optimizer=adamw beta2=1" --split-input-file %s 2>&1 | FileCheck %s --check-prefix=BADBETA
// RUN: not mpc-opt --mpc-optimizer="optimizer=adamw eps=0" --split-input-file %s 2>&1 | FileCheck %s --check-prefix=BADEPS
// RUN: not mpc-opt --mpc-optimizer="momentum=-0.5" --split-input-file %s 2>&1 | FileCheck %s --check-prefix=BADMOMENTUM
// RUN: not mpc-opt --mpc-optimizer="nesterov=true" --split-input-file %s 2>&1 | FileCheck %s --check-prefix=BADNESTEROV

// BADNAME: mpc-opt: for the --optimizer option: unknown value 'lion'; valid values are sgd and adamw
// BADLR: mpc-optimizer: lr must be a finite number above 0, got 0
// BADBETA: mpc-optimizer: beta1 and beta2 must lie in [0, 1), got 0.9 and 1
// BADEPS: mpc-optimizer: eps must be a finite number above 0, got 0
// BADMOMENTUM: mpc-optimizer: momentum must be a finite number >= 0, got -0.5
// BADNESTEROV: mpc-optimizer: nesterov needs a momentum above 0

// After mpc-loss-scaling (dynamic): the parameter update, its momentum
// buffer and the running statistic are gated on `finite`; the scaler state
// is passed through ungated (it must back off on a skipped step); the
// results become state in argument order, loss, finite, outputs.

// SGD-LABEL: func.func @train_step
// SGD-SAME: %[[W:[^:]+]]: tensor<4xf32> {mpc.name = "w", mpc.param = @w, mpc.role = "param"}
// SGD-SAME: %[[RM:[^:]+]]: tensor<4xf32> {mpc.name = "rm", mpc.param = @rm, mpc.role = "buffer"}
// SGD-SAME: %[[SCALE:[^:]+]]: tensor<f32> {mpc.name = "loss_scale", mpc.role = "scaler"}
// SGD-SAME: %[[BUF:[^:]+]]: tensor<4xf32> {mpc.init = dense<0.000000e+00> : tensor<4xf32>, mpc.name = "w.momentum_buffer", mpc.role = "opt"}
// SGD-SAME: -> (tensor<4xf32> {mpc.name = "w", mpc.role = "param"}, tensor<4xf32> {mpc.name = "rm", mpc.role = "buffer"}, tensor<f32> {mpc.name = "loss_scale", mpc.role = "scaler"}, tensor<4xf32> {mpc.name = "w.momentum_buffer", mpc.role = "opt"}, tensor<f32> {mpc.name = "loss", mpc.role = "loss"}, tensor<i1> {mpc.name = "finite", mpc.role = "finite"}, tensor<4xf32> {mpc.name = "y", mpc.role = "output"})
// SGD: %[[WD:.+]] = arith.constant dense<2.500000e-01>
// SGD: %[[DECAY:.+]] = mpc.mul %[[W]], %[[WD]]
// SGD: %[[D:.+]] = mpc.add %[[G:.+]], %[[DECAY]]
// SGD: %[[MOM:.+]] = arith.constant dense<0.899999976>
// SGD: %[[KEPT:.+]] = mpc.mul %[[BUF]], %[[MOM]]
// SGD: %[[NEWBUF:.+]] = mpc.add %[[KEPT]], %[[D]]
// SGD: %[[GBUF:.+]] = mpc.where %[[FIN:.+]], %[[NEWBUF]], %[[BUF]]
// SGD: %[[LR:.+]] = arith.constant dense<5.000000e-01>
// SGD: %[[STEP:.+]] = mpc.mul %[[NEWBUF]], %[[LR]]
// SGD: %[[NEWW:.+]] = mpc.sub %[[W]], %[[STEP]]
// SGD: %[[GW:.+]] = mpc.where %[[FIN]], %[[NEWW]], %[[W]]
// SGD: %[[GRM:.+]] = mpc.where %[[FIN]], %[[NEWRM:.+]], %[[RM]]
// SGD: return %[[GW]], %[[GRM]], %[[NEWSCALE:.+]], %[[GBUF]], %[[LOSS:.+]], %[[FIN]], %[[Y:.+]] :

// Plain sgd (no momentum buffer, no weight decay).
// PLAIN-LABEL: func.func @train_step
// PLAIN-NOT: momentum_buffer
// PLAIN: %[[LR:.+]] = arith.constant dense<5.000000e-01>
// PLAIN-NEXT: %[[STEP:.+]] = mpc.mul %arg2, %[[LR]]
// PLAIN-NEXT: mpc.sub %arg0, %[[STEP]]

// ADAMW-LABEL: func.func @train_step
// ADAMW-SAME: %[[STEPARG:[^:]+]]: tensor<f32> {mpc.init = dense<0.000000e+00> : tensor<f32>, mpc.name = "step", mpc.role = "opt"}
// ADAMW-SAME: %[[M:[^:]+]]: tensor<4xf32> {mpc.init = dense<0.000000e+00> : tensor<4xf32>, mpc.name = "w.exp_avg", mpc.role = "opt"}
// ADAMW-SAME: %[[V:[^:]+]]: tensor<4xf32> {mpc.init = dense<0.000000e+00> : tensor<4xf32>, mpc.name = "w.exp_avg_sq", mpc.role = "opt"}
// ADAMW-SAME: {mpc.name = "step", mpc.role = "opt"}, tensor<4xf32> {mpc.name = "w.exp_avg", mpc.role = "opt"}, tensor<4xf32> {mpc.name = "w.exp_avg_sq", mpc.role = "opt"}, tensor<f32> {mpc.name = "loss", mpc.role = "loss"}
// Bias corrections in f64 from the incremented step.
// ADAMW: %[[T:.+]] = mpc.add %[[STEPARG]]
// ADAMW: %[[GSTEP:.+]] = mpc.where %{{.+}}, %[[T]], %[[STEPARG]]
// ADAMW: %[[T64:.+]] = mpc.cast %[[T]] : tensor<f32> to tensor<f64>
// ADAMW: mpc.pow %{{.+}}, %[[T64]] : (tensor<f64>, tensor<f64>) -> tensor<f64>
// ADAMW: mpc.pow %{{.+}}, %[[T64]] : (tensor<f64>, tensor<f64>) -> tensor<f64>
// Decoupled weight decay: w * (1 - lr * wd) = w * 0.875.
// ADAMW: arith.constant dense<8.750000e-01> : tensor<f32>
// ADAMW: mpc.mul %[[M]]
// ADAMW: mpc.mul %[[V]]
// ADAMW: mpc.sqrt
// ADAMW: return %{{.+}}, %{{.+}}, %{{.+}}, %[[GSTEP]],
module {
  mpc.parameter @w : tensor<4xf32> = dense<1.0> : tensor<4xf32>
  mpc.parameter @rm : tensor<4xf32> = dense<0.0> : tensor<4xf32>
  func.func @main(%w: tensor<4xf32> {mpc.name = "w", mpc.role = "param", mpc.param = @w},
                  %rm: tensor<4xf32> {mpc.name = "rm", mpc.role = "buffer", mpc.param = @rm},
                  %x: tensor<4xf32> {mpc.name = "x", mpc.role = "input"},
                  %scale: tensor<f32> {mpc.name = "loss_scale", mpc.role = "scaler"})
      -> (tensor<f32> {mpc.name = "loss", mpc.role = "loss"}, tensor<4xf32> {mpc.name = "y", mpc.role = "output"},
          tensor<4xf32> {mpc.name = "rm", mpc.role = "buffer"}, tensor<4xf32> {mpc.name = "w", mpc.role = "grad"},
          tensor<i1> {mpc.name = "finite", mpc.role = "finite"}, tensor<f32> {mpc.name = "loss_scale", mpc.role = "scaler"}) {
    %y = mpc.mul %w, %x : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
    %loss = mpc.reduce_sum %y {axes = array<i64: 0>, keepdims = false} : (tensor<4xf32>) -> tensor<f32>
    %newrm = mpc.add %rm, %x : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
    %zero = arith.constant dense<0.0> : tensor<f32>
    %finite = mpc.equal %loss, %loss : (tensor<f32>, tensor<f32>) -> tensor<i1>
    %half = arith.constant dense<0.125> : tensor<f32>
    %newscale = mpc.mul %scale, %half : (tensor<f32>, tensor<f32>) -> tensor<f32>
    return %loss, %y, %newrm, %x, %finite, %newscale : tensor<f32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<i1>, tensor<f32>
  }
}

// -----

// Without a finite result (no loss scaling) nothing is gated.
// SGD-LABEL: func.func @train_step
// SGD-NOT: mpc.where
// SGD: return
// PLAIN-LABEL: func.func @train_step
// PLAIN-NOT: mpc.where
// ADAMW-LABEL: func.func @train_step
// ADAMW-NOT: mpc.where
module {
  func.func @main(%w: tensor<2xf32> {mpc.name = "w", mpc.role = "param"})
      -> (tensor<f32> {mpc.name = "loss", mpc.role = "loss"}, tensor<2xf32> {mpc.name = "w", mpc.role = "grad"}) {
    %loss = mpc.reduce_sum %w {axes = array<i64: 0>, keepdims = false} : (tensor<2xf32>) -> tensor<f32>
    return %loss, %w : tensor<f32>, tensor<2xf32>
  }
}

// -----

// expected-error @+1 {{mpc-optimizer: @main has no gradient results (role 'grad'); run mpc-autodiff first}}
func.func @main(%w: tensor<2xf32> {mpc.name = "w", mpc.role = "param"})
    -> (tensor<2xf32> {mpc.name = "loss", mpc.role = "loss"}) {
  return %w : tensor<2xf32>
}

// -----

// expected-error @+1 {{mpc-optimizer: gradient result 'v' has no parameter argument of that name (role 'param'); run mpc-parameters-to-arguments before mpc-autodiff}}
func.func @main(%w: tensor<2xf32> {mpc.name = "w", mpc.role = "param"})
    -> (tensor<2xf32> {mpc.name = "v", mpc.role = "grad"}) {
  return %w : tensor<2xf32>
}

// -----

// expected-error @+1 {{mpc-optimizer: result 'rm' (role 'buffer') has no state argument of that name and role; run mpc-parameters-to-arguments before the optimizer}}
func.func @main(%w: tensor<2xf32> {mpc.name = "w", mpc.role = "param"})
    -> (tensor<2xf32> {mpc.name = "rm", mpc.role = "buffer"}, tensor<2xf32> {mpc.name = "w", mpc.role = "grad"}) {
  return %w, %w : tensor<2xf32>, tensor<2xf32>
}

// -----

// expected-error @+1 {{mpc-optimizer: parameter 'w' ('tensor<2xf32>') and its gradient ('tensor<3xf32>') must have the same shape, with f32 master weights}}
func.func @main(%w: tensor<2xf32> {mpc.name = "w", mpc.role = "param"}, %g: tensor<3xf32>)
    -> (tensor<3xf32> {mpc.name = "w", mpc.role = "grad"}) {
  return %g : tensor<3xf32>
}

// -----

// expected-error @+1 {{mpc-optimizer: parameter 'w' has two gradient results; expected one per parameter}}
func.func @main(%w: tensor<2xf32> {mpc.name = "w", mpc.role = "param"})
    -> (tensor<2xf32> {mpc.name = "w", mpc.role = "grad"}, tensor<2xf32> {mpc.name = "w", mpc.role = "grad"}) {
  return %w, %w : tensor<2xf32>, tensor<2xf32>
}
