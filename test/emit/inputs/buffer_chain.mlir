// Buffers that pass values along: each step a = a + 1 (from 0) and b = the old a, c = the old
// b; after t steps a = t, b = t - 1, c = t - 2 (from 1). The updates read each other's old values.
module attributes {kiln.model = "buffer_chain", kiln.train = {dataset = "regression", steps = 5, lr = 0.1, log_every = 5}} {
  func.func @forward(%x: tensor<100x1xf32> {kiln.input = "x"}, %y: tensor<100x1xf32> {kiln.input = "y"},
                     %w: tensor<1x1xf32> {kiln.param = "w", kiln.fan_in = 1 : i64},
                     %a: tensor<f32> {kiln.buffer = "a", kiln.init = 0.0 : f64},
                     %b: tensor<f32> {kiln.buffer = "b", kiln.init = 0.0 : f64},
                     %c: tensor<f32> {kiln.buffer = "c", kiln.init = 1.0 : f64})
      -> (tensor<f32> {kiln.output = "loss"}, tensor<f32> {kiln.update_of = "a"},
          tensor<f32> {kiln.update_of = "b"}, tensor<f32> {kiln.update_of = "c"}) {
    %p = kiln.matmul %x, %w : (tensor<100x1xf32>, tensor<1x1xf32>) -> tensor<100x1xf32>
    %d = kiln.sub %p, %y : (tensor<100x1xf32>, tensor<100x1xf32>) -> tensor<100x1xf32>
    %s = kiln.mul %d, %d : (tensor<100x1xf32>, tensor<100x1xf32>) -> tensor<100x1xf32>
    %l = kiln.reduce_mean %s {dimensions = array<i64: 0, 1>} : (tensor<100x1xf32>) -> tensor<f32>
    %one = kiln.constant {value = dense<1.0> : tensor<f32>} : tensor<f32>
    %a1 = kiln.add %a, %one : (tensor<f32>, tensor<f32>) -> tensor<f32>
    return %l, %a1, %a, %b : tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>
  }
}
