// Adam: two moments, bias corrections from the runtime step t as 1 - exp(t ln beta).
module attributes {kiln.optimizer = {name = "adam", beta1 = 0.9, beta2 = 0.99}} {
  func.func @grad(%w: tensor<3xf32> {kiln.param = "w"}, %x: tensor<3xf32> {kiln.input = "x"})
      -> (tensor<f32> {kiln.output = "loss"}, tensor<3xf32> {kiln.grad_of = "w"}) {
    %p = kiln.mul %w, %x : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
    %l = kiln.reduce_sum %p {dimensions = array<i64: 0>} : (tensor<3xf32>) -> tensor<f32>
    return %l, %x : tensor<f32>, tensor<3xf32>
  }
}
