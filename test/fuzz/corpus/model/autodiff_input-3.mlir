// A dynamic shape never reaches an op: the op's operand constraint refuses it.
func.func @dynamic(%w: tensor<?xf32>) -> tensor<f32> {
  %l = kiln.reduce_mean %w {dimensions = array<i64: 0>} : (tensor<?xf32>) -> tensor<f32>
  return %l : tensor<f32>
}
