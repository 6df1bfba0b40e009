// Settings at the edges of what PyTorch accepts, one module per optimizer.
module attributes {kiln.optimizer = {name = "sgd", momentum = 0.9, dampening = 0.0, nesterov = true, weight_decay = 0.0}} {
  func.func @grad(%w: tensor<3xf32> {kiln.param = "w"}) -> (tensor<f32>, tensor<3xf32> {kiln.grad_of = "w"}) {
    %l = kiln.reduce_sum %w {dimensions = array<i64: 0>} : (tensor<3xf32>) -> tensor<f32>
    return %l, %w : tensor<f32>, tensor<3xf32>
  }
}
// -----
module attributes {kiln.optimizer = {name = "adadelta", rho = 1.0, eps = 0.0}} {
  func.func @grad(%w: tensor<3xf32> {kiln.param = "w"}) -> (tensor<f32>, tensor<3xf32> {kiln.grad_of = "w"}) {
    %l = kiln.reduce_sum %w {dimensions = array<i64: 0>} : (tensor<3xf32>) -> tensor<f32>
    return %l, %w : tensor<f32>, tensor<3xf32>
  }
}
// -----
module attributes {kiln.optimizer = {name = "adam", beta1 = 0.0, beta2 = 0.5, amsgrad = true}} {
  func.func @grad(%w: tensor<3xf32> {kiln.param = "w"}) -> (tensor<f32>, tensor<3xf32> {kiln.grad_of = "w"}) {
    %l = kiln.reduce_sum %w {dimensions = array<i64: 0>} : (tensor<3xf32>) -> tensor<f32>
    return %l, %w : tensor<f32>, tensor<3xf32>
  }
}
// -----
module attributes {kiln.optimizer = {name = "rmsprop", alpha = 0.0, momentum = 0.5, centered = true}} {
  func.func @grad(%w: tensor<3xf32> {kiln.param = "w"}) -> (tensor<f32>, tensor<3xf32> {kiln.grad_of = "w"}) {
    %l = kiln.reduce_sum %w {dimensions = array<i64: 0>} : (tensor<3xf32>) -> tensor<f32>
    return %l, %w : tensor<f32>, tensor<3xf32>
  }
}
// -----
module attributes {kiln.optimizer = {name = "adagrad", lr_decay = 0.1, initial_accumulator_value = 0.5}, kiln.train = {lr = 0.0}} {
  func.func @grad(%w: tensor<3xf32> {kiln.param = "w"}) -> (tensor<f32>, tensor<3xf32> {kiln.grad_of = "w"}) {
    %l = kiln.reduce_sum %w {dimensions = array<i64: 0>} : (tensor<3xf32>) -> tensor<f32>
    return %l, %w : tensor<f32>, tensor<3xf32>
  }
}
