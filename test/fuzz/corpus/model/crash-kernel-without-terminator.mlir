func.func @kernel_arguments(%a: tensor<5xf32>) -> tensor<4xf32> {
  %0 = kiln.kernel "neg"(%a) : (tensor<5xf32>) -> tensor<4xf32> {
  ^bb0(%x: tensor<5xf32>):
     }
  return %0 : tensor<4xf32>
}
