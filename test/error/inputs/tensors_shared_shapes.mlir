// One parameter name with two shapes in two entries.
module attributes {kiln.optimizer = {name = "sgd"}, kiln.train = {lr = 0.1 : f64}} {
  func.func @forward(%x: tensor<4x1xf32> {kiln.input = "x"}, %w: tensor<1x1xf32> {kiln.param = "w", kiln.fan_in = 1 : i64}) -> tensor<f32> attributes {kiln.role = "forward"} {
    %y = kiln.matmul %x, %w : (tensor<4x1xf32>, tensor<1x1xf32>) -> tensor<4x1xf32>
    %l = kiln.reduce_sum %y {dimensions = array<i64: 0, 1>} : (tensor<4x1xf32>) -> tensor<f32>
    return %l : tensor<f32>
  }
  func.func @eval(%x: tensor<4x2xf32> {kiln.input = "x"}, %w: tensor<2x1xf32> {kiln.param = "w", kiln.fan_in = 2 : i64}) -> (tensor<f32> {kiln.output = "loss"}) attributes {kiln.role = "eval"} {
    %y = kiln.matmul %x, %w : (tensor<4x2xf32>, tensor<2x1xf32>) -> tensor<4x1xf32>
    %l = kiln.reduce_sum %y {dimensions = array<i64: 0, 1>} : (tensor<4x1xf32>) -> tensor<f32>
    return %l : tensor<f32>
  }
}
