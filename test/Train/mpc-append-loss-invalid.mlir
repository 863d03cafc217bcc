// RUN: mpc-opt %s --split-input-file --mpc-append-loss --verify-diagnostics
// RUN: not mpc-opt %s --split-input-file --mpc-append-loss="loss=hinge" 2>&1 | FileCheck %s --check-prefix=UNKNOWN
// RUN: not mpc-opt %s --split-input-file --mpc-append-loss="output=probs" 2>&1 | FileCheck %s --check-prefix=NOOUT
// Errors of mpc-append-loss name @main's outputs and the option to pass.

// UNKNOWN: mpc-opt: for the --loss option: unknown value 'hinge'; valid values are cross_entropy and mse
// NOOUT: error: mpc-append-loss: @main has no output named 'probs'; its outputs are 'a', 'b'
// expected-error @+1 {{mpc-append-loss: @main has several float outputs ('a', 'b'); pass output=NAME to choose the one the loss is taken on}}
func.func @main(%x: tensor<2x3xf32> {mpc.name = "x"})
    -> (tensor<2x3xf32> {mpc.name = "a"}, tensor<2x3xf32> {mpc.name = "b"}) {
  return %x, %x : tensor<2x3xf32>, tensor<2x3xf32>
}

// -----

// expected-error @+1 {{mpc-append-loss: the label name 'label' is already the name of input #1 of @main; pass label=NAME with an unused name}}
func.func @main(%x: tensor<2x3xf32> {mpc.name = "x"}, %l: tensor<2x3xf32> {mpc.name = "label"})
    -> (tensor<2x3xf32> {mpc.name = "y"}) {
  return %x : tensor<2x3xf32>
}

// -----

func.func @main(%x: tensor<f32> {mpc.name = "x"}) -> (tensor<f32> {mpc.name = "score"}) {
  // expected-error @-1 {{mpc-append-loss: output 'score' is a scalar; cross_entropy needs logits with the classes on the last axis (pass output=NAME for a logits output, or loss=mse)}}
  return %x : tensor<f32>
}

// -----

// expected-error @+1 {{mpc-append-loss: @main has no float output to take a loss on}}
func.func @main(%x: tensor<2xi64> {mpc.name = "x"}) -> (tensor<2xi64> {mpc.name = "ids"}) {
  return %x : tensor<2xi64>
}
