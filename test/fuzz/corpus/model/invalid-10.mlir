func.func @constant_type() -> tensor<3xf32> {
  %0 = kiln.constant {value = dense<1.0> : tensor<2xf32>} : tensor<3xf32>
  return %0 : tensor<3xf32>
}
