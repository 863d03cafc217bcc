// A model the importer upgraded from opset 9 (mpc.upgraded_from_opset): the
// precision report says so in a note.
module attributes {mpc.upgraded_from_opset = 9 : i64} {
  func.func @main(%arg0: tensor<4xf32>) -> tensor<4xf32> {
    %0 = mpc.relu %arg0 {mpc.node = "relu"} : tensor<4xf32>
    return %0 : tensor<4xf32>
  }
}
