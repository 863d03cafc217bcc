func.func @main(%x: tensor<96x64xf32>) -> tensor<96x96xf32> {
  %t = mpc.transpose %x {perm = array<i64: 1, 0>} : (tensor<96x64xf32>) -> tensor<64x96xf32>
  %y = mpc.matmul %x, %t : (tensor<96x64xf32>, tensor<64x96xf32>) -> tensor<96x96xf32>
  return %y : tensor<96x96xf32>
}
