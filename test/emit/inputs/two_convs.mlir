// Two convolutions that get different schedules: 3 output channels fill a small share of a
// vector, so their vectors run along rows; 32 fill whole vectors of channels.
module attributes {kiln.model = "two_convs", kiln.optimizer = {name = "sgd"},
                   kiln.train = {dataset = "", steps = 1, lr = 0.1, log_every = 1}} {
  func.func @forward(%x: tensor<2x3x9x27xf32> {kiln.input = "x"},
                     %f1: tensor<3x3x3x3xf32> {kiln.param = "f1", kiln.fan_in = 27 : i64},
                     %f2: tensor<32x3x3x3xf32> {kiln.param = "f2", kiln.fan_in = 27 : i64})
      -> (tensor<f32> {kiln.output = "loss"}) {
    %a = kiln.conv2d %x, %f1 {dilation = array<i64: 1, 1>, padding = array<i64: 1, 1>, stride = array<i64: 1, 1>}
        : (tensor<2x3x9x27xf32>, tensor<3x3x3x3xf32>) -> tensor<2x3x9x27xf32>
    %b = kiln.conv2d %a, %f2 {dilation = array<i64: 1, 1>, padding = array<i64: 1, 1>, stride = array<i64: 1, 1>}
        : (tensor<2x3x9x27xf32>, tensor<32x3x3x3xf32>) -> tensor<2x32x9x27xf32>
    %l = kiln.reduce_mean %b {dimensions = array<i64: 0, 1, 2, 3>} : (tensor<2x32x9x27xf32>) -> tensor<f32>
    return %l : tensor<f32>
  }
}
