// A matmul whose inner dimensions differ is refused, naming both shapes, with file:line:col.
func.func @forward(%x: tensor<100x3xf32> {kiln.input = "x"}, %w: tensor<4x10xf32> {kiln.param = "w", kiln.fan_in = 4 : i64})
    -> tensor<100x10xf32> {
  %0 = kiln.matmul %x, %w : (tensor<100x3xf32>, tensor<4x10xf32>) -> tensor<100x10xf32>
  return %0 : tensor<100x10xf32>
}
