func.func @reshape_count(%a: tensor<2x3xf32>) -> tensor<7xf32> {
  %0 = kiln.reshape %a {shape = array<i64: 7>} : (tensor<2x3xf32>) -> tensor<7xf32>
  return %0 : tensor<7xf32>
}
