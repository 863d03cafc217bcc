// RUN: mpc-opt %s --split-input-file --mpc-expose-intermediates --verify-diagnostics
// Errors of mpc-expose-intermediates say what @main lacks or why it cannot run again.

// expected-error @+1 {{mpc-expose-intermediates: the module has no @main function}}
module {
  func.func @model(%x: tensor<4xf32>) -> tensor<4xf32> {
    return %x : tensor<4xf32>
  }
}

// -----

// expected-error @+1 {{mpc-expose-intermediates: @main must have a single block}}
func.func @main(%x: tensor<4xf32>) -> tensor<4xf32> {
  cf.br ^next
^next:
  return %x : tensor<4xf32>
}

// -----

// expected-error @+1 {{mpc-expose-intermediates: result #0 of @main already has mpc.intermediate; run the pass once}}
func.func @main(%x: tensor<4xf32>) -> (tensor<4xf32> {mpc.intermediate = {index = 0 : i64}}) {
  return %x : tensor<4xf32>
}
