// A one-parameter least-squares model: loss = mean((x w - y)^2), SGD with momentum.
module attributes {kiln.model = "tiny", kiln.optimizer = {name = "sgd", momentum = 0.5},
                   kiln.train = {dataset = "regression", steps = 20, lr = 0.1, log_every = 5}} {
  func.func @forward(%x: tensor<100x1xf32> {kiln.input = "x"}, %y: tensor<100x1xf32> {kiln.input = "y"},
                     %w: tensor<1x1xf32> {kiln.param = "w", kiln.fan_in = 1 : i64})
      -> (tensor<f32> {kiln.output = "loss"}, tensor<100x1xf32> {kiln.output = "prediction"}) {
    %p = kiln.matmul %x, %w : (tensor<100x1xf32>, tensor<1x1xf32>) -> tensor<100x1xf32>
    %d = kiln.sub %p, %y : (tensor<100x1xf32>, tensor<100x1xf32>) -> tensor<100x1xf32>
    %s = kiln.mul %d, %d : (tensor<100x1xf32>, tensor<100x1xf32>) -> tensor<100x1xf32>
    %l = kiln.reduce_mean %s {dimensions = array<i64: 0, 1>} : (tensor<100x1xf32>) -> tensor<f32>
    return %l, %p : tensor<f32>, tensor<100x1xf32>
  }
}
