// An argument of the model with no kiln role (not a parameter, input, state, lr or step).
module attributes {kiln.optimizer = {name = "sgd"}, kiln.train = {lr = 0.1 : f64}} {
  func.func @forward(%x: tensor<4x1xf32> {kiln.input = "x"}, %w: tensor<1x1xf32> {kiln.param = "w", kiln.fan_in = 1 : i64}, %c: tensor<4x1xf32>) -> tensor<f32> {
    %y = kiln.matmul %x, %w : (tensor<4x1xf32>, tensor<1x1xf32>) -> tensor<4x1xf32>
    %d = kiln.sub %y, %c : (tensor<4x1xf32>, tensor<4x1xf32>) -> tensor<4x1xf32>
    %l = kiln.reduce_sum %d {dimensions = array<i64: 0, 1>} : (tensor<4x1xf32>) -> tensor<f32>
    return %l : tensor<f32>
  }
}
