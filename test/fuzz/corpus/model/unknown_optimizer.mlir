// An optimizer kiln does not know is refused, naming it.
module attributes {kiln.optimizer = {name = "lbfgs"}} {
  func.func @grad(%w: tensor<3xf32> {kiln.param = "w"}) -> (tensor<f32>, tensor<3xf32>) {
    %l = kiln.reduce_sum %w {dimensions = array<i64: 0>} : (tensor<3xf32>) -> tensor<f32>
    %one = kiln.constant {value = dense<1.0> : tensor<3xf32>} : tensor<3xf32>
    return %l, %one : tensor<f32>, tensor<3xf32>
  }
}
// ERR: error: kiln-optimizer: unknown optimizer 'lbfgs'
