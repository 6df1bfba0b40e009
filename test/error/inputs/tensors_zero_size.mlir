// A parameter with a dimension of size 0.
module attributes {kiln.optimizer = {name = "sgd"}} {
  func.func @forward(%x: tensor<4x3xf32> {kiln.input = "x"}, %w: tensor<0x3xf32> {kiln.param = "w", kiln.fan_in = 3 : i64}) -> (tensor<f32> {kiln.output = "loss"}) {
    %l = kiln.reduce_sum %w {dimensions = array<i64: 0, 1>} : (tensor<0x3xf32>) -> tensor<f32>
    return %l : tensor<f32>
  }
}
