func.func @kernel_yield_types(%a: tensor<4xf32>) -> tensor<4xf32> {
  %0 = kiln.kernel "neg"(%a) : (tensor<4xf32>) -> tensor<4xf32> {
  ^bb0(%x: tensor<4xf32>):
    %n = kiln.neg %x : (tensor<4xf32>) -> tensor<4xf32>
    %s = kiln.reduce_sum %n {dimensions = array<i64: 0>} : (tensor<4xf32>) -> tensor<f32>
    kiln.yield %s : tensor<f32>
  }
  return %0 : tensor<4xf32>
}
