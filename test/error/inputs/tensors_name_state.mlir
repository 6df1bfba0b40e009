// Two parameters, 'w' and 'w.exp_avg', trained with Adam (whose state of w is w.exp_avg, w.exp_avg_sq).
module attributes {kiln.optimizer = {name = "adam"}} {
  func.func @forward(%x: tensor<4x3xf32> {kiln.input = "x"}, %a: tensor<3xf32> {kiln.param = "w", kiln.fan_in = 3 : i64}, %b: tensor<3xf32> {kiln.param = "w.exp_avg", kiln.fan_in = 3 : i64}) -> (tensor<f32> {kiln.output = "loss"}) {
    %s = kiln.add %a, %b : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
    %l = kiln.reduce_sum %s {dimensions = array<i64: 0>} : (tensor<3xf32>) -> tensor<f32>
    return %l : tensor<f32>
  }
}
