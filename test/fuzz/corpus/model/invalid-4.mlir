func.func @broadcast_size(%a: tensor<3xf32>) -> tensor<2x4xf32> {
  %0 = kiln.broadcast_in_dim %a {broadcast_dimensions = array<i64: 1>, shape = array<i64: 2, 4>} : (tensor<3xf32>) -> tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}
