// A least-squares model whose matmul is 40 rows by 24 columns over 20 terms: wide enough in
// every dimension for the GPU's staged tiles, with tails that are not whole tiles.
module attributes {kiln.model = "wide_matmul", kiln.optimizer = {name = "sgd"},
                   kiln.train = {dataset = "", steps = 1, lr = 0.1, log_every = 1}} {
  func.func @forward(%x: tensor<40x20xf32> {kiln.input = "x"}, %y: tensor<40x24xf32> {kiln.input = "y"},
                     %w: tensor<20x24xf32> {kiln.param = "w", kiln.fan_in = 20 : i64})
      -> (tensor<f32> {kiln.output = "loss"}) {
    %p = kiln.matmul %x, %w : (tensor<40x20xf32>, tensor<20x24xf32>) -> tensor<40x24xf32>
    %d = kiln.sub %p, %y : (tensor<40x24xf32>, tensor<40x24xf32>) -> tensor<40x24xf32>
    %s = kiln.mul %d, %d : (tensor<40x24xf32>, tensor<40x24xf32>) -> tensor<40x24xf32>
    %l = kiln.reduce_mean %s {dimensions = array<i64: 0, 1>} : (tensor<40x24xf32>) -> tensor<f32>
    return %l : tensor<f32>
  }
}
