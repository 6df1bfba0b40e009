func.func @broadcast_order(%a: tensor<2x2xf32>) -> tensor<2x2x2xf32> {
  %0 = kiln.broadcast_in_dim %a {broadcast_dimensions = array<i64: 1, 0>, shape = array<i64: 2, 2, 2>} : (tensor<2x2xf32>) -> tensor<2x2x2xf32>
  return %0 : tensor<2x2x2xf32>
}
