// A setting of the wrong type: steps is a number.
module attributes {kiln.model = "norole", kiln.optimizer = {name = "sgd"}, kiln.train = {dataset = "regression", steps = "2", lr = 0.1}} {
  func.func @forward(%x: tensor<100x1xf32> {kiln.input = "x"}, %y: tensor<100x1xf32> {kiln.input = "y"},
                     %w: tensor<1x1xf32> {kiln.param = "w", kiln.fan_in = 1 : i64}) -> (tensor<f32> {kiln.output = "loss"}) {
    %p = kiln.matmul %x, %w : (tensor<100x1xf32>, tensor<1x1xf32>) -> tensor<100x1xf32>
    %d = kiln.sub %p, %y : (tensor<100x1xf32>, tensor<100x1xf32>) -> tensor<100x1xf32>
    %l = kiln.reduce_mean %d {dimensions = array<i64: 0, 1>} : (tensor<100x1xf32>) -> tensor<f32>
    return %l : tensor<f32>
  }
}
