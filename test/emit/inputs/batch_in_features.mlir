// The batch is folded into the feature dimension ([100, 1] -> [50, 2]): it cannot change.
module attributes {kiln.model = "folded", kiln.optimizer = {name = "sgd"},
                   kiln.train = {dataset = "regression", steps = 20, lr = 0.1}} {
  func.func @forward(%x: tensor<100x1xf32> {kiln.input = "x"}, %y: tensor<100x1xf32> {kiln.input = "y"},
                     %w: tensor<2x1xf32> {kiln.param = "w", kiln.fan_in = 2 : i64}) -> (tensor<f32> {kiln.output = "loss"}) {
    %r = kiln.reshape %x {shape = array<i64: 50, 2>} : (tensor<100x1xf32>) -> tensor<50x2xf32> loc("folded.cpp":7:0)
    %p = kiln.matmul %r, %w : (tensor<50x2xf32>, tensor<2x1xf32>) -> tensor<50x1xf32>
    %l = kiln.reduce_mean %p {dimensions = array<i64: 0, 1>} : (tensor<50x1xf32>) -> tensor<f32>
    %m = kiln.reduce_mean %y {dimensions = array<i64: 0, 1>} : (tensor<100x1xf32>) -> tensor<f32>
    %s = kiln.sub %l, %m : (tensor<f32>, tensor<f32>) -> tensor<f32>
    return %s : tensor<f32>
  }
}
