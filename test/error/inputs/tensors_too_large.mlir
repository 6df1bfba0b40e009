// A loss term that sums 2^32 + 5 ones: with 32-bit loop counts it would add up to 5.
module attributes {kiln.optimizer = {name = "sgd"}} {
  func.func @forward(%x: tensor<4x1xf32> {kiln.input = "x"}, %w: tensor<1xf32> {kiln.param = "w", kiln.fan_in = 1 : i64}) -> (tensor<f32> {kiln.output = "loss"}) {
    %b = kiln.broadcast_in_dim %w {broadcast_dimensions = array<i64: 1>, shape = array<i64: 4294967301, 1>} : (tensor<1xf32>) -> tensor<4294967301x1xf32>
    %l = kiln.reduce_sum %b {dimensions = array<i64: 0, 1>} : (tensor<4294967301x1xf32>) -> tensor<f32>
    return %l : tensor<f32>
  }
}
