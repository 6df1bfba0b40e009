// Optimizer settings are checked as PyTorch's constructors check them, each refusal naming the
// setting, its value and what is accepted: a key the optimizer does not take (with the ones it
// does), a value of the wrong type (no silent default), a number out of range or not finite,
// nesterov without momentum or with dampening, and a negative learning rate.
module attributes {kiln.optimizer = {name = "sgd", momentun = 0.9}} {
  func.func @grad(%w: tensor<3xf32> {kiln.param = "w"}) -> (tensor<f32>, tensor<3xf32> {kiln.grad_of = "w"}) {
    %l = kiln.reduce_sum %w {dimensions = array<i64: 0>} : (tensor<3xf32>) -> tensor<f32>
    return %l, %w : tensor<f32>, tensor<3xf32>
  }
}
