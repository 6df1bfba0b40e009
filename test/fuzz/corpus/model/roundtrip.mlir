// Every kiln op prints in a form that parses back to the same IR.

func.func @all_ops(%a: tensor<2x3xf32>, %b: tensor<2x3xf32>, %v: tensor<3xf32>, %k: tensor<3x4xf32>) -> tensor<f32> {
  %0 = kiln.add %a, %b : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %1 = kiln.sub %0, %b : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %2 = kiln.mul %1, %b : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %3 = kiln.div %2, %b : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %4 = kiln.max %3, %a : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %5 = kiln.neg %4 : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %6 = kiln.exp %5 : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %7 = kiln.log %6 : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %8 = kiln.compare %7, %a {direction = "GE"} : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xi1>
  %9 = kiln.select %8, %7, %a : (tensor<2x3xi1>, tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %10 = kiln.broadcast_in_dim %v {broadcast_dimensions = array<i64: 1>, shape = array<i64: 2, 3>} : (tensor<3xf32>) -> tensor<2x3xf32>
  %11 = kiln.reshape %10 {shape = array<i64: 3, 2>} : (tensor<2x3xf32>) -> tensor<3x2xf32>
  %12 = kiln.transpose %11 {permutation = array<i64: 1, 0>} : (tensor<3x2xf32>) -> tensor<2x3xf32>
  %13 = kiln.matmul %12, %k : (tensor<2x3xf32>, tensor<3x4xf32>) -> tensor<2x4xf32>
  %14 = kiln.reduce_sum %13 {dimensions = array<i64: 1>} : (tensor<2x4xf32>) -> tensor<2xf32>
  %15 = kiln.reduce_mean %14 {dimensions = array<i64: 0>} : (tensor<2xf32>) -> tensor<f32>
  %16 = kiln.constant {value = dense<1.5> : tensor<f32>} : tensor<f32>
  %17 = kiln.add %15, %16 : (tensor<f32>, tensor<f32>) -> tensor<f32>
  %18 = kiln.add %17, %16 : (tensor<f32>, tensor<f32>) -> tensor<f32>
  return %18 : tensor<f32>
}

func.func @more_ops(%a: tensor<2x3xf32>, %labels: tensor<2xi32>) -> (tensor<2x3xf32>, tensor<2xf32>, tensor<2x5xf32>) {
  %0 = kiln.sqrt %a : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %1 = kiln.abs %0 : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %2 = kiln.sin %1 : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %3 = kiln.cos %2 : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %4 = kiln.reduce_max %3 {dimensions = array<i64: 1>} : (tensor<2x3xf32>) -> tensor<2xf32>
  %5 = kiln.one_hot %labels {classes = 5 : i64} : (tensor<2xi32>) -> tensor<2x5xf32>
  return %3, %4, %5 : tensor<2x3xf32>, tensor<2xf32>, tensor<2x5xf32>
}

func.func @conv_and_pool(%x: tensor<2x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) -> (tensor<2x4x4x4xf32>, tensor<2x3x8x8xf32>, tensor<4x3x3x3xf32>, tensor<2x4x4x4xf32>, tensor<2x4x8x8xf32>, tensor<2x4x8x8xf32>) {
  %y = kiln.conv2d %x, %w {stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, dilation = array<i64: 1, 1>} : (tensor<2x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<2x4x8x8xf32>
  %dx = kiln.conv2d_input_grad %y, %w {stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, dilation = array<i64: 1, 1>, input_shape = array<i64: 2, 3, 8, 8>} : (tensor<2x4x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<2x3x8x8xf32>
  %dw = kiln.conv2d_filter_grad %x, %y {stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, dilation = array<i64: 1, 1>, filter_shape = array<i64: 4, 3, 3, 3>} : (tensor<2x3x8x8xf32>, tensor<2x4x8x8xf32>) -> tensor<4x3x3x3xf32>
  %p = kiln.max_pool2d %y {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 0, 0>} : (tensor<2x4x8x8xf32>) -> tensor<2x4x4x4xf32>
  %dp = kiln.max_pool2d_grad %y, %p {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 0, 0>} : (tensor<2x4x8x8xf32>, tensor<2x4x4x4xf32>) -> tensor<2x4x8x8xf32>
  %a = kiln.avg_pool2d %y {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 0, 0>} : (tensor<2x4x8x8xf32>) -> tensor<2x4x4x4xf32>
  %da = kiln.avg_pool2d_grad %a {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 0, 0>, input_shape = array<i64: 2, 4, 8, 8>} : (tensor<2x4x4x4xf32>) -> tensor<2x4x8x8xf32>
  return %p, %dx, %dw, %a, %dp, %da : tensor<2x4x4x4xf32>, tensor<2x3x8x8xf32>, tensor<4x3x3x3xf32>, tensor<2x4x4x4xf32>, tensor<2x4x8x8xf32>, tensor<2x4x8x8xf32>
}
