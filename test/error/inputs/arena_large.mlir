// A batch of 2^29 rows of one feature: 2 GiB for the input alone.
module attributes {kiln.optimizer = {name = "sgd"}} {
  func.func @forward(%x: tensor<536870912x1xf32> {kiln.input = "x"}, %w: tensor<1x1xf32> {kiln.param = "w", kiln.fan_in = 1 : i64}) -> (tensor<f32> {kiln.output = "loss"}) {
    %y = kiln.matmul %x, %w : (tensor<536870912x1xf32>, tensor<1x1xf32>) -> tensor<536870912x1xf32>
    %l = kiln.reduce_sum %y {dimensions = array<i64: 0, 1>} : (tensor<536870912x1xf32>) -> tensor<f32>
    return %l : tensor<f32>
  }
}
