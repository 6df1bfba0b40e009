func.func @pool_grad_shape(%x: tensor<1x1x8x8xf32>, %dy: tensor<1x1x3x3xf32>) -> tensor<1x1x8x8xf32> {
  %0 = kiln.max_pool2d_grad %x, %dy {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 0, 0>} : (tensor<1x1x8x8xf32>, tensor<1x1x3x3xf32>) -> tensor<1x1x8x8xf32>
  return %0 : tensor<1x1x8x8xf32>
}
