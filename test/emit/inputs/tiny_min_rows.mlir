// A one-parameter least-squares model that asks for at least 2 rows per step (as BatchNorm1d over [N, C] does): loss = mean((x w - y)^2), SGD with momentum.
module attributes {kiln.model = "tiny", kiln.optimizer = {name = "sgd", momentum = 0.5},
                   kiln.train = {dataset = "regression", steps = 20, lr = 0.1, log_every = 5},
                   kiln.min_rows = {rows = 2 : i64, why = "BatchNorm1d(1) at tiny.cpp:9 needs more than 1 value per channel in training"}} {
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
