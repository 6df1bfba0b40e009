// A model without @forward, or whose first result is not a scalar loss, cannot be trained.
func.func @model(%x: tensor<3xf32>) -> tensor<3xf32> {
  return %x : tensor<3xf32>
}
