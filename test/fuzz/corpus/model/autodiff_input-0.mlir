// Models autodiff cannot differentiate are refused with the reason, never a crash.

func.func @forward(%w: tensor<4xf32> {kiln.param}) -> tensor<f32> {
  %l = kiln.reduce_sum %w {dimensions = array<i64: 0>} : (tensor<4xf32>) -> tensor<f32>
  return %l : tensor<f32>
}
