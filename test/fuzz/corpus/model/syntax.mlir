// A syntax error is reported with file:line:col and a non-zero exit.
func.func @forward(%x: tensor<3xf32>) -> tensor<f32> {
  %0 = kiln.reduce_sum %x {dimensions = array<i64: 0>} : (tensor<3xf32>) -> tensor<f32
  return %0 : tensor<f32>
}
