func.func @compare_direction(%a: tensor<3xf32>) -> tensor<3xi1> {
  %0 = kiln.compare %a, %a {direction = "BIGGER"} : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xi1>
  return %0 : tensor<3xi1>
}
