// Least squares plus a term of the parameters alone (sum(a * b), a penalty): a data-parallel
// build must count that term once over all ranks, not once per rank.
module attributes {kiln.model = "penalty", kiln.train = {dataset = "regression", steps = 3, lr = 0.1}} {
  func.func @forward(%x: tensor<100x1xf32> {kiln.input = "x"}, %y: tensor<100x1xf32> {kiln.input = "y"},
                     %a: tensor<1x1xf32> {kiln.param = "a", kiln.fan_in = 1 : i64},
                     %b: tensor<1x1xf32> {kiln.param = "b", kiln.fan_in = 1 : i64})
      -> (tensor<f32> {kiln.output = "loss"}) {
    %p = kiln.matmul %x, %a : (tensor<100x1xf32>, tensor<1x1xf32>) -> tensor<100x1xf32>
    %d = kiln.sub %p, %y : (tensor<100x1xf32>, tensor<100x1xf32>) -> tensor<100x1xf32>
    %s = kiln.mul %d, %d : (tensor<100x1xf32>, tensor<100x1xf32>) -> tensor<100x1xf32>
    %l = kiln.reduce_mean %s {dimensions = array<i64: 0, 1>} : (tensor<100x1xf32>) -> tensor<f32>
    %ab = kiln.mul %a, %b : (tensor<1x1xf32>, tensor<1x1xf32>) -> tensor<1x1xf32>
    %r = kiln.reduce_sum %ab {dimensions = array<i64: 0, 1>} : (tensor<1x1xf32>) -> tensor<f32>
    %t = kiln.add %l, %r : (tensor<f32>, tensor<f32>) -> tensor<f32>
    return %t : tensor<f32>
  }
}
