func.func @reduce_dim(%a: tensor<2x3xf32>) -> tensor<2xf32> {
  %0 = kiln.reduce_sum %a {dimensions = array<i64: 2>} : (tensor<2x3xf32>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}
