func.func @kernel_reads_from_outside(%a: tensor<4xf32>) -> tensor<4xf32> {
  %0 = kiln.kernel "neg"() : () -> tensor<4xf32> {
    %n = kiln.neg %a : (tensor<4xf32>) -> tensor<4xf32>
    kiln.yield %n : tensor<4xf32>
  }
  return %0 : tensor<4xf32>
}
