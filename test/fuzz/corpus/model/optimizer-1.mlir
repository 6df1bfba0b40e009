// Momentum 0.9, weight decay 0.01, Nesterov (which PyTorch allows only without dampening; the
// order of independent ops is free, hence CHECK-DAG):
//   g' = g + 0.01 p;  buf = t == 1 ? g' : 0.9 buf + (1 - 0) g';  p = p - lr (g' + 0.9 buf)
module attributes {kiln.optimizer = {name = "sgd", momentum = 0.9, dampening = 0.0, weight_decay = 0.01, nesterov = true}} {
  func.func @grad(%w: tensor<3xf32> {kiln.param = "w"}, %x: tensor<3xf32> {kiln.input = "x"})
      -> (tensor<f32> {kiln.output = "loss"}, tensor<3xf32> {kiln.grad_of = "w"}) {
    %p = kiln.mul %w, %x : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
    %l = kiln.reduce_sum %p {dimensions = array<i64: 0>} : (tensor<3xf32>) -> tensor<f32>
    return %l, %x : tensor<f32>, tensor<3xf32>
  }
}
