// kiln-optimizer: PyTorch's SGD appended to @grad, giving @train_step.

// Plain SGD: p = p - lr * g, no state.
module attributes {kiln.optimizer = {name = "sgd"}} {
  func.func @grad(%w: tensor<3xf32> {kiln.param = "w"}, %x: tensor<3xf32> {kiln.input = "x"})
      -> (tensor<f32> {kiln.output = "loss"}, tensor<3xf32> {kiln.grad_of = "w"}) {
    %p = kiln.mul %w, %x : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
    %l = kiln.reduce_sum %p {dimensions = array<i64: 0>} : (tensor<3xf32>) -> tensor<f32>
    return %l, %x : tensor<f32>, tensor<3xf32>
  }
}
// The gradient function is inlined and gone.
