module attributes {kiln.optimizer = {name = "sgd"}, kiln.train = {lr = -0.1}} {
  func.func @grad(%w: tensor<3xf32> {kiln.param = "w"}) -> (tensor<f32>, tensor<3xf32> {kiln.grad_of = "w"}) {
    %l = kiln.reduce_sum %w {dimensions = array<i64: 0>} : (tensor<3xf32>) -> tensor<f32>
    return %l, %w : tensor<f32>, tensor<3xf32>
  }
}

// Accepted: each optimizer's settings in range (rho = 1 is allowed, beta1 = 0 too).
// VALID-COUNT-5: func.func @train_step
