// An input named like the learning rate the binary writes every step.
module attributes {kiln.optimizer = {name = "sgd"}} {
  func.func @forward(%x: tensor<4x3xf32> {kiln.input = "lr"}, %w: tensor<3xf32> {kiln.param = "w", kiln.fan_in = 3 : i64}) -> (tensor<f32> {kiln.output = "loss"}) {
    %l = kiln.reduce_sum %w {dimensions = array<i64: 0>} : (tensor<3xf32>) -> tensor<f32>
    return %l : tensor<f32>
  }
}
