// An output that is a parameter reports the value the step used: it gets its own slot, copied
// before the update overwrites the parameter.
module attributes {kiln.model = "p", kiln.train = {dataset = "regression", steps = 1, lr = 0.1}} {
  func.func @forward(%w: tensor<4xf32> {kiln.param = "w", kiln.fan_in = 1 : i64})
      -> (tensor<f32> {kiln.output = "loss"}, tensor<4xf32> {kiln.output = "w_used"}) {
    %l = kiln.reduce_sum %w {dimensions = array<i64: 0>} : (tensor<4xf32>) -> tensor<f32>
    return %l, %w : tensor<f32>, tensor<4xf32>
  }
}
// The output is saved first (from w's slot), then the update lands in w's slot.
